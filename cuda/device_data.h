// A fit's data resident on one GPU: X (and [X | D] for the pooled outcome
// model), y, d and the fold plan are uploaded once; every task's row lists,
// training block, labels and held-out block are built on the device
// (ops/fold_rows.h); held-out predictions are scattered into device arrays
// m/g0/g1/l and copied back once by Download. Plain C++ (no CUDA types), so the
// driver includes it in both builds; without CUDA every call throws
// LibraryError "built without CUDA" (cuda/stubs/device_data.cc).
// All pointers returned here are DEVICE pointers; all arguments are HOST memory
// unless named `device_*`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fastdml/estimator.h"  // Predictions
#include "ops/fold_rows.h"      // RowArm

namespace fastdml::cuda {

// Host inputs of a device fit (read during construction only).
struct FitDataView {
  const float* x = nullptr;  // n x p, row-major, NaN = missing
  std::size_t n = 0, p = 0;
  const float* y = nullptr;    // n: labels of the outcome models
  const float* d = nullptr;    // n: labels of the propensity model; arms
  const int* fold = nullptr;   // n * reps: FoldPlan::fold
  int reps = 1;
  bool with_d_column = false;  // also build [X | D] (IRM pooled outcome model)
  bool irm = true;             // prediction arrays m, g0, g1 (IRM) or m, l (PLR)
};

enum class PredictionArray { kM, kG0, kG1, kL };

// The out-of-fold predictions of a GPU fit, left on its device after the fit
// (Fit::device_predictions) so that Estimate reads them there instead of
// uploading Fit::predictions again. Holds only the prediction arrays: X and
// the row lists are freed with the DeviceData.
class ResidentPredictions {
 public:
  ~ResidentPredictions();
  ResidentPredictions(const ResidentPredictions&) = delete;
  ResidentPredictions& operator=(const ResidentPredictions&) = delete;

  std::size_t n() const;
  int reps() const;
  int ordinal() const;  // the GPU that holds them
  // Device pointer to block `rep` (n values) of `array`; null when the model
  // has no such array (PLR: kG0, kG1; IRM: kL).
  const double* Array(PredictionArray array, int rep) const;

 private:
  friend class DeviceData;
  struct Impl;
  explicit ResidentPredictions(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class DeviceData {
 public:
  // Makes `ordinal` the calling thread's device and allocates everything the
  // fit needs (X, [X | D], y, d, folds, two row lists, one gather block of
  // n x (p + 1) floats, one label vector, n * reps doubles per prediction
  // array) BEFORE copying anything, so a GPU too small fails at once with a
  // DeviceOutOfMemory naming the bytes asked. Then uploads, builds [X | D] on the
  // device and fills the prediction arrays with NaN.
  DeviceData(int ordinal, const FitDataView& host);
  ~DeviceData();
  DeviceData(DeviceData&&) noexcept;
  DeviceData& operator=(DeviceData&&) noexcept;

  std::size_t rows() const;
  std::size_t cols(bool with_d) const;  // p, or p + 1 with the D column
  std::size_t bytes() const;            // device memory held

  // __cuda_array_interface__ of all of X (with_d: [X | D]), n x cols(with_d).
  std::string FeaturesInterface(bool with_d) const;

  // Builds on the device the row lists of the model of (rep, fold, arm):
  // training rows out of `fold` and in `arm`, held-out rows in `fold`, both
  // ascending, as SplitFoldRows (driver/fold_plan.h) lists them.
  void SelectRows(int rep, int fold, ops::RowArm arm);
  std::size_t training_count() const;
  std::size_t held_out_count() const;
  // Replaces the training row list with `rows` (host, ascending, at most n):
  // the early-stopping split's inner training or validation part, which the
  // driver draws on the host (driver/fold_plan.h SplitValidationRows). The
  // held-out list is left as SelectRows made it.
  void UseTrainingRows(const std::vector<std::uint32_t>& rows);

  // Gathers the training rows of X ([X | D] with with_d) into the gather
  // block; returns its CUDA interface (training_count() x cols(with_d)).
  std::string GatherTraining(bool with_d);
  // Labels of the training rows: d (propensity) or y; returns their interface.
  std::string GatherTrainingLabels(bool treatment_labels);
  // Gathers the held-out rows into the gather block (reusing it: XGBoost has
  // copied the training block by then), with the D column set to d_value when
  // given; returns its interface.
  std::string GatherHeldOut(bool with_d, std::optional<float> d_value);
  // Writes device_predictions[k] (held-out row k) into array `into`, block `rep`.
  void ScatterHeldOut(const float* device_predictions, int rep, PredictionArray into);

  // Copies the prediction arrays back (n * reps each; the others left empty).
  void Download(Predictions* out) const;
  // Moves the prediction arrays out (call after Download); this DeviceData
  // then has none and only frees the rest.
  std::shared_ptr<const ResidentPredictions> KeepPredictions();

  // For tests: the current row lists, copied back.
  std::vector<std::uint32_t> TrainingRows() const;
  std::vector<std::uint32_t> HeldOutRows() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastdml::cuda
