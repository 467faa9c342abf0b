#include "io/csv.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "fastdml/error.h"

namespace fastdml::io {
namespace {

// Writes `content` byte for byte to a file named after the running test, so
// tests run in parallel (ctest) never share a file.
std::string WriteTemp(const std::string& content, const std::string& suffix = "") {
  const std::filesystem::path dir = std::filesystem::path(FASTDML_TEST_TMPDIR) / "io";
  std::filesystem::create_directories(dir);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path path =
      dir / (std::string(info->test_suite_name()) + "." + info->name() + suffix + ".csv");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return path.string();
}

// The DataError message thrown by ReadCsv, or "" (with a test failure).
std::string ReadError(const std::string& path, char sep = ',') {
  try {
    ReadCsv(path, sep);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "ReadCsv(" << path << ") did not throw DataError";
  return "";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

const CsvColumn& Col(const CsvTable& table, const std::string& name) {
  const CsvColumn* column = table.Find(name);
  if (column == nullptr) throw std::runtime_error("no column " + name);
  return *column;
}

TEST(CsvReader, ReadsHeaderAndNumericColumnsInOrder) {
  const auto table = ReadCsv(WriteTemp("a,b,c\n1,2.5,-3\n4,5e2,0.125\n"));
  ASSERT_EQ(table.rows, 2u);
  ASSERT_EQ(table.columns.size(), 3u);
  EXPECT_EQ(table.columns[0].name, "a");
  EXPECT_EQ(table.columns[1].name, "b");
  EXPECT_EQ(table.columns[2].name, "c");
  EXPECT_EQ(Col(table, "a").values, (std::vector<double>{1, 4}));
  EXPECT_EQ(Col(table, "b").values, (std::vector<double>{2.5, 500}));
  EXPECT_EQ(Col(table, "c").values, (std::vector<double>{-3, 0.125}));
  for (const auto& column : table.columns) EXPECT_TRUE(column.numeric);
}

TEST(CsvReader, ParsesDoublesExactly) {
  const auto table = ReadCsv(WriteTemp("v\n0.1\n1.7976931348623157e308\n4.9e-324\n-0\n"));
  const auto& v = Col(table, "v").values;
  EXPECT_EQ(v[0], 0.1);
  EXPECT_EQ(v[1], std::numeric_limits<double>::max());
  EXPECT_EQ(v[2], std::numeric_limits<double>::denorm_min());
  EXPECT_TRUE(v[3] == 0.0 && std::signbit(v[3]));
}

TEST(CsvReader, PlainDecimalsMatchFromCharsBitForBit) {
  // The reader's fast path for plain decimals must round like from_chars.
  const std::vector<std::string> cells = {
      "0.1", "0.3", "-2.675", "123456.789", "1.0000000000000002", "9007199254740992",
      "9007199254740993", "00012.500", "5.", ".5", "-.25", "0.000000000000000000001",
      "12345678901234567890", "3.14159265358979323846", "1e5", "-0.0"};
  std::string content = "v\n";
  for (const auto& cell : cells) content += cell + "\n";
  const auto table = ReadCsv(WriteTemp(content));
  const auto& v = Col(table, "v").values;
  ASSERT_EQ(v.size(), cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const char* begin = cells[i].data();
    const char* end = begin + cells[i].size();
    double expected = 0;
    ASSERT_TRUE(std::from_chars(begin, end, expected).ptr == end) << cells[i];
    EXPECT_EQ(std::memcmp(&v[i], &expected, sizeof(double)), 0)
        << cells[i] << ": " << v[i] << " vs " << expected;
  }
}

TEST(CsvTable, FindReturnsNullForUnknownName) {
  const auto table = ReadCsv(WriteTemp("a,b\n1,2\n"));
  EXPECT_NE(table.Find("a"), nullptr);
  EXPECT_EQ(table.Find("A"), nullptr);
  EXPECT_EQ(table.Find("zz"), nullptr);
}

TEST(CsvReader, MissingTokensBecomeNaN) {
  const auto table =
      ReadCsv(WriteTemp("x,y\n,1\nNA,2\nNaN,3\nnan,4\nnull,5\nNULL,6\nna,7\n  ,8\n"));
  const auto& x = Col(table, "x");
  ASSERT_TRUE(x.numeric);
  ASSERT_EQ(x.values.size(), 8u);
  for (double v : x.values) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(Col(table, "y").values.back(), 8);
}

TEST(CsvReader, ParsesInfinitiesSignsAndOutOfRangeValues) {
  const auto table =
      ReadCsv(WriteTemp("v\ninf\n-inf\nInfinity\n+inf\n+2.5\n-1E3\n1e400\n-1e400\n1e-400\n"));
  const auto& v = Col(table, "v").values;
  const double inf = std::numeric_limits<double>::infinity();
  ASSERT_EQ(v.size(), 9u);
  EXPECT_EQ(v[0], inf);
  EXPECT_EQ(v[1], -inf);
  EXPECT_EQ(v[2], inf);
  EXPECT_EQ(v[3], inf);
  EXPECT_EQ(v[4], 2.5);
  EXPECT_EQ(v[5], -1000);
  EXPECT_EQ(v[6], inf);   // overflow, as strtod
  EXPECT_EQ(v[7], -inf);
  EXPECT_EQ(v[8], 0.0);   // underflow, as strtod
}

TEST(CsvReader, TrimsSpacesAroundCellsAndNames) {
  const auto table = ReadCsv(WriteTemp(" a , b \n  1.5 ,\t2\t\n"));
  EXPECT_EQ(Col(table, "a").values, (std::vector<double>{1.5}));
  EXPECT_EQ(Col(table, "b").values, (std::vector<double>{2}));
}

TEST(CsvReader, NonNumericCellMarksColumnWithFirstBadRowAndText) {
  const auto table = ReadCsv(WriteTemp("id,x,name\n1,2,ok\n2,abc,x\n3,0x10,y\n"));
  const auto& x = Col(table, "x");
  EXPECT_FALSE(x.numeric);
  EXPECT_EQ(x.first_bad_row, 2u);
  EXPECT_EQ(x.first_bad_text, "abc");
  EXPECT_TRUE(x.values.empty());  // not kept once a column is non-numeric
  const auto& name = Col(table, "name");
  EXPECT_FALSE(name.numeric);
  EXPECT_EQ(name.first_bad_row, 1u);
  EXPECT_EQ(name.first_bad_text, "ok");
  EXPECT_TRUE(Col(table, "id").numeric);
  EXPECT_EQ(table.rows, 3u);
  // Numbers beside the words tell a mixed column from a text one.
  EXPECT_TRUE(x.any_number);
  EXPECT_FALSE(name.any_number);
  EXPECT_TRUE(Col(table, "id").any_number);
}

TEST(CsvReader, AnyNumberLooksPastTheFirstWordAndIgnoresMissingCells) {
  const auto table = ReadCsv(WriteTemp("a,b,c\nword,NA,\n,word,\nNA,NaN,\n7,x,\n"));
  EXPECT_TRUE(Col(table, "a").any_number);  // the number comes after the word
  EXPECT_EQ(Col(table, "a").first_bad_row, 1u);
  EXPECT_FALSE(Col(table, "b").any_number);  // words and missing cells only
  EXPECT_TRUE(Col(table, "c").numeric);      // all missing: numeric, no number
  EXPECT_FALSE(Col(table, "c").any_number);
  double value = 0;
  EXPECT_TRUE(ParseNumberCell(" 2.5\t", &value));
  EXPECT_EQ(value, 2.5);
  EXPECT_TRUE(ParseNumberCell("null", &value));
  EXPECT_TRUE(std::isnan(value));
  EXPECT_FALSE(ParseNumberCell("oops", &value));
}

TEST(CsvReader, RejectsPartialNumbersHexAndDoubleSigns) {
  for (const char* cell : {"1.5abc", "0x1A", "1 2", "++1", "+-1", "1,5", "--1", "e5"}) {
    const auto table = ReadCsv(WriteTemp(std::string("v,w\n\"") + cell + "\",1\n"));
    EXPECT_FALSE(Col(table, "v").numeric) << cell;
    EXPECT_EQ(Col(table, "v").first_bad_text, cell);
  }
}

TEST(CsvReader, QuotedFieldsKeepSeparatorsNewlinesAndDoubledQuotes) {
  const std::string content =
      "\"id\",\"label, with comma\",\"x\"\n"
      "1,\"a,b\",\"1.5\"\n"
      "2,\"he said \"\"hi\"\"\",\" 2 \"\n"
      "3,\"two\nlines\",3\n"
      "4,\"\",4\n";
  const auto table = ReadCsv(WriteTemp(content));
  ASSERT_EQ(table.rows, 4u);
  ASSERT_NE(table.Find("label, with comma"), nullptr);
  EXPECT_EQ(Col(table, "x").values, (std::vector<double>{1.5, 2, 3, 4}));
  EXPECT_EQ(Col(table, "id").values, (std::vector<double>{1, 2, 3, 4}));
  const auto& label = Col(table, "label, with comma");
  EXPECT_FALSE(label.numeric);
  EXPECT_EQ(label.first_bad_text, "a,b");
}

TEST(CsvReader, DoubledQuotesAreCollapsedInBadCellText) {
  const auto table = ReadCsv(WriteTemp("s,v\n\"say \"\"hi\"\", then\nleave\",1\n"));
  EXPECT_EQ(Col(table, "s").first_bad_text, "say \"hi\", then\nleave");
  EXPECT_EQ(Col(table, "v").values, (std::vector<double>{1}));
}

TEST(CsvReader, HandlesCrlfLineEnds) {
  const auto table = ReadCsv(WriteTemp("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n5,6\r\n"));
  ASSERT_EQ(table.rows, 3u);
  EXPECT_EQ(Col(table, "a").values, (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(Col(table, "b").first_bad_row, 2u);
}

TEST(CsvReader, HandlesLoneCarriageReturnLineEnds) {
  const auto table = ReadCsv(WriteTemp("a,b\r1,2\r3,4"));
  EXPECT_EQ(Col(table, "b").values, (std::vector<double>{2, 4}));
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  const auto table = ReadCsv(WriteTemp("\xEF\xBB\xBFy,d\n1,0\n"));
  ASSERT_NE(table.Find("y"), nullptr);  // not "\xEF\xBB\xBFy"
  EXPECT_EQ(Col(table, "y").values, (std::vector<double>{1}));
}

TEST(CsvReader, AcceptsMissingFinalNewline) {
  const auto table = ReadCsv(WriteTemp("a,b\n1,2\n3,4"));
  EXPECT_EQ(table.rows, 2u);
  EXPECT_EQ(Col(table, "b").values, (std::vector<double>{2, 4}));
}

TEST(CsvReader, TrailingEmptyFieldAtEndOfFileIsMissing) {
  const auto table = ReadCsv(WriteTemp("a,b\n1,"));
  ASSERT_EQ(table.rows, 1u);
  EXPECT_TRUE(std::isnan(Col(table, "b").values[0]));
}

TEST(CsvReader, SkipsBlankLines) {
  const auto table = ReadCsv(WriteTemp("\na,b\n1,2\n\n3,4\n\n\n"));
  EXPECT_EQ(table.rows, 2u);
  EXPECT_EQ(Col(table, "a").values, (std::vector<double>{1, 3}));
}

TEST(CsvReader, UsesTheGivenSeparator) {
  const auto semi = ReadCsv(WriteTemp("a;b\n1,5;2\n", ".semi"), ';');
  EXPECT_FALSE(Col(semi, "a").numeric);  // decimal comma is not a number
  EXPECT_EQ(Col(semi, "b").values, (std::vector<double>{2}));
  const auto tab = ReadCsv(WriteTemp("a\tb\n 1 \t\n", ".tab"), '\t');
  EXPECT_EQ(Col(tab, "a").values, (std::vector<double>{1}));
  ASSERT_EQ(Col(tab, "b").values.size(), 1u);
  EXPECT_TRUE(std::isnan(Col(tab, "b").values[0]));
  const std::string err = ReadError(WriteTemp("a\tb\n1\t\t\n", ".tab3"), '\t');
  // "1<TAB><TAB>" is three fields when tab separates.
  EXPECT_CONTAINS(err, "found 3");
}

TEST(CsvReader, ReadsFilesSpanningManyBlocks) {
  // ~6 MB: records and quoted fields straddle the 1 MiB block boundaries.
  std::string content = "i,x,s\r\n";
  const std::size_t n = 200000;
  for (std::size_t i = 0; i < n; ++i) {
    content += std::to_string(i) + "," + std::to_string(i * 0.5) + ",\"q,\"\"" +
               std::to_string(i) + "\"\"\nz\"\r\n";
  }
  const auto table = ReadCsv(WriteTemp(content));
  ASSERT_EQ(table.rows, n);
  const auto& i_col = Col(table, "i").values;
  const auto& x_col = Col(table, "x").values;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(i_col[i], double(i));
    ASSERT_EQ(x_col[i], i * 0.5);
  }
  EXPECT_EQ(Col(table, "s").first_bad_text, "q,\"0\"\nz");
}

TEST(CsvReader, ReadsAFieldLongerThanTheReadBuffer) {
  const std::string long_text(3u << 20, 'a');  // 3 MiB, larger than one block
  const auto table = ReadCsv(WriteTemp("s,v\n\"" + long_text + "\",1\n2,3\n"));
  EXPECT_EQ(table.rows, 2u);
  EXPECT_EQ(Col(table, "s").first_bad_text.size(), long_text.size());
  EXPECT_EQ(Col(table, "v").values, (std::vector<double>{1, 3}));
}

// --- errors -----------------------------------------------------------------

TEST(CsvErrors, UnopenableFileNamesThePath) {
  const std::string path = std::string(FASTDML_TEST_TMPDIR) + "/io/does_not_exist.csv";
  const std::string err = ReadError(path);
  EXPECT_CONTAINS(err, "cannot open");
  EXPECT_CONTAINS(err, path);
}

TEST(CsvErrors, EmptyFileIsAnError) {
  const std::string path = WriteTemp("");
  const std::string err = ReadError(path);
  EXPECT_CONTAINS(err, path);
  EXPECT_CONTAINS(err, "empty");
}

TEST(CsvErrors, FileWithOnlyBomAndBlankLinesIsEmpty) {
  EXPECT_CONTAINS(ReadError(WriteTemp("\xEF\xBB\xBF\n\r\n\n")), "empty");
}

TEST(CsvErrors, HeaderOnlyFileSaysNoDataRows) {
  const std::string path = WriteTemp("y,d,x\n");
  const std::string err = ReadError(path);
  EXPECT_CONTAINS(err, path);
  EXPECT_CONTAINS(err, "has a header but no data rows");
  EXPECT_CONTAINS(ReadError(WriteTemp("y,d,x", ".nonl")), "has a header but no data rows");
  EXPECT_CONTAINS(ReadError(WriteTemp("y,d,x\n\n\n", ".blank")), "has a header but no data rows");
}

TEST(CsvErrors, ShortRowNamesRowLineAndCounts) {
  const std::string path = WriteTemp("a,b,c\n1,2,3\n4,5\n");
  const std::string err = ReadError(path);
  EXPECT_CONTAINS(err, path);
  EXPECT_CONTAINS(err, "data row 2");
  EXPECT_CONTAINS(err, "line 3");
  EXPECT_CONTAINS(err, "expected 3");
  EXPECT_CONTAINS(err, "found 2");
  EXPECT_CONTAINS(err, "'c'");
}

TEST(CsvErrors, LongRowNamesRowAndCounts) {
  const std::string err = ReadError(WriteTemp("a,b\n1,2\n3,4\n5,6,7\n"));
  EXPECT_CONTAINS(err, "data row 3");
  EXPECT_CONTAINS(err, "expected 2");
  EXPECT_CONTAINS(err, "found 3");
}

TEST(CsvErrors, RaggedRowLineCountsLinesInsideQuotedFields) {
  const std::string err = ReadError(WriteTemp("a,b\n\"x\ny\",1\n\n2\n"));
  EXPECT_CONTAINS(err, "data row 2");
  EXPECT_CONTAINS(err, "line 5");
}

TEST(CsvErrors, DuplicateColumnNameIsNamed) {
  const std::string err = ReadError(WriteTemp("x,y,x\n1,2,3\n"));
  EXPECT_CONTAINS(err, "duplicate column name 'x'");
  EXPECT_CONTAINS(err, "columns 1 and 3");
}

TEST(CsvErrors, EmptyColumnNameGivesItsPosition) {
  const std::string err = ReadError(WriteTemp("a,,c\n1,2,3\n"));
  EXPECT_CONTAINS(err, "column 2 of 3");
  EXPECT_CONTAINS(err, "empty name");
  EXPECT_CONTAINS(ReadError(WriteTemp("a,b,\n1,2,3\n", ".trailing")), "column 3 of 3");
}

TEST(CsvErrors, UnterminatedQuoteNamesRowAndColumn) {
  const std::string err = ReadError(WriteTemp("a,b\n1,2\n3,\"oops\n4,5\n"));
  EXPECT_CONTAINS(err, "unterminated quoted field");
  EXPECT_CONTAINS(err, "data row 2");
  EXPECT_CONTAINS(err, "column 2 ('b')");
}

TEST(CsvErrors, UnterminatedQuoteNamesTheLineWhereTheFieldStarts) {
  // Field 2 of row 2 opens on line 4 and holds a newline before its "".
  const std::string err = ReadError(WriteTemp("a,b\n1,2\n\"x\ny\",\"p\n\"\"\nq\n4,5\n"));
  EXPECT_CONTAINS(err, "data row 2 (line 4), column 2 ('b')");
}

TEST(CsvErrors, TextAfterClosingQuoteNamesRowAndColumn) {
  const std::string err = ReadError(WriteTemp("a,b\n\"1\"x,2\n"));
  EXPECT_CONTAINS(err, "data row 1");
  EXPECT_CONTAINS(err, "column 1 ('a')");
  EXPECT_CONTAINS(err, "after a closing quote");
}

}  // namespace
}  // namespace fastdml::io
