// The naive comparison that DML corrects, written once: the report's
// "naive" block (inference/estimate.cc) and the simulated designs' truth
// (sim/) both call it.
#pragma once
#include <vector>

#include "fastdml/estimator.h"

namespace fastdml {

// Binary D: the difference in means of y between d == 1 and the other rows,
// with Welch's unpooled SE (an arm of fewer than 2 rows adds variance 0).
// Continuous D: the OLS slope of y on d with its HC0 SE. t = estimate / se
// and the two-sided normal p-value.
NaiveDifference NaiveComparison(const std::vector<double>& y, const std::vector<double>& d, bool binary_d);

}  // namespace fastdml
