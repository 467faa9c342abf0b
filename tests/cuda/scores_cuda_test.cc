// One test body per device for the score kernels: each body checks a device's
// IrmScores/PlrScores against values written out from the formulas in
// docs/design.md section 2 (textbook forms, not ops/scores.h), and the CUDA twin
// is checked against the CPU one on 100k random rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "cpu/scores.h"
#include "cuda/expect_built_without_cuda.h"
#include "cuda/device.h"
#include "cuda/scores.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "sim/simulate.h"
#include "sim_dataset.h"

namespace fastdml {
namespace {

using IrmFn = void (*)(const IrmScoreArgs&, double*, double*);
using PlrFn = void (*)(const PlrScoreArgs&, double*, double*);

// |got - want| <= tol * max(1, |want|): relative, with an absolute floor for
// scores that cancel to near zero.
::testing::AssertionResult Near(double want, double got, double tol) {
  const double err = std::fabs(got - want), scale = std::max(1.0, std::fabs(want));
  if (err <= tol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "want " << want << ", got " << got << " (error "
                                       << err / scale << " relative, tolerance " << tol << ")";
}

constexpr double kTol = 1e-12;

// Eight hand-picked rows: treated and control, both clipping bounds hit
// (rows 2 and 3 with clip 0.01), sample weights with mean 1.
struct Rows {
  std::vector<double> y{2.0, 1.0, 3.5, 0.0, -1.0, 4.0, 2.5, 1.5};
  std::vector<double> d{1, 0, 1, 0, 1, 0, 1, 0};
  std::vector<double> m{0.5, 0.4, 0.005, 0.999, 0.7, 0.3, 0.9, 0.2};
  std::vector<double> g0{1.0, 0.8, 2.0, 0.5, -0.5, 3.0, 2.0, 1.0};
  std::vector<double> g1{1.5, 1.2, 3.0, 1.0, 0.0, 3.5, 2.2, 1.8};
  std::vector<double> l{1.8, 0.9, 2.6, 0.4, -0.2, 3.2, 2.1, 1.4};
  std::vector<double> uw{1.2, 0.8, 1.0, 1.5, 0.5, 1.0, 0.9, 1.1};
  std::size_t size() const { return y.size(); }
};

struct Scores {
  std::vector<double> a, b;
};

// IRM scores transcribed from docs/design.md section 2 (weighted as in DoubleML):
//   ATE: psi_a = -uw / mean(uw), psi_b = uw (g1 - g0 + D(Y-g1)/m - (1-D)(Y-g0)/(1-m))
//   ATT: p = mean(uw D), psi_a = -uw D / p,
//        psi_b = uw (D(Y-g0)/p - m(1-D)(Y-g0)/(p(1-m)))
//   ATC: q = mean(uw (1-D)), psi_a = -uw (1-D) / q,
//        psi_b = uw (-(1-D)(Y-g1)/q + (1-m) D (Y-g1)/(q m))
//   normalize_ipw: D/m -> (D/m)/mean(D/m), (1-D)/(1-m) likewise (ATT's odds
//   m/(1-m) of a control row and ATC's (1-m)/m of a treated row use the
//   propensity implied by that replacement).
Scores ReferenceIrm(const Rows& r, double clip, Estimand e, bool normalize, bool weighted) {
  const std::size_t n = r.size();
  std::vector<double> m(n), uw(n, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = std::min(std::max(r.m[i], clip), 1.0 - clip);
    if (weighted) uw[i] = r.uw[i];
  }
  double mean1 = 1.0, mean0 = 1.0, mean_uw = 0.0, p = 0.0, q = 0.0;
  if (normalize) {
    mean1 = mean0 = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      mean1 += r.d[i] / m[i] / n;
      mean0 += (1.0 - r.d[i]) / (1.0 - m[i]) / n;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    mean_uw += uw[i] / n;
    p += uw[i] * r.d[i] / n;
    q += uw[i] * (1.0 - r.d[i]) / n;
  }
  Scores s{std::vector<double>(n), std::vector<double>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    const double y = r.y[i], d = r.d[i], g0 = r.g0[i], g1 = r.g1[i];
    if (e == Estimand::kAte) {
      const double ipw1 = d / (m[i] * mean1), ipw0 = (1.0 - d) / ((1.0 - m[i]) * mean0);
      s.a[i] = -uw[i] / mean_uw;
      s.b[i] = uw[i] * (g1 - g0 + ipw1 * (y - g1) - ipw0 * (y - g0));
    } else if (e == Estimand::kAtt) {
      const double one_minus_m = (1.0 - m[i]) * mean0;  // normalised 1 - m of a control row
      const double odds = (1.0 - one_minus_m) / one_minus_m;
      s.a[i] = -uw[i] * d / p;
      s.b[i] = uw[i] * (d * (y - g0) / p - odds * (1.0 - d) * (y - g0) / p);
    } else {
      const double m_treated = m[i] * mean1;  // normalised m of a treated row
      const double odds = (1.0 - m_treated) / m_treated;
      s.a[i] = -uw[i] * (1.0 - d) / q;
      s.b[i] = uw[i] * (-(1.0 - d) * (y - g1) / q + odds * d * (y - g1) / q);
    }
  }
  return s;
}

Scores RunIrm(IrmFn irm, const Rows& r, double clip, Estimand e, bool normalize, bool weighted) {
  IrmScoreArgs args;
  args.n = r.size();
  args.y = r.y.data();
  args.d = r.d.data();
  args.m = r.m.data();
  args.g0 = r.g0.data();
  args.g1 = r.g1.data();
  args.uw = weighted ? r.uw.data() : nullptr;
  args.spec.clip = clip;
  args.spec.normalize_ipw = normalize;
  args.spec.estimand = e;
  Scores s{std::vector<double>(r.size()), std::vector<double>(r.size())};
  irm(args, s.a.data(), s.b.data());
  return s;
}

void TestIrmScores(IrmFn irm) {
  const Rows r;
  // Worked by hand: ATE, unweighted, clip 0.01 (rows 2 and 3 are clipped).
  const Scores plain = RunIrm(irm, r, 0.01, Estimand::kAte, false, false);
  for (double a : plain.a) EXPECT_TRUE(Near(-1.0, a, kTol));
  EXPECT_TRUE(Near(0.5 + 0.5 / 0.5, plain.b[0], kTol));   // 1.5
  EXPECT_TRUE(Near(0.4 - 0.2 / 0.6, plain.b[1], kTol));   // 1/15
  EXPECT_TRUE(Near(1.0 + 0.5 / 0.01, plain.b[2], kTol));  // 51, m clipped up
  EXPECT_TRUE(Near(0.5 + 0.5 / 0.01, plain.b[3], kTol));  // 50.5, m clipped down
  EXPECT_TRUE(Near(0.5 - 1.0 / 0.7, plain.b[4], kTol));

  for (Estimand e : {Estimand::kAte, Estimand::kAtt, Estimand::kAtc})
    for (bool normalize : {false, true})
      for (bool weighted : {false, true})
        for (double clip : {0.01, 0.1}) {
          SCOPED_TRACE(std::string(ToString(e)) + (normalize ? ", normalize_ipw" : "") +
                       (weighted ? ", weighted" : "") + ", clip " + std::to_string(clip));
          const Scores want = ReferenceIrm(r, clip, e, normalize, weighted);
          const Scores got = RunIrm(irm, r, clip, e, normalize, weighted);
          for (std::size_t i = 0; i < r.size(); ++i) {
            EXPECT_TRUE(Near(want.a[i], got.a[i], kTol)) << "psi_a, row " << i;
            EXPECT_TRUE(Near(want.b[i], got.b[i], kTol)) << "psi_b, row " << i;
          }
        }
}

// The overlap-weighted ATE in the long form of its efficient influence
// function (src/ops/scores.h OverlapScore derives the compact form from it):
// psi = h (tau - theta) + (1 - m) D (Y - g1) - m (1 - D)(Y - g0) + (1 - 2m)(D - m)(tau - theta),
// h = m (1 - m), tau = g1 - g0, raw m (no clipping or normalisation), times the weight.
void TestOverlapScores(IrmFn irm) {
  const Rows r;
  for (bool normalize : {false, true})
    for (bool weighted : {false, true})
      for (double clip : {0.01, 0.1}) {
        SCOPED_TRACE(std::string("ato") + (normalize ? ", normalize_ipw" : "") + (weighted ? ", weighted" : "") +
                     ", clip " + std::to_string(clip));
        const Scores got = RunIrm(irm, r, clip, Estimand::kAto, normalize, weighted);
        for (std::size_t i = 0; i < r.size(); ++i) {
          const double m = r.m[i], d = r.d[i], tau = r.g1[i] - r.g0[i], h = m * (1.0 - m);
          const double w = weighted ? r.uw[i] : 1.0;
          const double a = -w * (h + (1.0 - 2.0 * m) * (d - m));
          const double b = w * (h * tau + (1.0 - m) * d * (r.y[i] - r.g1[i]) - m * (1.0 - d) * (r.y[i] - r.g0[i]) +
                                (1.0 - 2.0 * m) * (d - m) * tau);
          EXPECT_TRUE(Near(a, got.a[i], kTol)) << "psi_a, row " << i;
          EXPECT_TRUE(Near(b, got.b[i], kTol)) << "psi_b, row " << i;
        }
      }
}

void TestPlrScores(PlrFn plr) {
  const Rows r;
  PlrScoreArgs args;
  args.n = r.size();
  args.y = r.y.data();
  args.d = r.d.data();
  args.m = r.m.data();
  args.l = r.l.data();
  std::vector<double> a(r.size()), b(r.size());
  plr(args, a.data(), b.data());
  // Worked by hand; m is not clipped in PLR (row 2 keeps m = 0.005).
  EXPECT_TRUE(Near(-0.25, a[0], kTol));
  EXPECT_TRUE(Near(0.5 * 0.2, b[0], kTol));
  EXPECT_TRUE(Near(-0.995 * 0.995, a[2], kTol));
  EXPECT_TRUE(Near(0.995 * 0.9, b[2], kTol));
  // PLR, partialling out: v = D - m; psi_a = -v^2, psi_b = v (Y - l).
  for (std::size_t i = 0; i < r.size(); ++i) {
    const double v = r.d[i] - r.m[i];
    EXPECT_TRUE(Near(-v * v, a[i], kTol)) << "psi_a, row " << i;
    EXPECT_TRUE(Near(v * (r.y[i] - r.l[i]), b[i], kTol)) << "psi_b, row " << i;
  }
}

#define FASTDML_SKIP_WITHOUT_CUDA()                          \
  do {                                                       \
    std::string why_not;                                     \
    if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not; \
  } while (0)

TEST(ScoresCpu, IrmMatchesTextbookFormulas) { TestIrmScores(cpu::IrmScores); }
TEST(ScoresCpu, PlrMatchesTextbookFormulas) { TestPlrScores(cpu::PlrScores); }
TEST(ScoresCpu, OverlapWeightedMatchesItsInfluenceFunction) { TestOverlapScores(cpu::IrmScores); }

TEST(ScoresCuda, IrmMatchesTextbookFormulas) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestIrmScores(cuda::IrmScores);
}
TEST(ScoresCuda, OverlapWeightedMatchesItsInfluenceFunction) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestOverlapScores(cuda::IrmScores);
}
TEST(ScoresCuda, PlrMatchesTextbookFormulas) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestPlrScores(cuda::PlrScores);
}

// 100k rows (not a multiple of any block size) with propensities beyond both
// clipping bounds; CUDA reductions sum in another order than the CPU loop, so
// the twins agree within kTol relative rather than bit for bit.
TEST(ScoresCuda, MatchCpuOn100kRandomRows) {
  FASTDML_SKIP_WITHOUT_CUDA();
  constexpr std::size_t n = 100000;
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> y(n), d(n), m(n), g0(n), g1(n), l(n), uw(n);
  double sum_uw = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = 0.001 + 0.998 * unif(rng);
    d[i] = unif(rng) < m[i] ? 1.0 : 0.0;
    g0[i] = normal(rng);
    g1[i] = g0[i] + 0.5 + 0.1 * normal(rng);
    y[i] = (d[i] != 0.0 ? g1[i] : g0[i]) + normal(rng);
    l[i] = m[i] * g1[i] + (1.0 - m[i]) * g0[i];
    uw[i] = 0.5 + unif(rng);
    sum_uw += uw[i];
  }
  for (double& w : uw) w *= n / sum_uw;  // mean 1

  auto expect_same = [](const std::vector<double>& want, const std::vector<double>& got,
                        const char* what) {
    std::size_t worst = 0;
    double worst_err = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double err = std::fabs(got[i] - want[i]) / std::max(1.0, std::fabs(want[i]));
      if (err > worst_err) worst_err = err, worst = i;
    }
    EXPECT_LE(worst_err, kTol) << what << ": worst row " << worst << ", cpu " << want[worst]
                               << ", cuda " << got[worst];
  };

  for (Estimand e : {Estimand::kAte, Estimand::kAtt, Estimand::kAtc, Estimand::kAto})
    for (bool normalize : {false, true})
      for (bool weighted : {false, true}) {
        SCOPED_TRACE(std::string(ToString(e)) + (normalize ? ", normalize_ipw" : "") +
                     (weighted ? ", weighted" : ""));
        IrmScoreArgs args;
        args.n = n;
        args.y = y.data();
        args.d = d.data();
        args.m = m.data();
        args.g0 = g0.data();
        args.g1 = g1.data();
        args.uw = weighted ? uw.data() : nullptr;
        args.spec.normalize_ipw = normalize;
        args.spec.estimand = e;
        std::vector<double> ca(n), cb(n), ga(n), gb(n);
        cpu::IrmScores(args, ca.data(), cb.data());
        cuda::IrmScores(args, ga.data(), gb.data());
        expect_same(ca, ga, "IRM psi_a");
        expect_same(cb, gb, "IRM psi_b");
      }

  PlrScoreArgs plr;
  plr.n = n;
  plr.y = y.data();
  plr.d = d.data();
  plr.m = m.data();
  plr.l = l.data();
  std::vector<double> ca(n), cb(n), ga(n), gb(n);
  cpu::PlrScores(plr, ca.data(), cb.data());
  cuda::PlrScores(plr, ga.data(), gb.data());
  expect_same(ca, ga, "PLR psi_a");
  expect_same(cb, gb, "PLR psi_b");
}

// Estimate on a GPU (cuda::ScoreSession) from given predictions, IRM with
// sample weights and Hajek normalisation (ATE and ATT) and PLR, 2
// repetitions: theta, SE and psi equal the CPU's within kTol relative (the
// sums run in another order), psi stays on the device for the bootstrap, and
// the bootstrap gives the same t* from that device psi as from an upload. No
// XGBoost, so compute-sanitizer can check it quickly (scripts/gpu-bringup).
TEST(ScoresCuda, EstimateOnTheGpuMatchesTheCpu) {
  FASTDML_SKIP_WITHOUT_CUDA();
  constexpr std::size_t n = 30011;
  constexpr int reps = 2;
  for (Model model : {Model::kIrm, Model::kPlr}) {
    SCOPED_TRACE(ToString(model));
    sim::SimOptions so;
    so.design = model == Model::kIrm ? sim::Design::kIrm : sim::Design::kPlr;
    so.n = n;
    so.p = 4;
    so.seed = 17;
    Dataset data = test::DatasetFromSim(sim::Simulate(so));
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    if (model == Model::kIrm) {
      for (std::size_t i = 0; i < n; ++i) data.weights.push_back(0.5 + unif(rng));
    }
    Predictions pred;
    pred.n = n;
    pred.reps = reps;
    for (int r = 0; r < reps; ++r) {
      for (std::size_t i = 0; i < n; ++i) {
        pred.fold.push_back(static_cast<int>((i + static_cast<std::size_t>(r)) % 3));
        pred.m.push_back(0.03 + 0.94 * unif(rng));
        if (model == Model::kIrm) {
          pred.g0.push_back(data.y[i] + normal(rng));
          pred.g1.push_back(data.y[i] + 0.5 + normal(rng));
        } else {
          pred.l.push_back(data.y[i] + normal(rng));
        }
      }
    }
    Options cpu_o;
    cpu_o.model = model;
    cpu_o.normalize_ipw = model == Model::kIrm;
    cpu_o.estimands = model == Model::kIrm ? std::vector<Estimand>{Estimand::kAte, Estimand::kAtt}
                                           : std::vector<Estimand>{Estimand::kAte};
    Options gpu_o = cpu_o;
    gpu_o.device = Device::Cuda();
    const Report host = Estimate(data, FitFromPredictions(data, cpu_o, pred), cpu_o);
    const Report gpu = Estimate(data, FitFromPredictions(data, gpu_o, pred), gpu_o);
    ASSERT_EQ(host.estimates.size(), gpu.estimates.size());
    for (std::size_t e = 0; e < host.estimates.size(); ++e) {
      for (int r = 0; r < reps; ++r) {
        EXPECT_TRUE(Near(host.estimates[e].theta_reps[r], gpu.estimates[e].theta_reps[r], kTol)) << "theta " << e;
        EXPECT_TRUE(Near(host.estimates[e].se_reps[r], gpu.estimates[e].se_reps[r], kTol)) << "se " << e;
      }
    }
    for (int r = 0; r < reps; ++r) {
      const ScoreBlock &h = host.scores[r], &g = gpu.scores[r];
      EXPECT_EQ(h.device_scores, nullptr);
      ASSERT_NE(g.device_scores, nullptr);
      EXPECT_EQ(g.device_scores->n(), n);
      EXPECT_EQ(g.device_scores->k(), g.k);
      for (std::size_t i = 0; i < h.psi.size(); ++i) ASSERT_TRUE(Near(h.psi[i], g.psi[i], kTol)) << "psi " << i;
      for (int j = 0; j < g.k; ++j) EXPECT_TRUE(Near(h.j[j], g.j[j], kTol)) << "J " << j;
    }
    BootstrapOptions bo;
    bo.replicates = 500;
    bo.method = BootstrapMethod::kMammen;
    bo.sampler = BootstrapSampler::kLoop;
    bo.seed = 3;
    bo.device = Device::Cuda();
    ScoreBlock uploaded = gpu.scores[1];
    uploaded.device_scores.reset();
    EXPECT_EQ(BootstrapT(gpu.scores[1], bo, 1), BootstrapT(uploaded, bo, 1));
  }
}

#ifndef FASTDML_WITH_CUDA
// Built without CUDA the same symbols exist and say so, rather than failing to link.
TEST(ScoresCudaStubs, ThrowBuiltWithoutCuda) {
  std::string why_not;
  EXPECT_FALSE(cuda::Available(&why_not));
  EXPECT_NE(why_not.find("built without CUDA"), std::string::npos) << why_not;
  const Rows r;
  IrmScoreArgs irm;
  irm.n = r.size();
  irm.y = r.y.data();
  irm.d = r.d.data();
  irm.m = r.m.data();
  irm.g0 = r.g0.data();
  irm.g1 = r.g1.data();
  PlrScoreArgs plr;
  plr.n = r.size();
  plr.y = r.y.data();
  plr.d = r.d.data();
  plr.m = r.m.data();
  plr.l = r.l.data();
  std::vector<double> a(r.size()), b(r.size());
  test::ExpectBuiltWithoutCuda([&] { cuda::IrmScores(irm, a.data(), b.data()); });
  test::ExpectBuiltWithoutCuda([&] { cuda::PlrScores(plr, a.data(), b.data()); });
  test::ExpectBuiltWithoutCuda([] { cuda::Query(0); });
  Predictions pred;
  pred.n = r.size();
  pred.reps = 1;
  test::ExpectBuiltWithoutCuda([&] { cuda::ScoreSession(r.size(), 1, r.y.data(), r.d.data(), nullptr, pred, nullptr); });
  test::ExpectBuiltWithoutCuda([&] { cuda::DeviceScores(r.size(), 1); });
}
#endif

}  // namespace
}  // namespace fastdml
