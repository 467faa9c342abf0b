#include "nuisance/learner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>

#include "fastdml/error.h"

namespace fastdml::nuisance {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One-batch data iterator for XGQuantileDMatrixCreateFromCallback; the batch
// is host memory (__array_interface__) or device memory (__cuda_array_interface__).
struct OneBatch {
  DMatrixHandle proxy = nullptr;
  std::string interface;
  bool on_device = false;
  bool done = false;
};
void ResetBatch(DataIterHandle h) { static_cast<OneBatch*>(h)->done = false; }
int NextBatch(DataIterHandle h) {
  auto* it = static_cast<OneBatch*>(h);
  if (it->done) return 0;
  const int rc = it->on_device ? XGProxyDMatrixSetDataCudaArrayInterface(it->proxy, it->interface.c_str())
                               : XGProxyDMatrixSetDataDense(it->proxy, it->interface.c_str());
  if (rc != 0) return -1;
  it->done = true;
  return 1;
}

// QuantileDMatrix from one dense block described by `interface`; with `ref`
// its cuts are reused. A device block makes XGBoost sketch and quantise on the GPU.
xgb::DMatrix QuantileMatrixFrom(const std::string& interface, bool on_device, int max_bin, int nthread,
                                DMatrixHandle ref) {
  xgb::DMatrix proxy;
  xgb::XgbCheck(XGProxyDMatrixCreate(proxy.out()), "XGProxyDMatrixCreate");
  OneBatch it{proxy.get(), interface, on_device, false};
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) +
                             ", \"max_bin\": " + std::to_string(max_bin) + "}";
  xgb::DMatrix out;
  xgb::XgbCheck(XGQuantileDMatrixCreateFromCallback(&it, proxy.get(), ref, ResetBatch, NextBatch,
                                                    config.c_str(), out.out()),
                "XGQuantileDMatrixCreateFromCallback");
  return out;
}

xgb::DMatrix QuantileMatrix(const float* x, std::size_t rows, std::size_t cols, int max_bin,
                            int nthread, DMatrixHandle ref) {
  return QuantileMatrixFrom(xgb::DenseInterface(x, rows, cols), false, max_bin, nthread, ref);
}

xgb::DMatrix PlainMatrix(const float* x, std::size_t rows, std::size_t cols, int nthread) {
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + "}";
  xgb::DMatrix out;
  xgb::XgbCheck(XGDMatrixCreateFromDense(xgb::DenseInterface(x, rows, cols).c_str(), config.c_str(),
                                         out.out()),
                "XGDMatrixCreateFromDense");
  return out;
}

xgb::DMatrix PlainDeviceMatrix(const std::string& block, int nthread) {
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + "}";
  xgb::DMatrix m;
  xgb::XgbCheck(XGDMatrixCreateFromCudaArrayInterface(block.c_str(), config.c_str(), m.out()),
                "XGDMatrixCreateFromCudaArrayInterface");
  return m;
}

std::string Num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// In-place prediction of the first `trees` rounds (0: all), probabilities for
// binary:logistic.
std::string PredictConfig(int trees) {
  return "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": " +
         std::to_string(trees) + ", \"strict_shape\": false, \"missing\": NaN}";
}

// XGBoost's GPU allocations fail inside XGBoost, with its own text; say what
// the user can change. Other errors pass through unchanged.
template <class Call>
auto WithGpuMemoryHint(Call call) -> decltype(call()) {
  try {
    return call();
  } catch (const LibraryError& e) {
    const std::string what = e.what();
    if (what.find("out of memory") == std::string::npos &&
        what.find("cudaErrorMemoryAllocation") == std::string::npos &&
        what.find("bad_alloc") == std::string::npos) {
      throw;
    }
    throw LibraryError(what + " (the GPU is out of memory: use a smaller --max-bin, fewer rows, "
                              "or --device cpu)");
  }
}

// Process-wide count of models trained (relaxed: only its value matters).
std::atomic<std::uint64_t> g_train_count{0};

// The loss XGBoost's EvalOneIter reports for the one evaluation matrix
// ("[r]\tvalid-logloss:0.69..."; printed with max_digits10, so exact).
double EvalLoss(const xgb::Booster& booster, int round, const xgb::DMatrix& dvalid) {
  DMatrixHandle mats[] = {dvalid.get()};
  const char* names[] = {"valid"};
  const char* text = nullptr;
  xgb::XgbCheck(XGBoosterEvalOneIter(booster.get(), round, mats, names, 1, &text), "XGBoosterEvalOneIter");
  const char* colon = text != nullptr ? std::strrchr(text, ':') : nullptr;
  if (colon == nullptr) throw LibraryError(std::string("XGBoost evaluation printed no loss: ") + (text ? text : ""));
  return std::strtod(colon + 1, nullptr);
}

// Creates the booster on `dtrain` and runs the rounds (spec.device says where).
Boosted BoostImpl(const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const TrainSpec& spec,
                  TaskClock* clock) {
  const LearnerParams& lp = spec.params;
  const bool early = lp.rounds == kAutoRounds;
  if (early && dvalid == nullptr) throw Error("internal: early stopping without a validation matrix");
  const auto t0 = Clock::now();
  Boosted out;
  xgb::Booster& booster = out.booster;
  DMatrixHandle mats[] = {dtrain.get()};
  xgb::XgbCheck(XGBoosterCreate(mats, 1, booster.out()), "XGBoosterCreate");
  const bool logistic = spec.objective == Objective::kLogistic;
  booster.SetParam("objective", logistic ? "binary:logistic" : "reg:squarederror");
  booster.SetParam("eval_metric", logistic ? "logloss" : "rmse");
  booster.SetParam("tree_method", "hist");
  booster.SetParam("device", spec.device);
  booster.SetParam("nthread", std::to_string(spec.nthread));
  booster.SetParam("seed", std::to_string(spec.seed & 0x7fffffffULL));
  booster.SetParam("max_depth", std::to_string(lp.max_depth));
  booster.SetParam("eta", Num(lp.eta));
  booster.SetParam("subsample", Num(lp.subsample));
  booster.SetParam("colsample_bytree", Num(lp.colsample_bytree));
  booster.SetParam("min_child_weight", Num(lp.min_child_weight));
  booster.SetParam("lambda", Num(lp.lambda));
  booster.SetParam("max_bin", std::to_string(lp.max_bin));
  booster.SetParam("verbosity", "0");
  const int limit = early ? lp.max_rounds : lp.rounds;
  out.validation_loss = NAN;
  int best = -1;
  for (int r = 0; r < limit; ++r) {
    if (spec.cancel != nullptr && spec.cancel->load(std::memory_order_relaxed)) {
      throw Cancelled("the fit was cancelled");
    }
    xgb::XgbCheck(XGBoosterUpdateOneIter(booster.get(), r, dtrain.get()), "XGBoosterUpdateOneIter");
    out.rounds_run = r + 1;
    if (spec.on_rounds) spec.on_rounds(1);
    if (!early) continue;
    // Early stopping: the first round with the smallest loss wins; stop
    // after early_stopping_rounds rounds without a strictly smaller one.
    const double loss = EvalLoss(booster, r, *dvalid);
    if (best < 0 || loss < out.validation_loss) {
      best = r;
      out.validation_loss = loss;
    } else if (r - best >= lp.early_stopping_rounds) {
      break;
    }
  }
  if (early) {
    out.rounds = best + 1;
    // The progress bar counts max_rounds for this model: the rest is skipped.
    if (spec.on_rounds && limit > out.rounds_run) spec.on_rounds(limit - out.rounds_run);
  } else {
    out.rounds = lp.rounds;
    if (dvalid != nullptr) out.validation_loss = EvalLoss(booster, lp.rounds - 1, *dvalid);
  }
  if (clock) clock->training += Since(t0);
  return out;
}

}  // namespace

std::uint64_t TrainCount() { return g_train_count.load(); }

FeatureMatrix::FeatureMatrix(const float* x, std::size_t n, std::size_t p) : x_(x), n_(n), p_(p) {}

void FeatureMatrix::PrepareReferences(const std::vector<int>& max_bins, int nthread) {
  for (int b : max_bins) {
    if (refs_.count(b)) continue;
    refs_[b] = std::make_unique<xgb::DMatrix>(QuantileMatrix(x_, n_, p_, b, nthread, nullptr));
  }
}

const xgb::DMatrix& FeatureMatrix::Reference(int max_bin) const {
  auto it = refs_.find(max_bin);
  if (it == refs_.end()) throw Error("internal: reference matrix for max_bin not prepared");
  return *it->second;
}

void FeatureMatrix::Gather(const std::vector<std::uint32_t>& rows, std::vector<float>* out,
                           std::optional<float> last_col) const {
  out->resize(rows.size() * p_);
  float* dst = out->data();
  for (std::size_t k = 0; k < rows.size(); ++k, dst += p_) {
    std::memcpy(dst, x_ + static_cast<std::size_t>(rows[k]) * p_, p_ * sizeof(float));
    if (last_col) dst[p_ - 1] = *last_col;
  }
}

xgb::DMatrix TrainingMatrix(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                            const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock) {
  auto t0 = Clock::now();
  const LearnerParams& lp = spec.params;
  xgb::DMatrix dtrain;
  std::vector<float> block;
  switch (spec.strategy) {
    case MatrixStrategy::kSharedCuts:
      features.Gather(rows, &block);
      if (clock) clock->gather += Since(t0);
      t0 = Clock::now();
      dtrain = QuantileMatrix(block.data(), rows.size(), features.cols(), lp.max_bin, spec.nthread,
                              features.Reference(lp.max_bin).get());
      dtrain.SetInfo("label", labels.data(), labels.size());
      break;
    case MatrixStrategy::kPerFold:
      features.Gather(rows, &block);
      if (clock) clock->gather += Since(t0);
      t0 = Clock::now();
      dtrain = PlainMatrix(block.data(), rows.size(), features.cols(), spec.nthread);
      dtrain.SetInfo("label", labels.data(), labels.size());
      break;
    case MatrixStrategy::kZeroWeight: {
      // All rows, weight 0 off the training set. Held-out labels are replaced by
      // a constant so their outcome/treatment cannot reach the model at all.
      dtrain = QuantileMatrix(features.data(), features.rows(), features.cols(), lp.max_bin,
                              spec.nthread, features.Reference(lp.max_bin).get());
      std::vector<float> all_labels(features.rows(), 0.0f), weights(features.rows(), 0.0f);
      for (std::size_t k = 0; k < rows.size(); ++k) {
        all_labels[rows[k]] = labels[k];
        weights[rows[k]] = 1.0f;
      }
      dtrain.SetInfo("label", all_labels.data(), all_labels.size());
      dtrain.SetInfo("weight", weights.data(), weights.size());
      break;
    }
  }
  if (clock) clock->matrix += Since(t0);
  return dtrain;
}

xgb::DMatrix ValidationMatrix(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                              const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock) {
  auto t0 = Clock::now();
  std::vector<float> block;
  features.Gather(rows, &block);
  xgb::DMatrix m = PlainMatrix(block.data(), rows.size(), features.cols(), spec.nthread);
  m.SetInfo("label", labels.data(), labels.size());
  if (clock) clock->matrix += Since(t0);
  return m;
}

Boosted Boost(const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const TrainSpec& spec, TaskClock* clock) {
  g_train_count.fetch_add(1, std::memory_order_relaxed);
  return BoostImpl(dtrain, dvalid, spec, clock);
}

xgb::Booster Train(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                   const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock) {
  if (spec.params.rounds == kAutoRounds) throw Error("internal: Train() takes a fixed number of rounds");
  const xgb::DMatrix dtrain = TrainingMatrix(features, rows, labels, spec, clock);
  return Boost(dtrain, nullptr, spec, clock).booster;
}

void Predict(const xgb::Booster& booster, const FeatureMatrix& features,
             const std::vector<std::uint32_t>& rows, std::optional<float> last_col,
             std::vector<double>* out, TaskClock* clock, int trees) {
  auto t0 = Clock::now();
  std::vector<float> block;
  features.Gather(rows, &block, last_col);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  xgb::XgbCheck(XGBoosterPredictFromDense(booster.get(),
                                          xgb::DenseInterface(block.data(), rows.size(), features.cols()).c_str(),
                                          PredictConfig(trees).c_str(), nullptr, &shape, &dim, &result),
                "XGBoosterPredictFromDense");
  out->assign(result, result + rows.size());
  if (clock) clock->prediction += Since(t0);
}

std::vector<float> WithDColumn(const std::vector<float>& x, std::size_t n, std::size_t p,
                               const std::vector<double>& d) {
  std::vector<float> out(n * (p + 1));
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(x.begin() + i * p, x.begin() + (i + 1) * p, out.begin() + i * (p + 1));
    out[i * (p + 1) + p] = static_cast<float>(d[i]);
  }
  return out;
}

DeviceFeatureMatrix::DeviceFeatureMatrix(std::string interface, std::size_t n, std::size_t p)
    : interface_(std::move(interface)), n_(n), p_(p) {}

void DeviceFeatureMatrix::PrepareReferences(const std::vector<int>& max_bins, int nthread) {
  for (int b : max_bins) {
    if (refs_.count(b)) continue;
    refs_[b] = std::make_unique<xgb::DMatrix>(
        WithGpuMemoryHint([&] { return QuantileMatrixFrom(interface_, true, b, nthread, nullptr); }));
  }
}

const xgb::DMatrix& DeviceFeatureMatrix::Reference(int max_bin) const {
  auto it = refs_.find(max_bin);
  if (it == refs_.end()) throw Error("internal: device reference matrix for max_bin not prepared");
  return *it->second;
}

xgb::DMatrix DeviceTrainingMatrix(const DeviceFeatureMatrix& features, const std::string& block,
                                  const std::string& labels, const TrainSpec& spec, TaskClock* clock) {
  const auto t0 = Clock::now();
  const LearnerParams& lp = spec.params;
  xgb::DMatrix dtrain = WithGpuMemoryHint([&] {
    xgb::DMatrix m;
    switch (spec.strategy) {
      case MatrixStrategy::kSharedCuts:
        m = QuantileMatrixFrom(block, true, lp.max_bin, spec.nthread, features.Reference(lp.max_bin).get());
        break;
      case MatrixStrategy::kPerFold:
        m = PlainDeviceMatrix(block, spec.nthread);
        break;
      case MatrixStrategy::kZeroWeight:
        throw Error("internal: --matrix-strategy zero-weight reached the device learner");
    }
    m.SetInfoFromInterface("label", labels);
    return m;
  });
  if (clock) clock->matrix += Since(t0);
  return dtrain;
}

xgb::DMatrix DeviceValidationMatrix(const std::string& block, const std::string& labels, const TrainSpec& spec,
                                    TaskClock* clock) {
  const auto t0 = Clock::now();
  xgb::DMatrix m = WithGpuMemoryHint([&] {
    xgb::DMatrix v = PlainDeviceMatrix(block, spec.nthread);
    v.SetInfoFromInterface("label", labels);
    return v;
  });
  if (clock) clock->matrix += Since(t0);
  return m;
}

Boosted BoostOnDevice(const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const TrainSpec& spec,
                      TaskClock* clock) {
  return WithGpuMemoryHint([&] { return Boost(dtrain, dvalid, spec, clock); });
}

xgb::Booster TrainOnDevice(const DeviceFeatureMatrix& features, const std::string& block,
                           const std::string& labels, const TrainSpec& spec, TaskClock* clock) {
  if (spec.params.rounds == kAutoRounds) throw Error("internal: TrainOnDevice() takes a fixed number of rounds");
  const xgb::DMatrix dtrain = DeviceTrainingMatrix(features, block, labels, spec, clock);
  return BoostOnDevice(dtrain, nullptr, spec, clock).booster;
}

const float* PredictOnDevice(const xgb::Booster& booster, const std::string& block, std::size_t rows,
                             TaskClock* clock, int trees) {
  const auto t0 = Clock::now();
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  WithGpuMemoryHint([&] {
    xgb::XgbCheck(XGBoosterPredictFromCudaArray(booster.get(), block.c_str(), PredictConfig(trees).c_str(), nullptr, &shape,
                                                &dim, &result),
                  "XGBoosterPredictFromCudaArray");
  });
  if (dim != 1 || shape == nullptr || shape[0] != rows) {
    throw Error("internal: XGBoost predicted " + std::to_string(dim == 1 && shape ? shape[0] : 0) +
                " values for " + std::to_string(rows) + " device rows");
  }
  if (clock) clock->prediction += Since(t0);
  return result;
}

}  // namespace fastdml::nuisance
