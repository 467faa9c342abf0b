// Per-row score arrays for one repetition. The CPU and CUDA twins
// (cuda/scores.cu) share these argument structs and the per-row maths in
// ops/scores.h; the dispatcher in driver/ picks one from Options::device.
#pragma once
#include <cstddef>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"  // Predictions

namespace fastdml {

struct IrmScoreArgs {
  std::size_t n = 0;
  const double* y = nullptr;
  const double* d = nullptr;
  const double* m = nullptr;   // raw out-of-fold propensity
  const double* g0 = nullptr;
  const double* g1 = nullptr;
  const double* uw = nullptr;  // sample weights with mean 1; nullptr = unweighted
  double clip = 0.01;          // m clipped to [clip, 1 - clip]
  bool normalize_ipw = false;
  bool att = false;
};

struct PlrScoreArgs {
  std::size_t n = 0;
  const double* y = nullptr;
  const double* d = nullptr;
  const double* m = nullptr;  // E[D|X], not clipped (DoubleML's PLR does not clip)
  const double* l = nullptr;  // E[Y|X]
};

// Sample weights rescaled to mean 1 (uw = w n / sum w), as DoubleML expects
// them; empty when `weights` is (unweighted).
std::vector<double> MeanOneWeights(const std::vector<double>& weights);

// The score arguments of repetition `rep` over host data and predictions;
// `uw` from MeanOneWeights (empty: unweighted). Pointers into the arguments.
IrmScoreArgs IrmArgsOf(const Dataset& data, const Predictions& pred, int rep, const std::vector<double>& uw,
                       double clip, bool normalize_ipw, bool att);
PlrScoreArgs PlrArgsOf(const Dataset& data, const Predictions& pred, int rep);

namespace cpu {
// Writes psi_a[i], psi_b[i] for i < n (host memory).
void IrmScores(const IrmScoreArgs& args, double* psi_a, double* psi_b);
void PlrScores(const PlrScoreArgs& args, double* psi_a, double* psi_b);
}  // namespace cpu

}  // namespace fastdml
