// Thrust reports CUDA failures as thrust::system_error and a failed scratch
// allocation as std::bad_alloc; every cuda/ entry point turns both into
// fastdml::DeviceOutOfMemory or CudaError (LibraryErrors, cuda/error_text.h)
// saying which step ran and, for memory, what is free and what to do. Include from .cu files only.
#pragma once
#include <cuda_runtime_api.h>
#include <thrust/system_error.h>

#include <cstddef>
#include <new>
#include <string>

#include "cuda/error_text.h"
#include "fastdml/error.h"

namespace fastdml::cuda {

// Runs body() (a Thrust call or several) and returns what it returns. `step`
// names the work in the message ("the bootstrap's tile reduction");
// `bytes_needed`, when known, is the memory the step asks for.
template <class Body>
auto RunThrust(const char* step, Body&& body, std::size_t bytes_needed = 0) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    (void)cudaGetLastError();  // clear the sticky error the failed cudaMalloc left
    std::size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    detail::ThrowThrustOutOfMemory(step, bytes_needed, free_bytes, total_bytes);
  } catch (const thrust::system_error& e) {
    (void)cudaGetLastError();
    detail::ThrowThrustError(step, e.what());
  }
}

}  // namespace fastdml::cuda
