// Cluster-robust theta and SE as DoubleML 0.11.4 computes them (see cluster.h).
#include "inference/cluster.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fastdml/error.h"

namespace fastdml {
namespace {

std::string Row(std::size_t i) { return "row " + std::to_string(i + 1); }

void CheckJacobian(double sa) {
  if (!(std::fabs(sa) > 0)) {
    throw DataError("the score's Jacobian (cluster-weighted mean of psi_a) is 0: the treatment has no "
                    "variation left after partialling out the features (is a feature equal to the treatment?)");
  }
}

// The fold of each cluster, from the folds of its rows; throws when a cluster
// is split across folds or has no rows. first_row[c] receives c's first row.
std::vector<int> ClusterFolds(std::size_t n, const std::int32_t* cluster, std::int32_t n_clusters,
                              const int* fold, int folds) {
  std::vector<int> cluster_fold(static_cast<std::size_t>(n_clusters), -1);
  std::vector<std::size_t> first_row(static_cast<std::size_t>(n_clusters), 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t c = cluster[i];
    const int f = fold[i];
    if (c < 0 || c >= n_clusters) {
      throw Error("internal: " + Row(i) + " has cluster index " + std::to_string(c) + " outside 0.." +
                  std::to_string(n_clusters - 1));
    }
    if (f < 0 || f >= folds) {
      throw DataError(Row(i) + ": fold id " + std::to_string(f) + " outside 0.." + std::to_string(folds - 1));
    }
    int& cf = cluster_fold[static_cast<std::size_t>(c)];
    if (cf < 0) {
      cf = f;
      first_row[static_cast<std::size_t>(c)] = i;
    } else if (cf != f) {
      throw DataError(Row(first_row[static_cast<std::size_t>(c)]) + " and " + Row(i) +
                      " are in the same cluster but in different folds (" + std::to_string(cf) + " and " +
                      std::to_string(f) +
                      "); cluster-robust inference needs every cluster held out in a single fold "
                      "(let fastdml make cluster folds, or keep clusters whole in the fold column)");
    }
  }
  for (std::int32_t c = 0; c < n_clusters; ++c) {
    if (cluster_fold[static_cast<std::size_t>(c)] < 0) {
      throw Error("internal: cluster index " + std::to_string(c) + " has no rows");
    }
  }
  return cluster_fold;
}

// Clusters per fold, each at least one.
std::vector<std::size_t> ClustersPerFold(const std::vector<int>& cluster_fold, int folds) {
  std::vector<std::size_t> m(static_cast<std::size_t>(folds), 0);
  for (int f : cluster_fold) {
    if (f < 0 || f >= folds) {
      throw DataError("cluster fold id " + std::to_string(f) + " outside 0.." +
                      std::to_string(folds - 1));
    }
    ++m[static_cast<std::size_t>(f)];
  }
  for (int k = 0; k < folds; ++k) {
    if (m[static_cast<std::size_t>(k)] == 0) {
      throw DataError("fold " + std::to_string(k) +
                      " holds no cluster; cluster-robust inference needs clusters in every fold "
                      "(use fewer --folds)");
    }
  }
  return m;
}

}  // namespace

ClusterFoldIndex IndexClusterFolds(std::size_t n, const std::int32_t* cluster, std::int32_t n_clusters,
                                   const int* fold, int folds) {
  if (folds < 1) throw Error("internal: SolveScoreClustered needs at least one fold");
  if (n_clusters < 1 || n == 0) throw DataError("cluster-robust inference needs at least one cluster");
  ClusterFoldIndex index;
  index.cluster_fold = ClusterFolds(n, cluster, n_clusters, fold, folds);
  index.per_fold = ClustersPerFold(index.cluster_fold, folds);
  return index;
}

ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds) {
  return SolveScoreClustered(psi_a, psi_b, n, cluster, n_clusters, fold, folds,
                             IndexClusterFolds(n, cluster, n_clusters, fold, folds));
}

double ClusterGamma(const double* u, const double* v, std::size_t n, const std::int32_t* cluster,
                    std::int32_t n_clusters, int folds, const ClusterFoldIndex& index) {
  const auto nc = static_cast<std::size_t>(n_clusters);
  std::vector<double> su(nc, 0.0), sv(u == v ? 0 : nc, 0.0);
  for (std::size_t i = 0; i < n; ++i) su[static_cast<std::size_t>(cluster[i])] += u[i];
  if (u != v) {
    for (std::size_t i = 0; i < n; ++i) sv[static_cast<std::size_t>(cluster[i])] += v[i];
  }
  const std::vector<double>& s2 = u == v ? su : sv;
  std::vector<double> gamma_k(static_cast<std::size_t>(folds), 0.0);
  for (std::size_t c = 0; c < nc; ++c) {
    gamma_k[static_cast<std::size_t>(index.cluster_fold[c])] += su[c] * s2[c];
  }
  double gamma = 0;
  for (int k = 0; k < folds; ++k) {
    gamma += gamma_k[static_cast<std::size_t>(k)] / static_cast<double>(index.per_fold[static_cast<std::size_t>(k)]);
  }
  return gamma / folds;
}

ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds, const ClusterFoldIndex& index) {
  if (n_clusters < 1 || folds < 1 || index.cluster_fold.size() != static_cast<std::size_t>(n_clusters) ||
      index.per_fold.size() != static_cast<std::size_t>(folds)) {
    throw Error("internal: the cluster-fold index was made for other clusters or folds");
  }
  const std::vector<std::size_t>& m = index.per_fold;

  // theta: each fold's score sums weighted by 1/|I_k| (DoubleML's scaling_factor).
  std::vector<double> sa_k(static_cast<std::size_t>(folds), 0.0), sb_k(static_cast<std::size_t>(folds), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    sa_k[static_cast<std::size_t>(fold[i])] += psi_a[i];
    sb_k[static_cast<std::size_t>(fold[i])] += psi_b[i];
  }
  double sa = 0, sb = 0;
  for (int k = 0; k < folds; ++k) {
    const double w = 1.0 / static_cast<double>(m[static_cast<std::size_t>(k)]);
    sa += w * sa_k[static_cast<std::size_t>(k)];
    sb += w * sb_k[static_cast<std::size_t>(k)];
  }
  CheckJacobian(sa);
  ClusterSolution out;
  out.theta = -sb / sa;

  // gamma: the square of each cluster's score sum, weighted by 1/|I_k| of its fold.
  std::vector<double> psi(n);
  for (std::size_t i = 0; i < n; ++i) psi[i] = out.theta * psi_a[i] + psi_b[i];
  out.j = sa / folds;
  out.gamma = ClusterGamma(psi.data(), psi.data(), n, cluster, n_clusters, folds, index);
  out.se = std::sqrt(out.gamma / (static_cast<double>(n_clusters) * out.j * out.j));
  return out;
}

}  // namespace fastdml
