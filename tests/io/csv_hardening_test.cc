// Input hardening of the CSV reader (issue 7, item 3) beyond tests/io/csv_test.cc
// (which covers quoted separators and newlines, CRLF, BOM, duplicate names and
// a field longer than the read buffer): very wide rows, the bound on one
// record's size, and the streaming reader on the same inputs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fastdml/error.h"
#include "io/csv.h"
#include "io/dataset_builder.h"
#include "io/test_csv_file.h"

namespace fastdml::io {
namespace {

using test::WriteTemp;

// Sets an environment variable for one test's scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(CsvHardening, VeryWideRowsSpanningReadBlocks) {
  // 60,000 columns: the header and each row are longer than one 1 MiB block.
  const int p = 60000;
  std::string header = "y,d", row1 = "1,0", row2 = "2,1";
  for (int j = 0; j < p; ++j) {
    header += ",x" + std::to_string(j);
    row1 += "," + std::to_string(j) + ".5";
    row2 += "," + std::to_string(-j);
  }
  const std::string path = WriteTemp(header + "\n" + row1 + "\r\n" + row2 + "\n");
  const CsvTable table = ReadCsv(path);
  ASSERT_EQ(table.columns.size(), std::size_t(p + 2));
  EXPECT_EQ(table.columns.back().values, (std::vector<double>{p - 1 + 0.5, -(p - 1.0)}));
  ColumnSpec spec;
  spec.outcome = "y";
  spec.treatment = "d";
  const Dataset data = ReadDataset(path, spec);
  EXPECT_EQ(data.p, std::size_t(p));
  EXPECT_EQ(data.X(1, p - 1), float(-(p - 1)));
}

TEST(CsvHardening, ARecordBeyondTheBoundIsAClearErrorNotAnAllocation) {
  // An unbalanced quote early in a big file would otherwise buffer the rest of
  // the file as one field. The bound is 1 GiB; lowered here to 2 MiB.
  const ScopedEnv bound("FASTDML_CSV_MAX_RECORD_BYTES", std::to_string(2u << 20));
  std::string csv = "y,d,x\n1,0,\"oops\n";
  for (int i = 0; i < 400000; ++i) csv += "2,1,3\n";  // ~2.4 MB after the stray quote
  const std::string path = WriteTemp(csv);
  try {
    ReadCsv(path);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path + ": data row 1 (line 2): one record is longer than 2097152 bytes"),
              std::string::npos) << what;
    EXPECT_NE(what.find("quote unbalanced"), std::string::npos) << what;
  }
}

TEST(CsvHardening, LongRecordsBelowTheBoundStillRead) {
  const ScopedEnv bound("FASTDML_CSV_MAX_RECORD_BYTES", std::to_string(4u << 20));
  const std::string text(3u << 20, 'z');
  const CsvTable table = ReadCsv(WriteTemp("s,v\n\"" + text + "\",1\n"));
  EXPECT_EQ(table.columns[0].first_bad_text.size(), text.size());
}

TEST(CsvHardening, QuotedNumbersSeparatorsAndCrlfInsideFieldsStream) {
  // Numbers may be quoted; quoted text with separators and CRLF line breaks
  // in a column that is not used must not shift the other columns.
  const std::string path =
      WriteTemp("\xEF\xBB\xBFy,d,note,x\r\n\"1.5\",0,\"a,b\r\nc\",\" 2 \"\r\n2,1,\"say \"\"hi\"\"\",3\r\n");
  ColumnSpec spec;
  spec.outcome = "y";
  spec.treatment = "d";
  spec.features = {"x"};
  const Dataset data = ReadDataset(path, spec);
  EXPECT_EQ(data.y, (std::vector<double>{1.5, 2}));
  EXPECT_EQ(data.x, (std::vector<float>{2, 3}));
}

}  // namespace
}  // namespace fastdml::io
