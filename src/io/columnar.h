// Columnar input: Parquet (one file, or a directory of part files read in
// sorted name order) and Arrow IPC / Feather v2, read with Apache Arrow C++.
//
// The readers keep ReadCsv's contract (io/csv.h): once the schema is read,
// plan.choose(names) says where each column goes; role columns come back as
// double, features go straight into the float32 row-major matrix *plan.x, and
// skipped columns are never read from the file. Row groups / record batches
// are streamed, so peak memory stays near the matrix. Cells become doubles as
// CSV cells do: nulls -> NaN, text through ParseNumberCell (so a text column
// of numbers is numeric, and a stray word marks the column numeric=false with
// its first bad row and cell). Integer, floating point, boolean, decimal and
// dictionary-encoded columns (by their values) are read; any other type
// (dates, lists, binary ...) is reported in CsvColumn::unsupported_type and
// not read. DataError messages name the file (the part file in a directory).
#pragma once
#include <string>

#include "io/csv.h"

namespace fastdml::io {

enum class DataFormat { kAuto, kCsv, kParquet, kArrow };

// "csv", "parquet", "arrow" (also "feather", "ipc"); UsageError otherwise.
DataFormat ParseDataFormat(const std::string& name);

// kAuto -> by extension: .parquet / .pq or a directory -> Parquet; .arrow /
// .feather / .ipc -> Arrow; anything else -> CSV. Other values are returned as is.
DataFormat ResolveDataFormat(const std::string& path, DataFormat format);

CsvTable ReadParquet(const std::string& path, const CsvPlan& plan);
CsvTable ReadArrowIpc(const std::string& path, const CsvPlan& plan);

// The reader for ResolveDataFormat(path, format); `sep` is for CSV only.
// (src/io/data_format.cc, in fastdml_core; the two readers above are in
// fastdml_columnar: src/io/columnar.cc, or src/io/stubs/columnar.cc in a
// build without Arrow C++, where they throw DataError.)
CsvTable ReadTable(const std::string& path, DataFormat format, char sep, const CsvPlan& plan);

}  // namespace fastdml::io
