// CUDA twins of the CPU passes over the rows behind GATE, BLP and sorted
// GATES (cate/ols/row_sums.h): same signatures and results within rounding of
// sums taken in another order. Host vectors in, host vectors out; the rows
// are uploaded once per object and stay on the GPU for all of its passes.
// Group sums are Thrust algorithms from cuda/segmented_sums.h, products with
// the design are cuBLAS. Plain C++; built without CUDA these throw
// LibraryError (cuda/stubs/row_sums.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ops/row_sums.h"

namespace fastdml::cuda {

std::unique_ptr<cate::GroupRows> UploadGroupRows(const std::vector<double>& a, const std::vector<double>& b,
                                                 const std::vector<std::int32_t>& group, int n_groups,
                                                 const std::vector<std::int32_t>& cluster);

std::unique_ptr<cate::OlsRows> UploadOlsRows(const std::vector<double>& y, const std::vector<double>& x,
                                             std::size_t n, int k, const std::vector<std::int32_t>& cluster,
                                             std::int32_t n_clusters);

cate::GroupCounts CountByGroup(const std::vector<std::int32_t>& group, int n_groups, const std::vector<double>* d);

cate::QuantileCut CutQuantiles(const std::vector<double>& values, int bins);

}  // namespace fastdml::cuda
