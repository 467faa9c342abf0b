// Arguments of the per-row scores of one repetition: plain pointers, so the
// CPU twin (cpu/scores.cc) and the CUDA twin (cuda/scores.cu) share them, in
// host or device memory alike. Builders over a Dataset are in cpu/scores.h.
#pragma once
#include <cstddef>

#include "fastdml/options.h"  // ScoreSpec

namespace fastdml {

struct IrmScoreArgs {
  std::size_t n = 0;
  const double* y = nullptr;
  const double* d = nullptr;
  const double* m = nullptr;   // raw out-of-fold propensity
  const double* g0 = nullptr;
  const double* g1 = nullptr;
  const double* uw = nullptr;  // sample weights with mean 1; nullptr = unweighted
  ScoreSpec spec;              // estimand, clip, normalize_ipw (model: IRM)
};

struct PlrScoreArgs {
  std::size_t n = 0;
  const double* y = nullptr;
  const double* d = nullptr;
  const double* m = nullptr;  // E[D|X], not clipped (DoubleML's PLR does not clip)
  const double* l = nullptr;  // E[Y|X]
};

}  // namespace fastdml
