// The one finishing module (src/inference/aggregate.h) against hand-computed
// values: DoubleML's rule (median estimate, SE from the median of
// theta + 1.96 se) and the medians of per-repetition bounds.
#include "inference/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fastdml/error.h"

namespace fastdml::inference {
namespace {

TEST(Aggregate, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(Median({7}), 7);
  EXPECT_THROW(Median({}), Error);
}

TEST(Aggregate, OneRepetitionKeepsItsOwnSe) {
  const Pooled p = AggregateReps({0.3}, {0.123456789});
  EXPECT_EQ(p.estimate, 0.3);
  EXPECT_EQ(p.se, 0.123456789);  // exactly, not (0.3 + 1.96 se - 0.3) / 1.96
}

TEST(Aggregate, RepetitionsFollowDoubleMLsRule) {
  // theta = (1, 2, 4), se = (1, 0.5, 0.1): median theta 2; theta + 1.96 se =
  // (2.96, 2.98, 4.196), median 2.98; se = (2.98 - 2) / 1.96 = 0.5.
  const Pooled p = AggregateReps({1, 2, 4}, {1, 0.5, 0.1});
  EXPECT_DOUBLE_EQ(p.estimate, 2);
  EXPECT_NEAR(p.se, 0.5, 1e-15);
}

TEST(Aggregate, BoundsAreMediansOfPerRepetitionBounds) {
  const Bounds b = MedianBounds({1, 2, 4}, {1, 0.5, 0.1}, 2.0);
  // lower (-1, 1, 3.8) -> 1; upper (3, 3, 4.2) -> 3.
  EXPECT_DOUBLE_EQ(b.lower, 1);
  EXPECT_DOUBLE_EQ(b.upper, 3);
  const Bounds joint = MedianBounds({1, 2, 4}, {1, 0.5, 0.1}, std::vector<double>{3, 2, 10});
  // lower (-2, 1, 3) -> 1; upper (4, 3, 5) -> 4.
  EXPECT_DOUBLE_EQ(joint.lower, 1);
  EXPECT_DOUBLE_EQ(joint.upper, 4);
  EXPECT_THROW(MedianBounds({1, 2}, {1, 1}, std::vector<double>{1}), Error);
}

TEST(Aggregate, FinishGivesTPAndTheLevelsInterval) {
  const Inference f = Finish({1.0}, {0.5}, 0.9);
  EXPECT_DOUBLE_EQ(f.t, 2.0);
  EXPECT_NEAR(f.p_value, 0.04550026389635842, 1e-14);  // 2 (1 - Phi(2))
  EXPECT_NEAR(f.ci_lower, 1.0 - 1.6448536269514722 * 0.5, 1e-12);
  EXPECT_NEAR(f.ci_upper, 1.0 + 1.6448536269514722 * 0.5, 1e-12);
  EXPECT_NEAR(TwoSidedCritical(0.95), 1.959963984540054, 1e-12);
}

struct Result {
  std::vector<double> theta_reps{2.0, 1.0, 3.0}, se_reps{0.1, 0.2, 0.3};
  double estimate = 0, se = 0, t = 0, p_value = 0, ci_lower = 0, ci_upper = 0;
};

TEST(Aggregate, FinishIntoFillsEveryField) {
  Result r;
  FinishInto(&r, 0.95);
  const Inference f = Finish(r.theta_reps, r.se_reps, 0.95);
  EXPECT_EQ(r.estimate, 2.0);
  EXPECT_EQ(r.se, f.se);
  EXPECT_EQ(r.t, f.t);
  EXPECT_EQ(r.p_value, f.p_value);
  EXPECT_EQ(r.ci_lower, f.ci_lower);
  EXPECT_EQ(r.ci_upper, f.ci_upper);
}

}  // namespace
}  // namespace fastdml::inference
