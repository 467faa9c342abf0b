#include "driver/fold_plan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

#include "fastdml/dataset.h"
#include "fastdml/error.h"
#include "ops/philox_weights.h"

namespace fastdml {

namespace {

// Uniform integer in [0, bound) by rejection (no modulo bias).
std::uint64_t Uniform(std::uint64_t* state, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t r;
  do {
    *state += 1;
    r = ops::SplitMix64(*state);
  } while (r >= limit);
  return r % bound;
}

void Shuffle(std::vector<std::size_t>* v, std::uint64_t* state) {
  for (std::size_t i = v->size(); i > 1; --i) {
    std::swap((*v)[i - 1], (*v)[Uniform(state, i)]);
  }
}

}  // namespace

FoldPlan MakeFoldPlan(const std::vector<double>& d, int folds, int reps, std::uint64_t seed) {
  return MakeJointFoldPlan({&d}, folds, reps, seed);
}

FoldPlan MakeJointFoldPlan(const std::vector<const std::vector<double>*>& treatments, int folds, int reps,
                           std::uint64_t seed) {
  if (treatments.empty()) throw Error("internal: a fold plan needs a treatment column");
  const std::size_t n = treatments[0]->size();
  // Each row's pattern over the binary treatments ('1' treated, '0' control);
  // a continuous treatment (PLR) does not stratify. Strata are dealt in
  // decreasing pattern order, so one binary D deals its treated rows first.
  std::vector<const std::vector<double>*> binary;
  for (const auto* d : treatments) {
    if (IsBinaryTreatment(*d)) binary.push_back(d);
  }
  for (const auto* d : binary) {
    const std::size_t treated = static_cast<std::size_t>(std::count(d->begin(), d->end(), 1.0));
    if (treated < static_cast<std::size_t>(folds) || n - treated < static_cast<std::size_t>(folds)) {
      throw DataError("cannot stratify " + std::to_string(folds) + " folds: " + std::to_string(treated) +
                      " treated and " + std::to_string(n - treated) +
                      " control rows; every fold needs both (use fewer --folds)");
    }
  }
  if (binary.empty() && n < static_cast<std::size_t>(folds)) {
    throw DataError(std::to_string(n) + " rows cannot make " + std::to_string(folds) + " folds (use fewer --folds)");
  }
  std::map<std::string, std::vector<std::size_t>, std::greater<>> strata;
  std::string pattern(binary.size(), '0');
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < binary.size(); ++k) pattern[k] = (*binary[k])[i] == 1.0 ? '1' : '0';
    strata[pattern].push_back(i);
  }
  FoldPlan plan{n, folds, reps, std::vector<int>(n * static_cast<std::size_t>(reps))};
  for (int r = 0; r < reps; ++r) {
    std::uint64_t state = ops::DeriveSeed(seed, ops::SeedStream::kRowFolds, static_cast<std::uint64_t>(r));
    int* f = plan.fold.data() + static_cast<std::size_t>(r) * n;
    // Shuffle each stratum in turn, then deal its rows round-robin, continuing
    // the count, so that fold sizes stay balanced overall and every stratum is
    // spread over the folds.
    std::size_t k = 0;
    std::vector<std::vector<std::size_t>> shuffled;
    for (const auto& [key, rows] : strata) {
      shuffled.push_back(rows);
      Shuffle(&shuffled.back(), &state);
    }
    for (const auto& rows : shuffled) {
      for (std::size_t i : rows) f[i] = static_cast<int>(k++ % folds);
    }
  }
  for (const auto* d : binary) ValidateFoldPlan(plan, *d);
  return plan;
}

FoldPlan FoldPlanFromColumn(const std::vector<int>& fold, const std::vector<double>& d) {
  int k = 0;
  for (int f : fold) k = std::max(k, f + 1);
  FoldPlan plan{d.size(), k, 1, fold};
  if (k < 2) throw DataError("the fold column has a single fold; cross-fitting needs at least 2");
  ValidateFoldPlan(plan, d);
  return plan;
}

namespace {

void CheckClusterIds(const std::vector<std::int32_t>& cluster, std::int32_t n_clusters, std::size_t n) {
  if (cluster.size() != n) {
    throw Error("internal: " + std::to_string(cluster.size()) + " cluster ids for " + std::to_string(n) + " rows");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (cluster[i] < 0 || cluster[i] >= n_clusters) {
      throw Error("internal: row " + std::to_string(i + 1) + " has cluster index " + std::to_string(cluster[i]) +
                  " outside 0.." + std::to_string(n_clusters - 1));
    }
  }
}

}  // namespace

FoldPlan MakeClusterFoldPlan(const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                             const std::vector<double>& d, int folds, int reps, std::uint64_t seed) {
  const std::size_t n = d.size();
  CheckClusterIds(cluster, n_clusters, n);
  if (folds < 2) throw UsageError("cross-fitting needs at least 2 folds");
  if (n_clusters < folds) {
    throw DataError(std::to_string(n_clusters) + " clusters cannot make " + std::to_string(folds) +
                    " folds: every fold holds whole clusters (use fewer --folds)");
  }
  const std::size_t c_count = static_cast<std::size_t>(n_clusters);
  FoldPlan plan{n, folds, reps, std::vector<int>(n * static_cast<std::size_t>(reps))};
  std::vector<int> cluster_fold(c_count);
  for (int r = 0; r < reps; ++r) {
    // A stream of its own, so cluster and row plans never coincide.
    std::uint64_t state = ops::DeriveSeed(seed, ops::SeedStream::kClusterFolds, static_cast<std::uint64_t>(r));
    std::vector<std::size_t> order(c_count);
    for (std::size_t c = 0; c < c_count; ++c) order[c] = c;
    Shuffle(&order, &state);
    for (std::size_t k = 0; k < c_count; ++k) cluster_fold[order[k]] = static_cast<int>(k % folds);
    int* f = plan.fold.data() + static_cast<std::size_t>(r) * n;
    for (std::size_t i = 0; i < n; ++i) f[i] = cluster_fold[static_cast<std::size_t>(cluster[i])];
  }
  try {
    ValidateFoldPlan(plan, d);
  } catch (const DataError& e) {
    throw DataError(std::string(e.what()) + " when whole clusters are dealt to " + std::to_string(folds) +
                    " folds (use fewer --folds)");
  }
  return plan;
}

void ValidateClusterFoldPlan(const FoldPlan& plan, const std::vector<std::int32_t>& cluster,
                             std::int32_t n_clusters) {
  CheckClusterIds(cluster, n_clusters, plan.n);
  const std::size_t c_count = static_cast<std::size_t>(n_clusters);
  for (int r = 0; r < plan.reps; ++r) {
    const std::string rep = plan.reps > 1 ? " of repetition " + std::to_string(r) : "";
    std::vector<int> cluster_fold(c_count, -1);
    std::vector<std::size_t> first_row(c_count, 0), per_fold(static_cast<std::size_t>(plan.folds), 0);
    for (std::size_t i = 0; i < plan.n; ++i) {
      const std::size_t c = static_cast<std::size_t>(cluster[i]);
      const int f = plan.At(r, i);
      if (cluster_fold[c] < 0) {
        cluster_fold[c] = f;
        first_row[c] = i;
        if (f >= 0 && f < plan.folds) ++per_fold[static_cast<std::size_t>(f)];
      } else if (cluster_fold[c] != f) {
        throw DataError("rows " + std::to_string(first_row[c] + 1) + " and " + std::to_string(i + 1) +
                        " are in the same cluster but in folds " + std::to_string(cluster_fold[c]) + " and " +
                        std::to_string(f) + rep +
                        "; with clusters every cluster must be held out whole in one fold");
      }
    }
    for (int f = 0; f < plan.folds; ++f) {
      if (per_fold[static_cast<std::size_t>(f)] == 0) {
        throw DataError("fold " + std::to_string(f) + rep + " holds no cluster (use fewer --folds)");
      }
    }
  }
}

void ValidateFoldPlan(const FoldPlan& plan, const std::vector<double>& d) {
  const bool binary = IsBinaryTreatment(d);
  for (int r = 0; r < plan.reps; ++r) {
    std::vector<std::size_t> treated(plan.folds, 0), total(plan.folds, 0);
    for (std::size_t i = 0; i < plan.n; ++i) {
      const int f = plan.At(r, i);
      if (f < 0 || f >= plan.folds) {
        throw DataError("row " + std::to_string(i + 1) + ": fold id " + std::to_string(f) +
                        " outside 0.." + std::to_string(plan.folds - 1));
      }
      ++total[f];
      if (d[i] == 1.0) ++treated[f];
    }
    for (int f = 0; f < plan.folds; ++f) {
      const std::string where = "fold " + std::to_string(f) +
                                (plan.reps > 1 ? " of repetition " + std::to_string(r) : "");
      if (total[f] == 0) throw DataError(where + " has no rows");
      if (!binary) continue;
      if (treated[f] == 0) throw DataError(where + " has no treated rows (D=1)");
      if (treated[f] == total[f]) throw DataError(where + " has no control rows (D=0)");
    }
  }
}

void SplitFoldRows(const FoldPlan& plan, const std::vector<double>& d, int rep, int fold,
                   std::optional<double> arm_d, std::vector<std::uint32_t>* train,
                   std::vector<std::uint32_t>* held_out) {
  train->clear();
  held_out->clear();
  for (std::size_t i = 0; i < plan.n; ++i) {
    if (plan.At(rep, i) == fold) {
      held_out->push_back(static_cast<std::uint32_t>(i));
    } else if (!arm_d || d[i] == *arm_d) {
      train->push_back(static_cast<std::uint32_t>(i));
    }
  }
}

namespace {

// Moves round(fraction x size) of `units` (shuffled with `state`) to the
// front; returns that count, kept in [min_take, size - 1] when size >= 2.
std::size_t TakeShuffled(std::vector<std::size_t>* units, double fraction, std::uint64_t* state) {
  Shuffle(units, state);
  const std::size_t size = units->size();
  if (size < 2) return 0;
  auto take = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size)));
  return std::clamp<std::size_t>(take, 1, size - 1);
}

}  // namespace

void SplitValidationRows(const std::vector<std::uint32_t>& train, const std::vector<double>& d,
                         const std::vector<std::int32_t>& cluster, double fraction, std::uint64_t seed,
                         std::vector<std::uint32_t>* inner, std::vector<std::uint32_t>* valid) {
  std::vector<char> validates(train.size(), 0);  // by position in `train`
  std::uint64_t state = seed;
  if (!cluster.empty()) {
    // The training rows' distinct clusters, in order of first appearance
    // (train is ascending, so this order is a function of the rows alone).
    std::vector<std::int32_t> ids;
    std::vector<std::size_t> slot(train.size());
    std::unordered_map<std::int32_t, std::size_t> index;
    for (std::size_t k = 0; k < train.size(); ++k) {
      auto [it, added] = index.emplace(cluster[train[k]], ids.size());
      if (added) ids.push_back(cluster[train[k]]);
      slot[k] = it->second;
    }
    if (ids.size() < 2) {
      throw DataError("early stopping needs two clusters in every model's training rows to split off a "
                      "validation part, and one fold's training rows hold " + std::to_string(ids.size()) +
                      " (--cluster): use more clusters, or fixed rounds (--rounds N)");
    }
    std::vector<std::size_t> order(ids.size());
    for (std::size_t c = 0; c < order.size(); ++c) order[c] = c;
    const std::size_t take = TakeShuffled(&order, fraction, &state);
    std::vector<char> cluster_validates(ids.size(), 0);
    for (std::size_t c = 0; c < take; ++c) cluster_validates[order[c]] = 1;
    for (std::size_t k = 0; k < train.size(); ++k) validates[k] = cluster_validates[slot[k]];
  } else {
    const bool binary = IsBinaryTreatment(d);
    std::vector<std::size_t> arms[2];
    for (std::size_t k = 0; k < train.size(); ++k) arms[binary && d[train[k]] == 1.0].push_back(k);
    for (auto& arm : arms) {
      const std::size_t take = TakeShuffled(&arm, fraction, &state);
      for (std::size_t j = 0; j < take; ++j) validates[arm[j]] = 1;
    }
  }
  inner->clear();
  valid->clear();
  for (std::size_t k = 0; k < train.size(); ++k) (validates[k] ? valid : inner)->push_back(train[k]);
  if (inner->empty() || valid->empty()) {
    throw DataError("early stopping needs at least two training rows per model to split off a validation "
                    "part, and one model has " + std::to_string(train.size()) +
                    ": use fewer --folds, or fixed rounds (--rounds N)");
  }
}

}  // namespace fastdml
