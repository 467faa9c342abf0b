// Checked CUDA runtime calls (include from .cu files only). A failing call
// throws fastdml::LibraryError naming the call, its file:line and CUDA's own
// description; destructors use the no-throw variant.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "fastdml/error.h"

namespace fastdml::cuda::detail {

// ".../cuda/scores.cu" -> "cuda/scores.cu": short, and the same on every machine.
inline const char* ShortPath(const char* file) {
  const std::size_t len = std::strlen(file);
  int slashes = 0;
  for (std::size_t i = len; i > 0; --i)
    if (file[i - 1] == '/' && ++slashes == 2) return file + i;
  return file;
}

inline std::string Describe(cudaError_t err, const char* call, const char* file, int line) {
  return std::string(call) + " failed at " + ShortPath(file) + ":" + std::to_string(line) + ": " +
         cudaGetErrorName(err) + ": " + cudaGetErrorString(err);
}

[[noreturn]] inline void ThrowCudaError(cudaError_t err, const char* call, const char* file,
                                        int line) {
  (void)cudaGetLastError();  // clear a non-sticky error so later checks do not report it again
  std::string msg = "CUDA error: " + Describe(err, call, file, line);
  if (err == cudaErrorMemoryAllocation)
    msg += " (the GPU is out of memory: use fewer rows or --device cpu)";
  throw LibraryError(msg);
}

// cudaMalloc of `bytes`; out of memory says how much was asked and how much is free.
inline void* Malloc(std::size_t bytes, const char* file, int line) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaSuccess) return p;
  (void)cudaGetLastError();
  if (err != cudaErrorMemoryAllocation) ThrowCudaError(err, "cudaMalloc", file, line);
  std::size_t free_bytes = 0, total_bytes = 0;
  (void)cudaMemGetInfo(&free_bytes, &total_bytes);
  constexpr double kMiB = 1024.0 * 1024.0;
  throw LibraryError("CUDA out of memory: cudaMalloc of " + std::to_string(bytes) + " bytes (" +
                     std::to_string(static_cast<long long>(bytes / kMiB)) + " MiB) failed at " +
                     ShortPath(file) + ":" + std::to_string(line) + " with " +
                     std::to_string(static_cast<long long>(free_bytes / kMiB)) + " MiB free of " +
                     std::to_string(static_cast<long long>(total_bytes / kMiB)) +
                     " MiB: use fewer rows or --device cpu");
}

}  // namespace fastdml::cuda::detail

// Throws fastdml::LibraryError when `call` does not return cudaSuccess.
#define FASTDML_CUDA_CHECK(call)                                                             \
  do {                                                                                       \
    const cudaError_t fastdml_cuda_err_ = (call);                                            \
    if (fastdml_cuda_err_ != cudaSuccess)                                                    \
      ::fastdml::cuda::detail::ThrowCudaError(fastdml_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

// For destructors and cleanup paths: the error is dropped (and cleared), never thrown.
#define FASTDML_CUDA_CHECK_NOTHROW(call)                 \
  do {                                                   \
    if ((call) != cudaSuccess) (void)cudaGetLastError(); \
  } while (0)
