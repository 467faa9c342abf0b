// The typed CUDA errors: what they derive from, which one a failed call
// raises, and that the message names the call and where it was made. The
// messages are built by cuda/error_text.h from what CUDA / cuBLAS report, so
// these run on every machine (cuda/check.h passes cudaGetErrorName etc.).
#include "cuda/error_text.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "fastdml/error.h"

namespace fastdml {
namespace {

static_assert(std::is_base_of_v<LibraryError, CudaError>);
static_assert(std::is_base_of_v<LibraryError, CublasError>);
static_assert(std::is_base_of_v<LibraryError, DeviceOutOfMemory>);

template <class Fn>
std::string MessageOf(Fn fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(CudaErrors, AllAreLibraryErrorsWithItsExitCode) {
  for (int which = 0; which < 3; ++which) {
    try {
      if (which == 0) throw CudaError("x");
      if (which == 1) throw CublasError("x");
      throw DeviceOutOfMemory("x");
    } catch (const LibraryError& e) {
      EXPECT_EQ(e.exit_code(), kExitLibrary) << which;
    }
  }
}

TEST(CudaErrors, AFailedRuntimeCallIsACudaErrorNamingTheCallAndPlace) {
  using cuda::detail::Api;
  try {
    cuda::detail::ThrowFailedCall(Api::kCudaRuntime, false, "cudaMemcpy(dst, src, n, kind)",
                                  "/home/build/fastdml/cuda/scores.cu", 42, "cudaErrorInvalidValue",
                                  "invalid argument");
    FAIL() << "no exception";
  } catch (const DeviceOutOfMemory&) {
    FAIL() << "not out of memory";
  } catch (const CudaError& e) {
    EXPECT_EQ(std::string(e.what()),
              "CUDA error: cudaMemcpy(dst, src, n, kind) failed at cuda/scores.cu:42: cudaErrorInvalidValue: "
              "invalid argument");
  }
}

TEST(CudaErrors, AFailedCublasCallIsACublasError) {
  using cuda::detail::Api;
  try {
    cuda::detail::ThrowFailedCall(Api::kCublas, false, "cublasDgemm(h, ...)", "cuda/row_sums.cu", 7,
                                  "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute");
    FAIL() << "no exception";
  } catch (const CublasError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cuBLAS error: cublasDgemm(h, ...) failed at cuda/row_sums.cu:7: CUBLAS_STATUS_EXECUTION_FAILED: "
              "the GPU program failed to execute");
  }
}

TEST(CudaErrors, OutOfMemoryFromEitherLibraryIsDeviceOutOfMemorySayingWhatToDo) {
  using cuda::detail::Api;
  for (Api api : {Api::kCudaRuntime, Api::kCublas}) {
    try {
      cuda::detail::ThrowFailedCall(api, true, "cudaMemcpy(a, b, c, d)", "x/cuda/bootstrap.cu", 9, "name", "text");
      FAIL() << "no exception";
    } catch (const DeviceOutOfMemory& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cudaMemcpy(a, b, c, d) failed at cuda/bootstrap.cu:9"), std::string::npos) << what;
      EXPECT_NE(what.find("(the GPU is out of memory: use fewer rows or --device cpu)"), std::string::npos) << what;
    }
  }
}

TEST(CudaErrors, MallocOutOfMemorySaysWhatWasAskedAndWhatIsFree) {
  constexpr std::size_t kMiB = 1024 * 1024;
  const std::string what = MessageOf(
      [] { cuda::detail::ThrowMallocOutOfMemory(3 * kMiB + 5, "/a/b/cuda/device_data.cu", 88, 2 * kMiB, 80 * kMiB); });
  EXPECT_EQ(what, "CUDA out of memory: cudaMalloc of " + std::to_string(3 * kMiB + 5) +
                      " bytes (3 MiB) failed at cuda/device_data.cu:88 with 2 MiB free of 80 MiB: use fewer rows or "
                      "--device cpu");
  EXPECT_THROW(cuda::detail::ThrowMallocOutOfMemory(1, "f", 1, 0, 0), DeviceOutOfMemory);
}

TEST(CudaErrors, ThrustFailuresNameTheStep) {
  constexpr std::size_t kMiB = 1024 * 1024;
  EXPECT_EQ(MessageOf([] { cuda::detail::ThrowThrustOutOfMemory("the IRM scores", 10 * kMiB, kMiB, 8 * kMiB); }),
            "CUDA out of memory in the IRM scores (Thrust scratch memory): it needs about 11 MiB, 1 MiB free of 8 "
            "MiB: use fewer rows or --device cpu");
  EXPECT_THROW(cuda::detail::ThrowThrustOutOfMemory("s", 0, 0, 0), DeviceOutOfMemory);
  EXPECT_EQ(MessageOf([] { cuda::detail::ThrowThrustError("the GATE sums", "launch failed"); }),
            "CUDA error in the GATE sums (Thrust): launch failed");
  EXPECT_THROW(cuda::detail::ThrowThrustError("s", "w"), CudaError);
}

TEST(CudaErrors, ShortPathKeepsTheLastTwoComponents) {
  EXPECT_STREQ(cuda::detail::ShortPath("/x/y/cuda/scores.cu"), "cuda/scores.cu");
  EXPECT_STREQ(cuda::detail::ShortPath("cuda/scores.cu"), "cuda/scores.cu");
  EXPECT_STREQ(cuda::detail::ShortPath("scores.cu"), "scores.cu");
}

}  // namespace
}  // namespace fastdml
