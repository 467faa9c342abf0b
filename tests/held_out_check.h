// Test helper: the cross-fitting leak check shared by the CPU fit tests.
// Fold 0 (rows i % 3 == 0 of a 3-fold user column) gets new outcomes and some
// flipped treatments; every prediction for fold 0 must stay bit-identical
// (its models never saw those rows), while other folds' predictions move
// (so the check can fail).
#pragma once
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "fastdml/estimator.h"

namespace fastdml::test {

inline void ExpectHeldOutFoldNeverReachesItsModels(Dataset data, const Options& options, const std::string& label) {
  data.fold.resize(data.n);
  for (std::size_t i = 0; i < data.n; ++i) data.fold[i] = static_cast<int>(i % 3);
  const Fit before = FitNuisances(data, options);
  for (std::size_t i = 0; i < data.n; i += 3) {
    data.y[i] = 100.0 + 7.0 * data.y[i];
    if (i % 9 == 0) data.d[i] = 1.0 - data.d[i];
  }
  const Fit after = FitNuisances(data, options);
  for (std::size_t i = 0; i < data.n; i += 3) {
    ASSERT_EQ(before.predictions.m[i], after.predictions.m[i]) << label << " row " << i;
    ASSERT_EQ(before.predictions.g0[i], after.predictions.g0[i]) << label << " row " << i;
    ASSERT_EQ(before.predictions.g1[i], after.predictions.g1[i]) << label << " row " << i;
  }
  bool moved = false;
  for (std::size_t i = 1; i < data.n; i += 3) moved |= before.predictions.g0[i] != after.predictions.g0[i];
  EXPECT_TRUE(moved) << label;
}

}  // namespace fastdml::test
