// Gradient-boosted trees for one nuisance: build the fold's training matrix,
// train, predict held-out rows. The feature matrix is prepared once per fit.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fastdml/options.h"
#include "nuisance/xgboost_api.h"

namespace fastdml::nuisance {

enum class Objective { kLogistic, kSquaredError };

// Host feature matrix (row-major float32, NaN = missing) plus, per max_bin, one
// reference QuantileDMatrix over ALL rows. Its cuts are label-free (they see
// X only), so sharing them across folds leaks no held-out outcome or treatment.
class FeatureMatrix {
 public:
  FeatureMatrix(const float* x, std::size_t n, std::size_t p);
  std::size_t rows() const { return n_; }
  std::size_t cols() const { return p_; }
  const float* data() const { return x_; }

  // Builds the reference matrices for these max_bin values (before any
  // concurrent use; Reference() is then read-only and thread-safe).
  void PrepareReferences(const std::vector<int>& max_bins, int nthread);
  const xgb::DMatrix& Reference(int max_bin) const;

  // Copies the listed rows into `out` (count x p), optionally overriding the
  // last column (the pooled outcome model's D column) with `last_col`.
  void Gather(const std::vector<std::uint32_t>& rows, std::vector<float>* out,
              std::optional<float> last_col = std::nullopt) const;

 private:
  const float* x_;
  std::size_t n_, p_;
  std::map<int, std::unique_ptr<xgb::DMatrix>> refs_;
};

// X with D appended as its last column (n x (p + 1)): the pooled outcome
// model's input. The device path builds the same matrix on the GPU.
std::vector<float> WithDColumn(const std::vector<float>& x, std::size_t n, std::size_t p,
                               const std::vector<double>& d);

// Device twin of FeatureMatrix: X (n x p, row-major float32) lives in GPU
// memory owned by cuda::DeviceData and is named by its __cuda_array_interface__.
// The references are sketched by XGBoost on the GPU from all rows, once per
// max_bin, so the folds share label-free cuts exactly as on the CPU path.
class DeviceFeatureMatrix {
 public:
  DeviceFeatureMatrix(std::string interface, std::size_t n, std::size_t p);
  std::size_t rows() const { return n_; }
  std::size_t cols() const { return p_; }
  void PrepareReferences(const std::vector<int>& max_bins, int nthread);
  const xgb::DMatrix& Reference(int max_bin) const;

 private:
  std::string interface_;
  std::size_t n_, p_;
  std::map<int, std::unique_ptr<xgb::DMatrix>> refs_;
};

// Thread-seconds spent per phase inside one task (summed by the driver).
struct TaskClock {
  double gather = 0;      // ours: copying a fold's rows into a contiguous block
  double matrix = 0;      // XGBoost: building / quantising the training matrix
  double training = 0;    // XGBoost: boosting rounds
  double prediction = 0;  // XGBoost: predicting held-out rows (gather included)
  double tuning = 0;      // --tune-per-fold: boosting the search's candidates
};

struct TrainSpec {
  Objective objective = Objective::kSquaredError;
  LearnerParams params;
  MatrixStrategy strategy = MatrixStrategy::kSharedCuts;
  std::uint64_t seed = 0;
  int nthread = 1;
  std::string device = "cpu";  // XGBoost device: cpu | cuda | cuda:N
  std::function<void(int)> on_rounds;  // progress: called with rounds just done
  const std::atomic<bool>* cancel = nullptr;  // checked before every boosting round
};

// Models Train() has started, process-wide (for NuisanceModelsTrained()).
std::uint64_t TrainCount();

// A booster and the trees to predict with. Fixed rounds: all of them.
// Early stopping (spec.params.rounds == kAutoRounds, with a validation
// matrix): the booster holds every round it ran, `rounds` is the best round
// + 1 and `validation_loss` the validation loss there (log loss for the
// logistic objective, RMSE otherwise; NaN without validation).
struct Boosted {
  xgb::Booster booster;
  int rounds = 0;
  double validation_loss = 0;
  int rounds_run = 0;  // rounds boosted (best round + early_stopping_rounds, or max_rounds)
};

// The training matrix of `rows` (labels: one per listed row), as spec.strategy builds it.
xgb::DMatrix TrainingMatrix(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                            const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock);
// A plain matrix of `rows` to evaluate on: prediction reads raw feature
// values, so it needs no cuts, and it is the same for every strategy.
xgb::DMatrix ValidationMatrix(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                              const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock);

// Boosts on `dtrain`: spec.params.rounds rounds, or with kAutoRounds until the
// loss on `dvalid` (required then) has not improved for
// spec.params.early_stopping_rounds rounds, at most spec.params.max_rounds.
// With a fixed count and a `dvalid`, validation_loss is the loss after the last round.
Boosted Boost(const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const TrainSpec& spec, TaskClock* clock);

// Trains on `rows` with labels `labels` (one per listed row).
xgb::Booster Train(const FeatureMatrix& features, const std::vector<std::uint32_t>& rows,
                   const std::vector<float>& labels, const TrainSpec& spec, TaskClock* clock);

// Predicts the listed rows; out[k] is the prediction for rows[k]. With
// `trees` > 0 only the first `trees` rounds are used (an early-stopped model).
void Predict(const xgb::Booster& booster, const FeatureMatrix& features,
             const std::vector<std::uint32_t>& rows, std::optional<float> last_col,
             std::vector<double>* out, TaskClock* clock, int trees = 0);

// Device flavour of Train: `block` is the CUDA interface of the training rows
// (count x features.cols(), on the GPU), `labels` that of their labels (count
// floats, on the GPU); spec.device is cuda or cuda:N. Supports kSharedCuts and
// kPerFold (the driver rejects kZeroWeight on CUDA). XGBoost running out of GPU
// memory is a LibraryError saying what to reduce.
xgb::Booster TrainOnDevice(const DeviceFeatureMatrix& features, const std::string& block,
                           const std::string& labels, const TrainSpec& spec, TaskClock* clock);
// The device training matrix TrainOnDevice builds, and a plain device matrix
// of a validation block (CUDA interfaces as above). XGBoost copies both, so
// the gather block may be reused once they are built.
xgb::DMatrix DeviceTrainingMatrix(const DeviceFeatureMatrix& features, const std::string& block,
                                  const std::string& labels, const TrainSpec& spec, TaskClock* clock);
xgb::DMatrix DeviceValidationMatrix(const std::string& block, const std::string& labels, const TrainSpec& spec,
                                    TaskClock* clock);
// Boost on device matrices, with XGBoost's out-of-memory text made actionable.
Boosted BoostOnDevice(const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const TrainSpec& spec,
                      TaskClock* clock);

// In-place prediction of a device block (CUDA interface, rows x cols). Returns
// XGBoost's DEVICE buffer of `rows` floats (for CUDA input the C API hands back
// its prediction vector's device pointer), valid until this booster's next call
// from this thread: nothing crosses to the host.
const float* PredictOnDevice(const xgb::Booster& booster, const std::string& block, std::size_t rows,
                             TaskClock* clock, int trees = 0);

}  // namespace fastdml::nuisance
