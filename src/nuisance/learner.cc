#include "nuisance/learner.h"

#include <chrono>
#include <cstring>
#include <sstream>
#include <string>

#include "fastdml/error.h"

namespace fastdml::nuisance {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One-batch data iterator for XGQuantileDMatrixCreateFromCallback.
struct OneBatch {
  DMatrixHandle proxy = nullptr;
  std::string interface;
  bool done = false;
};
void ResetBatch(DataIterHandle h) { static_cast<OneBatch*>(h)->done = false; }
int NextBatch(DataIterHandle h) {
  auto* it = static_cast<OneBatch*>(h);
  if (it->done) return 0;
  if (XGProxyDMatrixSetDataDense(it->proxy, it->interface.c_str()) != 0) return -1;
  it->done = true;
  return 1;
}

// QuantileDMatrix from a host dense block; with `ref` its cuts are reused.
xgb::DMatrix QuantileMatrix(const float* x, std::size_t rows, std::size_t cols, int max_bin,
                            int nthread, DMatrixHandle ref) {
  xgb::DMatrix proxy;
  xgb::XgbCheck(XGProxyDMatrixCreate(proxy.out()), "XGProxyDMatrixCreate");
  OneBatch it{proxy.get(), xgb::DenseInterface(x, rows, cols), false};
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) +
                             ", \"max_bin\": " + std::to_string(max_bin) + "}";
  xgb::DMatrix out;
  xgb::XgbCheck(XGQuantileDMatrixCreateFromCallback(&it, proxy.get(), ref, ResetBatch, NextBatch,
                                                    config.c_str(), out.out()),
                "XGQuantileDMatrixCreateFromCallback");
  return out;
}

xgb::DMatrix PlainMatrix(const float* x, std::size_t rows, std::size_t cols, int nthread) {
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(nthread) + "}";
  xgb::DMatrix out;
  xgb::XgbCheck(XGDMatrixCreateFromDense(xgb::DenseInterface(x, rows, cols).c_str(), config.c_str(),
                                         out.out()),
                "XGDMatrixCreateFromDense");
  return out;
}

std::string Num(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Process-wide count of models trained (relaxed: only its value matters).
std::atomic<std::uint64_t> g_train_count{0};

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

xgb::Booster Train(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                   const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock) {
  g_train_count.fetch_add(1, std::memory_order_relaxed);
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

  t0 = Clock::now();
  xgb::Booster booster;
  DMatrixHandle mats[] = {dtrain.get()};
  xgb::XgbCheck(XGBoosterCreate(mats, 1, booster.out()), "XGBoosterCreate");
  booster.SetParam("objective",
                   spec.objective == Objective::kLogistic ? "binary:logistic" : "reg:squarederror");
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
  for (int r = 0; r < lp.rounds; ++r) {
    if (spec.cancel != nullptr && spec.cancel->load(std::memory_order_relaxed)) {
      throw Cancelled("the fit was cancelled");
    }
    xgb::XgbCheck(XGBoosterUpdateOneIter(booster.get(), r, dtrain.get()), "XGBoosterUpdateOneIter");
    if (spec.on_rounds) spec.on_rounds(1);
  }
  if (clock) clock->training += Since(t0);
  return booster;
}

void Predict(const xgb::Booster& booster, const FeatureMatrix& features,
             const std::vector<std::uint32_t>& rows, std::optional<float> last_col,
             std::vector<double>* out, TaskClock* clock) {
  auto t0 = Clock::now();
  std::vector<float> block;
  features.Gather(rows, &block, last_col);
  const char* config =
      "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false, \"missing\": NaN}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  xgb::XgbCheck(XGBoosterPredictFromDense(booster.get(),
                                          xgb::DenseInterface(block.data(), rows.size(), features.cols()).c_str(),
                                          config, nullptr, &shape, &dim, &result),
                "XGBoosterPredictFromDense");
  out->assign(result, result + rows.size());
  if (clock) clock->prediction += Since(t0);
}

}  // namespace fastdml::nuisance
