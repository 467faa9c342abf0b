// The multiplier bootstrap's front door (docs/design.md section 2): the method
// names, the checks both twins share (so that they reject bad input with the
// same words) and the dispatch on BootstrapOptions::device to the CPU twin
// (src/cpu/bootstrap.cc) or the CUDA twin (cuda/bootstrap.cu). The weights'
// counter contract is ops/philox_weights.h.
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/bootstrap.h"
#include "cuda/bootstrap.h"
#include "cuda/device.h"
#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "fastdml/options.h"
#include "ops/bootstrap_checks.h"
#include "ops/philox_weights.h"

namespace fastdml {

const char* ToString(BootstrapMethod m) {
  switch (m) {
    case BootstrapMethod::kNormal: return "normal";
    case BootstrapMethod::kRademacher: return "rademacher";
    case BootstrapMethod::kMammen: return "mammen";
    case BootstrapMethod::kWild: return "wild";
    case BootstrapMethod::kBayes: return "bayes";
  }
  return "unknown";
}

BootstrapMethod ParseBootstrapMethod(const std::string& s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (BootstrapMethod m : {BootstrapMethod::kNormal, BootstrapMethod::kRademacher,
                            BootstrapMethod::kMammen, BootstrapMethod::kWild,
                            BootstrapMethod::kBayes}) {
    if (lower == ToString(m)) return m;
  }
  throw UsageError("--bootstrap-method: unknown method '" + s +
                   "' (choose one of: normal, rademacher, mammen, wild, bayes)");
}

namespace {

// Where BootstrapOptions::device runs: "auto" is CUDA when cuda::Available,
// else the CPU with no error; an explicit cuda request without a usable GPU
// throws LibraryError saying what is missing.
Device ResolveBootstrapDevice(const Device& requested) {
  if (requested.kind == Device::Kind::kCpu) return requested;
  std::string why;
  const bool usable = cuda::Available(&why);
  if (requested.kind == Device::Kind::kAuto) return usable ? Device::Cuda() : Device::Cpu();
  if (!usable) {
    throw LibraryError("bootstrap on --device " + ToString(requested) + ": CUDA is not usable: " + why);
  }
  return requested;
}


}  // namespace

std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep) {
  const Device device = ResolveBootstrapDevice(options.device);
  // The exact sampler is host code on every device (cuda/bootstrap.h says why).
  if (!device.is_cuda() || ops::UsesExactBootstrap(options)) return cpu::BootstrapT(scores, options, rep);
  return cuda::BootstrapT(scores, options, rep);
}

}  // namespace fastdml
