// Test helper for the stub tests of builds without CUDA: `call` must throw
// fastdml::LibraryError saying "built without CUDA" (cuda/stubs/).
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "fastdml/error.h"

namespace fastdml::test {

template <class Call>
void ExpectBuiltWithoutCuda(Call&& call) {
  try {
    call();
    ADD_FAILURE() << "expected fastdml::LibraryError";
  } catch (const LibraryError& e) {
    EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
  }
}

}  // namespace fastdml::test
