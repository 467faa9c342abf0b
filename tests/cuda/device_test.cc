// cuda::Available never throws and always explains a "no"; Query describes a
// usable device and rejects an index that does not exist.
#include "cuda/device.h"

#include <gtest/gtest.h>

#include <string>

#include "fastdml/error.h"

namespace fastdml {
namespace {

TEST(CudaDevice, AvailableGivesReasonWhenNot) {
  std::string why_not;
  const bool available = cuda::Available(&why_not);
  if (available) {
    EXPECT_TRUE(why_not.empty()) << why_not;
  } else {
    EXPECT_FALSE(why_not.empty());
  }
  EXPECT_EQ(available, cuda::Available(nullptr));  // a null reason pointer is allowed
}

TEST(CudaDevice, QueryDescribesDeviceZero) {
  std::string why_not;
  if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not;
  const cuda::DeviceInfo info = cuda::Query(0);
  EXPECT_GE(info.count, 1);
  EXPECT_FALSE(info.name.empty());
  EXPECT_GE(info.major, 7);
  EXPECT_GT(info.total_memory, 0u);
  EXPECT_GT(info.driver_version, 0);
  EXPECT_GT(info.runtime_version, 0);
  RecordProperty("device", info.name);
}

TEST(CudaDevice, QueryRejectsMissingDevice) {
  std::string why_not;
  if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not;
  EXPECT_THROW(cuda::Query(-1), UsageError);
  EXPECT_THROW(cuda::Query(cuda::Query(0).count), UsageError);
}

TEST(CudaDevice, ScopeIgnoresNonCudaDevices) {
  EXPECT_NO_THROW(cuda::DeviceScope(Device::Cpu()));
  EXPECT_NO_THROW(cuda::DeviceScope(Device::Auto()));
}

TEST(CudaDevice, ScopeSelectsTheGpuAndRestoresThePreviousOne) {
  std::string why_not;
  if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not;
  const int count = cuda::Query(0).count;
  {
    const cuda::DeviceScope scope(Device::Cuda(count - 1));
    EXPECT_EQ(cuda::CurrentDevice(), count - 1);
  }
  EXPECT_EQ(cuda::CurrentDevice(), 0);
  EXPECT_THROW(cuda::DeviceScope(Device::Cuda(count)), UsageError);
}

#ifndef FASTDML_WITH_CUDA
TEST(CudaDevice, StubSaysBuiltWithoutCuda) {
  std::string why_not;
  EXPECT_FALSE(cuda::Available(&why_not));
  EXPECT_EQ(why_not, "fastdml was built without CUDA (FASTDML_CUDA=OFF)");
  EXPECT_THROW(cuda::Query(0), LibraryError);
  EXPECT_THROW(cuda::DeviceScope(Device::Cuda()), LibraryError);
}
#endif

}  // namespace
}  // namespace fastdml
