// What the passes over the rows behind GATE, BLP and sorted GATES hand back,
// and the row objects they run on: plain types shared by the CPU twin
// (cate/ols/row_sums.cc) and the CUDA twin (cuda/row_sums.cu), so that cuda/
// needs nothing above ops/. The dispatch by Device is cate/ols/row_sums.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "fastdml/cate.h"  // CovType
#include "ops/hd.h"

namespace fastdml::cate {

// ---------------------------------------------------------------------------
// Group-ratio OLS (GroupRatio in cate/ols/ols.h): theta_g = sum_g b / sum_g a.

// Pass 1, per group g (0..G-1; a group without rows has zeros).
struct GroupTotals {
  std::vector<double> sum_a, sum_b;
  std::vector<double> max_a;  // HC3: the largest leverage of group g is max_a / sum_a
};

// One (cluster, group) pair's sum of u_i = b_i - theta_g a_i.
struct ClusterGroupSum {
  std::int32_t cluster = 0, group = 0;
  double sum = 0;
};

// The rows a_i, b_i, group_i (and cluster_i for the cluster covariance) held
// on one device; the passes that need theta come after the host computed it.
class GroupRows {
 public:
  virtual ~GroupRows() = default;
  virtual GroupTotals Totals() = 0;
  // Per group sum of u_i^2 with u_i = (b_i - theta_g a_i) / (1 - h_i),
  // h_i = a_i / sum_a_g under HC3 and 0 otherwise (the HC0/HC3 meat).
  virtual std::vector<double> SquaredResiduals(const std::vector<double>& theta, const std::vector<double>& sum_a,
                                               bool hc3) = 0;
  // Per (cluster, group) sums of u_i = b_i - theta_g a_i, ordered by cluster
  // then group; pairs without rows are left out.
  virtual std::vector<ClusterGroupSum> ClusterResiduals(const std::vector<double>& theta) = 0;
};

// ---------------------------------------------------------------------------
// General OLS (OlsRobust): the O(n k) and O(n k^2) products.

struct OlsMeat {
  static constexpr std::size_t kNoRow = std::numeric_limits<std::size_t>::max();
  std::vector<double> meat;                // k x k, symmetric, row-major
  std::size_t leverage_one_row = kNoRow;   // HC3: the first row with h_i > 1 - 1e-10 (then meat is empty)
};

// HC3 leverage above which a row alone determines a coefficient.
inline constexpr double kLeverageOne = 1 - 1e-10;

// The design x (n x k, row-major), y and the clusters (ids 0..n_clusters-1,
// empty unless the covariance is cluster) held on one device.
class OlsRows {
 public:
  virtual ~OlsRows() = default;
  virtual std::vector<double> Gram() = 0;   // X'X, k x k row-major
  virtual std::vector<double> CrossY() = 0;  // X'Y
  // Sets the residual e = Y - X beta and returns X'e.
  virtual std::vector<double> CrossResidual(const std::vector<double>& beta) = 0;
  virtual void SetResidual(const std::vector<double>& beta) = 0;  // e = Y - X beta
  // Sandwich meat from the current residual (White 1980; MacKinnon and White
  // 1985; Liang and Zeger 1986): HC0/HC1 sum_i e_i^2 x_i x_i', HC3 with
  // e_i / (1 - h_i), h_i = x_i' inv x_i, cluster sum_c u_c u_c' with
  // u_c = sum_{i in c} e_i x_i. `inv` is (X'X)^-1, k x k column-major.
  // `influence` (k * n, may be null) receives e_i~ x_i' inv n per row.
  virtual OlsMeat Meat(CovType cov, const std::vector<double>& inv, std::vector<double>* influence) = 0;
};

// ---------------------------------------------------------------------------
// Group sizes and quantile bins.

struct GroupCounts {
  std::vector<std::size_t> rows, treated;  // per group; treated counts rows with d == 1
};
struct QuantileCut {
  double min = 0;                   // the smallest value
  std::vector<double> edge;         // bins: edge_q = the ceil((q+1) n / bins)-th smallest value
  std::vector<std::int32_t> group;  // n: the first q with value <= edge_q
  std::vector<std::size_t> count;   // bins: rows per bin
};
// Position in the sorted values of edge q: ceil((q + 1) n / bins) - 1, in integers.
FASTDML_HD std::size_t QuantileEdgePosition(int q, std::size_t n, int bins) {
  return ((static_cast<std::size_t>(q) + 1) * n + bins - 1) / bins - 1;
}

}  // namespace fastdml::cate
