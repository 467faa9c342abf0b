// The typed CUDA errors (CudaError, CublasError, DeviceOutOfMemory in
// include/fastdml/error.h) and their messages, in plain C++: cuda/check.h,
// cuda/cublas_check.h and cuda/thrust_check.h pass in what CUDA reports, and
// tests/cuda/cuda_errors_test.cc checks types and words without a GPU.
#pragma once
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

inline long long MiB(std::size_t bytes) { return static_cast<long long>(bytes / (1024.0 * 1024.0)); }

enum class Api { kCudaRuntime, kCublas };

// "CUDA error: <call> failed at cuda/x.cu:12: <name>: <text>" (cuBLAS: "cuBLAS
// error: ..."), thrown as DeviceOutOfMemory when the call ran out of memory
// (with what to do), else as CudaError or CublasError.
[[noreturn]] inline void ThrowFailedCall(Api api, bool out_of_memory, const char* call, const char* file, int line,
                                         const char* name, const char* text) {
  std::string msg = std::string(api == Api::kCublas ? "cuBLAS error: " : "CUDA error: ") + call + " failed at " +
                    ShortPath(file) + ":" + std::to_string(line) + ": " + name + ": " + text;
  if (out_of_memory) {
    msg += " (the GPU is out of memory: use fewer rows or --device cpu)";
    throw DeviceOutOfMemory(msg);
  }
  if (api == Api::kCublas) throw CublasError(msg);
  throw CudaError(msg);
}

// A cudaMalloc of `bytes` that found too little memory (free/total as
// cudaMemGetInfo reports them).
[[noreturn]] inline void ThrowMallocOutOfMemory(std::size_t bytes, const char* file, int line, std::size_t free_bytes,
                                                std::size_t total_bytes) {
  throw DeviceOutOfMemory("CUDA out of memory: cudaMalloc of " + std::to_string(bytes) + " bytes (" +
                          std::to_string(MiB(bytes)) + " MiB) failed at " + ShortPath(file) + ":" +
                          std::to_string(line) + " with " + std::to_string(MiB(free_bytes)) + " MiB free of " +
                          std::to_string(MiB(total_bytes)) + " MiB: use fewer rows or --device cpu");
}

// Thrust's scratch allocation for `step` failed; `bytes_needed` 0: unknown.
[[noreturn]] inline void ThrowThrustOutOfMemory(const char* step, std::size_t bytes_needed, std::size_t free_bytes,
                                                std::size_t total_bytes) {
  const std::string needed =
      bytes_needed > 0 ? "it needs about " + std::to_string(MiB(bytes_needed) + 1) + " MiB, " : std::string();
  throw DeviceOutOfMemory("CUDA out of memory in " + std::string(step) + " (Thrust scratch memory): " + needed +
                          std::to_string(MiB(free_bytes)) + " MiB free of " + std::to_string(MiB(total_bytes)) +
                          " MiB: use fewer rows or --device cpu");
}

// Any other Thrust failure in `step` (what: thrust::system_error::what()).
[[noreturn]] inline void ThrowThrustError(const char* step, const char* what) {
  throw CudaError("CUDA error in " + std::string(step) + " (Thrust): " + what);
}

}  // namespace fastdml::cuda::detail
