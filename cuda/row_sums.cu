// CUDA twins of cate/ols/row_sums.h. Group sums, counts and quantile bins are the
// Thrust code of cuda/segmented_sums.h (also tested on the OpenMP backend);
// the general OLS products are cuBLAS on the design uploaded once:
// X'X = syrk, X'y and X beta = gemv, the meat X' diag(w^2) X = dgmm + syrk,
// HC3 leverages from inv X = gemm.
#include "cuda/row_sums.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <thrust/find.h>

#include <climits>
#include <new>
#include <string>
#include <utility>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/cublas_check.h"
#include "cuda/segmented_sums.h"
#include "cuda/thrust_check.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
namespace {

// Thrust failures as CudaError / DeviceOutOfMemory (cuda/thrust_check.h), naming the memory
// the step needs.
template <class F>
auto Checked(const char* step, std::size_t bytes_needed, F&& body) -> decltype(body()) {
  return RunThrust(step, std::forward<F>(body), bytes_needed);
}

// Bytes per row of the Thrust group passes: a, b, group, order, two keys, scratch.
constexpr std::size_t kGroupBytesPerRow = 2 * sizeof(double) + sizeof(std::int32_t) + 4 * sizeof(std::size_t);

class CheckedGroupRows final : public cate::GroupRows {
 public:
  CheckedGroupRows(const std::vector<double>& a, const std::vector<double>& b,
                   const std::vector<std::int32_t>& group, int n_groups, const std::vector<std::int32_t>& cluster)
      : bytes_(a.size() * kGroupBytesPerRow) {
    rows_ = Checked("the GATE group sums (upload and sort)", bytes_, [&] {
      return std::make_unique<GroupRowsOnDevice>(a, b, group, n_groups, cluster);
    });
  }
  cate::GroupTotals Totals() override {
    return Checked("the GATE group sums", bytes_, [&] { return rows_->Totals(); });
  }
  std::vector<double> SquaredResiduals(const std::vector<double>& theta, const std::vector<double>& sum_a,
                                       bool hc3) override {
    return Checked("the GATE covariance", bytes_, [&] { return rows_->SquaredResiduals(theta, sum_a, hc3); });
  }
  std::vector<cate::ClusterGroupSum> ClusterResiduals(const std::vector<double>& theta) override {
    return Checked("the GATE cluster covariance", bytes_, [&] { return rows_->ClusterResiduals(theta); });
  }

 private:
  std::size_t bytes_;
  std::unique_ptr<GroupRowsOnDevice> rows_;
};

class CublasHandle {
 public:
  CublasHandle() { FASTDML_CUBLAS_CHECK(cublasCreate(&handle_)); }
  ~CublasHandle() { (void)cublasDestroy(handle_); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

// Column-major lower triangle (as syrk leaves it) -> full row-major symmetric.
std::vector<double> SymmetricFromLower(const DeviceBuffer<double>& lower, int k) {
  std::vector<double> col(static_cast<std::size_t>(k) * k), out(col.size());
  CopyToHost(lower, col.size(), col.data());
  for (int c = 0; c < k; ++c) {
    for (int r = c; r < k; ++r) out[r * k + c] = out[c * k + r] = col[r + static_cast<std::size_t>(c) * k];
  }
  return out;
}

// The row-major design x (n x k) is, to cuBLAS, the column-major k x n matrix
// A = X' with lda = k, so X'X = A A' (syrk, no transpose) and X'v = A v.
class OlsRowsOnDevice final : public cate::OlsRows {
 public:
  OlsRowsOnDevice(const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k,
                  const std::vector<std::int32_t>& cluster)
      : n_(static_cast<int>(n)), k_(k), cluster_(cluster) {
    x_ = CopyToDevice(x.data(), x.size());
    y_ = CopyToDevice(y.data(), n);
    resid_ = AllocateDevice<double>(n);
  }

  std::vector<double> Gram() override {
    auto gram = AllocateDevice<double>(static_cast<std::size_t>(k_) * k_);
    const double one = 1, zero = 0;
    FASTDML_CUBLAS_CHECK(cublasDsyrk(handle_.get(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, k_, n_, &one, x_.get(), k_,
                                     &zero, gram.get(), k_));
    return SymmetricFromLower(gram, k_);
  }

  std::vector<double> CrossY() override { return Cross(y_); }

  std::vector<double> CrossResidual(const std::vector<double>& beta) override {
    SetResidual(beta);
    return Cross(resid_);
  }

  void SetResidual(const std::vector<double>& beta) override {
    const auto dev_beta = CopyToDevice(beta.data(), beta.size());
    FASTDML_CUDA_CHECK(cudaMemcpy(resid_.get(), y_.get(), n_ * sizeof(double), cudaMemcpyDeviceToDevice));
    const double minus_one = -1, one = 1;
    FASTDML_CUBLAS_CHECK(cublasDgemv(handle_.get(), CUBLAS_OP_T, k_, n_, &minus_one, x_.get(), k_, dev_beta.get(), 1,
                                     &one, resid_.get(), 1));
  }

  cate::OlsMeat Meat(CovType cov, const std::vector<double>& inv, std::vector<double>* influence) override {
    if (influence != nullptr) throw Error("internal: OLS influence functions are CPU-only");
    const std::size_t n = n_, k = k_;
    const double one = 1, zero = 0;
    cate::OlsMeat out;
    auto meat = AllocateDevice<double>(k * k);
    if (cov == CovType::kCluster) {
      // u_c = sum_{i in c} e_i x_i as the columns of U (clusters x k,
      // column-major), then U'U by syrk with a transpose.
      const DeviceVector<std::int32_t> cluster(cluster_.begin(), cluster_.end());
      DeviceVector<std::int64_t> keys(n);
      thrust::copy(thrust::device, cluster.begin(), cluster.end(), keys.begin());
      const SortedRows by_cluster = SortRowsByKey(std::move(keys));
      const std::size_t clusters = by_cluster.runs();
      DeviceVector<double> u(clusters * k);
      for (std::size_t j = 0; j < k; ++j) {
        const DeviceVector<double> col = SegmentedReduce(
            by_cluster.begin, ScaledEntryAt{x_.get(), resid_.get(), Raw(by_cluster.order), k, j}, Plus(), 0.0);
        thrust::copy(col.begin(), col.end(), u.begin() + j * clusters);
      }
      FASTDML_CUBLAS_CHECK(cublasDsyrk(handle_.get(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_T, k_,
                                       static_cast<int>(clusters), &one, Raw(u), static_cast<int>(clusters), &zero,
                                       meat.get(), k_));
    } else {
      DeviceVector<double> weight(thrust::device_pointer_cast(resid_.get()),
                                  thrust::device_pointer_cast(resid_.get()) + n);  // e_i (HC0, HC1)
      if (cov == CovType::kHC3) {
        // h_i = x_i' inv x_i from M = inv A (gemm), one column per row.
        const auto dev_inv = CopyToDevice(inv.data(), inv.size());
        auto m = AllocateDevice<double>(n * k);
        FASTDML_CUBLAS_CHECK(cublasDgemm(handle_.get(), CUBLAS_OP_N, CUBLAS_OP_N, k_, n_, k_, &one, dev_inv.get(),
                                         k_, x_.get(), k_, &zero, m.get(), k_));
        DeviceVector<double> h(n);
        thrust::transform(thrust::device, Count(0), Count(n), h.begin(), LeverageAt{x_.get(), m.get(), k});
        const auto first = thrust::find_if(thrust::device, h.begin(), h.end(), AboveLevel{cate::kLeverageOne});
        if (first != h.end()) {
          out.leverage_one_row = static_cast<std::size_t>(first - h.begin());
          return out;
        }
        thrust::transform(thrust::device, weight.begin(), weight.end(), h.begin(), weight.begin(), Hc3Weight());
      }
      auto scaled = AllocateDevice<double>(n * k);  // A diag(w): row i of X times w_i
      FASTDML_CUBLAS_CHECK(cublasDdgmm(handle_.get(), CUBLAS_SIDE_RIGHT, k_, n_, x_.get(), k_, Raw(weight), 1,
                                       scaled.get(), k_));
      FASTDML_CUBLAS_CHECK(cublasDsyrk(handle_.get(), CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N, k_, n_, &one,
                                       scaled.get(), k_, &zero, meat.get(), k_));
    }
    out.meat = SymmetricFromLower(meat, k_);
    return out;
  }

 private:
  std::vector<double> Cross(const DeviceBuffer<double>& v) {
    auto out = AllocateDevice<double>(k_);
    const double one = 1, zero = 0;
    FASTDML_CUBLAS_CHECK(
        cublasDgemv(handle_.get(), CUBLAS_OP_N, k_, n_, &one, x_.get(), k_, v.get(), 1, &zero, out.get(), 1));
    std::vector<double> host(k_);
    CopyToHost(out, k_, host.data());
    return host;
  }

  int n_, k_;
  const std::vector<std::int32_t>& cluster_;  // host; uploaded by Meat(kCluster)
  CublasHandle handle_;
  DeviceBuffer<double> x_, y_, resid_;
};

class CheckedOlsRows final : public cate::OlsRows {
 public:
  CheckedOlsRows(const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k,
                 const std::vector<std::int32_t>& cluster)
      : bytes_(n * (3 * k + 6) * sizeof(double)) {  // x, inv x, scaled x; y, e, w, h, sort
    if (n > static_cast<std::size_t>(INT_MAX)) {
      throw LibraryError("the BLP regression has " + std::to_string(n) + " rows, more than cuBLAS's " +
                         std::to_string(INT_MAX) + ": use --device cpu");
    }
    rows_ = Checked("the BLP regression (upload)", bytes_,
                    [&] { return std::make_unique<OlsRowsOnDevice>(y, x, n, k, cluster); });
  }
  std::vector<double> Gram() override {
    return Checked("the BLP Gram matrix", bytes_, [&] { return rows_->Gram(); });
  }
  std::vector<double> CrossY() override {
    return Checked("the BLP regression", bytes_, [&] { return rows_->CrossY(); });
  }
  std::vector<double> CrossResidual(const std::vector<double>& beta) override {
    return Checked("the BLP regression", bytes_, [&] { return rows_->CrossResidual(beta); });
  }
  void SetResidual(const std::vector<double>& beta) override {
    Checked("the BLP regression", bytes_, [&] { rows_->SetResidual(beta); });
  }
  cate::OlsMeat Meat(CovType cov, const std::vector<double>& inv, std::vector<double>* influence) override {
    return Checked("the BLP covariance", bytes_, [&] { return rows_->Meat(cov, inv, influence); });
  }

 private:
  std::size_t bytes_;
  std::unique_ptr<OlsRowsOnDevice> rows_;
};

}  // namespace

std::unique_ptr<cate::GroupRows> UploadGroupRows(const std::vector<double>& a, const std::vector<double>& b,
                                                 const std::vector<std::int32_t>& group, int n_groups,
                                                 const std::vector<std::int32_t>& cluster) {
  return std::make_unique<CheckedGroupRows>(a, b, group, n_groups, cluster);
}

std::unique_ptr<cate::OlsRows> UploadOlsRows(const std::vector<double>& y, const std::vector<double>& x,
                                             std::size_t n, int k, const std::vector<std::int32_t>& cluster,
                                             std::int32_t /*n_clusters: the sorted cluster ids give the runs*/) {
  return std::make_unique<CheckedOlsRows>(y, x, n, k, cluster);
}

cate::GroupCounts CountByGroup(const std::vector<std::int32_t>& group, int n_groups, const std::vector<double>* d) {
  return Checked("the GATE group counts", group.size() * kGroupBytesPerRow,
                 [&] { return CountByGroupOnDevice(group, n_groups, d); });
}

cate::QuantileCut CutQuantiles(const std::vector<double>& values, int bins) {
  return Checked("the sorted-GATES quantile groups", values.size() * (3 * sizeof(double) + sizeof(std::int32_t)),
                 [&] { return CutQuantilesOnDevice(values, bins); });
}

}  // namespace fastdml::cuda
