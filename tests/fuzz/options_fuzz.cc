// libFuzzer harness: command-line parsing and option checks (property in
// options_check.h). Any exception other than a CLI11 parse error or a
// fastdml::UsageError, a crash or a sanitizer report is a bug.
#include "options_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  fastdml::fuzz::CheckOptionsInput(bytes, size);
  return 0;
}
