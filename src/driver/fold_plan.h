// Cross-fitting folds: K folds x R repetitions, stratified by D, seeded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
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
// stream seeded by ops::DeriveSeed(seed, SeedStream::kRowFolds, rep), so
// identical on every platform and thread count) and dealt round-robin, so
// fold sizes and treated shares differ by at most one.
// Throws DataError when an arm has fewer rows than folds.
FoldPlan MakeFoldPlan(const std::vector<double>& d, int folds, int reps, std::uint64_t seed);

// A grid's plan (several treatments, one plan for every cell): stratified on
// the joint pattern of the binary treatments (continuous ones do not
// stratify). Each pattern's rows are shuffled from the same stream as
// MakeFoldPlan's, in decreasing pattern order, then dealt round-robin with
// the count continuing across patterns; with one treatment this is
// MakeFoldPlan's plan, row for row. Throws DataError when a binary treatment
// has fewer treated or control rows than folds, or (ValidateFoldPlan) when a
// fold ends up without both arms of one of them.
FoldPlan MakeJointFoldPlan(const std::vector<const std::vector<double>*>& treatments, int folds, int reps,
                           std::uint64_t seed);

// A user fold column (ids 0..K-1), one repetition. Throws DataError naming the
// fold that is empty or lacks treated or control rows.
FoldPlan FoldPlanFromColumn(const std::vector<int>& fold, const std::vector<double>& d);

// Checks an arbitrary plan (e.g. loaded with predictions): every fold of every
// repetition holds treated and control rows. Throws DataError naming rep and fold.
void ValidateFoldPlan(const FoldPlan& plan, const std::vector<double>& d);

// Cluster folds (one-way): each cluster is held out whole in one fold, so no
// cluster straddles training and test rows. Per repetition the cluster ids
// 0..n_clusters-1 are shuffled (Fisher-Yates over a splitmix64 stream seeded by
// ops::DeriveSeed(seed, SeedStream::kClusterFolds, rep), independent of
// MakeFoldPlan's streams) and dealt round-robin, so
// the folds' cluster counts differ by at most one (DoubleML's cluster KFold is
// likewise unstratified). The plan is then checked with ValidateFoldPlan: a
// fold without treated or control rows (binary d) is a DataError naming the
// fold and suggesting fewer folds. DataError when n_clusters < folds.
FoldPlan MakeClusterFoldPlan(const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                             const std::vector<double>& d, int folds, int reps, std::uint64_t seed);

// Checks that every cluster of `cluster` (ids 0..n_clusters-1) lies in a single
// fold in every repetition of `plan` (e.g. a user fold column or loaded
// predictions), and that every fold holds a cluster. Throws DataError naming
// two rows of the split cluster, their folds and the repetition.
void ValidateClusterFoldPlan(const FoldPlan& plan, const std::vector<std::int32_t>& cluster,
                             std::int32_t n_clusters);

// The rows of one nuisance model of fold `fold` in repetition `rep`, both
// ascending: held_out = the fold's rows; train = the other rows, restricted to
// D == *arm_d when arm_d is given (g0: 0, g1: 1). The device path builds the
// same lists with ops/fold_rows.h.
void SplitFoldRows(const FoldPlan& plan, const std::vector<double>& d, int rep, int fold,
                   std::optional<double> arm_d, std::vector<std::uint32_t>* train,
                   std::vector<std::uint32_t>* held_out);

// The inner split of one model's training rows for early stopping and tuning:
// about `fraction` of `train` goes to `valid`, the rest to `inner`; both are
// ascending subsets of `train`, so the held-out fold never enters either.
// Seeded by `seed` (the driver derives one per repetition, fold and nuisance:
// ops::SeedStream::kValidationSplit). With a non-empty `cluster`, whole
// clusters: the training rows' clusters are shuffled and the first
// round(fraction x count) of them validate (at least one, at most all but one).
// Otherwise stratified by a binary `d`: each arm is shuffled and
// round(fraction x its size) of its rows validate (at least one row of an arm
// of two or more); a continuous `d` is one stratum. Throws DataError naming
// the option to change when a part would be empty.
void SplitValidationRows(const std::vector<std::uint32_t>& train, const std::vector<double>& d,
                         const std::vector<std::int32_t>& cluster, double fraction, std::uint64_t seed,
                         std::vector<std::uint32_t>* inner, std::vector<std::uint32_t>* valid);

}  // namespace fastdml
