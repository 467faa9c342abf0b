// Replays the fuzz corpora (tests/fuzz/corpus/<harness>/) through the same
// properties the libFuzzer harnesses check, in the normal (gcc) suite: a
// crash found by scripts/fuzz, once fixed and its input added to the corpus,
// stays a regression test here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/csv_check.h"
#include "fuzz/options_check.h"

namespace fastdml {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> Corpus(const std::string& harness) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(FASTDML_SOURCE_DIR) / "tests/fuzz/corpus" / harness)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(FuzzCorpus, CsvInputsKeepTheReaderProperty) {
  const auto files = Corpus("csv_fuzz");
  ASSERT_GE(files.size(), 5u);
  fs::create_directories(fs::path(FASTDML_TEST_TMPDIR) / "io");
  const std::string scratch = (fs::path(FASTDML_TEST_TMPDIR) / "io" / "fuzz_corpus_replay.csv").string();
  for (const auto& file : files) {
    const std::string bytes = Slurp(file);
    EXPECT_EQ(fuzz::CheckCsvInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), scratch), "")
        << file;
  }
}

TEST(FuzzCorpus, OptionInputsOnlyRaiseUsageOrParseErrors) {
  const auto files = Corpus("options_fuzz");
  ASSERT_GE(files.size(), 5u);
  for (const auto& file : files) {
    const std::string bytes = Slurp(file);
    EXPECT_NO_THROW(fuzz::CheckOptionsInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()))
        << file;
  }
}

}  // namespace
}  // namespace fastdml
