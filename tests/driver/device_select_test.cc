// --device parsed once into a Device (include/fastdml/device.h), and the
// device a fit resolves it to (driver/device_select.h).
#include "driver/device_select.h"

#include <gtest/gtest.h>

#include <string>

#include "fastdml/device.h"
#include "fastdml/error.h"
#include "fastdml/options.h"

namespace fastdml {
namespace {

TEST(DeviceSelect, ParseReadsEveryFormAndPrintsItAsGiven) {
  EXPECT_EQ(ParseDevice("cpu"), Device::Cpu());
  EXPECT_EQ(ParseDevice("auto"), Device::Auto());
  EXPECT_EQ(ParseDevice("cuda"), Device::Cuda());
  EXPECT_EQ(ParseDevice("cuda:0"), Device::Cuda(0));
  EXPECT_EQ(ParseDevice("cuda:3"), Device::Cuda(3));
  // "cuda" and "cuda:0" are the same GPU but print as the user wrote them
  // (the JSON report's options.device).
  EXPECT_NE(ParseDevice("cuda"), ParseDevice("cuda:0"));
  EXPECT_EQ(ParseDevice("cuda").gpu(), 0);
  EXPECT_EQ(ParseDevice("cuda:0").gpu(), 0);
  EXPECT_EQ(ParseDevice("cuda:3").gpu(), 3);
  for (const char* s : {"cpu", "auto", "cuda", "cuda:0", "cuda:12"}) EXPECT_EQ(ToString(ParseDevice(s)), s);
  EXPECT_TRUE(ParseDevice("cuda:1").is_cuda());
  EXPECT_FALSE(ParseDevice("auto").is_cuda());
  EXPECT_FALSE(ParseDevice("cpu").is_cuda());
}

TEST(DeviceSelect, ParseRejectsAnythingElseNamingTheFlag) {
  for (const char* bad : {"", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "cuda:99999", "cuda0"}) {
    try {
      ParseDevice(bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), std::string("--device: expected cpu, cuda, cuda:N or auto (got '") + bad + "')");
    }
  }
}

TEST(DeviceSelect, OptionsDefaultToTheCpu) { EXPECT_EQ(Options().device, Device::Cpu()); }

TEST(DeviceSelect, ResolveKeepsTheCpuAndTurnsAutoIntoADevice) {
  EXPECT_EQ(ResolveDevice(Device::Cpu()), Device::Cpu());
  const Device a = ResolveDevice(Device::Auto());
  EXPECT_TRUE(a == Device::Cpu() || a == Device::Cuda()) << ToString(a);
}

}  // namespace
}  // namespace fastdml
