// Test helper: writes `content` to a file named after the running test under
// FASTDML_TEST_TMPDIR/io and returns its path.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fastdml::test {

inline std::string WriteTemp(const std::string& content) {
  const std::filesystem::path dir = std::filesystem::path(FASTDML_TEST_TMPDIR) / "io";
  std::filesystem::create_directories(dir);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path path =
      dir / (std::string(info->test_suite_name()) + "." + info->name() + ".csv");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return path.string();
}

}  // namespace fastdml::test
