// Thrust algorithms over ops/fold_rows.h, written against an execution policy:
// cuda/device_data.cu runs them with thrust::cuda::par on GPU memory, and
// tests/thrust runs them with thrust::device on Thrust's OpenMP backend (host
// memory), so the same code is checked on machines without a GPU. Pointers
// must be in the memory the policy's system addresses.
#pragma once
#include <thrust/copy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/transform.h>

#include <cstddef>
#include <cstdint>

#include "ops/fold_rows.h"

namespace fastdml::ops {

// Writes the rows 0..n-1 for which `keep` holds to out, ascending (copy_if is
// stable), as the CPU driver lists them; returns how many.
template <class Policy, class Predicate>
std::size_t SelectRows(const Policy& policy, std::size_t n, Predicate keep, std::uint32_t* out) {
  const thrust::counting_iterator<std::uint32_t> first(0);
  return static_cast<std::size_t>(thrust::copy_if(policy, first, first + n, out, keep) - out);
}

// out (n x (p + 1)) = [X | D].
template <class Policy>
void BuildWithDColumn(const Policy& policy, const float* x, const float* d, std::size_t n, std::size_t p,
                      float* out) {
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::transform(policy, first, first + n * (p + 1), out, WithDColumnElement{x, d, p});
}

// out (count x cols) = rows rows[0..count) of x, last column optionally overridden.
template <class Policy>
void GatherRows(const Policy& policy, const float* x, std::size_t cols, const std::uint32_t* rows,
                std::size_t count, bool override_last, float last_value, float* out) {
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::transform(policy, first, first + count * cols, out,
                    GatherElement{x, cols, rows, override_last, last_value});
}

// out[k] = values[rows[k]] for k < count.
template <class Policy>
void GatherValues(const Policy& policy, const float* values, const std::uint32_t* rows, std::size_t count,
                  float* out) {
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::transform(policy, first, first + count, out, GatherValue{values, rows});
}

// rep_block[rows[k]] = predictions[k] for k < count.
template <class Policy>
void ScatterPredictions(const Policy& policy, const float* predictions, const std::uint32_t* rows,
                        std::size_t count, double* rep_block) {
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::for_each(policy, first, first + count, ScatterPrediction{predictions, rows, rep_block});
}

}  // namespace fastdml::ops
