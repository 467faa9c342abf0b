// CPU passes over the rows (cate/ols/row_sums.h) and the device dispatch; the CUDA
// twins are in cuda/row_sums.cu. Sums run in row order, as before the split, so
// CPU results are unchanged.
#include "cate/ols/row_sums.h"

#include <algorithm>
#include <string>

#include <Eigen/Dense>

#include "cuda/row_sums.h"
#include "fastdml/error.h"

namespace fastdml::cate {
namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr std::size_t kChunk = 4096;  // rows per block of the meat

class CpuGroupRows final : public GroupRows {
 public:
  CpuGroupRows(const std::vector<double>& a, const std::vector<double>& b, const std::vector<std::int32_t>& group,
               int n_groups, const std::vector<std::int32_t>& cluster)
      : a_(a), b_(b), group_(group), n_groups_(n_groups), cluster_(cluster) {}

  GroupTotals Totals() override {
    GroupTotals t;
    t.sum_a.assign(n_groups_, 0.0);
    t.sum_b.assign(n_groups_, 0.0);
    t.max_a.assign(n_groups_, 0.0);
    for (std::size_t i = 0; i < a_.size(); ++i) {
      const std::int32_t g = group_[i];
      if (g < 0 || g >= n_groups_) throw Error("internal: group id out of range");
      t.sum_a[g] += a_[i];
      t.sum_b[g] += b_[i];
      t.max_a[g] = std::max(t.max_a[g], a_[i]);
    }
    return t;
  }

  std::vector<double> SquaredResiduals(const std::vector<double>& theta, const std::vector<double>& sum_a,
                                       bool hc3) override {
    std::vector<double> meat(n_groups_, 0.0);
    for (std::size_t i = 0; i < a_.size(); ++i) {
      const int g = group_[i];
      double u = b_[i] - theta[g] * a_[i];
      if (hc3) u /= 1 - a_[i] / sum_a[g];
      meat[g] += u * u;
    }
    return meat;
  }

  std::vector<ClusterGroupSum> ClusterResiduals(const std::vector<double>& theta) override {
    const std::size_t n = a_.size();
    if (cluster_.size() != n) throw Error("internal: cluster ids and rows differ in length");
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t p, std::size_t q) { return cluster_[p] < cluster_[q]; });
    std::vector<double> acc(n_groups_, 0.0);
    std::vector<char> seen(n_groups_, 0);
    std::vector<int> touched;
    std::vector<ClusterGroupSum> out;
    for (std::size_t s = 0; s < n;) {
      const std::int32_t c = cluster_[order[s]];
      touched.clear();
      for (; s < n && cluster_[order[s]] == c; ++s) {
        const std::size_t i = order[s];
        const int g = group_[i];
        if (!seen[g]) seen[g] = 1, touched.push_back(g);
        acc[g] += b_[i] - theta[g] * a_[i];
      }
      std::sort(touched.begin(), touched.end());
      for (int g : touched) {
        out.push_back({c, g, acc[g]});
        acc[g] = 0.0, seen[g] = 0;
      }
    }
    return out;
  }

 private:
  const std::vector<double>& a_;
  const std::vector<double>& b_;
  const std::vector<std::int32_t>& group_;
  int n_groups_;
  const std::vector<std::int32_t>& cluster_;
};

class CpuOlsRows final : public OlsRows {
 public:
  CpuOlsRows(const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k,
             const std::vector<std::int32_t>& cluster, std::int32_t n_clusters)
      : X_(x.data(), n, k), Y_(y.data(), n), cluster_(cluster), n_clusters_(n_clusters), n_(n), k_(k) {}

  std::vector<double> Gram() override {
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(k_, k_);
    gram.selfadjointView<Eigen::Lower>().rankUpdate(X_.transpose());
    gram = gram.selfadjointView<Eigen::Lower>();
    return ToRowMajor(gram);
  }

  std::vector<double> CrossY() override { return ToVector(X_.transpose() * Y_); }

  std::vector<double> CrossResidual(const std::vector<double>& beta) override {
    SetResidual(beta);
    return ToVector(X_.transpose() * resid_);
  }

  void SetResidual(const std::vector<double>& beta) override {
    resid_ = Y_ - X_ * Eigen::Map<const Eigen::VectorXd>(beta.data(), k_);
  }

  OlsMeat Meat(CovType cov, const std::vector<double>& inv_cols, std::vector<double>* influence) override {
    const Eigen::Map<const Eigen::MatrixXd> inv(inv_cols.data(), k_, k_);
    const std::size_t n = n_;
    OlsMeat out;
    Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(k_, k_);
    if (influence != nullptr) influence->assign(static_cast<std::size_t>(k_) * n, 0.0);
    if (cov == CovType::kCluster) {
      RowMat u = RowMat::Zero(n_clusters_, k_);
      for (std::size_t i = 0; i < n; ++i) u.row(cluster_[i]) += X_.row(i) * resid_(i);
      meat.selfadjointView<Eigen::Lower>().rankUpdate(u.transpose());
    } else {
      RowMat block;
      for (std::size_t i0 = 0; i0 < n; i0 += kChunk) {
        const std::size_t rows = std::min(kChunk, n - i0);
        block = X_.middleRows(i0, rows);
        for (std::size_t r = 0; r < rows; ++r) {
          double w = resid_(i0 + r);
          if (cov == CovType::kHC3) {
            const double h = block.row(r) * inv * block.row(r).transpose();
            if (h > kLeverageOne) {
              out.leverage_one_row = i0 + r;
              return out;
            }
            w /= 1 - h;
          }
          block.row(r) *= w;
        }
        meat.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
        if (influence != nullptr) {
          const RowMat infl = block * inv * static_cast<double>(n);
          for (std::size_t r = 0; r < rows; ++r) {
            for (int j = 0; j < k_; ++j) (*influence)[j * n + i0 + r] = infl(r, j);
          }
        }
      }
    }
    meat = meat.selfadjointView<Eigen::Lower>();
    out.meat = ToRowMajor(meat);
    return out;
  }

 private:
  static std::vector<double> ToVector(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }
  static std::vector<double> ToRowMajor(const Eigen::MatrixXd& m) {
    std::vector<double> out(m.size());
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) out[r * m.cols() + c] = m(r, c);
    }
    return out;
  }

  const Eigen::Map<const RowMat> X_;
  const Eigen::Map<const Eigen::VectorXd> Y_;
  const std::vector<std::int32_t>& cluster_;
  std::int32_t n_clusters_;
  std::size_t n_;
  int k_;
  Eigen::VectorXd resid_;
};

}  // namespace

std::unique_ptr<GroupRows> MakeGroupRows(Device device, const std::vector<double>& a, const std::vector<double>& b,
                                         const std::vector<std::int32_t>& group, int n_groups,
                                         const std::vector<std::int32_t>& cluster) {
  if (device.is_cuda()) return cuda::UploadGroupRows(a, b, group, n_groups, cluster);
  return std::make_unique<CpuGroupRows>(a, b, group, n_groups, cluster);
}

std::unique_ptr<OlsRows> MakeOlsRows(Device device, const std::vector<double>& y, const std::vector<double>& x,
                                     std::size_t n, int k, const std::vector<std::int32_t>& cluster,
                                     std::int32_t n_clusters) {
  if (device.is_cuda()) return cuda::UploadOlsRows(y, x, n, k, cluster, n_clusters);
  return std::make_unique<CpuOlsRows>(y, x, n, k, cluster, n_clusters);
}

GroupCounts CountByGroup(Device device, const std::vector<std::int32_t>& group, int n_groups,
                         const std::vector<double>* d) {
  if (device.is_cuda()) return cuda::CountByGroup(group, n_groups, d);
  GroupCounts c;
  c.rows.assign(n_groups, 0);
  c.treated.assign(n_groups, 0);
  // No branch on d per row (a random 0/1 treatment mispredicts half of them).
  for (std::size_t i = 0; i < group.size(); ++i) {
    const std::int32_t g = group[i];
    if (g < 0 || g >= n_groups) throw Error("internal: group id out of range");
    ++c.rows[g];
    if (d != nullptr) c.treated[g] += (*d)[i] == 1.0;
  }
  return c;
}

QuantileCut CutQuantiles(Device device, const std::vector<double>& values, int bins) {
  if (device.is_cuda()) return cuda::CutQuantiles(values, bins);
  const std::size_t n = values.size();
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  QuantileCut cut;
  cut.min = sorted.front();
  cut.edge.resize(bins);
  for (int q = 0; q < bins; ++q) cut.edge[q] = sorted[QuantileEdgePosition(q, n, bins)];
  cut.group.resize(n);
  cut.count.assign(bins, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const int q = static_cast<int>(std::lower_bound(cut.edge.begin(), cut.edge.end(), values[i]) - cut.edge.begin());
    cut.group[i] = q;
    ++cut.count[q];
  }
  return cut;
}

}  // namespace fastdml::cate
