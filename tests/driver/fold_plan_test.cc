#include "driver/fold_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fastdml/error.h"

namespace fastdml {
namespace {

std::vector<double> Treatment(std::size_t n, std::size_t treated) {
  std::vector<double> d(n, 0.0);
  for (std::size_t i = 0; i < treated; ++i) d[i * n / treated] = 1.0;
  return d;
}

TEST(FoldPlan, StratifiesByTreatmentWithBalancedFoldSizes) {
  const auto d = Treatment(1003, 301);
  const FoldPlan plan = MakeFoldPlan(d, 5, 2, 7);
  for (int r = 0; r < 2; ++r) {
    std::vector<int> size(5, 0), treated(5, 0);
    for (std::size_t i = 0; i < d.size(); ++i) {
      ++size[plan.At(r, i)];
      treated[plan.At(r, i)] += d[i] == 1.0;
    }
    EXPECT_LE(*std::max_element(size.begin(), size.end()) - *std::min_element(size.begin(), size.end()), 1);
    EXPECT_LE(*std::max_element(treated.begin(), treated.end()) -
                  *std::min_element(treated.begin(), treated.end()), 1);
  }
}

TEST(FoldPlan, SameSeedSamePlanOtherSeedOrRepDiffers) {
  const auto d = Treatment(500, 200);
  const FoldPlan a = MakeFoldPlan(d, 5, 2, 42), b = MakeFoldPlan(d, 5, 2, 42), c = MakeFoldPlan(d, 5, 2, 43);
  EXPECT_EQ(a.fold, b.fold);
  EXPECT_NE(a.fold, c.fold);
  const std::vector<int> rep0(a.fold.begin(), a.fold.begin() + 500), rep1(a.fold.begin() + 500, a.fold.end());
  EXPECT_NE(rep0, rep1);
}

TEST(FoldPlan, TooFewTreatedRowsForTheFoldsIsAnError) {
  const auto d = Treatment(100, 3);
  try {
    MakeFoldPlan(d, 5, 1, 0);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("3 treated"), std::string::npos) << e.what();
  }
}

TEST(FoldPlan, UserFoldWithoutTreatedRowsIsNamed) {
  std::vector<double> d = {1, 0, 1, 0, 0, 0};
  std::vector<int> fold = {0, 0, 1, 1, 2, 2};
  try {
    FoldPlanFromColumn(fold, d);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fold 2 has no treated rows"), std::string::npos) << e.what();
  }
}

TEST(FoldPlan, UserFoldWithoutControlRowsIsNamed) {
  std::vector<double> d = {1, 0, 1, 1, 1, 0};
  std::vector<int> fold = {0, 0, 1, 1, 2, 2};
  EXPECT_THROW(FoldPlanFromColumn(fold, d), DataError);
  try {
    FoldPlanFromColumn(fold, d);
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fold 1 has no control rows"), std::string::npos) << e.what();
  }
}

// --- cluster folds -------------------------------------------------------------

// n rows in n_clusters clusters of uneven sizes, rows of a cluster scattered.
std::vector<std::int32_t> Clusters(std::size_t n, std::int32_t n_clusters) {
  std::vector<std::int32_t> c(n);
  for (std::size_t i = 0; i < n; ++i) {
    c[i] = static_cast<std::int32_t>((i * 7919 + (i * i) % 13) % static_cast<std::size_t>(n_clusters));
  }
  return c;
}

TEST(ClusterFoldPlan, NeverSplitsAClusterAndBalancesClusterCounts) {
  const std::size_t n = 1200;
  const std::int32_t n_clusters = 83;
  const auto cluster = Clusters(n, n_clusters);
  const auto d = Treatment(n, 500);
  const int k = 5, reps = 3;
  const FoldPlan plan = MakeClusterFoldPlan(cluster, n_clusters, d, k, reps, 11);
  ASSERT_EQ(plan.n, n);
  ASSERT_EQ(plan.folds, k);
  ASSERT_EQ(plan.reps, reps);
  for (int r = 0; r < reps; ++r) {
    std::vector<int> cluster_fold(n_clusters, -1);
    for (std::size_t i = 0; i < n; ++i) {
      const int f = plan.At(r, i);
      ASSERT_GE(f, 0);
      ASSERT_LT(f, k);
      int& cf = cluster_fold[cluster[i]];
      if (cf < 0) cf = f;
      EXPECT_EQ(cf, f) << "cluster " << cluster[i] << " split in rep " << r;
    }
    std::vector<int> count(k, 0);
    for (int f : cluster_fold) ++count[f];
    EXPECT_LE(*std::max_element(count.begin(), count.end()) - *std::min_element(count.begin(), count.end()), 1);
  }
  EXPECT_NO_THROW(ValidateClusterFoldPlan(plan, cluster, n_clusters));
  EXPECT_NO_THROW(ValidateFoldPlan(plan, d));
}

TEST(ClusterFoldPlan, DeterministicPerSeedAndRepsDiffer) {
  const std::size_t n = 400;
  const auto cluster = Clusters(n, 40);
  const auto d = Treatment(n, 200);
  const FoldPlan a = MakeClusterFoldPlan(cluster, 40, d, 4, 2, 42);
  const FoldPlan b = MakeClusterFoldPlan(cluster, 40, d, 4, 2, 42);
  const FoldPlan c = MakeClusterFoldPlan(cluster, 40, d, 4, 2, 43);
  EXPECT_EQ(a.fold, b.fold);
  EXPECT_NE(a.fold, c.fold);
  const std::vector<int> rep0(a.fold.begin(), a.fold.begin() + n), rep1(a.fold.begin() + n, a.fold.end());
  EXPECT_NE(rep0, rep1);
}

TEST(ClusterFoldPlan, ContinuousTreatmentAndSingletonClusters) {
  const std::size_t n = 50;
  std::vector<double> d(n);
  std::vector<std::int32_t> cluster(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = 0.1 * static_cast<double>(i), cluster[i] = static_cast<std::int32_t>(i);
  const FoldPlan plan = MakeClusterFoldPlan(cluster, 50, d, 5, 1, 1);
  std::vector<int> size(5, 0);
  for (std::size_t i = 0; i < n; ++i) ++size[plan.At(0, i)];
  EXPECT_EQ(size, std::vector<int>(5, 10));
}

TEST(ClusterFoldPlan, FewerClustersThanFoldsIsAnError) {
  const auto cluster = Clusters(100, 3);
  try {
    MakeClusterFoldPlan(cluster, 3, Treatment(100, 50), 5, 1, 0);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("3 clusters cannot make 5 folds"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fewer --folds"), std::string::npos) << e.what();
  }
}

TEST(ClusterFoldPlan, FoldWithoutTreatedRowsNamesTheFoldAndSuggestsFewerFolds) {
  // 6 clusters of 10 rows; only cluster 0 has treated rows: some fold lacks them.
  const std::size_t n = 60;
  std::vector<std::int32_t> cluster(n);
  std::vector<double> d(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) cluster[i] = static_cast<std::int32_t>(i / 10);
  for (std::size_t i = 0; i < 5; ++i) d[i] = 1.0;
  try {
    MakeClusterFoldPlan(cluster, 6, d, 3, 1, 0);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("has no treated rows"), std::string::npos) << what;
    EXPECT_NE(what.find("fold "), std::string::npos) << what;
    EXPECT_NE(what.find("fewer --folds"), std::string::npos) << what;
  }
}

TEST(ClusterFoldPlan, ValidateNamesRowsOfASplitCluster) {
  const std::vector<double> d = {1, 0, 1, 0, 1, 0};
  const std::vector<std::int32_t> cluster = {0, 0, 1, 1, 2, 2};
  FoldPlan plan = FoldPlanFromColumn({0, 0, 1, 1, 1, 0}, d);  // cluster 2 split
  try {
    ValidateClusterFoldPlan(plan, cluster, 3);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("rows 5 and 6 are in the same cluster but in folds 1 and 0"),
              std::string::npos)
        << e.what();
  }
  plan = FoldPlanFromColumn({0, 0, 1, 1, 0, 0}, d);
  EXPECT_NO_THROW(ValidateClusterFoldPlan(plan, cluster, 3));
}

}  // namespace
}  // namespace fastdml
