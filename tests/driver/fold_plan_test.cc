#include "driver/fold_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

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

}  // namespace
}  // namespace fastdml
