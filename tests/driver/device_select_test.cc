// The CUDA device index behind a resolved --device value.
#include "driver/device_select.h"

#include <gtest/gtest.h>

#include "fastdml/error.h"

namespace fastdml {
namespace {

TEST(DeviceSelect, DeviceOrdinalReadsCudaAndCudaN) {
  EXPECT_EQ(DeviceOrdinal("cuda"), 0);
  EXPECT_EQ(DeviceOrdinal("cuda:0"), 0);
  EXPECT_EQ(DeviceOrdinal("cuda:3"), 3);
}

TEST(DeviceSelect, DeviceOrdinalRejectsAnythingElseNamingTheFlag) {
  for (const char* bad : {"cpu", "cuda:", "cuda:-1", "cuda:x", "cuda:99999", "gpu"}) {
    try {
      DeviceOrdinal(bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--device"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace fastdml
