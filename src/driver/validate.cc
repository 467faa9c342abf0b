// ValidateDataset: the last gate before estimation, shared by every input
// path (CSV, Python arrays). Messages name the column and the 1-based row.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

std::string FormatValue(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  return text;
}

std::string Row(std::size_t index) { return "row " + std::to_string(index + 1) + " (1-based)"; }

void CheckSize(const char* what, std::size_t got, std::size_t want, const std::string& why) {
  if (got != want) {
    throw DataError(std::string(what) + " has " + std::to_string(got) + " values, expected " +
                    std::to_string(want) + " (" + why + ")");
  }
}

std::string FeatureLabel(const Dataset& data, std::size_t j) {
  if (j < data.feature_names.size()) return "feature '" + data.feature_names[j] + "'";
  return "feature " + std::to_string(j + 1);
}

void ValidateFolds(const std::vector<int>& fold) {
  int highest = -1;
  for (std::size_t i = 0; i < fold.size(); ++i) {
    if (fold[i] < 0) {
      throw DataError("fold id " + std::to_string(fold[i]) + " at " + Row(i) +
                      "; fold ids must be 0..K-1");
    }
    highest = std::max(highest, fold[i]);
  }
  const std::size_t num_folds = std::size_t(highest) + 1;
  if (num_folds < 2) {
    throw DataError("every row is in fold 0; cross-fitting needs at least 2 folds");
  }
  if (num_folds > fold.size()) {
    throw DataError("fold ids run up to " + std::to_string(highest) + " but there are only " +
                    std::to_string(fold.size()) + " rows; fold ids must be consecutive 0..K-1");
  }
  std::vector<std::size_t> counts(num_folds, 0);
  for (int k : fold) ++counts[std::size_t(k)];
  for (std::size_t k = 0; k < num_folds; ++k) {
    if (counts[k] == 0) {
      throw DataError("fold " + std::to_string(k) +
                      " has no rows; fold ids must be consecutive 0.." + std::to_string(highest));
    }
  }
}

// The outcome column named `name`: present and finite in every row, not constant.
void ValidateOutcomeColumn(const std::string& name, const std::vector<double>& y) {
  const std::size_t n = y.size();
  const std::string outcome = "outcome '" + name + "'";
  for (std::size_t i = 0; i < n; ++i) {
    const double v = y[i];
    if (std::isnan(v)) {
      throw DataError("missing " + outcome + " at " + Row(i) +
                      ": drop or impute the row before estimating");
    }
    if (!std::isfinite(v)) {
      throw DataError(outcome + " is " + FormatValue(v) + " at " + Row(i) +
                      "; outcomes must be finite");
    }
  }

  // A constant outcome makes every effect exactly 0 and the outcome model's
  // RMSE/logloss meaningless: almost always the wrong column (E-CONST-Y, docs/reliability.md).
  if (n > 1 && std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; })) {
    throw DataError(outcome + " is constant (" + FormatValue(y[0]) + " in all " + std::to_string(n) +
                    " rows): every effect is trivially 0; check the --outcome column");
  }
}

// The treatment column named `name`: present in every row; 0/1 with both arms
// (binary_treatment), else finite and not constant.
void ValidateTreatmentColumn(const std::string& name, const std::vector<double>& d, bool binary_treatment) {
  const std::size_t n = d.size();
  const std::string treatment = "treatment '" + name + "'";
  std::size_t treated = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = d[i];
    if (std::isnan(v)) {
      throw DataError("missing " + treatment + " at " + Row(i) +
                      ": drop or impute the row before estimating");
    }
    if (!binary_treatment) {
      if (!std::isfinite(v)) {
        throw DataError(treatment + " is " + FormatValue(v) + " at " + Row(i) + "; it must be finite");
      }
      continue;
    }
    if (v != 0.0 && v != 1.0) {
      throw DataError(treatment + " must be 0 or 1 (a continuous treatment needs --model plr); " +
                      Row(i) + " has " + FormatValue(v));
    }
    treated += v == 1.0;
  }
  if (!binary_treatment) {
    if (std::all_of(d.begin(), d.end(), [&](double v) { return v == d[0]; })) {
      throw DataError(treatment + " is constant (" + FormatValue(d[0]) + "); nothing to compare");
    }
  } else if (treated == 0 || treated == n) {
    // Without both arms there is nothing to compare.
    throw DataError((treated == 0 ? "no row is treated" : "every row is treated") +
                    std::string(": ") + treatment + " has " + std::to_string(treated) +
                    " treated (1) and " + std::to_string(n - treated) +
                    " control (0) rows; need both");
  }
}

}  // namespace

bool IsBinaryTreatment(const std::vector<double>& d) {
  // One branch per block, none per row on the values: a branch on a random
  // 0/1 treatment mispredicts about every other row (it showed as a tenth of
  // a GATE at n = 1e6).
  constexpr std::size_t kBlock = 1024;
  const std::size_t n = d.size();
  for (std::size_t i0 = 0; i0 < n; i0 += kBlock) {
    const std::size_t i1 = std::min(n, i0 + kBlock);
    bool binary = true;
    for (std::size_t i = i0; i < i1; ++i) binary &= (d[i] == 0.0) | (d[i] == 1.0);
    if (!binary) return false;
  }
  return true;
}

void ValidateDataset(const Dataset& data, std::size_t min_rows, bool binary_treatment) {
  const std::size_t n = data.n;
  const std::size_t p = data.p;
  const std::string shape = "n = " + std::to_string(n) + " rows, p = " + std::to_string(p) +
                            " features";
  if (p != 0 && n > data.x.max_size() / p) throw DataError("n * p overflows with " + shape);
  CheckSize("X", data.x.size(), n * p, "n * p with " + shape);
  CheckSize("outcome", data.y.size(), n, shape);
  CheckSize("treatment", data.d.size(), n, shape);
  if (!data.weights.empty()) CheckSize("weights", data.weights.size(), n, shape);
  if (!data.fold.empty()) CheckSize("fold ids", data.fold.size(), n, shape);
  if (!data.feature_names.empty()) {
    CheckSize("feature names", data.feature_names.size(), p, shape);
  }
  if (n == 0 || n < min_rows) {
    throw DataError("dataset has " + std::to_string(n) + " rows, need at least " +
                    std::to_string(std::max<std::size_t>(min_rows, 1)));
  }

  ValidateOutcomeColumn(data.outcome_name, data.y);
  ValidateTreatmentColumn(data.treatment_name, data.d, binary_treatment);
  ValidateGridColumns(data, binary_treatment);

  for (std::size_t i = 0; i < data.weights.size(); ++i) {
    const double w = data.weights[i];
    if (!(std::isfinite(w) && w > 0.0)) {
      throw DataError("weight at " + Row(i) + " is " + FormatValue(w) +
                      "; weights must be finite and > 0");
    }
  }

  if (!data.fold.empty()) ValidateFolds(data.fold);

  // NaN in X means missing (XGBoost handles it); infinities are errors.
  const float* x = data.x.data();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < p; ++j) {
      if (std::isinf(x[i * p + j])) {
        throw DataError(FeatureLabel(data, j) + " is " + FormatValue(x[i * p + j]) + " at " +
                        Row(i) + "; features may be NaN (missing) but not infinite");
      }
    }
  }
}

void ValidateGridColumns(const Dataset& data, bool binary_treatment) {
  if (!data.IsGrid()) return;
  if (data.outcomes.empty() || data.treatments.empty() || data.outcome_names.size() != data.outcomes.size() ||
      data.treatment_names.size() != data.treatments.size()) {
    throw DataError("a grid needs one name per outcome and per treatment column, and at least one of each");
  }
  const std::string shape = "n = " + std::to_string(data.n) + " rows";
  for (std::size_t j = 0; j < data.outcomes.size(); ++j) {
    CheckSize(("outcome '" + data.outcome_names[j] + "'").c_str(), data.outcomes[j].size(), data.n, shape);
    ValidateOutcomeColumn(data.outcome_names[j], data.outcomes[j]);
  }
  for (std::size_t k = 0; k < data.treatments.size(); ++k) {
    CheckSize(("treatment '" + data.treatment_names[k] + "'").c_str(), data.treatments[k].size(), data.n, shape);
    ValidateTreatmentColumn(data.treatment_names[k], data.treatments[k], binary_treatment);
  }
}

void Dataset::SelectCell(std::size_t j, std::size_t k) {
  if (!IsGrid()) {
    if (j != 0 || k != 0) throw Error("internal: cell (" + std::to_string(j) + ", " + std::to_string(k) + ") of one-pair data");
    return;
  }
  if (j >= outcomes.size() || k >= treatments.size()) {
    throw Error("internal: cell (" + std::to_string(j) + ", " + std::to_string(k) + ") outside the grid");
  }
  y = outcomes[j];
  d = treatments[k];
  outcome_name = outcome_names[j];
  treatment_name = treatment_names[k];
}

void Dataset::MakeGrid() {
  if (IsGrid()) return;
  outcomes = {y};
  treatments = {d};
  outcome_names = {outcome_name};
  treatment_names = {treatment_name};
}

}  // namespace fastdml
