#include "inference/cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fastdml/error.h"

namespace fastdml {
namespace {

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

// Independent transcription of DoubleML 0.11.4 (LinearScoreMixin._est_coef
// with cluster data, utils/_estimation.py::_var_est one-way branch), written
// the way the Python reads: loop over folds, take the test rows and the test
// clusters, sum over np.outer(psi_c, psi_c).
struct Reference {
  double theta, se, j, gamma;
};

Reference OneWayReference(const std::vector<double>& psi_a, const std::vector<double>& psi_b,
                          const std::vector<std::int32_t>& cluster, const std::vector<int>& fold, int k_folds) {
  const std::size_t n = psi_a.size();
  std::vector<std::vector<std::size_t>> test_inds(k_folds);
  std::vector<std::set<std::int32_t>> test_clusters(k_folds);
  for (std::size_t i = 0; i < n; ++i) {
    test_inds[fold[i]].push_back(i);
    test_clusters[fold[i]].insert(cluster[i]);
  }
  // _est_causal_pars: scaling_factor = 1 / prod(len(test cluster set))
  double a = 0, b = 0;
  for (int k = 0; k < k_folds; ++k) {
    const double scaling = 1.0 / static_cast<double>(test_clusters[k].size());
    double sum_a = 0, sum_b = 0;
    for (std::size_t i : test_inds[k]) sum_a += psi_a[i], sum_b += psi_b[i];
    a += scaling * sum_a;
    b += scaling * sum_b;
  }
  const double theta = -b / a;
  std::vector<double> psi(n);
  for (std::size_t i = 0; i < n; ++i) psi[i] = psi_a[i] * theta + psi_b[i];
  // _var_est, one cluster variable
  std::set<std::int32_t> clusters(cluster.begin(), cluster.end());
  double gamma_hat = 0, j_hat = 0;
  for (int k = 0; k < k_folds; ++k) {
    const auto& i_k = test_clusters[k];
    const double c = 1.0 / static_cast<double>(i_k.size());
    for (std::int32_t value : i_k) {
      std::vector<double> pc;
      for (std::size_t i = 0; i < n; ++i) {
        if (cluster[i] == value) pc.push_back(psi[i]);
      }
      double outer = 0;  // np.sum(np.outer(pc, pc))
      for (double u : pc)
        for (double v : pc) outer += u * v;
      gamma_hat += c * outer;
    }
    double s = 0;
    for (std::size_t i : test_inds[k]) s += psi_a[i];
    j_hat += s / static_cast<double>(i_k.size());
  }
  const double var_scaling = static_cast<double>(clusters.size());
  const double j = j_hat / k_folds;
  gamma_hat /= k_folds;
  const double sigma2 = (1.0 / (var_scaling * j * j)) * gamma_hat;
  return {theta, std::sqrt(sigma2), j, gamma_hat};
}

void ExpectRel(double got, double want, double rtol, const char* what) {
  EXPECT_LE(std::fabs(got - want), rtol * std::fabs(want)) << what << ": " << got << " vs " << want;
}

// Hand-made: 9 rows, 5 clusters (sizes 1..3), 2 folds holding 3 and 2 clusters.
struct Small {
  std::vector<double> psi_a{-1.0, -0.5, -2.0, -1.5, -0.25, -1.0, -3.0, -0.75, -1.25};
  std::vector<double> psi_b{0.5, 1.25, -0.75, 2.0, 0.1, -1.5, 3.5, 0.2, 1.0};
  std::vector<std::int32_t> cluster{0, 0, 1, 2, 2, 2, 3, 4, 4};
  std::vector<int> fold{1, 1, 0, 1, 1, 1, 0, 0, 0};  // clusters {1, 3, 4} in fold 0, {0, 2} in fold 1
};

TEST(ClusterScore, OneWayMatchesTranscriptionOfDoubleMLOnHandMadeData) {
  const Small s;
  const ClusterSolution got = SolveScoreClustered(s.psi_a.data(), s.psi_b.data(), 9, s.cluster.data(), 5,
                                                  s.fold.data(), 2);
  const Reference want = OneWayReference(s.psi_a, s.psi_b, s.cluster, s.fold, 2);
  ExpectRel(got.theta, want.theta, 1e-14, "theta");
  ExpectRel(got.se, want.se, 1e-14, "se");
  ExpectRel(got.j, want.j, 1e-14, "J");
  ExpectRel(got.gamma, want.gamma, 1e-14, "gamma");

  // And by hand: fold 0 = rows {2, 6, 7, 8} (3 clusters), fold 1 = rows {0, 1, 3, 4, 5} (2 clusters).
  const double a0 = -2.0 - 3.0 - 0.75 - 1.25, b0 = -0.75 + 3.5 + 0.2 + 1.0;
  const double a1 = -1.0 - 0.5 - 1.5 - 0.25 - 1.0, b1 = 0.5 + 1.25 + 2.0 + 0.1 - 1.5;
  const double theta = -(b0 / 3 + b1 / 2) / (a0 / 3 + a1 / 2);
  ExpectRel(got.theta, theta, 1e-14, "theta by hand");
  auto psi = [&](int i) { return theta * s.psi_a[i] + s.psi_b[i]; };
  const double s0 = psi(0) + psi(1), s1 = psi(2), s2 = psi(3) + psi(4) + psi(5), s3 = psi(6), s4 = psi(7) + psi(8);
  const double gamma = ((s1 * s1 + s3 * s3 + s4 * s4) / 3 + (s0 * s0 + s2 * s2) / 2) / 2;
  const double j = (a0 / 3 + a1 / 2) / 2;
  ExpectRel(got.se, std::sqrt(gamma / (5 * j * j)), 1e-14, "se by hand");
}

TEST(ClusterScore, OneWayMatchesTranscriptionOnRandomData) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z;
  for (int trial = 0; trial < 5; ++trial) {
    const int k = 2 + trial % 4, c_count = 11 + 3 * trial;
    std::vector<int> cfold(c_count);
    for (int c = 0; c < c_count; ++c) cfold[c] = c % k;
    std::shuffle(cfold.begin(), cfold.end(), rng);
    std::vector<double> psi_a, psi_b;
    std::vector<std::int32_t> cluster;
    std::vector<int> fold;
    for (int c = 0; c < c_count; ++c) {
      const int size = 1 + static_cast<int>(rng() % 7);
      const double effect = z(rng);
      for (int r = 0; r < size; ++r) {
        psi_a.push_back(-std::fabs(1 + 0.3 * z(rng)));
        psi_b.push_back(effect + z(rng));
        cluster.push_back(c);
        fold.push_back(cfold[c]);
      }
    }
    // rows in a scrambled order: nothing may depend on clusters being contiguous
    std::vector<std::size_t> perm(psi_a.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    auto permute = [&](auto v) {
      auto out = v;
      for (std::size_t i = 0; i < perm.size(); ++i) out[i] = v[perm[i]];
      return out;
    };
    psi_a = permute(psi_a), psi_b = permute(psi_b), cluster = permute(cluster), fold = permute(fold);
    const ClusterSolution got = SolveScoreClustered(psi_a.data(), psi_b.data(), psi_a.size(), cluster.data(),
                                                    c_count, fold.data(), k);
    const Reference want = OneWayReference(psi_a, psi_b, cluster, fold, k);
    ExpectRel(got.theta, want.theta, 1e-12, "theta");
    ExpectRel(got.se, want.se, 1e-12, "se");
  }
}

// Unclustered DoubleML: theta = -sum psi_b / sum psi_a, se = sqrt(mean(psi^2) / (n J^2)), J = mean(psi_a).
void Unclustered(const std::vector<double>& psi_a, const std::vector<double>& psi_b, double* theta, double* se) {
  const std::size_t n = psi_a.size();
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < n; ++i) sa += psi_a[i], sb += psi_b[i];
  *theta = -sb / sa;
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += std::pow(*theta * psi_a[i] + psi_b[i], 2);
  const double j = sa / n;
  *se = std::sqrt(ss / n / (j * j) / n);
}

// Every row its own cluster, K folds of n_k rows. The formula gives
//   theta = -sum_k mean_k(psi_b) / sum_k mean_k(psi_a),
//   J = (1/K) sum_k mean_k(psi_a),  gamma = (1/K) sum_k mean_k(psi^2),  C = n,
// i.e. the unclustered DML2 estimate with each fold's mean in place of the
// overall mean. With equal fold sizes (n_k = n/K) the fold-mean average is the
// overall mean, so theta and se equal the unclustered ones exactly.
TEST(ClusterScore, SingletonClustersWithEqualFoldsGiveTheUnclusteredEstimate) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z;
  const std::size_t n = 60;
  const int k = 4;
  std::vector<double> psi_a(n), psi_b(n);
  std::vector<std::int32_t> cluster(n);
  std::vector<int> fold(n);
  for (std::size_t i = 0; i < n; ++i) {
    psi_a[i] = -std::fabs(1 + 0.5 * z(rng));
    psi_b[i] = 0.7 + z(rng);
    cluster[i] = static_cast<std::int32_t>(i);
    fold[i] = static_cast<int>((i * 7) % k);  // 15 rows per fold
  }
  const ClusterSolution got =
      SolveScoreClustered(psi_a.data(), psi_b.data(), n, cluster.data(), static_cast<std::int32_t>(n), fold.data(), k);
  double theta, se;
  Unclustered(psi_a, psi_b, &theta, &se);
  ExpectRel(got.theta, theta, 1e-13, "theta");
  ExpectRel(got.se, se, 1e-13, "se");
  double sa = 0;
  for (double v : psi_a) sa += v;
  ExpectRel(got.j, sa / n, 1e-13, "J = mean(psi_a)");
}

TEST(ClusterScore, SingletonClustersWithUnequalFoldsUseFoldMeans) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z;
  const std::size_t n = 23;  // folds of 8, 8, 7 rows
  const int k = 3;
  std::vector<double> psi_a(n), psi_b(n);
  std::vector<std::int32_t> cluster(n);
  std::vector<int> fold(n);
  for (std::size_t i = 0; i < n; ++i) {
    psi_a[i] = -std::fabs(1 + 0.5 * z(rng));
    psi_b[i] = 0.3 + z(rng);
    cluster[i] = static_cast<std::int32_t>(n - 1 - i);
    fold[i] = static_cast<int>(i % k);
  }
  const ClusterSolution got =
      SolveScoreClustered(psi_a.data(), psi_b.data(), n, cluster.data(), static_cast<std::int32_t>(n), fold.data(), k);
  std::vector<double> ma(k, 0), mb(k, 0), cnt(k, 0);
  for (std::size_t i = 0; i < n; ++i) ma[fold[i]] += psi_a[i], mb[fold[i]] += psi_b[i], ++cnt[fold[i]];
  double suma = 0, sumb = 0;
  for (int f = 0; f < k; ++f) suma += ma[f] / cnt[f], sumb += mb[f] / cnt[f];
  const double theta = -sumb / suma;
  std::vector<double> mpsi2(k, 0);
  for (std::size_t i = 0; i < n; ++i) mpsi2[fold[i]] += std::pow(theta * psi_a[i] + psi_b[i], 2);
  double gamma = 0;
  for (int f = 0; f < k; ++f) gamma += mpsi2[f] / cnt[f];
  gamma /= k;
  const double j = suma / k;
  ExpectRel(got.theta, theta, 1e-13, "theta");
  ExpectRel(got.se, std::sqrt(gamma / (n * j * j)), 1e-13, "se");
  // and it is not the pooled estimate (fold sizes differ)
  double theta0, se0;
  Unclustered(psi_a, psi_b, &theta0, &se0);
  EXPECT_GT(std::fabs(got.theta - theta0), 1e-6);
}

TEST(ClusterScore, ClusterSumIsSquaredNotEachRow) {
  // Two clusters of two rows with psi of opposite sign inside each cluster:
  // the cluster sums are 0, so gamma (and se) is 0 whereas row-wise it is not.
  const std::vector<double> psi_a{-1, -1, -1, -1};
  const std::vector<double> psi_b{1, -1, 2, -2};  // theta = 0, psi = psi_b
  const std::vector<std::int32_t> cluster{0, 0, 1, 1};
  const std::vector<int> fold{0, 0, 1, 1};
  const ClusterSolution got = SolveScoreClustered(psi_a.data(), psi_b.data(), 4, cluster.data(), 2, fold.data(), 2);
  EXPECT_EQ(got.theta, 0.0);
  EXPECT_EQ(got.se, 0.0);
}

TEST(ClusterScore, ErrorsNameTheProblem) {
  const Small s;
  std::vector<int> split = s.fold;
  split[1] = 0;  // cluster 0 now in folds 1 and 0
  try {
    SolveScoreClustered(s.psi_a.data(), s.psi_b.data(), 9, s.cluster.data(), 5, split.data(), 2);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_CONTAINS(e.what(), "row 1 and row 2 are in the same cluster but in different folds (1 and 0)");
  }
  try {
    SolveScoreClustered(s.psi_a.data(), s.psi_b.data(), 9, s.cluster.data(), 5, s.fold.data(), 3);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_CONTAINS(e.what(), "fold 2 holds no cluster");
    EXPECT_CONTAINS(e.what(), "fewer --folds");
  }
  const std::vector<double> zero(9, 0.0);
  EXPECT_THROW(SolveScoreClustered(zero.data(), s.psi_b.data(), 9, s.cluster.data(), 5, s.fold.data(), 2),
               DataError);
}

}  // namespace
}  // namespace fastdml
