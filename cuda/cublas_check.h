// Checked cuBLAS calls (include from .cu files only): a failing call throws
// fastdml::LibraryError naming the call, its file:line and cuBLAS's own
// description, as FASTDML_CUDA_CHECK does for the runtime.
#pragma once
#include <cublas_v2.h>

#include <string>

#include "cuda/check.h"
#include "fastdml/error.h"

namespace fastdml::cuda::detail {

[[noreturn]] inline void ThrowCublasError(cublasStatus_t status, const char* call, const char* file, int line) {
  std::string msg = std::string("cuBLAS error: ") + call + " failed at " + ShortPath(file) + ":" +
                    std::to_string(line) + ": " + cublasGetStatusName(status) + ": " +
                    cublasGetStatusString(status);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) msg += " (the GPU is out of memory: use fewer rows or --device cpu)";
  throw LibraryError(msg);
}

}  // namespace fastdml::cuda::detail

// Throws fastdml::LibraryError when `call` does not return CUBLAS_STATUS_SUCCESS.
#define FASTDML_CUBLAS_CHECK(call)                                                              \
  do {                                                                                          \
    const cublasStatus_t fastdml_cublas_status_ = (call);                                       \
    if (fastdml_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                        \
      ::fastdml::cuda::detail::ThrowCublasError(fastdml_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)
