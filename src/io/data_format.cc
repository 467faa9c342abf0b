// Input format by name or extension, and the reader for it (io/columnar.h).
// In fastdml_core; the Parquet / Arrow readers live in fastdml_columnar
// (src/io/columnar.cc, or src/io/stubs/columnar.cc without Arrow C++).
#include <filesystem>
#include <string>
#include <system_error>

#include "fastdml/error.h"
#include "io/columnar.h"

namespace fastdml::io {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  return text;
}

}  // namespace

DataFormat ParseDataFormat(const std::string& name) {
  const std::string lower = Lower(name);
  if (lower == "csv") return DataFormat::kCsv;
  if (lower == "parquet") return DataFormat::kParquet;
  if (lower == "arrow" || lower == "feather" || lower == "ipc") return DataFormat::kArrow;
  throw UsageError("--format " + name + ": expected csv, parquet or arrow");
}

DataFormat ResolveDataFormat(const std::string& path, DataFormat format) {
  if (format != DataFormat::kAuto) return format;
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const std::string extension = Lower(std::filesystem::path(trimmed).extension().string());
  if (extension == ".parquet" || extension == ".pq") return DataFormat::kParquet;
  if (extension == ".arrow" || extension == ".feather" || extension == ".ipc") return DataFormat::kArrow;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return DataFormat::kParquet;  // a folder of part files
  return DataFormat::kCsv;
}

CsvTable ReadTable(const std::string& path, DataFormat format, char sep, const CsvPlan& plan) {
  switch (ResolveDataFormat(path, format)) {
    case DataFormat::kParquet: return ReadParquet(path, plan);
    case DataFormat::kArrow: return ReadArrowIpc(path, plan);
    default: return ReadCsv(path, sep, plan);
  }
}

}  // namespace fastdml::io
