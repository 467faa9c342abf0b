// The passes over the n rows behind GATE, BLP and sorted GATES, one seam per
// device: a CPU Device runs them here (row_sums.cc), a CUDA one in its twin
// cuda/row_sums.cu. Everything after them (ratios, inverse, sandwich, errors,
// labels) is O(G) or O(k^3), runs on the host and is shared, so both devices
// feed the same finishing code. The row objects and results both twins
// return are plain types in ops/row_sums.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fastdml/cate.h"
#include "fastdml/device.h"
#include "ops/row_sums.h"

namespace fastdml::cate {

// ---------------------------------------------------------------------------
// Group-ratio OLS (GroupRatio in ols.h): theta_g = sum_g b / sum_g a.

// `cluster` may be empty (then ClusterResiduals is an internal error).
std::unique_ptr<GroupRows> MakeGroupRows(Device device, const std::vector<double>& a, const std::vector<double>& b,
                                         const std::vector<std::int32_t>& group, int n_groups,
                                         const std::vector<std::int32_t>& cluster);

// ---------------------------------------------------------------------------
// General OLS (OlsRobust): the O(n k) and O(n k^2) products.

std::unique_ptr<OlsRows> MakeOlsRows(Device device, const std::vector<double>& y, const std::vector<double>& x,
                                     std::size_t n, int k, const std::vector<std::int32_t>& cluster,
                                     std::int32_t n_clusters);

// ---------------------------------------------------------------------------
// Group sizes (GATE and sorted GATES checks).

// `d` null: treated stays zero. Error for a group id outside 0..G-1.
GroupCounts CountByGroup(Device device, const std::vector<std::int32_t>& group, int n_groups,
                         const std::vector<double>* d);

// ---------------------------------------------------------------------------
// Quantile bins (GroupByQuantiles): the sort and the bin of every row.

// Values must be finite and bins <= n (the caller checks).
QuantileCut CutQuantiles(Device device, const std::vector<double>& values, int bins);

}  // namespace fastdml::cate
