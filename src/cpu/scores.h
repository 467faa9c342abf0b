// Per-row score arrays for one repetition. The CPU and CUDA twins
// (cuda/scores.cu) share the argument structs (ops/score_args.h), the IRM
// pass (ops/irm_pass.h) and the per-row maths (ops/scores.h); Estimate picks
// one from the fit's device.
#pragma once
#include <cstddef>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"  // Predictions
#include "fastdml/options.h"    // ScoreSpec
#include "ops/score_args.h"     // IrmScoreArgs, PlrScoreArgs
#include "ops/scores.h"         // ScoreSolution

namespace fastdml {

// Sample weights rescaled to mean 1 (uw = w n / sum w), as DoubleML expects
// them; empty when `weights` is (unweighted).
std::vector<double> MeanOneWeights(const std::vector<double>& weights);

// The score arguments of repetition `rep` over host data and predictions;
// `uw` from MeanOneWeights (empty: unweighted). Pointers into the arguments.
IrmScoreArgs IrmArgsOf(const Dataset& data, const Predictions& pred, int rep, const std::vector<double>& uw,
                       const ScoreSpec& spec);
PlrScoreArgs PlrArgsOf(const Dataset& data, const Predictions& pred, int rep);

namespace cpu {
// Writes psi_a[i], psi_b[i] for i < n (host memory). IrmScores is
// ops::IrmPass in row order.
void IrmScores(const IrmScoreArgs& args, double* psi_a, double* psi_b);
void PlrScores(const PlrScoreArgs& args, double* psi_a, double* psi_b);
// DML2 on the host (ops::SolveFromSums): theta, J, se from psi_a, psi_b, and
// psi = theta psi_a + psi_b written to `psi`.
ops::ScoreSolution SolveScore(const double* psi_a, const double* psi_b, std::size_t n, double* psi);
}  // namespace cpu

}  // namespace fastdml
