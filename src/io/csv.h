// CSV reader: a header row, then numeric cells, read column by column.
//
// Dialect (RFC 4180 plus the usual real-world leniencies):
//   - one header row with unique, non-empty names;
//   - fields separated by `sep`; a field may be quoted ("a,b"), a quote inside a
//     quoted field is doubled (""), and quoted fields may span lines;
//   - LF or CRLF line ends (a lone CR also ends a line), optional UTF-8 BOM,
//     optional final newline; blank lines are skipped (as pandas does);
//   - spaces (and tabs, unless tab is the separator) around a cell are trimmed.
// Cells: empty, NA, NaN, null (any case) -> NaN (missing); inf / -inf /
// infinity -> infinities; anything else must be a decimal number (parsed
// locale-independently). A column with a non-number is kept as numeric=false
// with the first offending cell, so callers can skip it or report it; whether
// any other cell was a number (any_number) tells a text column from a numeric
// one with stray text (the typing rule of docs/cli.md, applied by
// dataset_builder.cc for every input format).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fastdml::io {

// Where the reader puts a column's values (see CsvPlan).
enum class CsvStorage {
  kDouble,   // CsvColumn::values
  kFeature,  // the plan's row-major float matrix
  kSkip,     // not parsed at all (only counted as a field)
};

struct CsvColumn {
  std::string name;
  std::vector<double> values;  // rows values when numeric and kDouble; empty otherwise
  bool numeric = true;
  std::size_t first_bad_row = 0;  // 1-based data row (header excluded); 0 = none
  std::string first_bad_text;     // the first cell that is not a number
  bool any_number = false;        // some non-missing cell is a number
  // Columnar input only: the column's type when it cannot hold numbers (a
  // date, list, binary ...); numeric is then false. Empty otherwise.
  std::string unsupported_type;
  CsvStorage storage = CsvStorage::kDouble;
  // kFeature only: the first finite value beyond float32 range (stored as inf).
  std::size_t first_beyond_float_row = 0;  // 1-based; 0 = none
  double first_beyond_float_value = 0;
};

struct CsvTable {
  std::vector<CsvColumn> columns;
  std::size_t rows = 0;  // data rows (header excluded)

  // nullptr when no column has that exact name.
  const CsvColumn* Find(const std::string& name) const;
};

// Reads a whole CSV file. Throws fastdml::DataError (message names the file
// and, where it applies, the data row, line and column) when the file cannot
// be opened or read, is empty, has a header but no data rows, has a row with
// the wrong number of fields, a duplicate or empty column name, or a broken
// quoted field. Non-numeric cells do not throw (see CsvColumn::numeric).
CsvTable ReadCsv(const std::string& path, char sep = ',');

// Streaming read for large files: once the header is read, `choose` (given
// the column names) says where each column goes; kFeature cells are appended
// as float32 to *x row by row (in column order), so that no column of X is
// ever held as double. A non-numeric kFeature cell is stored as NaN and marks
// the column as in ReadCsv (the caller drops or reports it). Errors as ReadCsv,
// plus whatever `choose` throws.
struct CsvPlan {
  std::function<std::vector<CsvStorage>(const std::vector<std::string>& names)> choose;
  std::vector<float>* x = nullptr;
};
CsvTable ReadCsv(const std::string& path, char sep, const CsvPlan& plan);

// One cell by the CSV rules above (surrounding blanks trimmed; empty, NA, NaN,
// null -> NaN): false when it is not a number. Text cells of the columnar
// readers (src/io/columnar.h) go through it, so every format types text alike.
bool ParseNumberCell(std::string_view cell, double* out);

}  // namespace fastdml::io
