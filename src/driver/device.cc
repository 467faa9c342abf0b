#include "fastdml/device.h"

#include "fastdml/error.h"

namespace fastdml {

Device ParseDevice(const std::string& s) {
  if (s == "cpu") return Device::Cpu();
  if (s == "auto") return Device::Auto();
  if (s == "cuda") return Device::Cuda();
  const std::string prefix = "cuda:";
  if (s.rfind(prefix, 0) == 0 && s.size() > prefix.size() && s.size() <= prefix.size() + 4 &&
      s.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
    return Device::Cuda(std::stoi(s.substr(prefix.size())));
  }
  throw UsageError("--device: expected cpu, cuda, cuda:N or auto (got '" + s + "')");
}

std::string ToString(const Device& d) {
  switch (d.kind) {
    case Device::Kind::kCpu: return "cpu";
    case Device::Kind::kAuto: return "auto";
    case Device::Kind::kCuda: return d.ordinal < 0 ? "cuda" : "cuda:" + std::to_string(d.ordinal);
  }
  return "?";
}

}  // namespace fastdml
