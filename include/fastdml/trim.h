// Trimming to the rows with comparable propensities (Crump, Hotz, Imbens and
// Mitnik 2009, "Dealing with limited overlap in estimation of average
// treatment effects", Biometrika 96(1)): estimation on the rows whose
// out-of-fold propensity lies in [alpha, 1 - alpha]. The estimands are then
// effects in that trimmed population, not in the whole sample. Clipping
// (--clip) is a separate option and still applies to the kept rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"

namespace fastdml {

enum class TrimRule { kNone, kFixed, kCrump };

struct TrimOptions {
  TrimRule rule = TrimRule::kNone;
  double alpha = 0;  // kFixed: in (0, 0.5)
};

// "crump" or a fixed alpha in (0, 0.5) (--trim); UsageError naming --trim.
TrimOptions ParseTrim(const std::string& text);

// Crump et al. (2009), Theorem 1 and eq. (12): with gamma(x) = 1 / (e(x)(1 - e(x))),
// no trimming (0) when max gamma <= 2 E[gamma]; otherwise alpha = 1/2 -
// sqrt(1/4 - 1/lambda), where lambda solves lambda = 2 E[gamma | gamma <= lambda]
// over the sample. `m` are propensities in (0, 1).
double CrumpAlpha(const std::vector<double>& m);

// The trimmed estimation sample: the rows kept, and the data and fit
// restricted to them (predictions, folds, weights and clusters; cluster ids
// renumbered), ready for Estimate and everything after it.
struct TrimmedSample {
  TrimOptions options;
  std::string rule;                  // "crump" or "fixed"
  double alpha = 0;
  std::size_t rows = 0;              // before trimming
  std::vector<std::uint32_t> kept;   // row indices into the full data, ascending
  std::size_t treated_kept = 0, control_kept = 0;
  Dataset data;
  Fit fit;
};

// Chooses alpha (kCrump: CrumpAlpha of the propensities averaged over the
// repetitions, so that every repetition estimates the same population) and
// keeps the rows whose averaged propensity lies in [alpha, 1 - alpha].
// Throws UsageError naming --trim when an arm is left empty, DataError when the
// kept rows cannot be estimated from (a fold left without an arm or a cluster).
TrimmedSample Trim(const Dataset& data, const Fit& fit, const TrimOptions& options);

}  // namespace fastdml
