#include "io/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "fastdml/error.h"

namespace fastdml::io {

const CsvColumn* CsvTable::Find(const std::string& name) const {
  for (const auto& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

namespace {

constexpr std::size_t kBlockSize = std::size_t{1} << 20;  // 1 MiB reads
constexpr std::size_t kReserveAfterRows = 1024;  // rows sampled to size vectors

// The longest record (one row, quoted newlines included) the reader buffers:
// 1 GiB, or FASTDML_CSV_MAX_RECORD_BYTES (for tests of the bound).
std::size_t MaxRecordBytes() {
  constexpr std::size_t kDefault = std::size_t{1} << 30;
  const char* env = std::getenv("FASTDML_CSV_MAX_RECORD_BYTES");
  if (env == nullptr) return kDefault;
  const unsigned long long value = std::strtoull(env, nullptr, 10);
  return value >= kBlockSize ? std::size_t(value) : kBlockSize;
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (ToLower(text[i]) != lower[i]) return false;
  }
  return true;
}

// Tokens that mean "missing" besides the empty cell. from_chars already reads
// nan/NaN, but not NA or null.
bool IsMissingToken(std::string_view text) {
  return EqualsLower(text, "na") || EqualsLower(text, "nan") || EqualsLower(text, "null");
}

// A finite decimal too large or too small for double: strtod semantics
// (overflow -> +-inf, underflow -> +-0).
double OutOfRangeValue(std::string_view text) {
  const bool negative = text.front() == '-';
  const std::size_t e = text.find_first_of("eE");
  const bool underflow = e != std::string_view::npos && e + 1 < text.size() && text[e + 1] == '-';
  const double magnitude = underflow ? 0.0 : std::numeric_limits<double>::infinity();
  return negative ? -magnitude : magnitude;
}

// Exact fast path for plain decimals ([-]digits[.digits], as most CSV
// writers produce): when the digits form an integer m <= 2^53 and there are
// k <= 22 decimals, m and 10^k are exact doubles and one IEEE division rounds
// m / 10^k correctly (Clinger). Returns false to defer to from_chars.
bool ParsePlainDecimal(const char* p, const char* end, double* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const bool negative = *p == '-';
  p += negative;
  std::uint64_t mantissa = 0;
  int digits = 0;
  int decimals = 0;
  const char* const start = p;
  for (; p < end && unsigned(*p - '0') < 10; ++p, ++digits) {
    mantissa = mantissa * 10 + unsigned(*p - '0');  // wraps only past 19 digits
  }
  const bool has_int = p > start;
  if (p < end && *p == '.') {
    const char* const frac = ++p;
    for (; p < end && unsigned(*p - '0') < 10; ++p, ++digits) {
      mantissa = mantissa * 10 + unsigned(*p - '0');
    }
    decimals = int(p - frac);
    if (!has_int && decimals == 0) return false;  // "." or "-."
  } else if (!has_int) {
    return false;
  }
  if (p != end || digits > 19 || decimals > 22 || mantissa > (std::uint64_t{1} << 53)) {
    return false;
  }
  const double value = double(mantissa) / kPow10[decimals];
  *out = negative ? -value : value;
  return true;
}

// Parses one trimmed cell; false when it is not a number. std::from_chars is
// locale-independent, rejects hex and trailing junk, and reads inf/infinity/
// nan in any case (libstdc++ >= 12 backs it with fast_float).
bool ParseCell(std::string_view cell, double* out) {
  if (cell.empty()) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* begin = cell.data();
  const char* const end = begin + cell.size();
  if (*begin == '+') {  // from_chars rejects an explicit plus sign
    ++begin;
    if (begin == end || *begin == '+' || *begin == '-') return false;
  } else if (IsLetter(*begin) && IsMissingToken(cell)) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (ParsePlainDecimal(begin, end, out)) return true;
  double value = 0.0;
  const auto result = std::from_chars(begin, end, value);
  if (result.ptr != end) return false;
  if (result.ec == std::errc()) {
    *out = value;
    return true;
  }
  if (result.ec == std::errc::result_out_of_range) {
    *out = OutOfRangeValue(cell);
    return true;
  }
  return false;
}

// Where a field lies in the read buffer. Pointers are valid until the next
// refill; fields are converted as soon as their record is complete.
struct Field {
  char* begin;
  std::size_t size;
  bool quoted;
  bool escaped;  // holds doubled quotes ("") still to collapse
};

class Parser {
 public:
  Parser(const std::string& path, char sep, const CsvPlan* plan)
      : path_(path), plan_(plan), sep_(sep), space_is_blank_(sep != ' '), tab_is_blank_(sep != '\t') {
    // Bytes that end an unquoted field; the scan loop tests one table entry
    // per byte and relies on the '\n' sentinel after the buffered data.
    ends_field_[static_cast<unsigned char>(sep)] = true;
    ends_field_[static_cast<unsigned char>('\n')] = true;
    ends_field_[static_cast<unsigned char>('\r')] = true;
  }

  CsvTable Read();

 private:
  enum class Step { kRecord, kNeedMore, kEof };

  void Open();
  void Refill();
  Step ParseRecord();
  Step NextRecord();
  bool RecordIsBlank() const {
    return num_fields_ == 1 && !fields_[0].quoted && fields_[0].size == 0;
  }
  std::string_view Cell(Field& field);
  void ReadHeader(CsvTable* table);
  void ReserveColumns(CsvTable* table) const;
  // Blanks are trimmed around cells, unless the blank is the separator.
  bool IsBlank(char c) const {
    return (c == ' ' && space_is_blank_) || (c == '\t' && tab_is_blank_);
  }
  std::string Where(std::size_t line) const;
  std::string ColumnLabel(std::size_t index) const;
  [[noreturn]] void Fail(const std::string& detail) const {
    throw DataError(path_ + ": " + detail);
  }

  std::string path_;
  const CsvPlan* plan_;  // nullptr: every column as double
  std::size_t max_record_bytes_ = MaxRecordBytes();
  std::size_t feature_columns_ = 0;
  char sep_;
  bool space_is_blank_;
  bool tab_is_blank_;
  bool ends_field_[256] = {};
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::uintmax_t file_size_ = 0;  // 0 when unknown (pipe)
  std::vector<char> buffer_;
  std::size_t pos_ = 0;             // next unparsed byte in buffer_
  std::size_t end_ = 0;             // bytes of buffer_ holding data
  std::uintmax_t buffer_offset_ = 0;  // file offset of buffer_[0]
  bool eof_ = false;
  bool in_header_ = true;
  std::vector<Field> fields_;  // slots; the first num_fields_ hold the record
  std::size_t num_fields_ = 0;
  std::vector<std::string> names_;
  std::size_t rows_ = 0;         // data rows accepted so far
  std::size_t line_ = 1;         // line where the next record starts
  std::size_t record_line_ = 1;  // line where the current record starts
  std::uintmax_t data_start_ = 0;  // file offset of the first data row
};

void Parser::Open() {
  errno = 0;
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) {
    const int err = errno;
    throw DataError("cannot open CSV file '" + path_ + "': " +
                    (err ? std::strerror(err) : "unknown error"));
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(path_, ec)) {
    const auto size = std::filesystem::file_size(path_, ec);
    if (!ec) file_size_ = size;
  }
  buffer_.resize(kBlockSize + 1);  // + 1 for the sentinel
}

// Moves the unparsed tail to the front and reads the next block; grows the
// buffer when one record is longer than it (a huge quoted field).
void Parser::Refill() {
  const std::size_t tail = end_ - pos_;
  if (pos_ > 0 && tail > 0) std::memmove(buffer_.data(), buffer_.data() + pos_, tail);
  buffer_offset_ += pos_;
  pos_ = 0;
  end_ = tail;
  if (end_ + 1 == buffer_.size()) {
    // One record fills the buffer: grow it, up to a bound, so that a stray
    // quote in a huge file is reported instead of exhausting memory.
    if (buffer_.size() - 1 >= max_record_bytes_) {
      Fail(Where(line_) + ": one record is longer than " + std::to_string(max_record_bytes_) +
           " bytes (is a quote unbalanced? a quoted field runs until the next quote)");
    }
    buffer_.resize(std::min(buffer_.size() * 2, max_record_bytes_ + 1));
  }
  const std::size_t want = buffer_.size() - 1 - end_;
  const std::size_t got = std::fread(buffer_.data() + end_, 1, want, file_.get());
  end_ += got;
  buffer_[end_] = '\n';  // sentinel: stops field scans at the end of data
  if (got < want) {
    if (std::ferror(file_.get())) Fail("read error: " + std::string(std::strerror(errno)));
    eof_ = true;
  }
}

std::string Parser::Where(std::size_t line) const {
  if (in_header_) return "header (line " + std::to_string(line) + ")";
  return "data row " + std::to_string(rows_ + 1) + " (line " + std::to_string(line) + ")";
}

std::string Parser::ColumnLabel(std::size_t index) const {
  std::string label = "column " + std::to_string(index + 1);
  if (index < names_.size()) label += " ('" + names_[index] + "')";
  return label;
}

// Splits the next record into fields_. Returns kNeedMore (nothing consumed)
// when the record runs past the buffered data and the file has more.
Parser::Step Parser::ParseRecord() {
  char* p = buffer_.data() + pos_;
  char* const end = buffer_.data() + end_;
  if (p == end) return eof_ ? Step::kEof : Step::kNeedMore;
  num_fields_ = 0;
  std::size_t newlines = 0;
  const char sep = sep_;
  for (;;) {
    while (IsBlank(*p)) ++p;  // the sentinel is not blank
    // Fill the slot in place: building a Field on the stack and copying it
    // stalls store forwarding in this loop.
    if (num_fields_ == fields_.size()) fields_.resize(2 * fields_.size() + 16);
    Field& field = fields_[num_fields_];
    field.begin = p;
    field.size = 0;
    field.quoted = false;
    field.escaped = false;
    if (p < end && *p == '"') {
      char* q = p + 1;
      field.begin = q;
      field.quoted = true;
      const std::size_t field_line = line_ + newlines;
      for (;;) {
        char* close = static_cast<char*>(std::memchr(q, '"', std::size_t(end - q)));
        if (close == nullptr) {
          if (!eof_) return Step::kNeedMore;
          Fail("unterminated quoted field starting at " + Where(field_line) + ", " +
               ColumnLabel(num_fields_));
        }
        newlines += std::size_t(std::count(q, close, '\n'));
        if (close + 1 == end && !eof_) return Step::kNeedMore;  // may be ""
        if (close + 1 < end && close[1] == '"') {
          field.escaped = true;
          q = close + 2;
          continue;
        }
        field.size = std::size_t(close - field.begin);
        p = close + 1;
        break;
      }
      while (IsBlank(*p)) ++p;
      if (p < end && *p != sep && *p != '\n' && *p != '\r') {
        Fail(Where(line_ + newlines) + ", " + ColumnLabel(num_fields_) +
             ": unexpected character '" + std::string(1, *p) +
             "' after a closing quote (a quote inside a quoted field must be doubled: \"\")");
      }
    } else {
      while (!ends_field_[static_cast<unsigned char>(*p)]) ++p;  // hot loop
      char* last = p;
      while (last > field.begin && IsBlank(last[-1])) --last;
      field.size = std::size_t(last - field.begin);
    }
    ++num_fields_;
    if (p == end) {
      if (!eof_) return Step::kNeedMore;
      break;  // last record without a final newline
    }
    if (*p == sep) {
      ++p;
      continue;
    }
    if (*p == '\r') {
      if (p + 1 == end && !eof_) return Step::kNeedMore;  // CRLF split by a block
      ++p;
      if (p < end && *p == '\n') ++p;
    } else {
      ++p;
    }
    ++newlines;
    break;
  }
  pos_ = std::size_t(p - buffer_.data());
  record_line_ = line_;
  line_ += newlines;
  return Step::kRecord;
}

Parser::Step Parser::NextRecord() {
  for (;;) {
    const Step step = ParseRecord();
    if (step != Step::kNeedMore) return step;
    Refill();
  }
}

// The field's text with doubled quotes collapsed and surrounding blanks
// trimmed. Collapsing happens in place: the record is complete by now.
std::string_view Parser::Cell(Field& field) {
  if (field.escaped) {
    char* out = field.begin;
    const char* in = field.begin;
    const char* const end = field.begin + field.size;
    while (in < end) {
      const char c = *in++;
      *out++ = c;
      if (c == '"') ++in;  // skip the second quote of ""
    }
    field.size = std::size_t(out - field.begin);
    field.escaped = false;
  }
  const char* begin = field.begin;
  const char* end = field.begin + field.size;
  if (field.quoted) {  // unquoted fields are trimmed while parsing
    while (begin < end && IsBlank(*begin)) ++begin;
    while (end > begin && IsBlank(end[-1])) --end;
  }
  return std::string_view(begin, std::size_t(end - begin));
}

void Parser::ReadHeader(CsvTable* table) {
  Step step;
  do {
    step = NextRecord();
    if (step == Step::kEof) Fail("file is empty (no header row)");
  } while (RecordIsBlank());
  std::unordered_map<std::string_view, std::size_t> seen;
  names_.reserve(num_fields_);
  for (std::size_t j = 0; j < num_fields_; ++j) {
    names_.emplace_back(Cell(fields_[j]));
  }
  for (std::size_t j = 0; j < names_.size(); ++j) {
    if (names_[j].empty()) {
      Fail("header (line " + std::to_string(record_line_) + "): column " + std::to_string(j + 1) +
           " of " + std::to_string(names_.size()) + " has an empty name");
    }
    const auto [it, inserted] = seen.emplace(names_[j], j);
    if (!inserted) {
      Fail("header (line " + std::to_string(record_line_) + "): duplicate column name '" +
           names_[j] + "' (columns " + std::to_string(it->second + 1) + " and " +
           std::to_string(j + 1) + ")");
    }
  }
  table->columns.resize(names_.size());
  for (std::size_t j = 0; j < names_.size(); ++j) table->columns[j].name = names_[j];
  in_header_ = false;
  data_start_ = buffer_offset_ + pos_;
}

// Sizes the value vectors from the average length of the first rows, so that
// millions of rows do not pay for repeated doubling (and its 2x peak memory).
void Parser::ReserveColumns(CsvTable* table) const {
  if (file_size_ == 0 || rows_ == 0) return;
  const std::uintmax_t consumed = buffer_offset_ + pos_;
  if (consumed <= data_start_ || consumed > file_size_) return;
  const double bytes_per_row = double(consumed - data_start_) / double(rows_);
  const double expected = double(rows_) + double(file_size_ - consumed) / bytes_per_row * 1.05;
  const std::size_t reserve = std::size_t(expected) + 16;
  for (auto& column : table->columns) {
    if (column.numeric && column.storage == CsvStorage::kDouble) column.values.reserve(reserve);
  }
  if (feature_columns_ > 0 && reserve <= plan_->x->max_size() / feature_columns_) {
    plan_->x->reserve(reserve * feature_columns_);
  }
}

CsvTable Parser::Read() {
  Open();
  Refill();
  if (end_ >= 3 && static_cast<unsigned char>(buffer_[0]) == 0xEF &&
      static_cast<unsigned char>(buffer_[1]) == 0xBB &&
      static_cast<unsigned char>(buffer_[2]) == 0xBF) {
    pos_ = 3;  // UTF-8 byte order mark
  }
  CsvTable table;
  ReadHeader(&table);
  const std::size_t num_columns = table.columns.size();
  std::vector<CsvColumn*> columns(num_columns);
  for (std::size_t j = 0; j < num_columns; ++j) columns[j] = &table.columns[j];
  bool all_double = true;
  std::vector<float>* x = nullptr;
  if (plan_ != nullptr) {
    const std::vector<CsvStorage> storage = plan_->choose(names_);
    if (storage.size() != num_columns) throw Error("internal: CsvPlan chose storage for the wrong column count");
    for (std::size_t j = 0; j < num_columns; ++j) {
      table.columns[j].storage = storage[j];
      all_double = all_double && storage[j] == CsvStorage::kDouble;
      feature_columns_ += storage[j] == CsvStorage::kFeature;
    }
    x = plan_->x;
    if (feature_columns_ > 0 && x == nullptr) throw Error("internal: CsvPlan without a matrix");
  }
  constexpr double kFloatMax = double(std::numeric_limits<float>::max());

  while (NextRecord() == Step::kRecord) {
    if (RecordIsBlank()) continue;
    if (num_fields_ != num_columns) {
      std::string detail = Where(record_line_) + ": expected " + std::to_string(num_columns) +
                           " fields (as in the header), found " + std::to_string(num_fields_);
      if (num_fields_ < num_columns) {
        detail += " (no value for " + ColumnLabel(num_fields_) + ")";
      } else {
        detail += " (extra field after " + ColumnLabel(num_columns - 1) + ")";
      }
      Fail(detail);
    }
    ++rows_;
    if (!all_double) {
      // The planned path: features straight into the float matrix.
      for (std::size_t j = 0; j < num_columns; ++j) {
        CsvColumn& column = *columns[j];
        if (column.storage == CsvStorage::kSkip) continue;
        double value;
        if (!column.numeric) {
          // Text so far: only look for a number (the typing rule), until one is seen.
          if (!column.any_number && ParseCell(Cell(fields_[j]), &value) && !std::isnan(value)) {
            column.any_number = true;
          }
          if (column.storage == CsvStorage::kFeature) x->push_back(std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        const std::string_view cell = Cell(fields_[j]);
        if (!ParseCell(cell, &value)) {
          column.numeric = false;
          column.first_bad_row = rows_;
          column.first_bad_text = std::string(cell);
          std::vector<double>().swap(column.values);
          if (column.storage == CsvStorage::kFeature) x->push_back(std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        column.any_number |= !std::isnan(value);
        if (column.storage == CsvStorage::kDouble) {
          column.values.push_back(value);
          continue;
        }
        if (std::fabs(value) > kFloatMax && std::isfinite(value) && column.first_beyond_float_row == 0) {
          column.first_beyond_float_row = rows_;
          column.first_beyond_float_value = value;
        }
        x->push_back(static_cast<float>(value));
      }
      if (rows_ == kReserveAfterRows) ReserveColumns(&table);
      continue;
    }
    for (std::size_t j = 0; j < num_columns; ++j) {
      CsvColumn& column = *columns[j];
      double value;
      if (!column.numeric) {
        if (!column.any_number && ParseCell(Cell(fields_[j]), &value) && !std::isnan(value)) {
          column.any_number = true;
        }
        continue;
      }
      const std::string_view cell = Cell(fields_[j]);
      if (ParseCell(cell, &value)) {
        column.any_number |= !std::isnan(value);
        column.values.push_back(value);
      } else {
        // Keep the first offender for the error message; drop the values.
        column.numeric = false;
        column.first_bad_row = rows_;
        column.first_bad_text = std::string(cell);
        std::vector<double>().swap(column.values);
      }
    }
    if (rows_ == kReserveAfterRows) ReserveColumns(&table);
  }
  if (rows_ == 0) Fail("file has a header but no data rows");
  table.rows = rows_;
  for (auto& column : table.columns) {
    // Only when the estimate was far off: shrinking copies the column.
    const std::size_t size = column.values.size();
    if (column.numeric && column.values.capacity() > size + size / 8 + 1024) {
      column.values.shrink_to_fit();
    }
  }
  if (x != nullptr && x->capacity() > x->size() + x->size() / 8 + 4096) x->shrink_to_fit();
  return table;
}

}  // namespace

bool ParseNumberCell(std::string_view cell, double* out) {
  while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
  return ParseCell(cell, out);
}

CsvTable ReadCsv(const std::string& path, char sep) {
  if (sep == '"' || sep == '\n' || sep == '\r') {
    throw UsageError("CSV separator cannot be a quote or a line break");
  }
  Parser parser(path, sep, nullptr);
  return parser.Read();
}

CsvTable ReadCsv(const std::string& path, char sep, const CsvPlan& plan) {
  if (sep == '"' || sep == '\n' || sep == '\r') {
    throw UsageError("CSV separator cannot be a quote or a line break");
  }
  Parser parser(path, sep, &plan);
  return parser.Read();
}

}  // namespace fastdml::io
