// Checked cuBLAS calls (include from .cu files only): a failing call throws
// fastdml::CublasError (DeviceOutOfMemory for a failed allocation) naming the call, its file:line and cuBLAS's own
// description, as FASTDML_CUDA_CHECK does for the runtime.
#pragma once
#include <cublas_v2.h>

#include <string>

#include "cuda/check.h"
#include "cuda/error_text.h"
#include "fastdml/error.h"

namespace fastdml::cuda::detail {

// CublasError, or DeviceOutOfMemory for CUBLAS_STATUS_ALLOC_FAILED.
[[noreturn]] inline void ThrowCublasError(cublasStatus_t status, const char* call, const char* file, int line) {
  ThrowFailedCall(Api::kCublas, status == CUBLAS_STATUS_ALLOC_FAILED, call, file, line, cublasGetStatusName(status),
                  cublasGetStatusString(status));
}

}  // namespace fastdml::cuda::detail

// Throws fastdml::CublasError (or DeviceOutOfMemory) when `call` does not return CUBLAS_STATUS_SUCCESS.
#define FASTDML_CUBLAS_CHECK(call)                                                              \
  do {                                                                                          \
    const cublasStatus_t fastdml_cublas_status_ = (call);                                       \
    if (fastdml_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                        \
      ::fastdml::cuda::detail::ThrowCublasError(fastdml_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)
