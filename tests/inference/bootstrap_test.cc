// Multiplier bootstrap: the Philox weight contract (ops/philox_weights.h) and
// BootstrapT's loop and exact samplers (src/cpu/bootstrap.cc; the checks and
// the dispatch are src/inference/bootstrap.cc).
//
// Statistical tolerances are 5 Monte-Carlo standard errors (two-sided
// false-alarm rate ~6e-7 per check; every draw is seeded, so each run is
// deterministic anyway): for a mean, 5 sqrt(var / N); for a variance (second
// moment), 5 sqrt((m4 - m2^2) / N) with m4 the sample fourth moment; for a
// proportion q, 5 sqrt(q (1 - q) / N).
#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

constexpr BootstrapMethod kAllMethods[] = {BootstrapMethod::kNormal, BootstrapMethod::kRademacher,
                                           BootstrapMethod::kMammen, BootstrapMethod::kWild,
                                           BootstrapMethod::kBayes};

std::uint32_t StreamOf(BootstrapMethod m) {
  switch (m) {
    case BootstrapMethod::kNormal: return ops::kStreamNormal;
    case BootstrapMethod::kRademacher: return ops::kStreamRademacher;
    case BootstrapMethod::kMammen: return ops::kStreamMammen;
    case BootstrapMethod::kWild: return ops::kStreamWild;
    case BootstrapMethod::kBayes: return ops::kStreamBayes;
  }
  return 0;
}

struct Moments {
  double mean = 0, m2 = 0, var = 0, m4c = 0;  // m4c: fourth central moment
};
Moments MomentsOf(const std::vector<double>& x) {
  Moments m;
  const double n = static_cast<double>(x.size());
  for (double v : x) m.mean += v;
  m.mean /= n;
  for (double v : x) {
    const double d = v - m.mean;
    m.var += d * d;
    m.m4c += d * d * d * d;
    m.m2 += v * v;
  }
  m.var /= n;
  m.m4c /= n;
  m.m2 /= n;
  return m;
}
// 5 MC standard errors of a sample mean and a sample variance.
double MeanTol(const Moments& m, std::size_t n) { return 5.0 * std::sqrt(m.var / n); }
double VarTol(const Moments& m, std::size_t n) {
  return 5.0 * std::sqrt(std::max(m.m4c - m.var * m.var, 1e-300) / n);
}

// Column j of t (B x k, replicate-major).
std::vector<double> Column(const std::vector<double>& t, int k, int j) {
  std::vector<double> c(t.size() / k);
  for (std::size_t b = 0; b < c.size(); ++b) c[b] = t[b * k + j];
  return c;
}

// k estimands with N(0,1) psi (estimand j correlated with estimand 0 by rho),
// J alternating -1 / 2, and se = sqrt(mean(psi^2) / (n J^2)) so that
// Var(t*_j | psi) = sum_i psi_ij^2 / (n J se)^2 = 1 exactly.
ScoreBlock MakeBlock(std::size_t n, int k, std::uint64_t seed, double rho = 0.0) {
  ScoreBlock sc;
  sc.n = n;
  sc.k = k;
  sc.psi.resize(n * k);
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd;
  std::vector<double> base(n);
  for (double& v : base) v = nd(gen);
  for (int j = 0; j < k; ++j) {
    for (std::size_t i = 0; i < n; ++i) {
      sc.psi[j * n + i] = j == 0 ? base[i] : rho * base[i] + std::sqrt(1 - rho * rho) * nd(gen);
    }
  }
  for (int j = 0; j < k; ++j) {
    const double jj = j % 2 ? 2.0 : -1.0;
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) ss += sc.psi[j * n + i] * sc.psi[j * n + i];
    sc.j.push_back(jj);
    sc.se.push_back(std::sqrt(ss / n / (n * jj * jj)));
    sc.theta.push_back(0.1 * j);
  }
  return sc;
}

// s_uj as the contract defines it: cluster sums in row order, / (n J se).
std::vector<double> UnitScoresRef(const ScoreBlock& sc, std::size_t* units) {
  *units = sc.cluster.empty() ? sc.n : static_cast<std::size_t>(sc.n_clusters);
  std::vector<double> s(*units * sc.k, 0.0);
  for (int j = 0; j < sc.k; ++j) {
    const double denom = static_cast<double>(sc.n) * sc.j[j] * sc.se[j];
    for (std::size_t i = 0; i < sc.n; ++i) {
      const std::size_t u = sc.cluster.empty() ? i : static_cast<std::size_t>(sc.cluster[i]);
      s[j * *units + u] += sc.psi[j * sc.n + i];
    }
    for (std::size_t u = 0; u < *units; ++u) s[j * *units + u] /= denom;
  }
  return s;
}

// t* straight from the per-unit reference weights of the contract.
std::vector<double> ReferenceT(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  std::size_t units;
  const std::vector<double> s = UnitScoresRef(sc, &units);
  std::vector<double> t(static_cast<std::size_t>(o.replicates) * sc.k, 0.0);
  for (std::int64_t b = 0; b < o.replicates; ++b) {
    for (std::size_t u = 0; u < units; ++u) {
      const double w = ops::BootstrapWeight(StreamOf(o.method), o.seed, rep,
                                            static_cast<std::uint32_t>(b), u);
      for (int j = 0; j < sc.k; ++j) t[b * sc.k + j] += w * s[j * units + u];
    }
  }
  return t;
}

bool BitIdentical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

BootstrapOptions Opts(BootstrapMethod m, std::int64_t b, BootstrapSampler s = BootstrapSampler::kLoop,
                      std::uint64_t seed = 42, int threads = 0) {
  BootstrapOptions o;
  o.method = m;
  o.replicates = b;
  o.sampler = s;
  o.seed = seed;
  o.threads = threads;
  return o;
}

// ---------------------------------------------------------------------------
// The weight contract
// ---------------------------------------------------------------------------

TEST(PhiloxWeights, BootstrapPhiloxIsRandom123Philox4x32_10) {
  // Known-answer vectors of Random123 (kat_vectors): zero key/counter, and pi digits.
  ops::Philox4 p = ops::BootstrapPhilox(0, 0, 0, 0, 0);
  EXPECT_EQ(p.v[0], 0x6627e8d5u);
  EXPECT_EQ(p.v[1], 0xe169c58du);
  EXPECT_EQ(p.v[2], 0xbc57ac4cu);
  EXPECT_EQ(p.v[3], 0x9b00dbd8u);
  p = ops::BootstrapPhilox(0x299f31d0a4093822ull, 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u);
  EXPECT_EQ(p.v[0], 0xd16cfe09u);
  EXPECT_EQ(p.v[1], 0x94fdccebu);
  EXPECT_EQ(p.v[2], 0x5001e420u);
  EXPECT_EQ(p.v[3], 0x24126ea1u);
}

TEST(PhiloxWeights, LaneBatchEqualsSingleCalls) {
  const int n = 37;
  std::vector<std::uint32_t> c0(n), c1(n), o0(n), o1(n), o2(n), o3(n);
  std::mt19937 gen(7);
  for (int i = 0; i < n; ++i) {
    c0[i] = gen();
    c1[i] = gen();
  }
  const std::uint64_t seed = 0xfeedface12345678ull;
  ops::PhiloxLanes(n, c0.data(), c1.data(), 9, 4, seed, o0.data(), o1.data(), o2.data(), o3.data());
  for (int i = 0; i < n; ++i) {
    const ops::Philox4 p = ops::BootstrapPhilox(seed, c0[i], c1[i], 9, 4);
    EXPECT_EQ(o0[i], p.v[0]);
    EXPECT_EQ(o1[i], p.v[1]);
    EXPECT_EQ(o2[i], p.v[2]);
    EXPECT_EQ(o3[i], p.v[3]);
  }
}

TEST(PhiloxWeights, OwnElementaryFunctionsMatchLibmWithinTwoUlp) {
  const double ulp = std::ldexp(1.0, -52);
  std::mt19937_64 gen(3);
  double worst_log = 0, worst_sc = 0, worst_sqrt = 0;
  for (int i = 0; i < 200000; ++i) {
    // Uniforms of the contract, including the extremes 2^-53 and 1.
    const std::uint64_t w = i == 0 ? 0 : (i == 1 ? ~0ull : gen());
    const double u = ops::UniformOpenZero(static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(w >> 32));
    const double l = ops::Log(u), lr = std::log(u);
    worst_log = std::max(worst_log, lr == 0 ? std::fabs(l) : std::fabs(l - lr) / std::fabs(lr));
    const double v = ops::UniformOpenOne(static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(w >> 32));
    double s, c;
    ops::SinCos2Pi(v, &s, &c);
    const long double a = 2.0L * 3.141592653589793238462643383279503L * v;
    worst_sc = std::max({worst_sc, static_cast<double>(std::fabs(s - std::sin(a))),
                         static_cast<double>(std::fabs(c - std::cos(a)))});
    const double x = 80.0 * v;
    const double q = ops::SqrtNonNegative(x), qr = std::sqrt(x);
    worst_sqrt = std::max(worst_sqrt, qr == 0 ? q : std::fabs(q - qr) / qr);
  }
  EXPECT_LE(worst_log, 2 * ulp);
  EXPECT_LE(worst_sc, 2 * ulp);  // absolute: |sin|, |cos| <= 1
  EXPECT_LE(worst_sqrt, 2 * ulp);
  EXPECT_EQ(ops::Log(1.0), 0.0);
  EXPECT_EQ(ops::SqrtNonNegative(0.0), 0.0);
  EXPECT_EQ(ops::SqrtNonNegative(-0.0), 0.0);
  EXPECT_EQ(ops::SqrtNonNegative(4.0), 2.0);
}

TEST(PhiloxWeights, EachLawHasMeanZeroAndVarianceOneOverAMillionDraws) {
  const std::size_t n = 1000000;
  for (BootstrapMethod m : kAllMethods) {
    std::vector<double> w(n);
    for (std::size_t i = 0; i < n; ++i) {
      // 1000 replicates x 1000 units: both counter words vary.
      w[i] = ops::BootstrapWeight(StreamOf(m), 1234, 0, static_cast<std::uint32_t>(i / 1000), i % 1000);
    }
    const Moments mo = MomentsOf(w);
    EXPECT_NEAR(mo.mean, 0.0, MeanTol(mo, n)) << ToString(m);
    // E w^2 = 1: SE of the sample second moment is sqrt(Var(w^2)/n); Var(w^2) is
    // 0 (Rademacher), 1 (Mammen), 2 (normal), 5 (wild), 8 (Bayes); use >= 1e-3 * 5.
    double m4 = 0;
    for (double v : w) m4 += v * v * v * v;
    m4 /= n;
    const double tol = std::max(5.0 * std::sqrt(std::max(m4 - mo.m2 * mo.m2, 0.0) / n), 1e-12);
    EXPECT_NEAR(mo.m2, 1.0, tol) << ToString(m);
  }
}

TEST(PhiloxWeights, RademacherAndMammenTakeOnlyTheirTwoValues) {
  const std::size_t n = 200000;
  std::size_t low = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = ops::RademacherWeight(99, 3, static_cast<std::uint32_t>(i % 7), i);
    EXPECT_TRUE(r == 1.0 || r == -1.0) << r;
    const double m = ops::MammenWeight(99, 3, static_cast<std::uint32_t>(i % 7), i);
    EXPECT_TRUE(m == ops::kMammenLow || m == ops::kMammenHigh) << m;
    low += m == ops::kMammenLow;
  }
  EXPECT_EQ(ops::kMammenLow, (1 - std::sqrt(5.0)) / 2);
  EXPECT_EQ(ops::kMammenHigh, (1 + std::sqrt(5.0)) / 2);
  const double p = (std::sqrt(5.0) + 1) / (2 * std::sqrt(5.0));
  EXPECT_NEAR(static_cast<double>(low) / n, p, 5 * std::sqrt(p * (1 - p) / n));
}

TEST(PhiloxWeights, SameCoordinatesGiveTheSameWeight) {
  for (BootstrapMethod m : kAllMethods) {
    for (std::uint64_t unit : {0ull, 1ull, 127ull, 128ull, 999999ull}) {
      const double a = ops::BootstrapWeight(StreamOf(m), 0xabcdef0123ull, 2, 17, unit);
      const double b = ops::BootstrapWeight(StreamOf(m), 0xabcdef0123ull, 2, 17, unit);
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << ToString(m);
    }
  }
}

TEST(PhiloxWeights, DifferentSeedRepReplicateOrUnitGiveIndependentStreams) {
  // 4096 weights per stream: the sample correlation of two independent streams
  // is 0 +- 5 / sqrt(4096) = 0.078.
  const int n = 4096;
  const std::uint64_t seed = 0x0000000500000007ull;
  struct Shift {
    const char* what;
    std::uint64_t seed;
    std::uint32_t rep, b;
    std::uint64_t unit0;
  };
  const Shift shifts[] = {{"seed low word", seed + 1, 0, 0, 0},
                          {"seed high word", seed + (1ull << 32), 0, 0, 0},
                          {"rep", seed, 1, 0, 0},
                          {"replicate", seed, 0, 1, 0},
                          {"unit block", seed, 0, 0, 128 * 4096}};
  for (BootstrapMethod m : kAllMethods) {
    std::vector<double> base(n);
    for (int i = 0; i < n; ++i) base[i] = ops::BootstrapWeight(StreamOf(m), seed, 0, 0, i);
    for (const Shift& sh : shifts) {
      std::vector<double> other(n);
      for (int i = 0; i < n; ++i)
        other[i] = ops::BootstrapWeight(StreamOf(m), sh.seed, sh.rep, sh.b, sh.unit0 + i);
      const Moments a = MomentsOf(base), b = MomentsOf(other);
      double cov = 0;
      for (int i = 0; i < n; ++i) cov += (base[i] - a.mean) * (other[i] - b.mean);
      const double corr = cov / n / std::sqrt(a.var * b.var);
      EXPECT_LT(std::fabs(corr), 5.0 / std::sqrt(static_cast<double>(n)))
          << ToString(m) << " vs shifted " << sh.what;
      EXPECT_FALSE(BitIdentical(base, other)) << ToString(m) << " vs shifted " << sh.what;
    }
  }
  // The loop's normal weights and the exact sampler's z come from different streams.
  EXPECT_NE(ops::NormalWeight(seed, 0, 0, 0), ops::ExactNormalDraw(seed, 0, 0, 0, ops::kStreamExactNormal));
}

// ---------------------------------------------------------------------------
// BootstrapT
// ---------------------------------------------------------------------------

TEST(BootstrapT, LoopSamplerEqualsTheContractsWeightsTimesScores) {
  // n = 300 (not a multiple of the 128-unit block), k = 3 (a pair and a single
  // estimand in the kernels), B = 21 (not a multiple of the 8-replicate tile);
  // n = 5000 spans several unit tiles, k = 17 shrinks the tiles.
  ScoreBlock plain = MakeBlock(300, 3, 11, 0.3);
  ScoreBlock clustered = plain;
  clustered.n_clusters = 37;
  for (std::size_t i = 0; i < clustered.n; ++i) clustered.cluster.push_back(static_cast<std::int32_t>((i * 7) % 37));
  ScoreBlock tiles = MakeBlock(5000, 2, 12, 0.3);
  ScoreBlock wide = MakeBlock(5000, 17, 13, 0.3);
  for (const ScoreBlock* sc : {&plain, &clustered, &tiles, &wide}) {
    for (BootstrapMethod m : kAllMethods) {
      const BootstrapOptions o = Opts(m, 21, BootstrapSampler::kLoop, 0x1122334455667788ull);
      const std::vector<double> t = BootstrapT(*sc, o, 5);
      const std::vector<double> ref = ReferenceT(*sc, o, 5);
      ASSERT_EQ(t.size(), ref.size());
      for (std::size_t i = 0; i < t.size(); ++i) {
        // Only the summation order differs: |t| ~ 1 from ~300 terms.
        EXPECT_NEAR(t[i], ref[i], 1e-12) << ToString(m) << " clusters " << !sc->cluster.empty() << " at " << i;
      }
    }
  }
}

TEST(BootstrapT, LoopSamplerGivesEachEstimandTheBitsItGetsAlone) {
  // The loop sampler sums each estimand on its own: with k = 40 (small unit
  // tiles, many estimand pairs) column j equals a k = 1 run on estimand j.
  const ScoreBlock wide = MakeBlock(3000, 40, 14, 0.4);
  for (BootstrapMethod m : kAllMethods) {
    const BootstrapOptions o = Opts(m, 30, BootstrapSampler::kLoop, 99);
    const std::vector<double> t = BootstrapT(wide, o, 1);
    for (int j : {0, 17, 39}) {
      ScoreBlock one;
      one.n = wide.n;
      one.k = 1;
      one.psi.assign(wide.psi.begin() + j * wide.n, wide.psi.begin() + (j + 1) * wide.n);
      one.j = {wide.j[j]};
      one.se = {wide.se[j]};
      EXPECT_TRUE(BitIdentical(Column(t, 40, j), BootstrapT(one, o, 1))) << ToString(m) << " j " << j;
    }
  }
}

TEST(BootstrapT, EveryInstructionSetPathGivesIdenticalBits) {
  // The best path of this CPU (AVX-512 or AVX2 on x86-64) and the capped ones.
  ScoreBlock sc = MakeBlock(1000, 3, 12);
  ScoreBlock clustered = sc;
  clustered.n_clusters = 333;
  for (std::size_t i = 0; i < sc.n; ++i) clustered.cluster.push_back(static_cast<std::int32_t>(i % 333));
  for (const ScoreBlock* block : {&sc, &clustered}) {
    for (BootstrapMethod m : kAllMethods) {
      const BootstrapOptions o = Opts(m, 40);
      ::unsetenv("FASTDML_BOOTSTRAP_ISA");
      const std::vector<double> best = BootstrapT(*block, o, 0);
      for (const char* cap : {"avx2", "portable"}) {
        ::setenv("FASTDML_BOOTSTRAP_ISA", cap, 1);
        EXPECT_TRUE(BitIdentical(best, BootstrapT(*block, o, 0))) << ToString(m) << " capped at " << cap;
      }
      ::unsetenv("FASTDML_BOOTSTRAP_ISA");
    }
  }
}

TEST(BootstrapT, EveryLawGivesMeanZeroVarianceOneAt20000Replicates) {
  // Var(t*_j | psi) = 1 by construction of se; tolerances: 5 MC SEs.
  const std::size_t B = 20000;
  const ScoreBlock sc = MakeBlock(200, 2, 21, 0.5);
  for (BootstrapMethod m : kAllMethods) {
    for (BootstrapSampler s : {BootstrapSampler::kLoop, BootstrapSampler::kExact}) {
      if (s == BootstrapSampler::kExact && m != BootstrapMethod::kNormal) continue;
      const std::vector<double> t = BootstrapT(sc, Opts(m, B, s), 0);
      ASSERT_EQ(t.size(), B * 2);
      for (int j = 0; j < 2; ++j) {
        const Moments mo = MomentsOf(Column(t, 2, j));
        EXPECT_NEAR(mo.mean, 0.0, MeanTol(mo, B)) << ToString(m) << " j " << j;
        EXPECT_NEAR(mo.var, 1.0, VarTol(mo, B)) << ToString(m) << " j " << j;
      }
    }
  }
}

TEST(BootstrapT, ExactAndLoopNormalSamplersAgreeInDistribution) {
  const std::size_t B = 20000;
  const double rho = 0.6;
  const ScoreBlock sc = MakeBlock(400, 2, 31, rho);
  const std::vector<double> exact = BootstrapT(sc, Opts(BootstrapMethod::kNormal, B, BootstrapSampler::kExact), 0);
  const std::vector<double> loop = BootstrapT(sc, Opts(BootstrapMethod::kNormal, B, BootstrapSampler::kLoop), 0);
  // Sigma_01 = sum_u s_u0 s_u1 (J of estimand 1 is 2 and of estimand 0 is -1, so it is negative).
  std::size_t units;
  const std::vector<double> s = UnitScoresRef(sc, &units);
  double sigma01 = 0;
  for (std::size_t u = 0; u < units; ++u) sigma01 += s[u] * s[units + u];
  for (const std::vector<double>* t : {&exact, &loop}) {
    const Moments a = MomentsOf(Column(*t, 2, 0)), b = MomentsOf(Column(*t, 2, 1));
    EXPECT_NEAR(a.mean, 0.0, MeanTol(a, B));
    EXPECT_NEAR(b.mean, 0.0, MeanTol(b, B));
    EXPECT_NEAR(a.var, 1.0, VarTol(a, B));
    EXPECT_NEAR(b.var, 1.0, VarTol(b, B));
    double cov = 0;
    for (std::size_t i = 0; i < B; ++i) cov += ((*t)[2 * i] - a.mean) * ((*t)[2 * i + 1] - b.mean);
    cov /= B;
    // Bivariate normal with unit variances: Var(x y) = 1 + rho^2.
    EXPECT_NEAR(cov, sigma01, 5 * std::sqrt((1 + sigma01 * sigma01) / B));
  }
  // max_j |t*_j|: the loop sample's CDF at the exact sample's 5/50/95% quantiles
  // is q +- 5 sqrt(2 q (1 - q) / B) (both samples contribute q (1 - q) / B).
  auto maxabs = [&](const std::vector<double>& t) {
    std::vector<double> v(B);
    for (std::size_t i = 0; i < B; ++i) v[i] = std::max(std::fabs(t[2 * i]), std::fabs(t[2 * i + 1]));
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<double> me = maxabs(exact), ml = maxabs(loop);
  for (double q : {0.05, 0.5, 0.95}) {
    const double xq = me[static_cast<std::size_t>(q * B)];
    const double f = static_cast<double>(std::lower_bound(ml.begin(), ml.end(), xq) - ml.begin()) / B;
    EXPECT_NEAR(f, q, 5 * std::sqrt(2 * q * (1 - q) / B)) << "quantile " << q;
  }
}

TEST(BootstrapT, ExactSamplerIsTheCholeskyFactorTimesTheContractsNormals) {
  // k = 1: t*_b = sqrt(sum_u s_u^2) z_b with z_b = ExactNormalDraw(seed, rep, b, 0, kStreamExactNormal).
  const ScoreBlock sc = MakeBlock(500, 1, 41);
  const BootstrapOptions o = Opts(BootstrapMethod::kNormal, 100, BootstrapSampler::kExact, 77);
  const std::vector<double> t = BootstrapT(sc, o, 3);
  std::size_t units;
  const std::vector<double> s = UnitScoresRef(sc, &units);
  double ss = 0;
  for (double v : s) ss += v * v;
  for (int b = 0; b < 100; ++b) EXPECT_NEAR(t[b], std::sqrt(ss) * ops::ExactNormalDraw(77, 3, b, 0, ops::kStreamExactNormal), 1e-12);
  // kAuto with normal weights is the exact sampler; with other laws the loop.
  EXPECT_TRUE(BitIdentical(t, BootstrapT(sc, Opts(BootstrapMethod::kNormal, 100, BootstrapSampler::kAuto, 77), 3)));
  const BootstrapOptions r = Opts(BootstrapMethod::kRademacher, 100, BootstrapSampler::kAuto, 77);
  BootstrapOptions rl = r;
  rl.sampler = BootstrapSampler::kLoop;
  EXPECT_TRUE(BitIdentical(BootstrapT(sc, r, 3), BootstrapT(sc, rl, 3)));
}

TEST(BootstrapT, ExactSamplerHandlesASingularCovariance) {
  // Estimand 1 = estimand 0 and estimand 2 = -2 x estimand 0 (same J): Sigma has rank 1.
  ScoreBlock sc = MakeBlock(300, 3, 51);
  for (std::size_t i = 0; i < sc.n; ++i) {
    sc.psi[sc.n + i] = sc.psi[i];
    sc.psi[2 * sc.n + i] = -2 * sc.psi[i];
  }
  sc.j = {-1, -1, -1};
  sc.se = {sc.se[0], sc.se[0], 2 * sc.se[0]};
  const std::size_t B = 5000;
  const std::vector<double> t = BootstrapT(sc, Opts(BootstrapMethod::kNormal, B, BootstrapSampler::kExact), 0);
  for (std::size_t b = 0; b < B; ++b) {
    ASSERT_TRUE(std::isfinite(t[3 * b]));
    EXPECT_NEAR(t[3 * b + 1], t[3 * b], 1e-12);
    EXPECT_NEAR(t[3 * b + 2], -t[3 * b], 1e-12);
  }
  const Moments mo = MomentsOf(Column(t, 3, 0));
  EXPECT_NEAR(mo.var, 1.0, VarTol(mo, B));
}

TEST(BootstrapT, ResultsAreBitIdenticalForOneTwoAndThreeThreads) {
  ScoreBlock plain = MakeBlock(1000, 3, 61, 0.2);
  ScoreBlock clustered = plain;
  clustered.n_clusters = 150;
  for (std::size_t i = 0; i < clustered.n; ++i) clustered.cluster.push_back(static_cast<std::int32_t>((i * 13) % 150));
  for (const ScoreBlock* sc : {&plain, &clustered}) {
    for (BootstrapMethod m : kAllMethods) {
      // B = 203: several replicate groups per thread, and a ragged last group.
      const std::vector<double> t1 = BootstrapT(*sc, Opts(m, 203, BootstrapSampler::kLoop, 5, 1), 2);
      for (int threads : {2, 3}) {
        const std::vector<double> tn = BootstrapT(*sc, Opts(m, 203, BootstrapSampler::kLoop, 5, threads), 2);
        EXPECT_TRUE(BitIdentical(t1, tn)) << ToString(m) << " threads " << threads << " clusters " << !sc->cluster.empty();
      }
    }
    // The exact sampler over several chunks of replicates.
    const std::vector<double> e1 = BootstrapT(*sc, Opts(BootstrapMethod::kNormal, 20000, BootstrapSampler::kExact, 5, 1), 2);
    const std::vector<double> e3 = BootstrapT(*sc, Opts(BootstrapMethod::kNormal, 20000, BootstrapSampler::kExact, 5, 3), 2);
    EXPECT_TRUE(BitIdentical(e1, e3));
  }
}

TEST(BootstrapT, OneRowPerClusterEqualsTheUnclusteredResultBitForBit) {
  ScoreBlock plain = MakeBlock(700, 2, 71);
  ScoreBlock clustered = plain;
  clustered.n_clusters = static_cast<std::int32_t>(plain.n);
  for (std::size_t i = 0; i < plain.n; ++i) clustered.cluster.push_back(static_cast<std::int32_t>(i));
  for (BootstrapMethod m : kAllMethods) {
    EXPECT_TRUE(BitIdentical(BootstrapT(plain, Opts(m, 50), 0), BootstrapT(clustered, Opts(m, 50), 0))) << ToString(m);
  }
  const BootstrapOptions e = Opts(BootstrapMethod::kNormal, 50, BootstrapSampler::kExact);
  EXPECT_TRUE(BitIdentical(BootstrapT(plain, e, 0), BootstrapT(clustered, e, 0)));
}

TEST(BootstrapT, ClusteredVarianceIsTheSumOfSquaredClusterSums) {
  // 40 clusters of 15 rows with a shared cluster effect; se is the row-level
  // one, so Var(t*_j) = sum_c (sum_{i in c} psi_ij)^2 / (n J_j se_j)^2 != 1.
  const std::size_t n = 600, B = 20000;
  const int nc = 40;
  ScoreBlock sc = MakeBlock(n, 2, 81);
  std::mt19937_64 gen(82);
  std::normal_distribution<double> nd;
  std::vector<double> effect(nc);
  for (double& e : effect) e = nd(gen);
  sc.n_clusters = nc;
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % nc);
    sc.cluster.push_back(c);
    sc.psi[i] += effect[c];
    sc.psi[n + i] -= 0.5 * effect[c];
  }
  std::vector<double> expected(2, 0.0);
  for (int j = 0; j < 2; ++j) {
    std::vector<double> sums(nc, 0.0);
    for (std::size_t i = 0; i < n; ++i) sums[sc.cluster[i]] += sc.psi[j * n + i];
    const double denom = n * sc.j[j] * sc.se[j];
    for (double v : sums) expected[j] += v * v / (denom * denom);
  }
  for (BootstrapMethod m : kAllMethods) {
    const std::vector<double> t = BootstrapT(sc, Opts(m, B), 1);
    for (int j = 0; j < 2; ++j) {
      const Moments mo = MomentsOf(Column(t, 2, j));
      EXPECT_NEAR(mo.var, expected[j], VarTol(mo, B)) << ToString(m) << " j " << j;
    }
  }
  const std::vector<double> t = BootstrapT(sc, Opts(BootstrapMethod::kNormal, B, BootstrapSampler::kExact), 1);
  for (int j = 0; j < 2; ++j) {
    const Moments mo = MomentsOf(Column(t, 2, j));
    EXPECT_NEAR(mo.var, expected[j], VarTol(mo, B)) << "exact j " << j;
  }
}

// Peak resident memory since the last ResetPeak(), in bytes; -1 if unavailable.
bool ResetPeak() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
  return static_cast<bool>(f.flush());
}
long ProcStatusKb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return -1;
}
// Growth of peak RSS during one BootstrapT call, in bytes. Free heap memory
// is handed back first so that every page the call touches counts.
long PeakGrowth(const ScoreBlock& sc, const BootstrapOptions& o) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  if (!ResetPeak()) return -1;
  const long before = ProcStatusKb("VmRSS:");
  const std::vector<double> t = BootstrapT(sc, o, 0);
  const long peak = ProcStatusKb("VmHWM:");
  if (before < 0 || peak < 0 || t.empty()) return -1;
  return (peak - before) * 1024;
}

TEST(BootstrapT, MemoryGrowsWithTheOutputOnlyNotWithReplicatesTimesRows) {
  const ScoreBlock sc = MakeBlock(200000, 2, 91);
  const double input = sc.psi.size() * sizeof(double);  // 3.2 MB
  const double slack = 4e6;                              // thread stacks, scratch, allocator
  // Loop sampler (Rademacher): B = 64 vs 2048. A B x n weight matrix would
  // add >= 50 MB even as bits; the output grows by 31 KB.
  {
    const long small = PeakGrowth(sc, Opts(BootstrapMethod::kRademacher, 64));
    const long large = PeakGrowth(sc, Opts(BootstrapMethod::kRademacher, 2048));
    if (small < 0 || large < 0) GTEST_SKIP() << "/proc/self/clear_refs or VmHWM unavailable";
    EXPECT_LT(large - small, (2048 - 64) * 2 * 8 + slack);
    EXPECT_LT(large, input + 2048 * 2 * 8 + slack);
  }
  // Exact sampler: B = 1e4 vs 2e5; the output grows by 3.04 MB.
  {
    const long small = PeakGrowth(sc, Opts(BootstrapMethod::kNormal, 10000, BootstrapSampler::kExact));
    const long large = PeakGrowth(sc, Opts(BootstrapMethod::kNormal, 200000, BootstrapSampler::kExact));
    EXPECT_LT(large - small, (200000 - 10000) * 2 * 8 + slack);
    EXPECT_GT(large - small, 0.5 * (200000 - 10000) * 2 * 8);  // sanity: the output is counted
  }
}

// ---------------------------------------------------------------------------
// Errors and names
// ---------------------------------------------------------------------------

template <class F>
std::string MessageOf(F f, int* exit_code) {
  try {
    f();
  } catch (const Error& e) {
    *exit_code = e.exit_code();
    return e.what();
  }
  *exit_code = -1;
  return "";
}

TEST(BootstrapT, RejectsBadReplicateCountsAndSamplerAsUsageErrors) {
  const ScoreBlock sc = MakeBlock(50, 1, 1);
  int code = 0;
  for (std::int64_t b : {std::int64_t{0}, std::int64_t{-5}, std::int64_t{10000001}}) {
    const std::string msg = MessageOf([&] { BootstrapT(sc, Opts(BootstrapMethod::kRademacher, b), 0); }, &code);
    EXPECT_EQ(code, kExitUsage) << b;
    EXPECT_NE(msg.find("--bootstrap"), std::string::npos) << msg;
  }
  const std::string msg =
      MessageOf([&] { BootstrapT(sc, Opts(BootstrapMethod::kMammen, 10, BootstrapSampler::kExact), 0); }, &code);
  EXPECT_EQ(code, kExitUsage);
  EXPECT_NE(msg.find("--bootstrap-sampler exact needs --bootstrap-method normal"), std::string::npos) << msg;
  EXPECT_NO_THROW(BootstrapT(sc, Opts(BootstrapMethod::kRademacher, 10000000 / 10000), 0));
}

TEST(BootstrapT, RejectsInconsistentScoreBlocksAsInternalErrors) {
  const ScoreBlock good = MakeBlock(50, 2, 1);
  auto expect_internal = [&](ScoreBlock sc, const char* what) {
    int code = 0;
    const std::string msg = MessageOf([&] { BootstrapT(sc, Opts(BootstrapMethod::kRademacher, 10), 0); }, &code);
    EXPECT_EQ(code, kExitInternal) << what << ": " << msg;
    EXPECT_NE(msg.find("bootstrap"), std::string::npos) << msg;
  };
  ScoreBlock sc = good;
  sc.psi.pop_back();
  expect_internal(sc, "psi size");
  sc = good;
  sc.se[1] = 0;
  expect_internal(sc, "zero se");
  sc = good;
  sc.se[0] = std::nan("");
  expect_internal(sc, "NaN se");
  sc = good;
  sc.j[0] = 0;
  expect_internal(sc, "zero J");
  sc = good;
  sc.j[1] = INFINITY;
  expect_internal(sc, "infinite J");
  sc = good;
  sc.j.pop_back();
  expect_internal(sc, "J size");
  sc = good;
  sc.psi[7] = std::nan("");
  expect_internal(sc, "NaN psi");
  sc = good;
  sc.n_clusters = 3;
  sc.cluster.assign(sc.n, 0);
  sc.cluster[4] = 3;
  expect_internal(sc, "cluster id out of range");
  sc.cluster.pop_back();
  expect_internal(sc, "cluster size");
  sc = good;
  sc.k = 0;
  expect_internal(sc, "k = 0");
  int code = 0;
  MessageOf([&] { BootstrapT(good, Opts(BootstrapMethod::kRademacher, 10), -1); }, &code);
  EXPECT_EQ(code, kExitInternal);
}

TEST(BootstrapMethodNames, RoundTripAndUnknownNamesListTheChoices) {
  for (BootstrapMethod m : kAllMethods) EXPECT_EQ(ParseBootstrapMethod(ToString(m)), m);
  EXPECT_STREQ(ToString(BootstrapMethod::kWild), "wild");
  EXPECT_EQ(ParseBootstrapMethod("Rademacher"), BootstrapMethod::kRademacher);
  int code = 0;
  const std::string msg = MessageOf([] { ParseBootstrapMethod("gauss"); }, &code);
  EXPECT_EQ(code, kExitUsage);
  for (const char* s : {"--bootstrap-method", "gauss", "normal", "rademacher", "mammen", "wild", "bayes"}) {
    EXPECT_NE(msg.find(s), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace fastdml
