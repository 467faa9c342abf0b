// BLP (src/cate/blp.cc): a one-hot basis reproduces the GATEs, bases are
// built from the documented terms, predictions carry joint bands, and a
// singular basis names its collinear term.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "cate_fixture.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

using testing_cate::MakeProblem;
using testing_cate::Problem;

ColumnSource Source(const std::map<std::string, std::vector<double>>& cols) {
  return [cols](const std::string& name) { return cols.at(name); };
}

class BlpModelTest : public ::testing::TestWithParam<Model> {};

TEST_P(BlpModelTest, OneHotBasisPredictionsEqualTheGates) {
  const Problem p = MakeProblem(1500, 2, 21, GetParam());
  const std::map<std::string, std::vector<double>> cols = {{"c", p.category}};
  const Basis basis = MakeBasis("cat(c)", Source(cols), p.data.n);
  ASSERT_EQ(basis.names, (std::vector<std::string>{"intercept", "c=1", "c=2", "c=3"}));
  const BlpResult blp = Blp(p.data, p.fit, basis, BlpOptions());
  const Basis grid = MakeBasisLike(basis, Source({{"c", {0, 1, 2, 3}}}), 4);
  const BlpPrediction pred = PredictBlp(blp, grid);
  const GateResult gate = Gate(p.data, p.fit, GroupByCategory("c", p.category), GateOptions());
  for (int k = 0; k < 4; ++k) {
    const GroupEffect& e = gate.groups[k];
    for (int r = 0; r < 2; ++r) {
      double est = blp.coef_reps[r][0] + (k ? blp.coef_reps[r][k] : 0.0);
      EXPECT_NEAR(est, e.theta_reps[r], 1e-9 * std::fabs(e.theta_reps[r]));
    }
    EXPECT_NEAR(pred.estimate[k], e.estimate, 1e-9 * std::fabs(e.estimate));
    EXPECT_NEAR(pred.se[k], e.se, 1e-9 * e.se);  // HC0 is invariant to the reparameterisation
    EXPECT_NEAR(pred.ci_lower[k], e.ci_lower, 1e-9 * std::fabs(e.estimate) + 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(IrmAndPlr, BlpModelTest, ::testing::Values(Model::kIrm, Model::kPlr),
                         [](const auto& info) { return std::string(ToString(info.param)); });

TEST(Blp, SplineKnotsAreDataQuantilesAndReusedOnTheGrid) {
  std::vector<double> z(101);
  for (int i = 0; i <= 100; ++i) z[i] = i;
  const Basis b = MakeBasis("z, spline(z,4)", Source({{"z", z}}), z.size());
  ASSERT_EQ(b.k, 5);
  EXPECT_EQ(b.names[2], "(z-25)+");
  EXPECT_EQ(b.names[4], "(z-75)+");
  EXPECT_DOUBLE_EQ(b.x[60 * 5 + 3], 10.0);  // (60 - 50)+
  const Basis g = MakeBasisLike(b, Source({{"z", {0, 80}}}), 2);
  EXPECT_EQ(g.names, b.names);
  EXPECT_DOUBLE_EQ(g.x[1 * 5 + 4], 5.0);  // knots from the data, not from the grid
}

TEST(Blp, JointBandsAreWiderThanPointwiseAndDeterministic) {
  const Problem p = MakeProblem(2000, 1, 22);
  const Basis basis = MakeBasis("z,spline(z,3)", Source({{"z", p.z}}), p.data.n);
  BlpOptions o;
  o.bootstrap.replicates = 2000;
  o.bootstrap.seed = 5;
  const BlpResult blp = Blp(p.data, p.fit, basis, o);
  std::vector<double> gz;
  for (int i = 0; i < 21; ++i) gz.push_back(-2 + 0.2 * i);
  const Basis grid = MakeBasisLike(basis, Source({{"z", gz}}), gz.size());
  const BlpPrediction a = PredictBlp(blp, grid);
  const BlpPrediction b = PredictBlp(blp, grid);
  ASSERT_TRUE(a.has_joint);
  EXPECT_GT(a.joint_critical_values[0], 1.96);
  // four coefficients bound the effective number of independent grid points
  EXPECT_LT(a.joint_critical_values[0], 2.8);
  for (std::size_t g = 0; g < gz.size(); ++g) {
    EXPECT_LT(a.joint_ci_lower[g], a.ci_lower[g]);
    EXPECT_EQ(a.joint_ci_upper[g], b.joint_ci_upper[g]);
  }
}

TEST(Blp, BadBasesGiveClearErrors) {
  const Problem p = MakeProblem(500, 1, 23);
  std::vector<double> twice(p.z.size());
  for (std::size_t i = 0; i < twice.size(); ++i) twice[i] = 2 * p.z[i] + 1;
  const auto src = Source({{"z", p.z}, {"w", twice}, {"c", p.category}});
  try {
    Blp(p.data, p.fit, MakeBasis("z,w", src, p.data.n), BlpOptions());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("singular basis: term 'w'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(MakeBasis("z,", src, p.data.n), UsageError);
  EXPECT_THROW(MakeBasis("spline(z)", src, p.data.n), UsageError);
  EXPECT_THROW(MakeBasis("poly(z,2)", src, p.data.n), UsageError);
  EXPECT_THROW(MakeBasis("cat(z", src, p.data.n), UsageError);
  EXPECT_THROW(MakeBasis("spline(z,1)", src, p.data.n), UsageError);
}

}  // namespace
}  // namespace fastdml
