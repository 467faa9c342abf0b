// The GPU's score code (ops/score_solve_thrust.h, as cuda/scores.cu runs it)
// on Thrust's OpenMP backend, against the CPU twin: psi_a and psi_b of every
// IRM variant (ATE/ATT, Hajek normalisation, sample weights, clipping on and
// off) and of PLR from cpu::IrmScores / cpu::PlrScores, and the DML2 solution
// (theta, J, SE, psi at theta) from sums written out here from the textbook
// form. Tolerance 1e-12 relative: the only difference is the order of the
// sums (OpenMP reduction vs. a sequential loop), which moves a sum of 5,000
// terms of size ~1 by a few ulps of the sum.
#include <gtest/gtest.h>
#include <thrust/execution_policy.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cpu/scores.h"
#include "ops/score_solve_thrust.h"

namespace fastdml {
namespace {

constexpr std::size_t kRows = 5000;
constexpr double kTol = 1e-12;

::testing::AssertionResult Near(double want, double got) {
  const double err = std::fabs(got - want), scale = std::max(1.0, std::fabs(want));
  if (err <= kTol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << want << ", got " << got << " (relative error "
                                       << err / scale << ")";
}

void ExpectAllNear(const std::vector<double>& want, const std::vector<double>& got, const char* what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_TRUE(Near(want[i], got[i])) << what << " row " << i;
}

// Rows with overlap problems on purpose: 3% of propensities beyond each
// clipping bound, a treated share of about 30%, weights with mean 1.
struct Rows {
  std::vector<double> y, d, m, g0, g1, l, uw;
};

Rows MakeRows(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> z(0.0, 1.0);
  Rows r;
  double sum_w = 0;
  for (std::size_t i = 0; i < kRows; ++i) {
    const double tail = u(rng);
    const double m = tail < 0.03 ? 0.004 * u(rng) : tail > 0.97 ? 1.0 - 0.004 * u(rng) : 0.05 + 0.9 * u(rng);
    r.m.push_back(m);
    r.d.push_back(u(rng) < 0.3 ? 1.0 : 0.0);
    r.g0.push_back(z(rng));
    r.g1.push_back(r.g0.back() + 0.5 + 0.2 * z(rng));
    r.y.push_back((r.d.back() == 1.0 ? r.g1.back() : r.g0.back()) + z(rng));
    r.l.push_back(0.3 * r.g1.back() + 0.7 * r.g0.back());
    r.uw.push_back(0.2 + 1.6 * u(rng));
    sum_w += r.uw.back();
  }
  for (double& w : r.uw) w *= kRows / sum_w;
  return r;
}

struct IrmCase {
  Estimand estimand;
  bool normalize, weighted;
  double clip;
};

std::string Name(const IrmCase& c) {
  return std::string(ToString(c.estimand)) + (c.normalize ? " normalised" : "") + (c.weighted ? " weighted" : "") +
         " clip " + std::to_string(c.clip);
}

IrmScoreArgs Args(const Rows& r, const IrmCase& c) {
  IrmScoreArgs a;
  a.n = kRows;
  a.y = r.y.data();
  a.d = r.d.data();
  a.m = r.m.data();
  a.g0 = r.g0.data();
  a.g1 = r.g1.data();
  a.uw = c.weighted ? r.uw.data() : nullptr;
  a.spec.clip = c.clip;
  a.spec.normalize_ipw = c.normalize;
  a.spec.estimand = c.estimand;
  return a;
}

// PLR arguments over the rows, with m as the treatment prediction.
PlrScoreArgs PlrArgs(const Rows& r, const double* m) {
  PlrScoreArgs a;
  a.n = kRows;
  a.y = r.y.data();
  a.d = r.d.data();
  a.m = m;
  a.l = r.l.data();
  return a;
}

// theta = -sum(psi_b)/sum(psi_a), J = mean(psi_a), se^2 = mean(psi^2)/(J^2 n),
// written out once more here rather than read from ops::SolveFromSums.
void ExpectSolutionOf(const std::vector<double>& a, const std::vector<double>& b, const ops::ScoreSolution& got,
                      const std::vector<double>& psi_got) {
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sa += a[i], sb += b[i];
  const double theta = -sb / sa, n = static_cast<double>(a.size());
  double ss = 0;
  std::vector<double> psi(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    psi[i] = theta * a[i] + b[i];
    ss += psi[i] * psi[i];
  }
  const double j = sa / n;
  EXPECT_TRUE(Near(theta, got.theta)) << "theta";
  EXPECT_TRUE(Near(j, got.j)) << "J";
  EXPECT_TRUE(Near(std::sqrt(ss / n / (j * j) / n), got.se)) << "se";
  ExpectAllNear(psi, psi_got, "psi at theta");
}

TEST(ScoreSolveThrust, IrmScoresAndSolutionMatchTheCpuForEveryVariant) {
  const Rows r = MakeRows(5);
  for (Estimand e : {Estimand::kAte, Estimand::kAtt, Estimand::kAtc, Estimand::kAto})
    for (bool normalize : {false, true})
      for (bool weighted : {false, true})
        for (double clip : {0.01, 0.0}) {
          const IrmCase c{e, normalize, weighted, clip};
          SCOPED_TRACE(Name(c));
          if (clip == 0.0) {
            // Unclipped IPW needs propensities inside (0, 1): Estimate refuses 0 and 1.
            ASSERT_TRUE(std::all_of(r.m.begin(), r.m.end(), [](double m) { return m > 0 && m < 1; }));
          }
          const IrmScoreArgs args = Args(r, c);
          std::vector<double> want_a(kRows), want_b(kRows);
          cpu::IrmScores(args, want_a.data(), want_b.data());
          std::vector<double> m_work(kRows), got_a(kRows), got_b(kRows), psi(kRows);
          ops::ComputeIrmScores(thrust::device, args, m_work.data(), got_a.data(), got_b.data());
          ExpectAllNear(want_a, got_a, "psi_a");
          ExpectAllNear(want_b, got_b, "psi_b");
          const ops::ScoreSolution s = ops::SolveDml2(thrust::device, kRows, got_a.data(), got_b.data(), psi.data());
          ExpectSolutionOf(want_a, want_b, s, psi);
          // The inputs are read only: the clipped propensity went to m_work.
          EXPECT_EQ(args.m, r.m.data());
        }
}

TEST(ScoreSolveThrust, PlrScoresAndSolutionMatchTheCpu) {
  const Rows r = MakeRows(6);
  const PlrScoreArgs a = PlrArgs(r, r.m.data());
  std::vector<double> want_a(kRows), want_b(kRows), got_a(kRows), got_b(kRows), psi(kRows);
  cpu::PlrScores(a, want_a.data(), want_b.data());
  ops::ComputePlrScores(thrust::device, a, got_a.data(), got_b.data());
  ExpectAllNear(want_a, got_a, "psi_a");
  ExpectAllNear(want_b, got_b, "psi_b");
  const ops::ScoreSolution s = ops::SolveDml2(thrust::device, kRows, got_a.data(), got_b.data(), psi.data());
  ExpectSolutionOf(want_a, want_b, s, psi);
}

TEST(ScoreSolveThrust, NoTreatmentVariationLeftGivesZeroJacobian) {
  // PLR with m = D: every residual v = D - m is 0, so psi_a = 0 and J = 0,
  // which Estimate turns into a DataError naming the Jacobian.
  const Rows r = MakeRows(7);
  const PlrScoreArgs a = PlrArgs(r, r.d.data());
  std::vector<double> psi_a(kRows), psi_b(kRows), psi(kRows);
  ops::ComputePlrScores(thrust::device, a, psi_a.data(), psi_b.data());
  const ops::ScoreSolution s = ops::SolveDml2(thrust::device, kRows, psi_a.data(), psi_b.data(), psi.data());
  EXPECT_EQ(s.j, 0.0);
  EXPECT_FALSE(std::isfinite(s.theta));
}

}  // namespace
}  // namespace fastdml
