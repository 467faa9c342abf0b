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
// Two-way (K x K folds: fold (k, l) holds the rows whose first cluster is in
// I_k and second cluster in J_l; DoubleML's DoubleMLClusterResampling):
//   theta = - sum_kl w_kl sum_{i in (k,l)} psi_b,i / sum_kl w_kl sum_{i in (k,l)} psi_a,i,
//           w_kl = 1/(|I_k| |J_l|)
//   J     = (1/K^2) sum_kl w_kl sum_{i in (k,l)} psi_a,i
//   gamma = (1/K^2) sum_kl c_kl [ sum_{g in I_k} (sum_{i in (k,l), c1_i = g} psi_i)^2
//                                + sum_{h in J_l} (sum_{i in (k,l), c2_i = h} psi_i)^2 ],
//           c_kl = min(|I_k|, |J_l|) / (|I_k| |J_l|)^2
//   se    = sqrt(gamma / (min(C1, C2) J^2)).
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

// One-way: cluster[i] in 0..n_clusters-1 (every id used), fold[i] in 0..folds-1
// the fold that held row i out; every cluster lies in a single fold.
// `folds` is DoubleML's n_folds_per_cluster (= the number of folds K).
ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds);
// The same with the index of these folds (IndexClusterFolds), kept by a fit.
ClusterSolution SolveScoreClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                    const std::int32_t* cluster, std::int32_t n_clusters,
                                    const int* fold, int folds, const ClusterFoldIndex& index);

// Two-way: cluster1[i] in 0..n_clusters1-1, cluster2[i] in 0..n_clusters2-1;
// fold1[g] in 0..folds-1 the fold of first-way cluster g, fold2[h] that of
// second-way cluster h (per cluster, not per row). Row i is in test fold
// (fold1[cluster1[i]], fold2[cluster2[i]]); `folds` is K per way (K^2 folds).
ClusterSolution SolveScoreTwoWayClustered(const double* psi_a, const double* psi_b, std::size_t n,
                                          const std::int32_t* cluster1, std::int32_t n_clusters1,
                                          const std::int32_t* cluster2, std::int32_t n_clusters2,
                                          const int* fold1, const int* fold2, int folds);

}  // namespace fastdml
