// Per-element maths of a device fit's fold rows, shared by the CUDA twin
// (cuda/device_data.cu) and the CPU-side tests (tests/thrust): which rows train
// and which are held out, where a gathered element comes from, where a
// held-out prediction goes. Must give exactly the CPU driver's rows
// (SplitFoldRows in driver/fold_plan.h) and its prediction layout v[r*n + i].
#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/hd.h"

namespace fastdml::ops {

// Which arm a model trains on: all rows (m, pooled g, l) or one arm (g0, g1).
enum class RowArm : int { kAll = 0, kControl = 1, kTreated = 2 };

// Row i trains the model of fold `held_out_fold`: it is out of that fold and
// in the arm. `d` is float: the arms exist only for IRM, whose D is validated
// as exactly 0 or 1, and both convert to float exactly.
struct IsTrainingRow {
  const int* fold;  // this repetition's fold of every row
  const float* d;
  int held_out_fold;
  RowArm arm;
  FASTDML_HD bool operator()(std::uint32_t i) const {
    if (fold[i] == held_out_fold) return false;
    if (arm == RowArm::kControl) return d[i] == 0.0f;
    if (arm == RowArm::kTreated) return d[i] == 1.0f;
    return true;
  }
};

struct IsHeldOutRow {
  const int* fold;
  int held_out_fold;
  FASTDML_HD bool operator()(std::uint32_t i) const { return fold[i] == held_out_fold; }
};

// Element e of the n x (p + 1) matrix [X | D] (pooled outcome model).
struct WithDColumnElement {
  const float* x;  // n x p
  const float* d;
  std::size_t p;
  FASTDML_HD float operator()(std::size_t e) const {
    const std::size_t i = e / (p + 1), j = e % (p + 1);
    return j == p ? d[i] : x[i * p + j];
  }
};

// Element e of the block (count x cols) of rows rows[0..count) of x (n x cols);
// with override_last its last column is last_value instead (the pooled model
// predicts with D set to 0 and to 1).
struct GatherElement {
  const float* x;
  std::size_t cols;
  const std::uint32_t* rows;
  bool override_last;
  float last_value;
  FASTDML_HD float operator()(std::size_t e) const {
    const std::size_t k = e / cols, j = e % cols;
    if (override_last && j + 1 == cols) return last_value;
    return x[static_cast<std::size_t>(rows[k]) * cols + j];
  }
};

// values[rows[k]]: a training row's label.
struct GatherValue {
  const float* values;
  const std::uint32_t* rows;
  FASTDML_HD float operator()(std::size_t k) const { return values[rows[k]]; }
};

// Held-out prediction k goes to row rows[k] of this repetition's block
// (rep_block = array + rep * n), widened to double as on the CPU.
struct ScatterPrediction {
  const float* predictions;
  const std::uint32_t* rows;
  double* rep_block;
  FASTDML_HD void operator()(std::size_t k) const {
    rep_block[rows[k]] = static_cast<double>(predictions[k]);
  }
};

}  // namespace fastdml::ops
