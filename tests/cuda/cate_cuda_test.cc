// One test body per device for the heterogeneity passes (cate/ols/row_sums.h):
// GATE (HC0, HC1, HC3, cluster; ATE and ATT signals), BLP coefficients and
// covariance, and sorted GATES with the fit's device set to "cpu" or "cuda".
// Each body checks the device against textbook values (group means, the
// least-squares solution) and against the CPU run; bad inputs must give the
// CPU's error, word for word.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cate/cate_fixture.h"
#include "cate/signal.h"
#include "cuda/row_sums.h"
#include "cuda/device.h"
#include "fastdml/cate.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

using testing_cate::MakeProblem;
using testing_cate::Problem;

// The device sums groups of at most n rows in another order than the CPU
// loop (and may contract multiply-adds), so sums differ by at most about
// 2 n eps sum|x|; with n <= 3000 and sum|x| / |sum x| below 50 here that is
// under 1e-10 relative to the estimate's scale (its size plus its SE).
constexpr double kTol = 1e-10;

::testing::AssertionResult Near(double want, double got, double scale, const std::string& what) {
  if (std::fabs(got - want) <= kTol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": cpu " << want << ", device " << got << " (difference "
                                       << std::fabs(got - want) << ", allowed " << kTol * scale << ")";
}

Fit OnDevice(Fit fit, const std::string& device) {
  fit.options.device = ParseDevice(device);
  return fit;
}

Problem ClusteredProblem() {
  Problem p = MakeProblem(3000, 2, 11);
  p.data.n_clusters = 37;
  for (std::size_t i = 0; i < p.data.n; ++i) p.data.cluster.push_back(static_cast<std::int32_t>((i * 7) % 37));
  return p;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void TestGate(const std::string& device) {
  const Problem p = ClusteredProblem();
  const Grouping g = GroupByCategory("category", p.category);
  const Fit fit = OnDevice(p.fit, device);
  for (Estimand signal : {Estimand::kAte, Estimand::kAtt, Estimand::kAtc}) {
    for (CovType cov : {CovType::kHC0, CovType::kHC1, CovType::kHC3, CovType::kCluster}) {
      SCOPED_TRACE(std::string(ToString(signal)) + ", " + ToString(cov));
      GateOptions o;
      o.score.estimand = signal;
      o.cov = cov;
      const GateResult want = Gate(p.data, p.fit, g, o), got = Gate(p.data, fit, g, o);
      ASSERT_EQ(got.groups.size(), want.groups.size());
      for (std::size_t k = 0; k < want.groups.size(); ++k) {
        const GroupEffect &w = want.groups[k], &e = got.groups[k];
        EXPECT_EQ(e.n, w.n);
        EXPECT_EQ(e.n_treated, w.n_treated);
        for (int r = 0; r < 2; ++r) {
          const double scale = std::fabs(w.theta_reps[r]) + w.se_reps[r];
          EXPECT_TRUE(Near(w.theta_reps[r], e.theta_reps[r], scale, "estimate of group " + w.label));
          EXPECT_TRUE(Near(w.se_reps[r], e.se_reps[r], w.se_reps[r], "se of group " + w.label));
        }
      }
    }
  }
  // Textbook: the ATE GATE is the group mean of the AIPW signal (repetition 0).
  const GateResult res = Gate(p.data, fit, g, GateOptions());
  const cate::Signal s = cate::MakeSignal(p.data, p.fit, 0, ScoreSpec());
  for (std::size_t k = 0; k < g.labels.size(); ++k) {
    double sum = 0, rows = 0;
    for (std::size_t i = 0; i < p.data.n; ++i) {
      if (g.group[i] == static_cast<std::int32_t>(k)) sum += s.y[i], rows += 1;
    }
    EXPECT_TRUE(Near(sum / rows, res.groups[k].theta_reps[0], std::fabs(sum / rows) + res.groups[k].se_reps[0],
                     "group mean of " + g.labels[k]));
  }
}

Basis QuadraticBasis(const std::vector<double>& z) {
  Basis b;
  b.names = {"intercept", "z", "z^2"};
  b.n = z.size();
  b.k = 3;
  for (double v : z) b.x.insert(b.x.end(), {1.0, v, v * v});
  return b;
}

void TestBlp(const std::string& device) {
  const Problem p = ClusteredProblem();
  const Basis basis = QuadraticBasis(p.z);
  const Fit fit = OnDevice(p.fit, device);
  for (CovType cov : {CovType::kHC0, CovType::kHC1, CovType::kHC3, CovType::kCluster}) {
    SCOPED_TRACE(ToString(cov));
    BlpOptions o;
    o.cov = cov;
    const BlpResult want = Blp(p.data, p.fit, basis, o), got = Blp(p.data, fit, basis, o);
    for (int r = 0; r < 2; ++r) {
      for (int j = 0; j < 3; ++j) {
        const double se_j = std::sqrt(want.cov_reps[r][j * 3 + j]);
        EXPECT_TRUE(Near(want.coef_reps[r][j], got.coef_reps[r][j], std::fabs(want.coef_reps[r][j]) + se_j,
                         "coefficient " + basis.names[j]));
        for (int c = 0; c < 3; ++c) {
          const double scale = se_j * std::sqrt(want.cov_reps[r][c * 3 + c]);
          EXPECT_TRUE(Near(want.cov_reps[r][j * 3 + c], got.cov_reps[r][j * 3 + c], scale,
                           "covariance " + basis.names[j] + ", " + basis.names[c]));
        }
      }
    }
  }
  // Textbook: the coefficients are the least-squares fit of the signal on the basis.
  const BlpResult res = Blp(p.data, fit, basis, BlpOptions());
  const cate::Signal s = cate::MakeSignal(p.data, p.fit, 0, ScoreSpec());
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>> X(basis.x.data(), p.data.n, 3);
  const Eigen::Vector3d beta = X.colPivHouseholderQr().solve(Eigen::Map<const Eigen::VectorXd>(s.y.data(), p.data.n));
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(res.coef_reps[0][j], beta(j), 1e-10 * (1 + std::fabs(beta(j))));
}

void TestSortedGates(const std::string& device) {
  const Problem p = ClusteredProblem();
  const Fit fit = OnDevice(p.fit, device);
  const std::vector<std::vector<double>> proxy = OutcomeDifferenceProxy(p.fit);
  for (CovType cov : {CovType::kHC0, CovType::kHC3, CovType::kCluster}) {
    SCOPED_TRACE(ToString(cov));
    SortedGatesOptions o;
    o.cov = cov;
    o.clan = {"x"};
    const SortedGatesResult want = SortedGates(p.data, p.fit, proxy, o), got = SortedGates(p.data, fit, proxy, o);
    EXPECT_EQ(got.group_reps, want.group_reps);  // the sort and the bins are exact
    EXPECT_EQ(got.group_rows, want.group_rows);
    auto same = [](const Inferred& w, const Inferred& e, const std::string& what) {
      for (std::size_t r = 0; r < w.theta_reps.size(); ++r) {
        EXPECT_TRUE(Near(w.theta_reps[r], e.theta_reps[r], std::fabs(w.theta_reps[r]) + w.se_reps[r], what));
        EXPECT_TRUE(Near(w.se_reps[r], e.se_reps[r], w.se_reps[r], what + " se"));
      }
    };
    for (int k = 0; k < o.groups; ++k) same(want.gates[k], got.gates[k], "GATES " + want.labels[k]);
    same(want.top_minus_bottom, got.top_minus_bottom, "top minus bottom");
    same(want.blp_beta1, got.blp_beta1, "BLP beta1");
    same(want.blp_beta2, got.blp_beta2, "BLP beta2");
    same(want.clan[0].difference, got.clan[0].difference, "CLAN x");
  }
}

void TestBadInputsGiveTheCpuError(const std::string& device) {
  Problem p = ClusteredProblem();
  for (std::size_t i = 0; i < p.data.n; ++i) {
    if (p.category[i] == 3) p.data.d[i] = 0.0;  // category 3 has no treated rows
  }
  const Grouping g = GroupByCategory("category", p.category);
  const Fit fit = OnDevice(p.fit, device);
  const std::string want = ErrorOf([&] { Gate(p.data, p.fit, g, GateOptions()); });
  EXPECT_NE(want.find("group '3' has no treated rows"), std::string::npos) << want;
  EXPECT_EQ(ErrorOf([&] { Gate(p.data, fit, g, GateOptions()); }), want);

  // A basis term repeated: the collinearity check names it on both devices.
  Basis basis = QuadraticBasis(p.z);
  basis.names.push_back("z again");
  basis.k = 4;
  std::vector<double> x;
  for (std::size_t i = 0; i < p.data.n; ++i) {
    x.insert(x.end(), basis.x.begin() + 3 * i, basis.x.begin() + 3 * i + 3);
    x.push_back(p.z[i]);
  }
  basis.x = x;
  const std::string collinear = ErrorOf([&] { Blp(p.data, p.fit, basis, BlpOptions()); });
  EXPECT_NE(collinear.find("term 'z again' is a linear combination"), std::string::npos) << collinear;
  EXPECT_EQ(ErrorOf([&] { Blp(p.data, fit, basis, BlpOptions()); }), collinear);
}

#define FASTDML_SKIP_WITHOUT_CUDA()                          \
  do {                                                       \
    std::string why_not;                                     \
    if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not; \
  } while (0)

TEST(CateCpu, GateMatchesGroupMeansForEveryCovariance) { TestGate("cpu"); }
TEST(CateCpu, BlpMatchesLeastSquaresForEveryCovariance) { TestBlp("cpu"); }
TEST(CateCpu, SortedGatesBinsAndEstimates) { TestSortedGates("cpu"); }
TEST(CateCpu, BadInputsGiveTheCpuError) { TestBadInputsGiveTheCpuError("cpu"); }

TEST(CateCuda, GateMatchesCpuForEveryCovariance) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestGate("cuda");
}
TEST(CateCuda, BlpMatchesCpuForEveryCovariance) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestBlp("cuda");
}
TEST(CateCuda, SortedGatesMatchCpu) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestSortedGates("cuda:0");
}
TEST(CateCuda, BadInputsGiveTheCpuError) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestBadInputsGiveTheCpuError("cuda");
}

#ifndef FASTDML_WITH_CUDA
// Built without CUDA the same symbols exist and say so, rather than failing to link.
TEST(CateCudaStubs, ThrowBuiltWithoutCuda) {
  const std::vector<double> a{1, 1, 1}, b{1, 2, 3};
  const std::vector<std::int32_t> group{0, 0, 1};
  try {
    cuda::UploadGroupRows(a, b, group, 2, {});
    ADD_FAILURE() << "expected fastdml::LibraryError";
  } catch (const LibraryError& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cuda::UploadOlsRows(b, a, 3, 1, {}, 0), LibraryError);
  EXPECT_THROW(cuda::CountByGroup(group, 2, nullptr), LibraryError);
  EXPECT_THROW(cuda::CutQuantiles(b, 2), LibraryError);
}
#endif

}  // namespace
}  // namespace fastdml
