// The array-interface JSON handed to XGBoost: host (__array_interface__) and
// device (__cuda_array_interface__, version 3) descriptions of float32 data.
#include "nuisance/xgboost_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>

namespace fastdml {
namespace {

TEST(XgboostApi, CudaInterfaceDescribesADeviceMatrixAndVector) {
  const float* fake_device = reinterpret_cast<const float*>(std::uintptr_t{0x7f0012345600});
  const auto m = nlohmann::json::parse(xgb::CudaInterface(fake_device, 5, 3));
  EXPECT_EQ(m["data"][0].get<std::uint64_t>(), 0x7f0012345600u);
  EXPECT_EQ(m["data"][1], false);  // not read-only, as cupy describes its arrays; XGBoost only reads
  EXPECT_EQ(m["shape"], nlohmann::json::array({5, 3}));
  EXPECT_EQ(m["typestr"], "<f4");
  EXPECT_EQ(m["version"], 3);
  EXPECT_FALSE(m.contains("stream"));  // the caller synchronises before handing it over

  const auto v = nlohmann::json::parse(xgb::CudaInterface(fake_device, 7, 0));
  EXPECT_EQ(v["shape"], nlohmann::json::array({7}));
}

}  // namespace
}  // namespace fastdml
