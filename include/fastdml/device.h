// Where the work runs: --device cpu | cuda | cuda:N | auto, parsed once
// (ParseDevice) into a value that every dispatcher reads (Options::device).
#pragma once
#include <string>

namespace fastdml {

struct Device {
  enum class Kind { kCpu, kCuda, kAuto };
  Kind kind = Kind::kCpu;
  // kCuda: the GPU index; -1 for a plain "cuda" (device 0, as XGBoost reads
  // it), kept apart from "cuda:0" so that the device prints as it was given.
  int ordinal = -1;

  static Device Cpu() { return Device{}; }
  static Device Cuda(int ordinal = -1) { return Device{Kind::kCuda, ordinal}; }
  static Device Auto() { return Device{Kind::kAuto, -1}; }

  bool is_cuda() const { return kind == Kind::kCuda; }
  // The CUDA device index of a kCuda device ("cuda" -> 0, "cuda:N" -> N).
  int gpu() const { return ordinal < 0 ? 0 : ordinal; }

  bool operator==(const Device& o) const { return kind == o.kind && ordinal == o.ordinal; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// "cpu", "cuda", "cuda:N" (N: up to 4 digits) or "auto"; anything else throws
// UsageError "--device: expected cpu, cuda, cuda:N or auto (got '...')".
Device ParseDevice(const std::string& s);

// The device as given: "cpu", "cuda", "cuda:N" or "auto" (reports print this).
std::string ToString(const Device& d);

}  // namespace fastdml
