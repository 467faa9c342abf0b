// The Thrust code of cuda/segmented_sums.h (what cuda/row_sums.cu runs on a GPU),
// here on Thrust's OpenMP backend, against the CPU passes of cate/ols/row_sums.h:
// integers (counts, bins, pair ids, maxima) exactly, floating sums within the
// rounding bound of two summation orders, and bit-identical across OpenMP
// thread counts.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cate/ols/ols.h"
#include "cate/ols/row_sums.h"
#include "cuda/segmented_sums.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// Rows with many groups of very different sizes: group 0 holds about a fifth
// of the rows (several kChunkRows chunks), the rest spread over 400 ids of
// which every seventh is never used (empty groups), plus one-row groups.
struct Rows {
  std::vector<double> a, b, d;
  std::vector<std::int32_t> group, cluster;
  int n_groups = 0;
  std::int32_t n_clusters = 0;
};

Rows MakeRows(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  Rows r;
  r.n_groups = 400;
  r.n_clusters = 97;
  for (std::size_t i = 0; i < n; ++i) {
    std::int32_t g = 0;
    if (unif(rng) > 0.2) {
      do g = 1 + static_cast<std::int32_t>(unif(rng) * (r.n_groups - 1)); while (g % 7 == 0);
    }
    const double weight = 0.5 + unif(rng);      // a sample weight, so a = w^2 varies by row
    const double signal = 3.0 * normal(rng) + g % 5;  // mixed signs: sums that cancel
    r.group.push_back(g);
    r.cluster.push_back(static_cast<std::int32_t>(unif(rng) * r.n_clusters));
    r.a.push_back(weight * weight);
    r.b.push_back(weight * signal);
    r.d.push_back(unif(rng) < 0.4 ? 1.0 : 0.0);
  }
  r.group[n - 1] = 7 * 13;  // never drawn above: a group of its own (leverage 1 under HC3)
  return r;
}

// Renumbers the used groups densely, as a Grouping has no empty labels; returns the labels.
std::vector<std::string> DropEmptyGroups(Rows* r) {
  std::vector<std::int32_t> dense(r->n_groups, -1);
  std::vector<std::string> labels;
  for (std::int32_t g : r->group) dense[g] = 0;
  for (int g = 0; g < r->n_groups; ++g) {
    if (dense[g] == 0) {
      dense[g] = static_cast<std::int32_t>(labels.size());
      labels.push_back("g" + std::to_string(g));
    }
  }
  for (std::int32_t& g : r->group) g = dense[g];
  r->n_groups = static_cast<int>(labels.size());
  return labels;
}

// Both orders sum each group with at most n_g - 1 additions in a chain (the
// device: < kChunkRows within a chunk plus the chunks of the run), so each is
// within gamma_{n_g} sum|x| of the exact sum and they differ by at most
// 2 n_g u sum|x| = n_g eps sum|x|; twice that covers the second-order terms.
double SumTolerance(std::size_t rows_in_group, double sum_abs) {
  return 2.0 * static_cast<double>(rows_in_group) * kEps * sum_abs + std::numeric_limits<double>::denorm_min();
}

struct GroupStats {
  std::vector<std::size_t> rows;
  std::vector<double> abs_a, abs_b;
};
GroupStats Stats(const Rows& r) {
  GroupStats s{std::vector<std::size_t>(r.n_groups, 0), std::vector<double>(r.n_groups, 0.0),
               std::vector<double>(r.n_groups, 0.0)};
  for (std::size_t i = 0; i < r.a.size(); ++i) {
    ++s.rows[r.group[i]];
    s.abs_a[r.group[i]] += std::fabs(r.a[i]);
    s.abs_b[r.group[i]] += std::fabs(r.b[i]);
  }
  return s;
}

TEST(CateSumsThrust, GroupTotalsMatchCpuWithinSummationBound) {
  const Rows r = MakeRows(20000, 1);
  const GroupStats st = Stats(r);
  cuda::GroupRowsOnDevice dev(r.a, r.b, r.group, r.n_groups, r.cluster);
  const auto cpu = cate::MakeGroupRows(Device::Cpu(), r.a, r.b, r.group, r.n_groups, r.cluster);
  const cate::GroupTotals want = cpu->Totals(), got = dev.Totals();
  ASSERT_GT(st.rows[0], 3 * cuda::kChunkRows);  // the chunked path is exercised
  int empty = 0;
  for (int g = 0; g < r.n_groups; ++g) {
    SCOPED_TRACE("group " + std::to_string(g) + ", " + std::to_string(st.rows[g]) + " rows");
    if (st.rows[g] == 0) {
      ++empty;
      EXPECT_EQ(got.sum_a[g], 0.0);
      EXPECT_EQ(got.sum_b[g], 0.0);
    }
    EXPECT_NEAR(got.sum_a[g], want.sum_a[g], SumTolerance(st.rows[g], st.abs_a[g]));
    EXPECT_NEAR(got.sum_b[g], want.sum_b[g], SumTolerance(st.rows[g], st.abs_b[g]));
    EXPECT_EQ(got.max_a[g], want.max_a[g]);  // a maximum has no rounding
  }
  EXPECT_GE(empty, 50);
}

TEST(CateSumsThrust, ResidualSumsMatchCpuForHc0Hc3AndClusters) {
  const Rows r = MakeRows(20000, 2);
  cuda::GroupRowsOnDevice dev(r.a, r.b, r.group, r.n_groups, r.cluster);
  const auto cpu = cate::MakeGroupRows(Device::Cpu(), r.a, r.b, r.group, r.n_groups, r.cluster);
  const cate::GroupTotals t = cpu->Totals();
  std::vector<double> theta(r.n_groups, 0.0), sum_a = t.sum_a;
  for (int g = 0; g < r.n_groups; ++g) {
    if (t.sum_a[g] > 0) theta[g] = t.sum_b[g] / t.sum_a[g];
    if (sum_a[g] == r.a.back()) sum_a[g] *= 2;  // keep HC3's 1 - h away from 0 for the one-row group
  }
  for (bool hc3 : {false, true}) {
    SCOPED_TRACE(hc3 ? "HC3" : "HC0");
    // The terms u_i^2 are computed by the same expression on both sides, so
    // only the summation order differs; bound with the sum of the terms.
    std::vector<double> abs_sum(r.n_groups, 0.0);
    std::vector<std::size_t> rows(r.n_groups, 0);
    for (std::size_t i = 0; i < r.a.size(); ++i) {
      const int g = r.group[i];
      double u = r.b[i] - theta[g] * r.a[i];
      if (hc3) u /= 1 - r.a[i] / sum_a[g];
      abs_sum[g] += u * u;
      ++rows[g];
    }
    const std::vector<double> want = cpu->SquaredResiduals(theta, sum_a, hc3);
    const std::vector<double> got = dev.SquaredResiduals(theta, sum_a, hc3);
    for (int g = 0; g < r.n_groups; ++g) EXPECT_NEAR(got[g], want[g], SumTolerance(rows[g], abs_sum[g])) << g;
  }
  const std::vector<cate::ClusterGroupSum> want = cpu->ClusterResiduals(theta), got = dev.ClusterResiduals(theta);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t p = 0; p < want.size(); ++p) {
    EXPECT_EQ(got[p].cluster, want[p].cluster);
    EXPECT_EQ(got[p].group, want[p].group);
    double abs_sum = 0;
    std::size_t rows = 0;
    for (std::size_t i = 0; i < r.a.size(); ++i) {
      if (r.cluster[i] == want[p].cluster && r.group[i] == want[p].group) {
        abs_sum += std::fabs(r.b[i] - theta[r.group[i]] * r.a[i]);
        ++rows;
      }
    }
    EXPECT_NEAR(got[p].sum, want[p].sum, SumTolerance(rows, abs_sum)) << "pair " << p;
  }
}

// The whole group-ratio OLS (GATE's engine) finished from the device passes
// equals the CPU one. Coefficients: the sum bounds above carried through
// sum_b / sum_a; covariances are ratios of sums of the same kind, within 1e-9
// relative to the diagonal scale (the bounds give about 1e-11 here).
TEST(CateSumsThrust, GroupRatioFinishedFromDevicePassesMatchesCpu) {
  Rows r = MakeRows(20000, 3);
  r.group[r.a.size() - 1] = 1;  // no one-row group: HC3 must go through
  const std::vector<std::string> labels = DropEmptyGroups(&r);
  const int used = r.n_groups;
  const Rows& rr = r;
  for (CovType cov : {CovType::kHC0, CovType::kHC1, CovType::kHC3, CovType::kCluster}) {
    SCOPED_TRACE(ToString(cov));
    const OlsFit want = cate::GroupRatio(rr.a, rr.b, rr.group, used, cov, rr.cluster, rr.n_clusters, labels);
    cuda::GroupRowsOnDevice dev(rr.a, rr.b, rr.group, used, rr.cluster);
    const OlsFit got = cate::GroupRatio(dev, rr.a.size(), used, cov, rr.n_clusters, labels);
    std::vector<double> abs_b(used, 0.0), sum_a(used, 0.0);
    std::vector<std::size_t> rows(used, 0);
    for (std::size_t i = 0; i < rr.a.size(); ++i) {
      abs_b[rr.group[i]] += std::fabs(rr.b[i]);
      sum_a[rr.group[i]] += rr.a[i];
      ++rows[rr.group[i]];
    }
    for (int g = 0; g < used; ++g) {
      const double tol = SumTolerance(rows[g], abs_b[g] + std::fabs(want.coef[g]) * sum_a[g]) / sum_a[g];
      EXPECT_NEAR(got.coef[g], want.coef[g], tol) << labels[g];
      for (int h = 0; h < used; ++h) {
        const double scale = std::sqrt(want.cov[g * used + g] * want.cov[h * used + h]);
        EXPECT_NEAR(got.cov[g * used + h], want.cov[g * used + h], 1e-9 * scale) << g << "," << h;
      }
    }
  }
}

TEST(CateSumsThrust, HcThreeOnAOneRowGroupGivesTheCpuError) {
  Rows r = MakeRows(5000, 4);
  const std::vector<std::string> labels = DropEmptyGroups(&r);
  std::string cpu_error, dev_error;
  try {
    cate::GroupRatio(r.a, r.b, r.group, r.n_groups, CovType::kHC3, {}, 0, labels);
  } catch (const DataError& e) {
    cpu_error = e.what();
  }
  try {
    cuda::GroupRowsOnDevice dev(r.a, r.b, r.group, r.n_groups, {});
    cate::GroupRatio(dev, r.a.size(), r.n_groups, CovType::kHC3, 0, labels);
  } catch (const DataError& e) {
    dev_error = e.what();
  }
  EXPECT_NE(cpu_error.find("HC3: group 'g91' rests on one row"), std::string::npos) << cpu_error;
  EXPECT_EQ(dev_error, cpu_error);
}

TEST(CateSumsThrust, CountsAndQuantileBinsEqualCpuExactly) {
  const Rows r = MakeRows(30000, 5);
  const cate::GroupCounts want = cate::CountByGroup(Device::Cpu(), r.group, r.n_groups, &r.d);
  const cate::GroupCounts got = cuda::CountByGroupOnDevice(r.group, r.n_groups, &r.d);
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.treated, want.treated);
  const cate::GroupCounts no_d = cuda::CountByGroupOnDevice(r.group, r.n_groups, nullptr);
  EXPECT_EQ(no_d.rows, want.rows);
  EXPECT_EQ(no_d.treated, std::vector<std::size_t>(r.n_groups, 0));

  // Continuous values, and values with heavy ties (a rounded copy).
  std::vector<double> tied(r.b.size());
  for (std::size_t i = 0; i < tied.size(); ++i) tied[i] = std::round(r.b[i]);
  const std::vector<const std::vector<double>*> inputs{&r.b, &tied};
  for (const std::vector<double>* values : inputs) {
    for (int bins : {2, 5, 10, 97}) {
      SCOPED_TRACE(std::to_string(bins) + " bins" + (values == &tied ? ", tied values" : ""));
      const cate::QuantileCut c = cate::CutQuantiles(Device::Cpu(), *values, bins);
      const cate::QuantileCut d = cuda::CutQuantilesOnDevice(*values, bins);
      EXPECT_EQ(d.min, c.min);
      EXPECT_EQ(d.edge, c.edge);
      EXPECT_EQ(d.count, c.count);
      EXPECT_EQ(d.group, c.group);
    }
  }
}

TEST(CateSumsThrust, GroupIdOutOfRangeIsAnInternalErrorOnBothSides) {
  Rows r = MakeRows(1000, 6);
  r.group[10] = r.n_groups;
  EXPECT_THROW(cuda::GroupRowsOnDevice(r.a, r.b, r.group, r.n_groups, {}), Error);
  EXPECT_THROW(cuda::CountByGroupOnDevice(r.group, r.n_groups, nullptr), Error);
  EXPECT_THROW(cate::CountByGroup(Device::Cpu(), r.group, r.n_groups, nullptr), Error);
}

template <class T>
bool SameBits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0);
}

// Deterministic by construction (see cuda/segmented_sums.h): the same bits
// with one and with two OpenMP threads.
TEST(CateSumsThrust, BitIdenticalWithOneAndTwoThreads) {
  const Rows r = MakeRows(50000, 7);
  const int saved = omp_get_max_threads();
  struct Out {
    cate::GroupTotals totals;
    std::vector<double> meat;
    std::vector<cate::ClusterGroupSum> pairs;
  };
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    cuda::GroupRowsOnDevice dev(r.a, r.b, r.group, r.n_groups, r.cluster);
    Out o;
    o.totals = dev.Totals();
    std::vector<double> theta(r.n_groups, 0.5);
    o.meat = dev.SquaredResiduals(theta, std::vector<double>(r.n_groups, 1e9), true);
    o.pairs = dev.ClusterResiduals(theta);
    return o;
  };
  const Out one = run(1), two = run(2);
  omp_set_num_threads(saved);
  EXPECT_TRUE(SameBits(one.totals.sum_a, two.totals.sum_a));
  EXPECT_TRUE(SameBits(one.totals.sum_b, two.totals.sum_b));
  EXPECT_TRUE(SameBits(one.meat, two.meat));
  ASSERT_EQ(one.pairs.size(), two.pairs.size());
  for (std::size_t p = 0; p < one.pairs.size(); ++p) {
    EXPECT_EQ(std::memcmp(&one.pairs[p].sum, &two.pairs[p].sum, sizeof(double)), 0) << p;
  }
}

}  // namespace
}  // namespace fastdml
