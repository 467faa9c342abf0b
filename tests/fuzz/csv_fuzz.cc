// libFuzzer harness: the CSV reader and the dataset builder on arbitrary
// bytes (property in csv_check.h). A crash, a sanitizer report, an exception
// other than fastdml::Error, or a broken property is a bug.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "csv_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  static const std::string scratch = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/fastdml_csv_fuzz." + std::to_string(::getpid()) + ".csv";
  }();
  const std::string broken = fastdml::fuzz::CheckCsvInput(bytes, size, scratch);
  if (!broken.empty()) {
    std::fprintf(stderr, "%s\n", broken.c_str());
    std::abort();  // let the fuzzer save the input
  }
  return 0;
}
