// Thrust reports CUDA failures as thrust::system_error and a failed scratch
// allocation as std::bad_alloc; every cuda/ entry point turns both into
// fastdml::LibraryError saying which step ran and, for memory, what is free
// and what to do. Include from .cu files only.
#pragma once
#include <cuda_runtime_api.h>
#include <thrust/system_error.h>

#include <cstddef>
#include <new>
#include <string>

#include "fastdml/error.h"

namespace fastdml::cuda {

// Runs body() (a Thrust call or several) and returns what it returns. `step`
// names the work in the message ("the bootstrap's tile reduction");
// `bytes_needed`, when known, is the memory the step asks for.
template <class Body>
auto RunThrust(const char* step, Body&& body, std::size_t bytes_needed = 0) -> decltype(body()) {
  constexpr double kMiB = 1024.0 * 1024.0;
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    (void)cudaGetLastError();  // clear the sticky error the failed cudaMalloc left
    std::size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    const std::string needed =
        bytes_needed > 0
            ? "it needs about " + std::to_string(static_cast<long long>(bytes_needed / kMiB) + 1) + " MiB, "
            : std::string();
    throw LibraryError("CUDA out of memory in " + std::string(step) + " (Thrust scratch memory): " + needed +
                       std::to_string(static_cast<long long>(free_bytes / kMiB)) + " MiB free of " +
                       std::to_string(static_cast<long long>(total_bytes / kMiB)) +
                       " MiB: use fewer rows or --device cpu");
  } catch (const thrust::system_error& e) {
    (void)cudaGetLastError();
    throw LibraryError("CUDA error in " + std::string(step) + " (Thrust): " + e.what());
  }
}

}  // namespace fastdml::cuda
