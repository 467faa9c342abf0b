// libFuzzer harness: the CSV reader and the dataset builder on arbitrary
// bytes. The first byte picks the separator and the column roles; the rest is
// the file. A fastdml::Error (a clear message for the user) is the expected
// outcome for bad input; anything else (a crash, a sanitizer report, another
// exception type, an invariant broken below) is a bug.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fastdml/error.h"
#include "io/csv.h"
#include "io/dataset_builder.h"

namespace {

const std::string& ScratchPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir ? dir : "/tmp") + "/fastdml_csv_fuzz." + std::to_string(::getpid()) + ".csv";
  }();
  return path;
}

void Check(bool ok) {
  if (!ok) std::abort();  // a broken invariant: let the fuzzer record the input
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = bytes[0];
  static const char kSeparators[] = {',', ';', '\t', '|'};
  const char sep = kSeparators[control & 3];
  {
    std::FILE* f = std::fopen(ScratchPath().c_str(), "wb");
    if (f == nullptr) return 0;
    std::fwrite(bytes + 1, 1, size - 1, f);
    std::fclose(f);
  }
  fastdml::io::CsvTable table;
  try {
    table = fastdml::io::ReadCsv(ScratchPath(), sep);
  } catch (const fastdml::Error&) {
    return 0;
  }
  Check(table.rows > 0 && !table.columns.empty());
  for (const auto& column : table.columns) {
    Check(!column.name.empty());
    Check(column.numeric ? column.values.size() == table.rows
                         : column.values.empty() && column.first_bad_row >= 1 && column.first_bad_row <= table.rows);
  }
  if (table.columns.size() < 2) return 0;
  fastdml::io::ColumnSpec spec;
  spec.outcome = table.columns[0].name;
  spec.treatment = table.columns[1].name;
  spec.binary_treatment = (control & 4) == 0;
  if ((control & 8) && table.columns.size() > 3) spec.weights = table.columns[2].name;
  if ((control & 16) && table.columns.size() > 4) spec.fold = table.columns[3].name;
  if ((control & 32) && table.columns.size() > 5) spec.cluster = table.columns[4].name;
  if (control & 64) spec.features = {table.columns.back().name};
  // Differential check: the streaming reader (ReadDataset) must give the same
  // Dataset, or the same error message, as ReadCsv + BuildDataset.
  std::string built_error, streamed_error;
  fastdml::Dataset built, streamed;
  try {
    built = fastdml::io::BuildDataset(table, spec);
    Check(built.n == table.rows && built.x.size() == built.n * built.p && built.y.size() == built.n);
    for (double y : built.y) Check(std::isfinite(y));
    for (int k : built.fold) Check(k >= 0);
    for (auto c : built.cluster) Check(c >= 0 && c < built.n_clusters);
  } catch (const fastdml::Error& e) {
    built_error = ScratchPath() + ": " + e.what();
  }
  try {
    streamed = fastdml::io::ReadDataset(ScratchPath(), spec, sep);
  } catch (const fastdml::Error& e) {
    streamed_error = e.what();
  }
  if (built_error != streamed_error) {
    std::fprintf(stderr, "BuildDataset: %s\nReadDataset:  %s\n", built_error.c_str(), streamed_error.c_str());
    std::abort();
  }
  if (built_error.empty()) {
    Check(built.n == streamed.n && built.p == streamed.p && built.feature_names == streamed.feature_names);
    Check(built.y == streamed.y && built.d == streamed.d && built.weights == streamed.weights);
    Check(built.fold == streamed.fold && built.cluster == streamed.cluster);
    // Bitwise, so that NaN cells compare equal.
    Check(built.x.size() == streamed.x.size() &&
          std::memcmp(built.x.data(), streamed.x.data(), built.x.size() * sizeof(float)) == 0);
  }
  return 0;
}
