// GATE (src/cate/gate.cc) and the groupings (src/cate/grouping.cc): the
// estimate is the AIPW signal's group mean (computed here from docs/design.md's
// formula), invariance to row order and group relabelling, the group ATT, and
// every bad input the issue names.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "cate_fixture.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

GateOptions AttOptions() {
  GateOptions o;
  o.score.estimand = Estimand::kAtt;
  return o;
}

using testing_cate::MakeProblem;
using testing_cate::Problem;

void ExpectErrorContains(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    FAIL() << "expected an error containing: " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(Gate, AteIsTheGroupMeanOfTheAipwSignalWithHc0Se) {
  const Problem p = MakeProblem(2000, 1, 1);
  const Grouping g = GroupByCategory("category", p.category);
  const GateResult res = Gate(p.data, p.fit, g, GateOptions());
  ASSERT_EQ(res.groups.size(), 4u);
  const auto& pr = p.fit.predictions;
  for (int k = 0; k < 4; ++k) {
    std::vector<double> s;
    for (std::size_t i = 0; i < p.data.n; ++i) {
      if (g.group[i] != k) continue;
      const double m = std::clamp(pr.m[i], 0.01, 0.99), y = p.data.y[i], d = p.data.d[i];
      s.push_back(pr.g1[i] - pr.g0[i] + d * (y - pr.g1[i]) / m - (1 - d) * (y - pr.g0[i]) / (1 - m));
    }
    const double mean = std::accumulate(s.begin(), s.end(), 0.0) / s.size();
    double ss = 0;
    for (double v : s) ss += (v - mean) * (v - mean);
    EXPECT_NEAR(res.groups[k].estimate, mean, 1e-12 * std::fabs(mean));
    EXPECT_NEAR(res.groups[k].se, std::sqrt(ss) / s.size(), 1e-12);
    EXPECT_EQ(res.groups[k].n, s.size());
  }
}

TEST(Gate, InvariantToRowOrder) {
  const Problem p = MakeProblem(1500, 2, 2);
  Problem q = p;
  std::vector<std::size_t> perm(p.data.n);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937_64(9));
  const std::size_t n = p.data.n;
  std::vector<double> z(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = perm[i];
    q.data.y[i] = p.data.y[s];
    q.data.d[i] = p.data.d[s];
    q.data.x[i] = p.data.x[s];
    z[i] = p.z[s];
    for (int r = 0; r < 2; ++r) {
      q.fit.predictions.m[r * n + i] = p.fit.predictions.m[r * n + s];
      q.fit.predictions.g0[r * n + i] = p.fit.predictions.g0[r * n + s];
      q.fit.predictions.g1[r * n + i] = p.fit.predictions.g1[r * n + s];
    }
  }
  GateOptions o;
  o.bootstrap.replicates = 500;
  const GateResult a = Gate(p.data, p.fit, GroupByQuantiles("z", p.z, 5), o);
  const GateResult b = Gate(q.data, q.fit, GroupByQuantiles("z", z, 5), o);
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(a.groups[k].label, b.groups[k].label);
    EXPECT_EQ(a.groups[k].n, b.groups[k].n);
    EXPECT_NEAR(a.groups[k].estimate, b.groups[k].estimate, 1e-12 * std::fabs(a.groups[k].estimate));
    EXPECT_NEAR(a.groups[k].se, b.groups[k].se, 1e-12 * a.groups[k].se);
    // draws are indexed by (rep, replicate, group), not by row: bands identical
    EXPECT_NEAR(a.groups[k].joint_ci_upper, b.groups[k].joint_ci_upper, 1e-10);
    EXPECT_NEAR(a.groups[k].p_romano_wolf, b.groups[k].p_romano_wolf, 1e-12);
  }
}

TEST(Gate, InvariantToGroupRelabelling) {
  const Problem p = MakeProblem(1500, 1, 3);
  std::vector<double> relabelled(p.category.size());
  const double code[] = {40, 7, -3, 12};  // order of the codes changes
  for (std::size_t i = 0; i < relabelled.size(); ++i) relabelled[i] = code[static_cast<int>(p.category[i])];
  GateOptions o;
  o.bootstrap.replicates = 300;
  const GateResult a = Gate(p.data, p.fit, GroupByCategory("c", p.category), o);
  const GateResult b = Gate(p.data, p.fit, GroupByCategory("c", relabelled), o);
  // Independent groups: t*_b is the draw vector itself, whose max |.| does not
  // depend on which group gets which draw, so the joint band is exactly invariant.
  EXPECT_EQ(a.joint_critical_values, b.joint_critical_values);
  for (int k = 0; k < 4; ++k) {
    const std::string label = b.groups[k].label;
    const int original = static_cast<int>(std::find(code, code + 4, std::stod(label)) - code);
    EXPECT_DOUBLE_EQ(b.groups[k].estimate, a.groups[original].estimate) << label;
    EXPECT_DOUBLE_EQ(b.groups[k].se, a.groups[original].se) << label;
    EXPECT_EQ(b.groups[k].n, a.groups[original].n);
    EXPECT_DOUBLE_EQ(b.groups[k].joint_ci_lower, a.groups[original].joint_ci_lower) << label;
  }
}

TEST(Gate, GroupAttWithOneGroupEqualsTheAtt) {
  const Problem p = MakeProblem(1200, 3, 4);
  const GateResult g = Gate(p.data, p.fit, GroupByCategory("all", std::vector<double>(p.data.n, 1.0)),
                            AttOptions());
  Options o = p.fit.options;
  o.estimands = {Estimand::kAtt};
  const Report rep = Estimate(p.data, p.fit, o);
  ASSERT_EQ(g.signal, "att");
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(g.groups[0].theta_reps[r], rep.estimates[0].theta_reps[r], 1e-12);
    EXPECT_NEAR(g.groups[0].se_reps[r], rep.estimates[0].se_reps[r], 1e-12);
  }
  EXPECT_NEAR(g.groups[0].estimate, rep.estimates[0].estimate, 1e-12);
  EXPECT_NEAR(g.groups[0].se, rep.estimates[0].se, 1e-12);
}

TEST(Gate, GroupAtcWithOneGroupEqualsTheAtc) {
  const Problem p = MakeProblem(1200, 3, 4);
  GateOptions atc;
  atc.score.estimand = Estimand::kAtc;
  const GateResult g = Gate(p.data, p.fit, GroupByCategory("all", std::vector<double>(p.data.n, 1.0)), atc);
  Options o = p.fit.options;
  o.estimands = {Estimand::kAtc, Estimand::kAtt};
  const Report rep = Estimate(p.data, p.fit, o);
  ASSERT_EQ(g.signal, "atc");
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(g.groups[0].theta_reps[r], rep.estimates[0].theta_reps[r], 1e-12);
    EXPECT_NEAR(g.groups[0].se_reps[r], rep.estimates[0].se_reps[r], 1e-12);
  }
  EXPECT_NEAR(g.groups[0].estimate, rep.estimates[0].estimate, 1e-12);
  EXPECT_GT(std::fabs(rep.estimates[0].estimate - rep.estimates[1].estimate), 1e-6);  // not the ATT
}

TEST(Gate, RepetitionsAggregateByTheMedian) {
  const Problem p = MakeProblem(800, 3, 5);
  const GateResult g = Gate(p.data, p.fit, GroupByCategory("c", p.category), GateOptions());
  for (const GroupEffect& e : g.groups) {
    std::vector<double> t = e.theta_reps;
    std::sort(t.begin(), t.end());
    EXPECT_DOUBLE_EQ(e.estimate, t[1]);
    EXPECT_LE(e.ci_lower, e.estimate);
    EXPECT_GE(e.ci_upper, e.estimate);
  }
}

TEST(Gate, BadInputsGiveClearErrors) {
  Problem p = MakeProblem(600, 1, 6);
  // a group without treated rows
  std::vector<double> c = p.category;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (p.data.d[i] == 0 && i < 100) c[i] = 9;
  }
  ExpectErrorContains([&] { Gate(p.data, p.fit, GroupByCategory("c", c), GateOptions()); },
                      "group '9' has no treated rows");
  // a group of one row
  c = p.category;
  c[17] = 5;
  ExpectErrorContains([&] { Gate(p.data, p.fit, GroupByCategory("c", c), GateOptions()); },
                      "group '5' has a single row");
  // more groups than the data can carry
  std::vector<double> id(p.data.n);
  std::iota(id.begin(), id.end(), 0.0);
  ExpectErrorContains([&] { Gate(p.data, p.fit, GroupByCategory("row", id), GateOptions()); },
                      "600 groups from 600 rows are more than the data can carry");
  // ATT needs the IRM model
  const Problem plr = MakeProblem(600, 1, 6, Model::kPlr);
  ExpectErrorContains(
      [&] { Gate(plr.data, plr.fit, GroupByCategory("c", plr.category), AttOptions()); },
      "needs --model irm");
  // missing values in a group column, named by row
  c = p.category;
  c[41] = std::nan("");
  ExpectErrorContains([&] { GroupByCategory("c", c); }, "row 42 has a missing");
}

TEST(Gate, PlrGateIsTheResidualRegressionPerGroup) {
  const Problem p = MakeProblem(1000, 1, 7, Model::kPlr);
  const Grouping g = GroupByCategory("c", p.category);
  const GateResult res = Gate(p.data, p.fit, g, GateOptions());
  for (int k = 0; k < 4; ++k) {
    double svy = 0, svv = 0;
    for (std::size_t i = 0; i < p.data.n; ++i) {
      if (g.group[i] != k) continue;
      const double v = p.data.d[i] - p.fit.predictions.m[i];
      svy += v * (p.data.y[i] - p.fit.predictions.l[i]);
      svv += v * v;
    }
    EXPECT_NEAR(res.groups[k].estimate, svy / svv, 1e-12 * std::fabs(svy / svv));
  }
}

TEST(Grouping, QuantileBinsFollowTheRankRuleAndKeepTiesTogether) {
  std::vector<double> v(10);
  std::iota(v.begin(), v.end(), 1.0);  // 1..10
  std::reverse(v.begin(), v.end());
  const Grouping g = GroupByQuantiles("v", v, 5);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(g.group[i], static_cast<int>((v[i] - 1) / 2));
  EXPECT_EQ(g.labels[0], "Q1 [1, 2]");
  const std::vector<double> ties = {1, 1, 1, 1, 2, 2, 3, 4};
  const Grouping t = GroupByQuantiles("t", ties, 2);
  EXPECT_EQ(t.group, (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  ExpectErrorContains([&] { GroupByQuantiles("t", std::vector<double>{1, 1, 1, 1, 1, 2}, 4); },
                      "is empty because of tied values");
}

TEST(Grouping, SpecSyntax) {
  EXPECT_EQ(ParseGroupSpec("inventory").bins, 0);
  EXPECT_EQ(ParseGroupSpec("inventory:quintiles").bins, 5);
  EXPECT_EQ(ParseGroupSpec("inventory:quartiles").bins, 4);
  EXPECT_EQ(ParseGroupSpec("inventory:deciles").bins, 10);
  EXPECT_EQ(ParseGroupSpec("inventory:q=7").column, "inventory");
  EXPECT_EQ(ParseGroupSpec("inventory:q=7").bins, 7);
  EXPECT_THROW(ParseGroupSpec("inventory:q=1"), UsageError);
  EXPECT_THROW(ParseGroupSpec("inventory:tertiles"), UsageError);
  EXPECT_THROW(ParseGroupSpec(":quintiles"), UsageError);
}

}  // namespace
}  // namespace fastdml
