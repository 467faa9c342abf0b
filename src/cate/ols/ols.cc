// OLS with heteroskedasticity- and cluster-robust covariance, as statsmodels
// computes it (regression/linear_model.py get_robustcov_results;
// stats/sandwich_covariance.py): White (1980) HC0, MacKinnon and White (1985)
// HC1/HC3, Liang and Zeger (1986) one-way clusters with the factor
// G/(G-1) (n-1)/(n-k).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <Eigen/Dense>

#include "cate/ols/ols.h"
#include "cate/ols/row_sums.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kCollinearTolerance = 1e-10;  // pivot of the unit-diagonal Gram

std::string ColumnName(const std::vector<std::string>& names, int j) {
  return j < static_cast<int>(names.size()) ? "'" + names[j] + "'" : "column " + std::to_string(j);
}

void CheckClusters(CovType cov, const std::vector<std::int32_t>& cluster, std::int32_t n_clusters, std::size_t n) {
  if (cov != CovType::kCluster) return;
  if (cluster.empty()) {
    throw UsageError("--cate-cov cluster needs cluster ids: add --cluster COLUMN");
  }
  if (cluster.size() != n) throw Error("internal: cluster ids and rows differ in length");
  if (n_clusters < 2) throw DataError("cluster-robust covariance needs at least 2 clusters");
}

// Statsmodels' small-sample factors for HC1 and cluster.
double CovFactor(CovType cov, std::size_t n, int k, std::int32_t n_clusters) {
  if (cov == CovType::kHC1) return static_cast<double>(n) / (n - k);
  if (cov == CovType::kCluster) {
    return static_cast<double>(n_clusters) / (n_clusters - 1) * (static_cast<double>(n) - 1) / (n - k);
  }
  return 1.0;
}

// (X'X)^-1 from the Gram matrix, naming the first collinear term: Cholesky of
// the unit-diagonal Gram in column order; a tiny pivot means column j lies in
// the span of columns 0..j-1.
Eigen::MatrixXd InverseGram(const Eigen::Map<const RowMat>& gram, const std::vector<std::string>& names) {
  const int k = static_cast<int>(gram.rows());
  Eigen::VectorXd scale(k);
  for (int j = 0; j < k; ++j) {
    if (!(gram(j, j) > 0)) {
      throw DataError("singular basis: term " + ColumnName(names, j) +
                      " is zero on every row; drop it from the basis");
    }
    scale(j) = 1 / std::sqrt(gram(j, j));
  }
  const Eigen::MatrixXd unit = scale.asDiagonal() * gram * scale.asDiagonal();
  Eigen::MatrixXd chol = Eigen::MatrixXd::Zero(k, k);
  for (int j = 0; j < k; ++j) {
    double pivot = unit(j, j);
    for (int c = 0; c < j; ++c) pivot -= chol(j, c) * chol(j, c);
    if (!(pivot > kCollinearTolerance)) {
      throw DataError("singular basis: term " + ColumnName(names, j) +
                      " is a linear combination of the terms before it (collinear); drop it or a term it repeats");
    }
    chol(j, j) = std::sqrt(pivot);
    for (int r = j + 1; r < k; ++r) {
      double s = unit(r, j);
      for (int c = 0; c < j; ++c) s -= chol(r, c) * chol(j, c);
      chol(r, j) = s / chol(j, j);
    }
  }
  const Eigen::LLT<Eigen::MatrixXd> llt(unit);
  return scale.asDiagonal() * llt.solve(Eigen::MatrixXd::Identity(k, k)) * scale.asDiagonal();
}

}  // namespace

CovType ParseCovType(const std::string& s) {
  std::string t = s;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "hc0") return CovType::kHC0;
  if (t == "hc1") return CovType::kHC1;
  if (t == "hc3") return CovType::kHC3;
  if (t == "cluster") return CovType::kCluster;
  throw UsageError("--cate-cov: unknown covariance '" + s + "' (expected hc0, hc1, hc3 or cluster)");
}

const char* ToString(CovType c) {
  switch (c) {
    case CovType::kHC0: return "HC0";
    case CovType::kHC1: return "HC1";
    case CovType::kHC3: return "HC3";
    case CovType::kCluster: return "cluster";
  }
  return "?";
}

OlsFit OlsRobust(const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k, CovType cov,
                 const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                 const std::vector<std::string>& names, bool want_influence) {
  return cate::OlsRobust(Device::Cpu(), y, x, n, k, cov, cluster, n_clusters, names, want_influence);
}

OlsFit OlsOnGroups(const std::vector<double>& y, const std::vector<double>& scale,
                   const std::vector<std::int32_t>& group, int n_groups, CovType cov,
                   const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                   const std::vector<std::string>& labels) {
  return cate::OlsOnGroups(Device::Cpu(), y, scale, group, n_groups, cov, cluster, n_clusters, labels);
}

namespace cate {

OlsFit OlsRobust(Device device, const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k,
                 CovType cov, const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                 const std::vector<std::string>& names, bool want_influence) {
  if (k < 1 || y.size() != n || x.size() != n * static_cast<std::size_t>(k)) {
    throw Error("internal: OLS sizes disagree");
  }
  if (n <= static_cast<std::size_t>(k)) {
    throw DataError("the regression has " + std::to_string(k) + " terms but only " + std::to_string(n) +
                    " rows: use fewer basis terms or groups");
  }
  CheckClusters(cov, cluster, n_clusters, n);
  if (want_influence && device.is_cuda()) throw Error("internal: OLS influence functions are CPU-only");
  const std::vector<std::int32_t> no_clusters;
  const std::unique_ptr<OlsRows> rows =
      MakeOlsRows(device, y, x, n, k, cov == CovType::kCluster ? cluster : no_clusters, n_clusters);
  const std::vector<double> gram_rows = rows->Gram();
  const Eigen::Map<const RowMat> gram(gram_rows.data(), k, k);
  const Eigen::MatrixXd inv = InverseGram(gram, names);

  // Normal equations plus one step of iterative refinement (the residual's
  // projection), which keeps agreement with statsmodels' pinv near 1e-12.
  const std::vector<double> xty = rows->CrossY();
  Eigen::VectorXd beta = inv * Eigen::Map<const Eigen::VectorXd>(xty.data(), k);
  const std::vector<double> xtr = rows->CrossResidual(std::vector<double>(beta.data(), beta.data() + k));
  beta += inv * Eigen::Map<const Eigen::VectorXd>(xtr.data(), k);

  OlsFit fit;
  fit.n = n;
  fit.k = k;
  fit.coef.assign(beta.data(), beta.data() + k);
  rows->SetResidual(fit.coef);
  const OlsMeat m = rows->Meat(cov, std::vector<double>(inv.data(), inv.data() + inv.size()),
                               want_influence ? &fit.influence : nullptr);
  if (m.leverage_one_row != OlsMeat::kNoRow) {
    throw DataError("HC3: row " + std::to_string(m.leverage_one_row + 1) +
                    " has leverage 1 (it alone determines a coefficient); use hc0 or hc1");
  }
  const Eigen::Map<const RowMat> meat(m.meat.data(), k, k);
  const double factor = CovFactor(cov, n, k, n_clusters);
  const Eigen::MatrixXd v = factor * inv * meat * inv;
  fit.cov.resize(static_cast<std::size_t>(k) * k);
  for (int r = 0; r < k; ++r) {
    for (int c = 0; c < k; ++c) fit.cov[r * k + c] = 0.5 * (v(r, c) + v(c, r));
  }
  if (want_influence && factor != 1.0) {
    for (double& f : fit.influence) f *= std::sqrt(factor);
  }
  return fit;
}

OlsFit OlsOnGroups(Device device, const std::vector<double>& y, const std::vector<double>& scale,
                   const std::vector<std::int32_t>& group, int n_groups, CovType cov,
                   const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                   const std::vector<std::string>& labels) {
  const std::size_t n = y.size();
  std::vector<double> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double s = scale.empty() ? 1.0 : scale[i];
    a[i] = s * s;
    b[i] = s * y[i];
  }
  return GroupRatio(a, b, group, n_groups, cov, cluster, n_clusters, labels, device);
}

OlsFit GroupRatio(const std::vector<double>& a, const std::vector<double>& b, const std::vector<std::int32_t>& group,
                  int n_groups, CovType cov, const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                  const std::vector<std::string>& labels, Device device) {
  const std::size_t n = a.size();
  if (b.size() != n || group.size() != n || n_groups < 1) throw Error("internal: group OLS sizes disagree");
  if (n <= static_cast<std::size_t>(n_groups)) {
    throw DataError(std::to_string(n_groups) + " groups but only " + std::to_string(n) +
                    " rows: use fewer groups");
  }
  CheckClusters(cov, cluster, n_clusters, n);
  const std::vector<std::int32_t> no_clusters;
  const std::unique_ptr<GroupRows> rows =
      MakeGroupRows(device, a, b, group, n_groups, cov == CovType::kCluster ? cluster : no_clusters);
  return GroupRatio(*rows, n, n_groups, cov, n_clusters, labels);
}

OlsFit GroupRatio(GroupRows& rows, std::size_t n, int n_groups, CovType cov, std::int32_t n_clusters,
                  const std::vector<std::string>& labels) {
  const int g_count = n_groups;
  const GroupTotals totals = rows.Totals();
  const std::vector<double>& sa = totals.sum_a;
  OlsFit fit;
  fit.n = n;
  fit.k = g_count;
  fit.coef.resize(g_count);
  for (int g = 0; g < g_count; ++g) {
    if (!(sa[g] > 0)) {
      throw DataError("singular basis: group " + ColumnName(labels, g) +
                      " has no rows that carry the effect (no treated rows, or no treatment variation); "
                      "merge it with another group or use coarser groups");
    }
    fit.coef[g] = totals.sum_b[g] / sa[g];
  }
  fit.cov.assign(static_cast<std::size_t>(g_count) * g_count, 0.0);
  const double factor = CovFactor(cov, n, g_count, n_clusters);
  if (cov == CovType::kCluster) {
    // Each cluster contributes the outer product of its per-group sums of
    // u_i = b_i - theta a_i (pairs ordered by cluster, so a cluster is a run).
    const std::vector<ClusterGroupSum> pairs = rows.ClusterResiduals(fit.coef);
    for (std::size_t s = 0; s < pairs.size();) {
      std::size_t e = s;
      while (e < pairs.size() && pairs[e].cluster == pairs[s].cluster) ++e;
      for (std::size_t p = s; p < e; ++p) {
        for (std::size_t q = s; q < e; ++q) fit.cov[pairs[p].group * g_count + pairs[q].group] += pairs[p].sum * pairs[q].sum;
      }
      s = e;
    }
    for (int g = 0; g < g_count; ++g) {
      for (int h = 0; h < g_count; ++h) fit.cov[g * g_count + h] *= factor / (sa[g] * sa[h]);
    }
  } else {
    const bool hc3 = cov == CovType::kHC3;
    for (int g = 0; hc3 && g < g_count; ++g) {
      // HC3 leverage h_i = a_i / A_g; the largest in group g is max_a / A_g.
      if (totals.max_a[g] / sa[g] > kLeverageOne) {
        throw DataError("HC3: group " + ColumnName(labels, g) +
                        " rests on one row (leverage 1); use hc0 or hc1, or coarser groups");
      }
    }
    const std::vector<double> meat = rows.SquaredResiduals(fit.coef, sa, hc3);
    for (int g = 0; g < g_count; ++g) fit.cov[g * g_count + g] = factor * meat[g] / (sa[g] * sa[g]);
  }
  return fit;
}

}  // namespace cate
}  // namespace fastdml
