// The device fit's row handling (ops/fold_rows_thrust.h, as cuda/device_data.cu
// runs it) on Thrust's OpenMP backend, against the CPU driver: training and
// held-out rows (SplitFoldRows), gathered blocks (FeatureMatrix::Gather,
// WithDColumn), labels, and the out-of-fold prediction layout v[r*n + i], for
// IRM with separate and pooled outcome models and for PLR, 4 folds x 3 reps,
// 23% treated. Exact equality throughout: these are copies, no arithmetic.
#include <gtest/gtest.h>
#include <thrust/execution_policy.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "driver/fold_plan.h"
#include "nuisance/learner.h"
#include "ops/fold_rows_thrust.h"

namespace fastdml {
namespace {

constexpr std::size_t kRows = 203, kCols = 3;
constexpr int kFolds = 4, kReps = 3;

struct Data {
  std::vector<float> x;  // kRows x kCols, a few NaN (missing)
  std::vector<double> d;
  std::vector<float> d_f, y_f;
  FoldPlan plan;
};

Data MakeData() {
  Data s;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  s.x.resize(kRows * kCols);
  for (std::size_t e = 0; e < s.x.size(); ++e) s.x[e] = e % 17 == 5 ? NAN : u(rng);
  for (std::size_t i = 0; i < kRows; ++i) {
    s.d.push_back(u(rng) < -1.08f ? 1.0 : 0.0);  // about 23% treated: unbalanced arms
    s.d_f.push_back(static_cast<float>(s.d.back()));
    s.y_f.push_back(u(rng));
  }
  s.plan = MakeFoldPlan(s.d, kFolds, kReps, 5);
  return s;
}

// Bit patterns, so that NaN (missing) compares equal to NaN in the same place.
std::vector<std::uint32_t> Bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

TEST(DeviceFoldRows, DataHasBothArmsInEveryFold) {
  const Data s = MakeData();
  std::size_t treated = 0;
  for (double v : s.d) treated += v == 1.0;
  EXPECT_GT(treated, kRows / 10);
  EXPECT_LT(treated, kRows / 3);  // unbalanced, as the driver's cost ordering assumes nothing
  EXPECT_NO_THROW(ValidateFoldPlan(s.plan, s.d));
}

TEST(DeviceFoldRows, RowListsEqualTheCpuDriversForEveryRepFoldAndArm) {
  const Data s = MakeData();
  std::vector<std::uint32_t> dev_train(kRows), dev_held(kRows), cpu_train, cpu_held;
  int checked = 0;
  for (int r = 0; r < kReps; ++r) {
    const int* fold = s.plan.fold.data() + static_cast<std::size_t>(r) * kRows;
    for (int k = 0; k < kFolds; ++k) {
      for (ops::RowArm arm : {ops::RowArm::kAll, ops::RowArm::kControl, ops::RowArm::kTreated}) {
        const std::optional<double> arm_d = arm == ops::RowArm::kControl   ? std::optional<double>(0.0)
                                            : arm == ops::RowArm::kTreated ? std::optional<double>(1.0)
                                                                           : std::nullopt;
        SplitFoldRows(s.plan, s.d, r, k, arm_d, &cpu_train, &cpu_held);
        const std::size_t n_train = ops::SelectRows(thrust::device, kRows,
                                                    ops::IsTrainingRow{fold, s.d_f.data(), k, arm}, dev_train.data());
        const std::size_t n_held =
            ops::SelectRows(thrust::device, kRows, ops::IsHeldOutRow{fold, k}, dev_held.data());
        ASSERT_EQ(std::vector<std::uint32_t>(dev_train.begin(), dev_train.begin() + n_train), cpu_train)
            << "rep " << r << " fold " << k << " arm " << static_cast<int>(arm);
        ASSERT_EQ(std::vector<std::uint32_t>(dev_held.begin(), dev_held.begin() + n_held), cpu_held)
            << "rep " << r << " fold " << k;
        // Nothing held out trains its own fold's model; arms are honoured.
        for (std::size_t t = 0; t < n_train; ++t) {
          ASSERT_NE(fold[dev_train[t]], k);
          if (arm == ops::RowArm::kTreated) ASSERT_EQ(s.d[dev_train[t]], 1.0);
          if (arm == ops::RowArm::kControl) ASSERT_EQ(s.d[dev_train[t]], 0.0);
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, kReps * kFolds * 3);
}

TEST(DeviceFoldRows, GatheredBlocksAndLabelsEqualTheCpuLearners) {
  const Data s = MakeData();
  const std::vector<float> cpu_with_d = nuisance::WithDColumn(s.x, kRows, kCols, s.d);
  std::vector<float> dev_with_d(kRows * (kCols + 1));
  ops::BuildWithDColumn(thrust::device, s.x.data(), s.d_f.data(), kRows, kCols, dev_with_d.data());
  ASSERT_EQ(Bits(dev_with_d), Bits(cpu_with_d));

  const nuisance::FeatureMatrix features(s.x.data(), kRows, kCols), features_d(cpu_with_d.data(), kRows, kCols + 1);
  std::vector<std::uint32_t> train, held;
  SplitFoldRows(s.plan, s.d, 1, 2, 0.0, &train, &held);  // g0 of rep 1, fold 2
  std::vector<float> cpu_block, dev_block(kRows * (kCols + 1));

  features.Gather(train, &cpu_block);
  ops::GatherRows(thrust::device, s.x.data(), kCols, train.data(), train.size(), false, 0.0f, dev_block.data());
  dev_block.resize(train.size() * kCols);
  EXPECT_EQ(Bits(dev_block), Bits(cpu_block));

  // Pooled model: training rows keep their D; held-out rows get D = 0 and D = 1.
  for (std::optional<float> d_value : {std::optional<float>(), std::optional<float>(0.0f), std::optional<float>(1.0f)}) {
    const std::vector<std::uint32_t>& rows = d_value ? held : train;
    features_d.Gather(rows, &cpu_block, d_value);
    dev_block.assign(kRows * (kCols + 1), -7.0f);
    ops::GatherRows(thrust::device, dev_with_d.data(), kCols + 1, rows.data(), rows.size(), d_value.has_value(),
                    d_value.value_or(0.0f), dev_block.data());
    dev_block.resize(rows.size() * (kCols + 1));
    EXPECT_EQ(Bits(dev_block), Bits(cpu_block)) << "d_value " << (d_value ? *d_value : -1.0f);
  }

  // Labels, as the CPU driver builds them: label_src[train[k]].
  for (const std::vector<float>* src : {&s.y_f, &s.d_f}) {
    std::vector<float> cpu_labels(train.size()), dev_labels(train.size());
    for (std::size_t k = 0; k < train.size(); ++k) cpu_labels[k] = (*src)[train[k]];
    ops::GatherValues(thrust::device, src->data(), train.data(), train.size(), dev_labels.data());
    EXPECT_EQ(Bits(dev_labels), Bits(cpu_labels));
  }
}

enum class Design { kIrmSeparate, kIrmPooled, kPlr };

// Runs every task of a design with a made-up model (prediction = a function of
// rep, fold, target and held-out position) and places the predictions the CPU
// driver's way and the device way; the full arrays must agree bit for bit and
// hold no NaN (every row predicted exactly once per repetition).
void CheckPredictionLayout(Design design) {
  const Data s = MakeData();
  const std::size_t total = kRows * kReps;
  const int arrays = design == Design::kPlr ? 2 : 3;  // m, l | m, g0, g1
  std::vector<std::vector<double>> cpu(arrays, std::vector<double>(total, NAN)), dev = cpu;
  std::vector<std::uint32_t> train, held, dev_held(kRows);
  for (int r = 0; r < kReps; ++r) {
    const int* fold = s.plan.fold.data() + static_cast<std::size_t>(r) * kRows;
    for (int k = 0; k < kFolds; ++k) {
      SplitFoldRows(s.plan, s.d, r, k, std::nullopt, &train, &held);
      const std::size_t n_held =
          ops::SelectRows(thrust::device, kRows, ops::IsHeldOutRow{fold, k}, dev_held.data());
      ASSERT_EQ(n_held, held.size());
      // (target array, made-up model id): pooled writes g0 and g1 from one model.
      std::vector<std::pair<int, int>> outputs = {{0, 0}};
      if (design == Design::kPlr) outputs.push_back({1, 1});
      if (design == Design::kIrmSeparate) outputs.insert(outputs.end(), {{1, 1}, {2, 2}});
      if (design == Design::kIrmPooled) outputs.insert(outputs.end(), {{1, 3}, {2, 4}});
      for (const auto& [array, model] : outputs) {
        std::vector<float> predictions(held.size());
        for (std::size_t h = 0; h < held.size(); ++h) {
          predictions[h] = static_cast<float>(1000 * r + 100 * k + 10 * model) + 0.001f * static_cast<float>(h);
        }
        const std::size_t base = static_cast<std::size_t>(r) * kRows;
        for (std::size_t h = 0; h < held.size(); ++h) cpu[array][base + held[h]] = predictions[h];  // fit.cc
        ops::ScatterPredictions(thrust::device, predictions.data(), dev_held.data(), n_held, dev[array].data() + base);
      }
    }
  }
  for (int a = 0; a < arrays; ++a) {
    for (std::size_t e = 0; e < total; ++e) {
      ASSERT_FALSE(std::isnan(dev[a][e])) << "array " << a << " element " << e << " never written";
      ASSERT_EQ(dev[a][e], cpu[a][e]) << "array " << a << " rep " << e / kRows << " row " << e % kRows;
    }
  }
}

TEST(DeviceFoldRows, PredictionLayoutEqualsTheCpuDriversForIrmSeparate) { CheckPredictionLayout(Design::kIrmSeparate); }
TEST(DeviceFoldRows, PredictionLayoutEqualsTheCpuDriversForIrmPooled) { CheckPredictionLayout(Design::kIrmPooled); }
TEST(DeviceFoldRows, PredictionLayoutEqualsTheCpuDriversForPlr) { CheckPredictionLayout(Design::kPlr); }

}  // namespace
}  // namespace fastdml
