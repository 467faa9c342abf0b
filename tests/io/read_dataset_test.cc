// ReadDataset, the streaming reader the CLI uses: the same Dataset (bit for
// bit) and the same messages as ReadCsv + BuildDataset on every case here, and
// its own memory-saving paths (skipped columns, in-place column drop and
// reorder). The fuzz harness tests/fuzz/csv_fuzz.cc runs the same comparison
// on arbitrary input.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "io/csv.h"
#include "io/dataset_builder.h"

namespace fastdml::io {
namespace {

std::string WriteTemp(const std::string& content, int k) {
  const std::filesystem::path dir = std::filesystem::path(FASTDML_TEST_TMPDIR) / "io";
  std::filesystem::create_directories(dir);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path path =
      dir / (std::string(info->test_suite_name()) + "." + info->name() + std::to_string(k) + ".csv");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return path.string();
}

ColumnSpec Spec(std::vector<std::string> features = {}) {
  ColumnSpec spec;
  spec.outcome = "y";
  spec.treatment = "d";
  spec.features = std::move(features);
  return spec;
}

// Runs both readers; returns the streamed Dataset (or the shared message).
std::string Compare(const std::string& path, const ColumnSpec& spec, Dataset* out = nullptr) {
  std::string built_error, streamed_error;
  Dataset built, streamed;
  std::vector<std::string> built_skipped, streamed_skipped;
  try {
    built = BuildDataset(ReadCsv(path), spec, &built_skipped);
  } catch (const Error& e) {  // DataError, or UsageError for a column in two roles
    // The CSV reader's own errors already name the file; the builder's do not.
    const std::string what = e.what();
    built_error = what.rfind(path, 0) == 0 ? what : path + ": " + what;
  }
  try {
    streamed = ReadDataset(path, spec, ',', &streamed_skipped);
  } catch (const Error& e) {
    streamed_error = e.what();
  }
  EXPECT_EQ(built_error, streamed_error);
  if (built_error.empty() && streamed_error.empty()) {
    EXPECT_EQ(built.n, streamed.n);
    EXPECT_EQ(built.p, streamed.p);
    EXPECT_EQ(built.feature_names, streamed.feature_names);
    EXPECT_EQ(built.y, streamed.y);
    EXPECT_EQ(built.d, streamed.d);
    EXPECT_EQ(built.weights, streamed.weights);
    EXPECT_EQ(built.fold, streamed.fold);
    EXPECT_EQ(built.cluster, streamed.cluster);
    EXPECT_EQ(built_skipped, streamed_skipped);
    EXPECT_TRUE(built.x.size() == streamed.x.size() &&
                std::memcmp(built.x.data(), streamed.x.data(), built.x.size() * sizeof(float)) == 0);
  }
  if (out != nullptr) *out = std::move(streamed);
  return streamed_error;
}

TEST(ReadDataset, MatchesReadCsvPlusBuildDatasetOnValidFiles) {
  struct Case {
    const char* csv;
    std::vector<std::string> features;
  };
  const Case cases[] = {
      {"y,d,x1,x2\n1.5,0,10,-1\n2.5,1,20,-2\n3.5,0,30,-3\n4.5,1,40,-4\n", {}},
      {"y,d,x1,x2,x3\n1,0,1,2,3\n2,1,4,5,6\n3,0,7,8,9\n", {"x3", "x1"}},   // reordered subset
      {"x1,y,name,d,x2\n1,1,a,0,2\n3,2,b,1,4\n5,3,c,0,6\n", {}},          // text column dropped
      {"y,d,x1,x2\n1,0,NA,2\n2,1,3,\n3,0,null,-7\n", {}},                 // missing cells
      {"\xEF\xBB\xBFy,d,\"x,1\"\r\n1,0,\"2\"\r\n2,1,3\r\n\r\n3,0,4", {}},   // BOM, CRLF, quoted name
      {"y,d,x1,x2\n1,0,1,\n2,1,3,NA\n3,0,5,late text\n", {}},             // text column found at the last row
  };
  int k = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.csv);
    Dataset data;
    EXPECT_EQ(Compare(WriteTemp(c.csv, k++), Spec(c.features), &data), "");
    EXPECT_GT(data.n, 0u);
  }
}

TEST(ReadDataset, DropsTextColumnsInPlaceAndKeepsTheOrder) {
  Dataset data;
  ASSERT_EQ(Compare(WriteTemp("a,y,t,d,b\n1,1,x,0,2\n3,2,u,1,4\n5,3,v,0,6\n", 0), Spec(), &data), "");
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(data.x, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ReadDataset, ReordersListedFeaturesInPlace) {
  Dataset data;
  ASSERT_EQ(Compare(WriteTemp("y,d,a,b,c\n1,0,1,2,3\n2,1,4,5,6\n", 0), Spec({"c", "a"}), &data), "");
  EXPECT_EQ(data.x, (std::vector<float>{3, 1, 6, 4}));
}

TEST(ReadDataset, UnlistedColumnsAreNotParsed) {
  // 'notes' holds text but is neither a role nor a listed feature: no error,
  // exactly as BuildDataset ignores it.
  EXPECT_EQ(Compare(WriteTemp("y,d,x,notes\n1,0,1,hello\n2,1,2,world\n3,0,3,!\n", 0), Spec({"x"})), "");
}

TEST(ReadDataset, ErrorsMatchAndNameTheFile) {
  const char* const bad[] = {
      "y,d,x\n1,0,1\n2,1,1e39\n",                      // beyond float32
      "y,d,x1,x2\n1,0,1,2\n2,1,3e39,4e39\n3,0,1,1\n",  // two out of range: row-major first
      "y,d,x\n1,0,1\n2,oops,2\n",                      // non-numeric treatment
      "y,d,x\n1,0,1\n2,1,inf\n3,1,3\n",                // infinite feature
      "y,d,x\n1,1,1\n2,1,2\n",                         // every row treated
      "y,d,name\n1,0,a\n2,1,b\n",                      // no numeric feature left
      "y,d,x\n1,0,1\n2,1,2,3\n",                       // ragged row (reader error)
      "y,d\n1,0\n2,1\n",                               // no features at all
  };
  int k = 0;
  for (const char* csv : bad) {
    SCOPED_TRACE(csv);
    const std::string path = WriteTemp(csv, k++);
    const std::string error = Compare(path, Spec());
    if (!error.empty()) EXPECT_EQ(error.rfind(path, 0), 0u) << error;
  }
  const std::string path = WriteTemp("y,d,x\n1,0,1\n2,1,2\n", 99);
  for (const auto& features : {std::vector<std::string>{"nope"}, std::vector<std::string>{"x", "x"},
                               std::vector<std::string>{"y"}}) {
    const std::string error = Compare(path, Spec(features));
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.rfind(path, 0), 0u) << error;
  }
  ColumnSpec spec = Spec();
  spec.weights = "w";
  EXPECT_NE(Compare(path, spec).find("weights column 'w' not found; available columns: y, d, x"),
            std::string::npos);
}

TEST(ReadDataset, HeaderFaultsAreNamedBeforeDataFaults) {
  // Regression from scripts/fuzz (corpus file crash-feature-is-role-and-bad-outcome):
  // with two faults, the two-pass path names the non-numeric outcome first,
  // the streaming reader the misused column it sees in the header. Both
  // reject the file; each names a real fault and the file.
  const std::string path = WriteTemp("y,d,x\nabc,0,1\n2,1,2\n", 0);
  const ColumnSpec spec = Spec({"d"});
  std::string built, streamed;
  try {
    BuildDataset(ReadCsv(path), spec);
  } catch (const DataError& e) {
    built = e.what();
  }
  try {
    ReadDataset(path, spec);
  } catch (const UsageError& e) {  // a column in two roles is the caller's mistake
    streamed = e.what();
  }
  EXPECT_NE(built.find("outcome column 'y' (column 1) is not numeric"), std::string::npos) << built;
  EXPECT_EQ(streamed, path + ": feature 'd' is also the treatment column");
}

TEST(ReadDataset, RoleColumnsWithFoldsAndClustersMatch) {
  ColumnSpec spec = Spec();
  spec.weights = "w";
  spec.fold = "f";
  spec.cluster = "c";
  const char* csv = "y,w,d,f,c,x\n1,1,0,1,10,5\n2,2,1,1,10,6\n3,1,0,2,20,7\n4,1,1,2,20,8\n";
  Dataset data;
  ASSERT_EQ(Compare(WriteTemp(csv, 0), spec, &data), "");
  EXPECT_EQ(data.fold, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(data.n_clusters, 2);
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x"}));
}

TEST(ReadDataset, ManyRowsAcrossReadBlocks) {
  // > 1 MiB so the reader refills and the matrix is reserved from the
  // file-size estimate; a text column (empty until then) appears only near
  // the end.
  std::string csv = "y,d,x1,late,x2\n";
  const int rows = 60000;
  for (int i = 0; i < rows; ++i) {
    csv += std::to_string(i % 7) + "," + std::to_string(i % 2) + "," + std::to_string(i) + ".25," +
           (i == rows - 3 ? std::string("text") : std::string()) + "," + std::to_string(-i) + "\n";
  }
  Dataset data;
  ASSERT_EQ(Compare(WriteTemp(csv, 0), Spec(), &data), "");
  ASSERT_EQ(data.p, 2u);
  EXPECT_EQ(data.X(rows - 1, 0), float(rows - 1) + 0.25f);
  EXPECT_EQ(data.X(rows - 1, 1), float(-(rows - 1)));
}

// The typing rule (docs/cli.md): the same column holding numbers before the
// stray word is an error naming the column, row and cell, from both readers.
TEST(ReadDataset, StrayWordInANumberColumnIsAnError) {
  std::string csv = "y,d,x1,late,x2\n";
  const int rows = 60000;
  for (int i = 0; i < rows; ++i) {
    csv += std::to_string(i % 7) + "," + std::to_string(i % 2) + "," + std::to_string(i) + ".25," +
           (i == rows - 3 ? std::string("text") : std::to_string(i)) + "," + std::to_string(-i) + "\n";
  }
  const std::string message = Compare(WriteTemp(csv, 0), Spec());
  EXPECT_NE(message.find("column 'late' (column 4) holds numbers but data row 59998 has 'text'"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace fastdml::io
