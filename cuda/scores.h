// CUDA twin of cpu/scores.h, and Estimate's work on the GPU. The per-row maths
// is ops/scores.h and the device algorithms ops/score_solve_thrust.h (checked
// on Thrust's OpenMP backend by tests/thrust/score_solve_test.cc); results
// equal the CPU's within rounding of the sums (1e-12 relative). Plain C++:
// without CUDA every call throws LibraryError "built without CUDA"
// (cuda/stubs/device_and_scores.cc).
#pragma once
#include <cstddef>
#include <memory>

#include "fastdml/estimator.h"  // Predictions
#include "fastdml/options.h"    // ScoreSpec
#include "ops/score_args.h"     // IrmScoreArgs, PlrScoreArgs
#include "ops/scores.h"         // ScoreSolution

namespace fastdml::cuda {

class ResidentPredictions;  // cuda/device_data.h

// Host in, host out: inputs uploaded, psi_a and psi_b copied back. For
// one-off callers and the tests; Estimate uses ScoreSession.
void IrmScores(const IrmScoreArgs& args, double* psi_a, double* psi_b);
void PlrScores(const PlrScoreArgs& args, double* psi_a, double* psi_b);

// One repetition's scores left on the GPU by Estimate: psi[j * n + i] as in
// ScoreBlock::psi (k estimands, estimand-major). The CUDA bootstrap reads them
// here instead of uploading ScoreBlock::psi again (ScoreBlock::device_scores).
class DeviceScores {
 public:
  DeviceScores(std::size_t n, int k);  // allocated on the current device
  ~DeviceScores();
  DeviceScores(const DeviceScores&) = delete;
  DeviceScores& operator=(const DeviceScores&) = delete;

  std::size_t n() const;
  int k() const;
  int ordinal() const;  // the GPU that holds them
  double* psi() const;  // device memory, k * n

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Estimate's GPU work for one report, on the current device. y, d and the
// sample weights are uploaded once. The out-of-fold predictions are read where
// a GPU fit left them (Fit::device_predictions, on this device) or else each
// repetition's are uploaded once, when first used. Scores, theta, J and the
// SE are computed on the device; only the solution and psi come back.
class ScoreSession {
 public:
  // y, d: host, n each; uw: host sample weights with mean 1, or null. `pred`
  // (host) must outlive the session; `resident` may be null.
  ScoreSession(std::size_t n, int k, const double* y, const double* d, const double* uw, const Predictions& pred,
               std::shared_ptr<const ResidentPredictions> resident);
  ~ScoreSession();
  ScoreSession(const ScoreSession&) = delete;
  ScoreSession& operator=(const ScoreSession&) = delete;

  // Scores of estimand `e_index` (< k) in repetition `rep` and their DML2
  // solution (ops::SolveFromSums). Writes psi = theta psi_a + psi_b (host, n)
  // and keeps it on the device for Scores(rep); psi_a and psi_b (host, n) too
  // when not null (the cluster-robust solve needs them).
  ops::ScoreSolution Solve(int rep, int e_index, const ScoreSpec& spec, double* psi, double* psi_a,
                           double* psi_b);

  // The device scores of repetition `rep`: every estimand solved for it.
  std::shared_ptr<const DeviceScores> Scores(int rep) const;

  // Whether the predictions were read from the fit's device copy (for tests).
  bool used_resident_predictions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastdml::cuda
