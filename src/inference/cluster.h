// Cluster-robust theta and standard error of a linear score
// psi = theta psi_a + psi_b, exactly as DoubleML 0.11.4 computes them for
// clustered data (double_ml.py _est_causal_pars, double_ml_score_mixins.py
// LinearScoreMixin._est_coef, utils/_estimation.py _var_est).
//
// One-way (K folds of whole clusters; I_k = the clusters of fold k):
//   theta = - sum_k (1/|I_k|) sum_{i in fold k} psi_b,i
//           / sum_k (1/|I_k|) sum_{i in fold k} psi_a,i
//   J     = (1/K) sum_k (1/|I_k|) sum_{i in fold k} psi_a,i
//   gamma = (1/K) sum_k (1/|I_k|) sum_{c in I_k} (sum_{i in c} psi_i)^2
//   se    = sqrt(gamma / (C J^2)),   C = number of clusters.
// With equal cluster counts per fold theta is the unclustered theta
// -sum psi_b / sum psi_a; otherwise folds are weighted by 1/|I_k|.
//
// Each cluster sum is squared as a scalar (never an outer product). Throws
// DataError when a fold holds no cluster, a cluster is split across folds, a
// cluster id has no rows, or J = 0; Error for ids out of range.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fastdml {

struct ClusterSolution {
  double theta = 0;
  double se = 0;
  double j = 0;      // DoubleML's J (the cluster-weighted mean of psi_a above)
  double gamma = 0;  // DoubleML's gamma_hat (the variance of the score sum)
};

// The fold of each cluster (one-way; every cluster held out in a single fold)
// and the clusters per fold. IndexClusterFolds throws the DataError that
// SolveScoreClustered names for a split cluster or an empty fold.
struct ClusterFoldIndex {
  std::vector<int> cluster_fold;           // n_clusters
  std::vector<std::size_t> per_fold;       // folds
};
ClusterFoldIndex IndexClusterFolds(std::size_t n, const std::int32_t* cluster, std::int32_t n_clusters,
                                   const int* fold, int folds);

// DoubleML's one-way gamma-hat for the per-row terms u and v (u = v: the
// variance of u's sum): (1/K) sum_k (1/|I_k|) sum_{c in I_k} (sum_{i in c} u_i)(sum_{i in c} v_i).
// SolveScoreClustered's gamma is ClusterGamma(psi, psi); the sensitivity
// bounds' variances use the cross terms.
double ClusterGamma(const double* u, const double* v, std::size_t n, const std::int32_t* cluster,
                    std::int32_t n_clusters, int folds, const ClusterFoldIndex& index);

// One-way: cluster[i] in 0..n_clusters-1 (every id used), fold[i] in 0..folds-1
// the fold that held row i out; every cluster lies in a single fold.
// `folds` is DoubleML's n_folds_per_cluster (= the number of folds K).
ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds);
// The same with the index of these folds (IndexClusterFolds); an index of
// another size is an internal Error.
ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds, const ClusterFoldIndex& index);

}  // namespace fastdml
