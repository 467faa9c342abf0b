// Out-of-fold quality of the nuisance models (what DoubleML's
// evaluate_learners reports): RMSE for outcome models, log loss and AUC for the
// propensity, each averaged over repetitions.
#pragma once
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"

namespace fastdml {

std::vector<NuisanceQuality> NuisanceQualities(const Dataset& data, const Predictions& pred);

// Area under the ROC curve of scores s for labels d (Mann-Whitney, ties count 1/2).
double Auc(const double* s, const double* d, std::size_t n);

}  // namespace fastdml
