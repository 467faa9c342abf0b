// The estimation data, validated and in the engine's layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fastdml {

// Owns its arrays. X is float32 row-major n x p (NaN = missing, as in XGBoost);
// y and d are double; d holds exactly 0.0 or 1.0 (a continuous d is allowed
// for the partially linear model only).
struct Dataset {
  std::size_t n = 0;
  std::size_t p = 0;
  std::vector<float> x;                    // n * p, row-major
  std::vector<double> y;                   // n
  std::vector<double> d;                   // n, in {0, 1}
  std::vector<double> weights;             // empty, or n positive weights
  std::vector<int> fold;                   // empty, or n user fold ids 0..K-1
  std::vector<std::int32_t> cluster;       // empty, or n cluster ids 0..n_clusters-1
  std::int32_t n_clusters = 0;
  std::string cluster_name;
  std::vector<std::string> feature_names;  // p
  std::string outcome_name = "y";
  std::string treatment_name = "d";

  // A grid (several outcomes or treatments, estimated in one run: FitGrid in
  // estimator.h): every outcome and every treatment column, in the order
  // named, each n values. y, d, outcome_name and treatment_name then hold
  // copies of one cell's pair (SelectCell), so that everything written for one
  // (outcome, treatment) pair reads the current cell. Empty for one-pair data.
  std::vector<std::vector<double>> outcomes, treatments;
  std::vector<std::string> outcome_names, treatment_names;

  float X(std::size_t i, std::size_t j) const { return x[i * p + j]; }

  bool IsGrid() const { return !outcomes.empty() || !treatments.empty(); }
  std::size_t OutcomeCount() const { return outcomes.empty() ? 1 : outcomes.size(); }
  std::size_t TreatmentCount() const { return treatments.empty() ? 1 : treatments.size(); }
  const std::vector<double>& Outcome(std::size_t j) const { return outcomes.empty() ? y : outcomes[j]; }
  const std::vector<double>& Treatment(std::size_t k) const { return treatments.empty() ? d : treatments[k]; }
  const std::string& OutcomeName(std::size_t j) const {
    return outcome_names.empty() ? outcome_name : outcome_names[j];
  }
  const std::string& TreatmentName(std::size_t k) const {
    return treatment_names.empty() ? treatment_name : treatment_names[k];
  }
  // Makes cell (outcome j, treatment k) current: copies its columns into y and
  // d (2n doubles; X is not touched). No-op for one-pair data (j = k = 0).
  void SelectCell(std::size_t j, std::size_t k);
  // Turns one-pair data into a grid of that one pair (outcomes = {y}, ...).
  void MakeGrid();
};

// Throws DataError if the dataset cannot be estimated from: sizes disagree,
// NaN/inf in y or d or weights, d not in {0,1}, all rows treated or none,
// non-positive weights. `min_rows` is typically the number of folds. With
// binary_treatment = false (PLR) d may be any finite value but must vary.
void ValidateDataset(const Dataset& data, std::size_t min_rows, bool binary_treatment = true);

// A grid's outcome and treatment columns (Dataset::outcomes, treatments):
// sizes, names, and each column by ValidateDataset's rules with its own name
// in the message. No-op for one-pair data.
void ValidateGridColumns(const Dataset& data, bool binary_treatment = true);

// True when every d is exactly 0 or 1.
bool IsBinaryTreatment(const std::vector<double>& d);

}  // namespace fastdml
