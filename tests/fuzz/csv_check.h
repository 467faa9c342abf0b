// The property the CSV fuzz harness checks, shared with the corpus replay test
// (tests/io/fuzz_corpus_test.cc) so that every saved input, crashes turned
// into corpus files included, is a regression test of the normal suite.
//
// Input: the first byte picks the separator and the column roles; the rest is
// the file. Expected outcomes: a Dataset, or a fastdml::Error (a message for
// the user). The streaming reader (ReadDataset) must accept exactly what
// ReadCsv + BuildDataset accept and give the same Dataset, bit for bit.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "fastdml/error.h"
#include "io/csv.h"
#include "io/dataset_builder.h"

namespace fastdml::fuzz {

// "" when the property holds; otherwise what broke. `scratch` is a file path
// the check may overwrite.
inline std::string CheckCsvInput(const std::uint8_t* bytes, std::size_t size, const std::string& scratch) {
  if (size == 0) return "";
  const std::uint8_t control = bytes[0];
  static const char kSeparators[] = {',', ';', '\t', '|'};
  const char sep = kSeparators[control & 3];
  {
    std::FILE* f = std::fopen(scratch.c_str(), "wb");
    if (f == nullptr) return "";
    std::fwrite(bytes + 1, 1, size - 1, f);
    std::fclose(f);
  }
  io::CsvTable table;
  try {
    table = io::ReadCsv(scratch, sep);
  } catch (const Error&) {
    return "";
  }
  if (table.rows == 0 || table.columns.empty()) return "ReadCsv returned an empty table";
  for (const auto& column : table.columns) {
    if (column.name.empty()) return "empty column name accepted";
    const bool consistent = column.numeric ? column.values.size() == table.rows
                                           : column.values.empty() && column.first_bad_row >= 1 &&
                                                 column.first_bad_row <= table.rows;
    if (!consistent) return "column '" + column.name + "' has inconsistent values/first_bad_row";
  }
  if (table.columns.size() < 2) return "";
  io::ColumnSpec spec;
  spec.outcome = table.columns[0].name;
  spec.treatment = table.columns[1].name;
  spec.binary_treatment = (control & 4) == 0;
  if ((control & 8) && table.columns.size() > 3) spec.weights = table.columns[2].name;
  if ((control & 16) && table.columns.size() > 4) spec.fold = table.columns[3].name;
  if ((control & 32) && table.columns.size() > 5) spec.cluster = table.columns[4].name;
  if (control & 64) spec.features = {table.columns.back().name};

  std::string built_error, streamed_error;
  Dataset built, streamed;
  try {
    built = io::BuildDataset(table, spec);
  } catch (const Error& e) {
    built_error = scratch + ": " + e.what();
  }
  try {
    streamed = io::ReadDataset(scratch, spec, sep);
  } catch (const Error& e) {
    streamed_error = e.what();
  }
  // Both must accept or both reject. With several faults the first one named
  // may differ: ReadDataset reports missing or misused columns from the header,
  // before parsing the data (found by this harness; see the corpus file
  // crash-feature-is-role-and-bad-outcome).
  if (built_error.empty() != streamed_error.empty()) {
    return "BuildDataset: " + built_error + "\nReadDataset:  " + streamed_error;
  }
  if (!built_error.empty()) return "";
  if (built.n != table.rows || built.x.size() != built.n * built.p || built.y.size() != built.n) {
    return "BuildDataset: inconsistent sizes";
  }
  for (double y : built.y) {
    if (!std::isfinite(y)) return "non-finite outcome accepted";
  }
  for (int k : built.fold) {
    if (k < 0) return "negative fold id";
  }
  for (auto c : built.cluster) {
    if (c < 0 || c >= built.n_clusters) return "cluster index out of range";
  }
  if (built.n != streamed.n || built.p != streamed.p || built.feature_names != streamed.feature_names ||
      built.y != streamed.y || built.d != streamed.d || built.weights != streamed.weights ||
      built.fold != streamed.fold || built.cluster != streamed.cluster) {
    return "ReadDataset differs from BuildDataset";
  }
  // Bitwise, so that NaN cells compare equal.
  if (built.x.size() != streamed.x.size() ||
      std::memcmp(built.x.data(), streamed.x.data(), built.x.size() * sizeof(float)) != 0) {
    return "ReadDataset's matrix differs from BuildDataset's";
  }
  return "";
}

}  // namespace fastdml::fuzz
