// CUDA twin of cpu/scores.h: same arguments, same per-row maths (ops/scores.h),
// same results within rounding of the reductions (1e-12 relative).
// Pointers in the argument structs and psi_a/psi_b are HOST memory for now:
// inputs are copied to the device, outputs copied back. When built without
// CUDA these throw LibraryError (cuda/stubs/).
#pragma once
#include "cpu/scores.h"  // IrmScoreArgs, PlrScoreArgs

namespace fastdml::cuda {

void IrmScores(const IrmScoreArgs& args, double* psi_a, double* psi_b);
void PlrScores(const PlrScoreArgs& args, double* psi_a, double* psi_b);

}  // namespace fastdml::cuda
