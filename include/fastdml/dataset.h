// The estimation data, validated and in the engine's layout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
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

  float X(std::size_t i, std::size_t j) const { return x[i * p + j]; }
};

// Throws DataError if the dataset cannot be estimated from: sizes disagree,
// NaN/inf in y or d or weights, d not in {0,1}, all rows treated or none,
// non-positive weights. `min_rows` is typically the number of folds. With
// binary_treatment = false (PLR) d may be any finite value but must vary.
void ValidateDataset(const Dataset& data, std::size_t min_rows, bool binary_treatment = true);

// True when every d is exactly 0 or 1.
bool IsBinaryTreatment(const std::vector<double>& d);

}  // namespace fastdml
