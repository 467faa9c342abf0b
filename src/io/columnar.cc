// Compiled as C++20 (the Arrow headers need it; CMakeLists.txt): this file's
// interface, io/columnar.h, is plain C++17.
#include "io/columnar.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/util/decimal.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include "fastdml/error.h"

namespace fastdml::io {
namespace {

namespace fs = std::filesystem;

// Rows converted at a time: the slice's feature columns (as double) and its
// block of the matrix stay in cache while the block is transposed.
constexpr std::int64_t kSliceRows = 4096;
constexpr std::int64_t kTileRows = 256;  // rows per transpose tile
constexpr double kFloatMax = double(std::numeric_limits<float>::max());
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void Fail(const std::string& where, const std::string& detail) {
  throw DataError(where + ": " + detail);
}

void Check(const arrow::Status& status, const std::string& where, const std::string& what) {
  if (!status.ok()) Fail(where, what + ": " + status.ToString());
}

template <class T>
T Check(arrow::Result<T> result, const std::string& where, const std::string& what) {
  if (!result.ok()) Fail(where, what + ": " + result.status().ToString());
  return std::move(result).ValueUnsafe();
}

// Types whose cells can be read as numbers.
bool Supported(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::UINT8:
    case arrow::Type::INT8:
    case arrow::Type::UINT16:
    case arrow::Type::INT16:
    case arrow::Type::UINT32:
    case arrow::Type::INT32:
    case arrow::Type::UINT64:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL32:
    case arrow::Type::DECIMAL64:
    case arrow::Type::DECIMAL128:
    case arrow::Type::DECIMAL256:
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::STRING_VIEW:
      return true;
    case arrow::Type::DICTIONARY:
      return Supported(*static_cast<const arrow::DictionaryType&>(type).value_type());
    default:
      return false;
  }
}

void NullsToNaN(const arrow::Array& array, double* out) {
  if (array.null_count() == 0) return;
  for (std::int64_t i = 0; i < array.length(); ++i) {
    if (array.IsNull(i)) out[i] = kNaN;
  }
}

template <class ArrowType>
void DecodeNumbers(const arrow::Array& array, double* out) {
  const auto& typed = static_cast<const arrow::NumericArray<ArrowType>&>(array);
  const auto* values = typed.raw_values();
  for (std::int64_t i = 0; i < typed.length(); ++i) out[i] = double(values[i]);
  NullsToNaN(array, out);
}

template <class ArrayType, class Decimal, class Basic>
void DecodeDecimals(const arrow::Array& array, double* out) {
  const auto& typed = static_cast<const ArrayType&>(array);
  const std::int32_t scale = static_cast<const arrow::DecimalType&>(*array.type()).scale();
  for (std::int64_t i = 0; i < typed.length(); ++i) {
    out[i] = typed.IsNull(i) ? kNaN : Decimal(Basic(typed.GetValue(i))).ToDouble(scale);
  }
}

// Text cells by the CSV rules; bad(i, text) for a cell that is not a number.
template <class ArrayType, class Bad>
void DecodeText(const arrow::Array& array, double* out, Bad&& bad) {
  const auto& typed = static_cast<const ArrayType&>(array);
  for (std::int64_t i = 0; i < typed.length(); ++i) {
    if (typed.IsNull(i)) {
      out[i] = kNaN;
      continue;
    }
    const auto view = typed.GetView(i);
    const std::string_view cell(view.data(), view.size());
    if (!ParseNumberCell(cell, &out[i])) {
      out[i] = kNaN;
      bad(i, cell);
    }
  }
}

// Decodes a non-dictionary array of a Supported type into out[0..length).
template <class Bad>
void DecodePlain(const arrow::Array& array, double* out, Bad&& bad) {
  switch (array.type_id()) {
    case arrow::Type::NA:
      std::fill(out, out + array.length(), kNaN);
      return;
    case arrow::Type::BOOL: {
      const auto& typed = static_cast<const arrow::BooleanArray&>(array);
      for (std::int64_t i = 0; i < typed.length(); ++i) out[i] = typed.Value(i) ? 1.0 : 0.0;
      NullsToNaN(array, out);
      return;
    }
    case arrow::Type::UINT8: return DecodeNumbers<arrow::UInt8Type>(array, out);
    case arrow::Type::INT8: return DecodeNumbers<arrow::Int8Type>(array, out);
    case arrow::Type::UINT16: return DecodeNumbers<arrow::UInt16Type>(array, out);
    case arrow::Type::INT16: return DecodeNumbers<arrow::Int16Type>(array, out);
    case arrow::Type::UINT32: return DecodeNumbers<arrow::UInt32Type>(array, out);
    case arrow::Type::INT32: return DecodeNumbers<arrow::Int32Type>(array, out);
    case arrow::Type::UINT64: return DecodeNumbers<arrow::UInt64Type>(array, out);
    case arrow::Type::INT64: return DecodeNumbers<arrow::Int64Type>(array, out);
    case arrow::Type::FLOAT: return DecodeNumbers<arrow::FloatType>(array, out);
    case arrow::Type::DOUBLE: return DecodeNumbers<arrow::DoubleType>(array, out);
    case arrow::Type::DECIMAL32:
      return DecodeDecimals<arrow::Decimal32Array, arrow::Decimal32, arrow::BasicDecimal32>(array, out);
    case arrow::Type::DECIMAL64:
      return DecodeDecimals<arrow::Decimal64Array, arrow::Decimal64, arrow::BasicDecimal64>(array, out);
    case arrow::Type::DECIMAL128:
      return DecodeDecimals<arrow::Decimal128Array, arrow::Decimal128, arrow::BasicDecimal128>(array, out);
    case arrow::Type::DECIMAL256:
      return DecodeDecimals<arrow::Decimal256Array, arrow::Decimal256, arrow::BasicDecimal256>(array, out);
    case arrow::Type::STRING: return DecodeText<arrow::StringArray>(array, out, bad);
    case arrow::Type::LARGE_STRING: return DecodeText<arrow::LargeStringArray>(array, out, bad);
    case arrow::Type::STRING_VIEW: return DecodeText<arrow::StringViewArray>(array, out, bad);
    default:
      throw Error("internal: columnar decode of unsupported type " + array.type()->ToString());
  }
}

std::string TextAt(const arrow::Array& array, std::int64_t i) {
  switch (array.type_id()) {
    case arrow::Type::STRING: return std::string(static_cast<const arrow::StringArray&>(array).GetView(i));
    case arrow::Type::LARGE_STRING: return std::string(static_cast<const arrow::LargeStringArray&>(array).GetView(i));
    case arrow::Type::STRING_VIEW: return std::string(static_cast<const arrow::StringViewArray&>(array).GetView(i));
    default: return "";
  }
}

// One column of the file that the plan reads.
struct UsedColumn {
  CsvColumn* column;
  std::size_t slot = 0;  // kFeature: position in a matrix row
  // Dictionary-encoded input: the dictionary decoded once (held, so that its
  // address cannot be reused while cached).
  std::shared_ptr<arrow::Array> dictionary;
  std::vector<double> dictionary_values;
  std::vector<char> dictionary_bad;
};

// Fills a CsvTable from record batches, as the CSV reader fills it from rows.
class TableFiller {
 public:
  TableFiller(std::string path, const CsvPlan& plan) : path_(std::move(path)), plan_(plan) {}

  // Names and plan from the (first) file's schema; returns the indices of the
  // top-level fields to read, in increasing order.
  std::vector<int> Start(const arrow::Schema& schema);
  // The names every part file of a directory must repeat.
  const std::vector<std::string>& names() const { return names_; }
  void Reserve(std::int64_t rows);
  void Add(const arrow::RecordBatch& batch, const std::string& where);
  // `rows`: the row count from the metadata (-1: as counted from the batches).
  CsvTable Finish(std::int64_t rows);

 private:
  void Decode(UsedColumn& used, const arrow::Array& array, double* out, std::size_t row0);
  void MarkBad(UsedColumn& used, std::size_t row, std::string_view text);

  std::string path_;
  const CsvPlan& plan_;
  CsvTable table_;
  std::vector<std::string> names_;
  std::vector<UsedColumn> used_;
  std::size_t width_ = 0;  // kFeature columns
  std::vector<float>* x_ = nullptr;
  std::size_t rows_ = 0;
  std::vector<double> buffer_;  // one slice: kSliceRows doubles per used column
};

std::vector<int> TableFiller::Start(const arrow::Schema& schema) {
  const int num_fields = schema.num_fields();
  std::unordered_map<std::string, int> seen;
  for (int j = 0; j < num_fields; ++j) {
    const std::string& name = schema.field(j)->name();
    if (name.empty()) {
      Fail(path_, "column " + std::to_string(j + 1) + " of " + std::to_string(num_fields) + " has an empty name");
    }
    const auto [it, inserted] = seen.emplace(name, j);
    if (!inserted) {
      Fail(path_, "duplicate column name '" + name + "' (columns " + std::to_string(it->second + 1) + " and " +
                      std::to_string(j + 1) + ")");
    }
    names_.push_back(name);
  }
  table_.columns.resize(names_.size());
  for (std::size_t j = 0; j < names_.size(); ++j) table_.columns[j].name = names_[j];
  const std::vector<CsvStorage> storage = plan_.choose(names_);
  if (storage.size() != names_.size()) throw Error("internal: CsvPlan chose storage for the wrong column count");
  std::vector<int> fields;
  for (std::size_t j = 0; j < names_.size(); ++j) {
    CsvColumn& column = table_.columns[j];
    column.storage = storage[j];
    if (column.storage == CsvStorage::kSkip) continue;
    const arrow::DataType& type = *schema.field(int(j))->type();
    if (!Supported(type)) {
      // Not read: Build reports it if the column has a role or is a listed
      // feature, and leaves it out of the default features otherwise.
      column.numeric = false;
      column.unsupported_type = type.ToString();
      column.storage = CsvStorage::kSkip;
      continue;
    }
    UsedColumn used;
    used.column = &column;
    if (column.storage == CsvStorage::kFeature) used.slot = width_++;
    used_.push_back(std::move(used));
    fields.push_back(int(j));
  }
  x_ = plan_.x;
  if (width_ > 0 && x_ == nullptr) throw Error("internal: CsvPlan without a matrix");
  buffer_.resize(std::size_t(kSliceRows) * used_.size());
  return fields;
}

void TableFiller::Reserve(std::int64_t rows) {
  if (rows <= 0) return;
  for (UsedColumn& used : used_) {
    if (used.column->storage == CsvStorage::kDouble) used.column->values.reserve(std::size_t(rows));
  }
  if (width_ > 0 && std::size_t(rows) <= x_->max_size() / width_) x_->reserve(std::size_t(rows) * width_);
}

void TableFiller::MarkBad(UsedColumn& used, std::size_t row, std::string_view text) {
  CsvColumn& column = *used.column;
  if (!column.numeric) return;
  column.numeric = false;
  column.first_bad_row = row;
  column.first_bad_text = std::string(text);
  std::vector<double>().swap(column.values);
}

void TableFiller::Decode(UsedColumn& used, const arrow::Array& array, double* out, std::size_t row0) {
  if (array.type_id() != arrow::Type::DICTIONARY) {
    DecodePlain(array, out, [&](std::int64_t i, std::string_view text) {
      MarkBad(used, row0 + std::size_t(i) + 1, text);
    });
    return;
  }
  const auto& encoded = static_cast<const arrow::DictionaryArray&>(array);
  const std::shared_ptr<arrow::Array>& dictionary = encoded.dictionary();
  if (dictionary.get() != used.dictionary.get()) {
    used.dictionary = dictionary;
    used.dictionary_values.assign(std::size_t(dictionary->length()), kNaN);
    used.dictionary_bad.assign(std::size_t(dictionary->length()), 0);
    DecodePlain(*dictionary, used.dictionary_values.data(),
                [&](std::int64_t k, std::string_view) { used.dictionary_bad[std::size_t(k)] = 1; });
  }
  for (std::int64_t i = 0; i < encoded.length(); ++i) {
    if (encoded.IsNull(i)) {
      out[i] = kNaN;
      continue;
    }
    const std::int64_t k = encoded.GetValueIndex(i);
    out[i] = used.dictionary_values[std::size_t(k)];
    if (used.dictionary_bad[std::size_t(k)] && used.column->numeric) {
      MarkBad(used, row0 + std::size_t(i) + 1, TextAt(*dictionary, k));
    }
  }
}

void TableFiller::Add(const arrow::RecordBatch& batch, const std::string& where) {
  const std::int64_t rows = batch.num_rows();
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  arrays.reserve(used_.size());
  for (const UsedColumn& used : used_) {
    std::shared_ptr<arrow::Array> array = batch.GetColumnByName(used.column->name);
    if (array == nullptr) Fail(where, "column '" + used.column->name + "' is missing");
    if (!Supported(*array->type())) {
      Fail(where, "column '" + used.column->name + "' has type " + array->type()->ToString() +
                      ", which is not numeric (columns may be integer, floating point, boolean, decimal, "
                      "dictionary-encoded, or text holding numbers)");
    }
    arrays.push_back(std::move(array));
  }
  if (width_ > 0) x_->resize(x_->size() + std::size_t(rows) * width_);
  for (std::int64_t start = 0; start < rows; start += kSliceRows) {
    const std::int64_t count = std::min(kSliceRows, rows - start);
    const std::size_t row0 = rows_ + std::size_t(start);
    for (std::size_t k = 0; k < used_.size(); ++k) {
      UsedColumn& used = used_[k];
      CsvColumn& column = *used.column;
      double* out = buffer_.data() + k * std::size_t(kSliceRows);
      const std::shared_ptr<arrow::Array> slice = arrays[k]->Slice(start, count);
      Decode(used, *slice, out, row0);
      if (!column.any_number) {
        for (std::int64_t i = 0; i < count; ++i) {
          if (!std::isnan(out[i])) {
            column.any_number = true;
            break;
          }
        }
      }
      if (column.storage == CsvStorage::kDouble) {
        if (column.numeric) column.values.insert(column.values.end(), out, out + count);
        continue;
      }
      if (column.first_beyond_float_row == 0) {
        for (std::int64_t i = 0; i < count; ++i) {
          if (std::fabs(out[i]) > kFloatMax && std::isfinite(out[i])) {
            column.first_beyond_float_row = row0 + std::size_t(i) + 1;
            column.first_beyond_float_value = out[i];
            break;
          }
        }
      }
    }
    if (width_ == 0) continue;
    // Column slices -> row-major float block, one cache-sized tile at a time.
    float* block = x_->data() + row0 * width_;
    for (std::int64_t t0 = 0; t0 < count; t0 += kTileRows) {
      const std::int64_t t1 = std::min(count, t0 + kTileRows);
      for (std::size_t k = 0; k < used_.size(); ++k) {
        if (used_[k].column->storage != CsvStorage::kFeature) continue;
        const double* in = buffer_.data() + k * std::size_t(kSliceRows);
        const std::size_t slot = used_[k].slot;
        for (std::int64_t i = t0; i < t1; ++i) block[std::size_t(i) * width_ + slot] = float(in[i]);
      }
    }
  }
  rows_ += std::size_t(rows);
}

CsvTable TableFiller::Finish(std::int64_t rows) {
  if (rows >= 0 && !used_.empty() && std::size_t(rows) != rows_) {
    Fail(path_, "the metadata counts " + std::to_string(rows) + " rows but " + std::to_string(rows_) + " were read");
  }
  if (rows >= 0) rows_ = std::size_t(rows);
  if (rows_ == 0) Fail(path_, "file has no data rows");
  table_.rows = rows_;
  if (x_ != nullptr && x_->capacity() > x_->size() + x_->size() / 8 + 4096) x_->shrink_to_fit();
  return std::move(table_);
}

// The part files of a Parquet directory: regular files in name order,
// leaving out hidden and bookkeeping files (.crc, _SUCCESS, _metadata).
std::vector<std::string> ParquetParts(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<std::string> parts;
  for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || name[0] == '_') continue;
    if (entry.is_directory()) {
      Fail(path, "holds the folder '" + name +
                     "'; partitioned (nested) Parquet directories are not read: pass one folder of part files");
    }
    parts.push_back(entry.path().string());
  }
  if (ec) Fail(path, "cannot list the directory: " + ec.message());
  if (parts.empty()) Fail(path, "directory holds no Parquet part files");
  std::sort(parts.begin(), parts.end());
  return parts;
}

std::unique_ptr<parquet::arrow::FileReader> OpenParquet(const std::string& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) Fail(file, "cannot open Parquet file: no such file");
  auto input = Check(arrow::io::ReadableFile::Open(file), file, "cannot open Parquet file");
  parquet::ArrowReaderProperties properties;
  properties.set_batch_size(64 * 1024);
  properties.set_use_threads(true);  // columns decoded in parallel
  // No pre-buffering: with it, a reader over every row group fetches the
  // used columns of the whole file up front (peak RSS grew by the file size,
  // bench/RESULTS.md); a buffered stream reads each column chunk in pieces.
  properties.set_pre_buffer(false);
  parquet::ReaderProperties reader_properties = parquet::default_reader_properties();
  reader_properties.enable_buffered_stream();
  parquet::arrow::FileReaderBuilder builder;
  Check(builder.Open(input, reader_properties), file, "not a readable Parquet file");
  builder.properties(properties);
  return Check(builder.Build(), file, "not a readable Parquet file");
}

CsvTable ReadParquetParts(const std::string& path, const CsvPlan& plan) {
  const std::vector<std::string> parts = ParquetParts(path);
  TableFiller filler(path, plan);
  std::vector<int> fields;
  std::int64_t total_rows = 0;
  // First the metadata of every part: the schema must agree, and the row
  // count sizes the matrix once.
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const auto reader = OpenParquet(parts[p]);
    std::shared_ptr<arrow::Schema> schema;
    Check(reader->GetSchema(&schema), parts[p], "cannot read the Parquet schema");
    if (p == 0) {
      fields = filler.Start(*schema);
    } else if (schema->field_names() != filler.names()) {
      Fail(parts[p], "its columns differ from those of the first part file '" + parts[0] + "'");
    }
    total_rows += reader->parquet_reader()->metadata()->num_rows();
  }
  filler.Reserve(total_rows);
  if (!fields.empty()) {
    for (const std::string& part : parts) {
      const auto reader = OpenParquet(part);
      const parquet::arrow::SchemaManifest& manifest = reader->manifest();
      std::vector<int> leaves;
      for (const int j : fields) {
        const parquet::arrow::SchemaField& field = manifest.schema_fields[std::size_t(j)];
        if (!field.is_leaf()) {
          Fail(part, "column '" + field.field->name() + "' has type " + field.field->type()->ToString() +
                         ", which is not numeric");
        }
        leaves.push_back(field.column_index);
      }
      std::vector<int> row_groups(std::size_t(reader->num_row_groups()));
      for (std::size_t g = 0; g < row_groups.size(); ++g) row_groups[g] = int(g);
      auto batches = Check(reader->GetRecordBatchReader(row_groups, leaves), part, "cannot read the row groups");
      for (;;) {
        std::shared_ptr<arrow::RecordBatch> batch;
        Check(batches->ReadNext(&batch), part, "cannot read a row group");
        if (batch == nullptr) break;
        filler.Add(*batch, part);
      }
    }
  }
  return filler.Finish(total_rows);
}

CsvTable ReadIpc(const std::string& path, const CsvPlan& plan) {
  std::error_code ec;
  if (!fs::exists(path, ec)) Fail(path, "cannot open Arrow file: no such file");
  if (fs::is_directory(path, ec)) Fail(path, "is a directory; an Arrow IPC / Feather input is one file");
  const std::string what = "not an Arrow IPC / Feather v2 file";
  auto file = Check(arrow::io::ReadableFile::Open(path), path, "cannot open Arrow file");
  {
    char magic[4] = {};
    const auto got = Check(file->ReadAt(0, 4, magic), path, "cannot read");
    if (got == 4 && std::string_view(magic, 4) == "FEA1") {
      Fail(path, "is a Feather v1 file; write it again as Feather v2 (pyarrow.feather.write_feather's default)");
    }
  }
  TableFiller filler(path, plan);
  // The IPC file format (Feather v2) has a footer: schema, batches and the
  // row count without reading the data; else try the stream format.
  auto file_reader = arrow::ipc::RecordBatchFileReader::Open(file);
  if (file_reader.ok()) {
    const std::vector<int> fields = filler.Start(*(*file_reader)->schema());
    auto options = arrow::ipc::IpcReadOptions::Defaults();
    options.included_fields = fields.empty() ? std::vector<int>{0} : fields;
    auto reader = Check(arrow::ipc::RecordBatchFileReader::Open(file, options), path, what);
    const std::int64_t rows = Check(reader->CountRows(), path, what);
    filler.Reserve(rows);
    if (!fields.empty()) {
      for (int b = 0; b < reader->num_record_batches(); ++b) {
        const auto batch = Check(reader->ReadRecordBatch(b), path, "cannot read record batch " + std::to_string(b));
        filler.Add(*batch, path);
      }
    }
    return filler.Finish(rows);
  }
  Check(file->Seek(0), path, "cannot read");
  auto probe = arrow::ipc::RecordBatchStreamReader::Open(file);
  if (!probe.ok()) Fail(path, what + " (" + file_reader.status().message() + ")");
  const std::vector<int> fields = filler.Start(*(*probe)->schema());
  Check(file->Seek(0), path, "cannot read");
  auto options = arrow::ipc::IpcReadOptions::Defaults();
  options.included_fields = fields.empty() ? std::vector<int>{0} : fields;
  auto reader = Check(arrow::ipc::RecordBatchStreamReader::Open(file, options), path, what);
  std::int64_t rows = 0;
  for (;;) {
    std::shared_ptr<arrow::RecordBatch> batch;
    Check(reader->ReadNext(&batch), path, "cannot read a record batch");
    if (batch == nullptr) break;
    rows += batch->num_rows();
    if (!fields.empty()) filler.Add(*batch, path);
  }
  return filler.Finish(rows);
}

}  // namespace

// Parquet reports some faults (a broken footer, a bad page) by exception
// rather than Status: they become DataErrors naming the file.
CsvTable ReadParquet(const std::string& path, const CsvPlan& plan) {
  try {
    return ReadParquetParts(path, plan);
  } catch (const parquet::ParquetException& e) {
    throw DataError(path + ": not a readable Parquet file: " + e.what());
  }
}

CsvTable ReadArrowIpc(const std::string& path, const CsvPlan& plan) { return ReadIpc(path, plan); }

}  // namespace fastdml::io
