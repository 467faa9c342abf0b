// CUDA twin of the CPU driver's per-task row handling (driver/fit.cc): the
// per-element maths is ops/fold_rows.h, run through the Thrust algorithms of
// ops/fold_rows_thrust.h on the legacy default stream.
#include "cuda/device_data.h"

#include <cuda_runtime_api.h>
#include <thrust/execution_policy.h>
#include <thrust/fill.h>

#include <cmath>
#include <initializer_list>
#include <new>
#include <string>
#include <utility>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/thrust_check.h"
#include "fastdml/error.h"
#include "ops/array_interface.h"
#include "ops/fold_rows_thrust.h"

namespace fastdml::cuda {

struct DeviceData::Impl {
  int ordinal = 0;
  FitDataView shape;  // host pointers are not kept past construction: only sizes and flags
  DeviceBuffer<float> x, x_with_d, y, d, block, labels;
  DeviceBuffer<int> fold;
  DeviceBuffer<std::uint32_t> training, held_out;
  DeviceBuffer<double> m, g0, g1, l;
  std::size_t training_count = 0, held_out_count = 0;
  std::size_t bytes = 0;

  const float* Features(bool with_d) const {
    if (with_d && !x_with_d) throw Error("internal: device [X | D] requested but not built");
    return with_d ? x_with_d.get() : x.get();
  }
  std::size_t Cols(bool with_d) const { return shape.p + (with_d ? 1 : 0); }
  double* Array(PredictionArray a) const {
    double* p = a == PredictionArray::kM    ? m.get()
                : a == PredictionArray::kG0 ? g0.get()
                : a == PredictionArray::kG1 ? g1.get()
                                            : l.get();
    if (p == nullptr) throw Error("internal: prediction array not used by this model");
    return p;
  }
};

namespace {

template <class T>
DeviceBuffer<T> Allocate(std::size_t count, std::size_t* bytes) {
  *bytes += count * sizeof(T);
  return AllocateDevice<T>(count);
}

template <class T>
void Upload(const T* host, std::size_t count, const DeviceBuffer<T>& dev) {
  if (count > 0) FASTDML_CUDA_CHECK(cudaMemcpy(dev.get(), host, count * sizeof(T), cudaMemcpyHostToDevice));
}

// Thrust on raw device pointers, on the legacy default stream (XGBoost's
// default too); its algorithms return after the work is done.
auto Policy() { return thrust::cuda::par; }

// Thrust failures as CudaError / DeviceOutOfMemory (cuda/thrust_check.h), then any launch
// error a Thrust call left behind.
template <class Call>
void Checked(const char* what, Call call) {
  RunThrust(what, call);
  FASTDML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

DeviceData::DeviceData(int ordinal, const FitDataView& host) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.shape = host;
  s.shape.x = s.shape.y = s.shape.d = nullptr;
  s.shape.fold = nullptr;
  const std::size_t n = host.n, p = host.p, total = n * static_cast<std::size_t>(host.reps);
  FASTDML_CUDA_CHECK(cudaSetDevice(ordinal));
  s.ordinal = ordinal;
  // Everything first, so that out of memory comes before any transfer.
  s.x = Allocate<float>(n * p, &s.bytes);
  if (host.with_d_column) s.x_with_d = Allocate<float>(n * (p + 1), &s.bytes);
  s.y = Allocate<float>(n, &s.bytes);
  s.d = Allocate<float>(n, &s.bytes);
  s.fold = Allocate<int>(total, &s.bytes);
  s.training = Allocate<std::uint32_t>(n, &s.bytes);
  s.held_out = Allocate<std::uint32_t>(n, &s.bytes);
  s.block = Allocate<float>(n * (p + 1), &s.bytes);
  s.labels = Allocate<float>(n, &s.bytes);
  s.m = Allocate<double>(total, &s.bytes);
  if (host.irm) {
    s.g0 = Allocate<double>(total, &s.bytes);
    s.g1 = Allocate<double>(total, &s.bytes);
  } else {
    s.l = Allocate<double>(total, &s.bytes);
  }

  Upload(host.x, n * p, s.x);
  Upload(host.y, n, s.y);
  Upload(host.d, n, s.d);
  Upload(host.fold, total, s.fold);
  Checked("DeviceData upload", [&] {
    if (s.x_with_d) ops::BuildWithDColumn(Policy(), s.x.get(), s.d.get(), n, p, s.x_with_d.get());
    for (const DeviceBuffer<double>* a : {&s.m, &s.g0, &s.g1, &s.l}) {
      if (*a) thrust::fill_n(Policy(), a->get(), total, static_cast<double>(NAN));
    }
  });
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceData::~DeviceData() = default;
DeviceData::DeviceData(DeviceData&&) noexcept = default;
DeviceData& DeviceData::operator=(DeviceData&&) noexcept = default;

std::size_t DeviceData::rows() const { return impl_->shape.n; }
std::size_t DeviceData::cols(bool with_d) const { return impl_->Cols(with_d); }
std::size_t DeviceData::bytes() const { return impl_->bytes; }

std::string DeviceData::FeaturesInterface(bool with_d) const {
  return ops::CudaInterface(impl_->Features(with_d), impl_->shape.n, impl_->Cols(with_d));
}

void DeviceData::SelectRows(int rep, int fold, ops::RowArm arm) {
  Impl& s = *impl_;
  if (rep < 0 || rep >= s.shape.reps) throw Error("internal: repetition out of range");
  const int* rep_fold = s.fold.get() + static_cast<std::size_t>(rep) * s.shape.n;
  Checked("SelectRows", [&] {
    s.training_count = ops::SelectRows(Policy(), s.shape.n, ops::IsTrainingRow{rep_fold, s.d.get(), fold, arm},
                                       s.training.get());
    s.held_out_count =
        ops::SelectRows(Policy(), s.shape.n, ops::IsHeldOutRow{rep_fold, fold}, s.held_out.get());
  });
}

void DeviceData::UseTrainingRows(const std::vector<std::uint32_t>& rows) {
  Impl& s = *impl_;
  if (rows.size() > s.shape.n) throw Error("internal: more training rows than the data has");
  Upload(rows.data(), rows.size(), s.training);
  s.training_count = rows.size();
}

std::size_t DeviceData::training_count() const { return impl_->training_count; }
std::size_t DeviceData::held_out_count() const { return impl_->held_out_count; }

std::string DeviceData::GatherTraining(bool with_d) {
  Impl& s = *impl_;
  const std::size_t cols = s.Cols(with_d);
  Checked("GatherTraining", [&] {
    ops::GatherRows(Policy(), s.Features(with_d), cols, s.training.get(), s.training_count, false, 0.0f,
                    s.block.get());
  });
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());  // XGBoost reads it without a stream handshake
  return ops::CudaInterface(s.block.get(), s.training_count, cols);
}

std::string DeviceData::GatherTrainingLabels(bool treatment_labels) {
  Impl& s = *impl_;
  Checked("GatherTrainingLabels", [&] {
    ops::GatherValues(Policy(), treatment_labels ? s.d.get() : s.y.get(), s.training.get(), s.training_count,
                      s.labels.get());
  });
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());
  return ops::CudaInterface(s.labels.get(), s.training_count, 0);
}

std::string DeviceData::GatherHeldOut(bool with_d, std::optional<float> d_value) {
  Impl& s = *impl_;
  const std::size_t cols = s.Cols(with_d);
  // XGBoost may still be working on its own stream (it copies the training
  // block while building the matrix): finish everything before overwriting.
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());
  Checked("GatherHeldOut", [&] {
    ops::GatherRows(Policy(), s.Features(with_d), cols, s.held_out.get(), s.held_out_count, d_value.has_value(),
                    d_value.value_or(0.0f), s.block.get());
  });
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());
  return ops::CudaInterface(s.block.get(), s.held_out_count, cols);
}

void DeviceData::ScatterHeldOut(const float* device_predictions, int rep, PredictionArray into) {
  Impl& s = *impl_;
  double* rep_block = s.Array(into) + static_cast<std::size_t>(rep) * s.shape.n;
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());  // XGBoost's prediction is complete
  Checked("ScatterHeldOut", [&] {
    ops::ScatterPredictions(Policy(), device_predictions, s.held_out.get(), s.held_out_count, rep_block);
  });
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());  // before XGBoost may reuse its buffer
}

void DeviceData::Download(Predictions* out) const {
  const Impl& s = *impl_;
  const std::size_t total = s.shape.n * static_cast<std::size_t>(s.shape.reps);
  FASTDML_CUDA_CHECK(cudaDeviceSynchronize());
  auto copy = [&](const DeviceBuffer<double>& dev, std::vector<double>* host) {
    host->clear();
    if (!dev) return;
    host->resize(total);
    CopyToHost(dev, total, host->data());
  };
  copy(s.m, &out->m);
  copy(s.g0, &out->g0);
  copy(s.g1, &out->g1);
  copy(s.l, &out->l);
}

struct ResidentPredictions::Impl {
  std::size_t n = 0;
  int reps = 0;
  int ordinal = 0;
  DeviceBuffer<double> m, g0, g1, l;
};

ResidentPredictions::ResidentPredictions(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResidentPredictions::~ResidentPredictions() = default;
std::size_t ResidentPredictions::n() const { return impl_->n; }
int ResidentPredictions::reps() const { return impl_->reps; }
int ResidentPredictions::ordinal() const { return impl_->ordinal; }

const double* ResidentPredictions::Array(PredictionArray array, int rep) const {
  if (rep < 0 || rep >= impl_->reps) throw Error("internal: repetition out of range");
  const Impl& s = *impl_;
  const DeviceBuffer<double>& a = array == PredictionArray::kM    ? s.m
                                  : array == PredictionArray::kG0 ? s.g0
                                  : array == PredictionArray::kG1 ? s.g1
                                                                  : s.l;
  return a ? a.get() + static_cast<std::size_t>(rep) * s.n : nullptr;
}

std::shared_ptr<const ResidentPredictions> DeviceData::KeepPredictions() {
  Impl& s = *impl_;
  auto kept = std::make_unique<ResidentPredictions::Impl>();
  kept->n = s.shape.n;
  kept->reps = s.shape.reps;
  kept->ordinal = s.ordinal;
  kept->m = std::move(s.m);
  kept->g0 = std::move(s.g0);
  kept->g1 = std::move(s.g1);
  kept->l = std::move(s.l);
  return std::shared_ptr<const ResidentPredictions>(new ResidentPredictions(std::move(kept)));
}

std::vector<std::uint32_t> DeviceData::TrainingRows() const {
  std::vector<std::uint32_t> rows(impl_->training_count);
  CopyToHost(impl_->training, rows.size(), rows.data());
  return rows;
}

std::vector<std::uint32_t> DeviceData::HeldOutRows() const {
  std::vector<std::uint32_t> rows(impl_->held_out_count);
  CopyToHost(impl_->held_out, rows.size(), rows.data());
  return rows;
}

}  // namespace fastdml::cuda
