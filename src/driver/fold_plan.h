// Cross-fitting folds: K folds x R repetitions, stratified by D, seeded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fastdml {

// fold[r * n + i] = the fold that holds row i out in repetition r.
struct FoldPlan {
  std::size_t n = 0;
  int folds = 0;
  int reps = 0;
  std::vector<int> fold;
  int At(int rep, std::size_t row) const { return fold[static_cast<std::size_t>(rep) * n + row]; }
};

// Stratified by D: each arm is shuffled (own Fisher-Yates over a splitmix64
// stream keyed by (seed, rep), so identical on every platform and thread count)
// and dealt round-robin, so fold sizes and treated shares differ by at most one.
// Throws DataError when an arm has fewer rows than folds.
FoldPlan MakeFoldPlan(const std::vector<double>& d, int folds, int reps, std::uint64_t seed);

// A user fold column (ids 0..K-1), one repetition. Throws DataError naming the
// fold that is empty or lacks treated or control rows.
FoldPlan FoldPlanFromColumn(const std::vector<int>& fold, const std::vector<double>& d);

// Checks an arbitrary plan (e.g. loaded with predictions): every fold of every
// repetition holds treated and control rows. Throws DataError naming rep and fold.
void ValidateFoldPlan(const FoldPlan& plan, const std::vector<double>& d);

// splitmix64: a well-mixed 64-bit hash used to derive per-task seeds.
std::uint64_t SplitMix64(std::uint64_t x);

}  // namespace fastdml
