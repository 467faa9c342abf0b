// Parquet and Arrow IPC input (src/io/columnar.h): the same Dataset, the same
// JSON and the same rules as CSV. The Parquet / Arrow files are written here
// by the project venv's pyarrow (scripts/setup installs it), from Python
// snippets, so each test states its data next to its checks.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "io/columnar.h"
#include "io/csv.h"
#include "io/dataset_builder.h"

namespace fastdml::io {
namespace {

namespace fs = std::filesystem;

const std::string kPython = std::string(FASTDML_SOURCE_DIR) + "/.venv/bin/python";

// A fresh folder named after the running test.
fs::path TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(FASTDML_TEST_TMPDIR) / "columnar" /
                       (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a Python snippet in `dir` (pyarrow as pa, pyarrow.parquet as pq,
// pyarrow.feather as feather, numpy as np already imported).
void Python(const fs::path& dir, const std::string& body) {
  ASSERT_TRUE(fs::exists(kPython)) << kPython << " missing: run scripts/setup";
  const fs::path script = dir / "write.py";
  WriteText(script,
            "import os, decimal, datetime\nimport numpy as np\nimport pyarrow as pa\n"
            "import pyarrow.parquet as pq\nimport pyarrow.feather as feather\nimport pyarrow.csv\n"
            "os.chdir(" "'" + dir.string() + "')\n" + body + "\n");
  const std::string command = "'" + kPython + "' '" + script.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << "python failed: " << body;
}

ColumnSpec Spec(std::vector<std::string> features = {}) {
  ColumnSpec spec;
  spec.outcome = "y";
  spec.treatment = "d";
  spec.features = std::move(features);
  return spec;
}

std::string ErrorOf(const std::string& path, const ColumnSpec& spec, DataFormat format = DataFormat::kAuto) {
  try {
    ReadDataset(path, spec, ',', nullptr, format);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "ReadDataset(" << path << ") did not throw DataError";
  return "";
}

// The CLI's stdout+stderr and exit code.
int RunCli(const std::string& args, std::string* output) {
  const std::string out = (fs::path(FASTDML_TEST_TMPDIR) / "columnar_cli.txt").string();
  const std::string command = std::string("'") + FASTDML_CLI_PATH + "' " + args + " > '" + out + "' 2>&1";
  const int status = std::system(command.c_str());
  *output = ReadText(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ColumnarFormat, ByExtensionAndOverride) {
  EXPECT_EQ(ResolveDataFormat("a/b.parquet", DataFormat::kAuto), DataFormat::kParquet);
  EXPECT_EQ(ResolveDataFormat("B.PQ", DataFormat::kAuto), DataFormat::kParquet);
  EXPECT_EQ(ResolveDataFormat("b.arrow", DataFormat::kAuto), DataFormat::kArrow);
  EXPECT_EQ(ResolveDataFormat("b.feather", DataFormat::kAuto), DataFormat::kArrow);
  EXPECT_EQ(ResolveDataFormat("b.csv", DataFormat::kAuto), DataFormat::kCsv);
  EXPECT_EQ(ResolveDataFormat("b.txt", DataFormat::kAuto), DataFormat::kCsv);
  EXPECT_EQ(ResolveDataFormat("b.csv", DataFormat::kParquet), DataFormat::kParquet);
  EXPECT_EQ(ParseDataFormat("arrow"), DataFormat::kArrow);
  EXPECT_THROW(ParseDataFormat("orc"), UsageError);
}

// The tentpole: one data set as CSV, Parquet (one file with several row
// groups, and a folder of parts), Arrow IPC file and stream gives the same
// JSON byte for byte, also when --format overrides the extension.
TEST(ColumnarCli, SameJsonFromEveryFormat) {
  const fs::path dir = TestDir();
  std::string output;
  ASSERT_EQ(RunCli("simulate --design irm --n 600 --p 6 --seed 3 --out '" + (dir / "sim.csv").string() + "'", &output), 0)
      << output;
  Python(dir,
         "t = pyarrow.csv.read_csv('sim.csv')\n"
         "pq.write_table(t, 'sim.parquet', row_group_size=128)\n"
         "feather.write_feather(t, 'sim.arrow', chunksize=100)\n"
         "with pa.ipc.new_stream('sim_stream.arrow', t.schema) as w: w.write_table(t, max_chunksize=77)\n"
         "os.makedirs('parts')\n"
         "for k, (a, b) in enumerate([(0, 250), (250, 251), (251, 600)]):\n"
         "    pq.write_table(t.slice(a, b - a), f'parts/part-{k}.parquet')\n"
         "open('parts/_SUCCESS', 'w').close()\n"
         "pq.write_table(t, 'parquet_named.bin')\n");
  const std::string common = " --outcome y --treatment d --no-timings --quiet --rounds 8 --folds 3 --json ";
  auto run = [&](const std::string& data, const std::string& extra) {
    const std::string json = (dir / (fs::path(data).filename().string() + std::to_string(extra.size()) + ".json")).string();
    std::string out;
    EXPECT_EQ(RunCli("estimate --data '" + (dir / data).string() + "'" + extra + common + "'" + json + "'", &out), 0)
        << data << ": " << out;
    return ReadText(json);
  };
  const std::string csv = run("sim.csv", "");
  ASSERT_NE(csv.find("\"estimates\""), std::string::npos) << csv;
  EXPECT_EQ(run("sim.parquet", ""), csv);
  EXPECT_EQ(run("sim.arrow", ""), csv);
  EXPECT_EQ(run("sim_stream.arrow", ""), csv);
  EXPECT_EQ(run("parts", ""), csv);
  EXPECT_EQ(run("parquet_named.bin", " --format parquet"), csv);
  // Without the override the .bin file is read as CSV and fails, naming it.
  std::string out;
  EXPECT_NE(RunCli("estimate --data '" + (dir / "parquet_named.bin").string() + "'" + common + "x.json", &out), 0);
  EXPECT_NE(out.find("parquet_named.bin"), std::string::npos) << out;
  EXPECT_NE(RunCli("estimate --format orc --data x" + common + "x.json", &out), 0);
}

// Every accepted type, nulls in features, and the matrix as Build makes it
// from CSV: checked value by value, from Parquet and Arrow.
TEST(ColumnarRead, EveryTypeAsNumbers) {
  const fs::path dir = TestDir();
  Python(dir,
         "n = 9\n"
         "i = np.arange(n)\n"
         "t = pa.table({\n"
         "  'y': pa.array(i * 0.5, pa.float64()),\n"
         "  'd': pa.array(i % 2 == 1),\n"
         "  'i8': pa.array(i - 4, pa.int8()), 'u16': pa.array(i * 1000, pa.uint16()),\n"
         "  'i32': pa.array(-i, pa.int32()), 'i64': pa.array(i * 3, pa.int64()),\n"
         "  'u64': pa.array(i, pa.uint64()), 'f32': pa.array(i / 4, pa.float32()),\n"
         "  'dec': pa.array([decimal.Decimal(k) / 8 for k in range(n)], pa.decimal128(10, 3)),\n"
         "  'dict_num': pa.array([float(k % 3) for k in range(n)]).dictionary_encode(),\n"
         "  'dict_txt': pa.array([str(k % 3 + 0.25) for k in range(n)]).dictionary_encode(),\n"
         "  'txt': pa.array([f' {k}e1 ' if k != 4 else 'NA' for k in range(n)]),\n"
         "  'big_txt': pa.array([str(k) for k in range(n)], pa.large_string()),\n"
         "  'nulls': pa.array([None if k % 4 == 0 else k for k in range(n)], pa.float64()),\n"
         "  'null_ints': pa.array([None if k == 2 else k for k in range(n)], pa.int64()),\n"
         "  'all_null': pa.array([None] * n, pa.null()),\n"
         "})\n"
         "pq.write_table(t, 't.parquet', row_group_size=4)\n"
         "feather.write_feather(t, 't.arrow', chunksize=5)\n"
         "feather.write_feather(t, 't_plain.arrow', compression='uncompressed')\n");
  for (const std::string file : {"t.parquet", "t.arrow", "t_plain.arrow"}) {
    SCOPED_TRACE(file);
    std::vector<std::string> skipped;
    const Dataset data = ReadDataset((dir / file).string(), Spec(), ',', &skipped);
    EXPECT_TRUE(skipped.empty());
    ASSERT_EQ(data.n, 9u);
    const std::vector<std::string> names = {"i8",       "u16", "i32",   "i64",   "u64",       "f32",     "dec",
                                            "dict_num", "dict_txt", "txt", "big_txt", "nulls", "null_ints", "all_null"};
    ASSERT_EQ(data.feature_names, names);
    const double nan = std::nan("");
    for (std::size_t i = 0; i < 9; ++i) {
      const double k = double(i);
      EXPECT_EQ(data.y[i], k * 0.5);
      EXPECT_EQ(data.d[i], double(i % 2));
      const double want[] = {k - 4,        k * 1000, -k,        k * 3, k, k / 4, k / 8, double(i % 3),
                             double(i % 3) + 0.25, i == 4 ? nan : k * 10, k, i % 4 == 0 ? nan : k,
                             i == 2 ? nan : k, nan};
      for (std::size_t j = 0; j < names.size(); ++j) {
        const float got = data.x[i * names.size() + j];
        if (std::isnan(want[j])) {
          EXPECT_TRUE(std::isnan(got)) << names[j] << " row " << i;
        } else {
          EXPECT_EQ(got, float(want[j])) << names[j] << " row " << i;
        }
      }
    }
  }
}

// Only the used columns are read, in the listed order; the role columns come
// back as double (no float32 rounding), as from CSV.
TEST(ColumnarRead, ListedFeaturesInOrderAndDoubleRoles) {
  const fs::path dir = TestDir();
  Python(dir,
         "t = pa.table({'a': [1.0, 2.0, 3.0], 'y': [0.1, 0.2, 0.30000000000000004], 'd': [0, 1, 0],\n"
         "              'b': [4, 5, 6], 'when': pa.array([datetime.date(2020, 1, k + 1) for k in range(3)])})\n"
         "pq.write_table(t, 't.parquet')\nfeather.write_feather(t, 't.arrow')\n");
  for (const std::string file : {"t.parquet", "t.arrow"}) {
    const Dataset data = ReadDataset((dir / file).string(), Spec({"b", "a"}));
    EXPECT_EQ(data.feature_names, (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(data.x, (std::vector<float>{4, 1, 5, 2, 6, 3}));
    EXPECT_EQ(data.y[2], 0.30000000000000004);
  }
}

TEST(ColumnarRead, NullInFeatureIsMissingButNullInRoleNamesColumnAndRow) {
  const fs::path dir = TestDir();
  Python(dir,
         "y = [float(k) for k in range(10)]\ny[6] = None\n"
         "t = pa.table({'y': y, 'd': [k % 2 for k in range(10)], 'x': [None] + [float(k) for k in range(9)],\n"
         "              'w': [1.0] * 7 + [None] + [1.0] * 2})\n"
         "pq.write_table(t, 't.parquet', row_group_size=3)\nfeather.write_feather(t, 't.arrow', chunksize=4)\n"
         "os.makedirs('parts')\n"
         "pq.write_table(t.slice(0, 5), 'parts/a.parquet')\npq.write_table(t.slice(5), 'parts/b.parquet')\n");
  for (const std::string file : {"t.parquet", "t.arrow", "parts"}) {
    SCOPED_TRACE(file);
    const std::string path = (dir / file).string();
    // Row 7 (1-based) holds the null outcome; in parts/ it is row 2 of the
    // second file, still reported as data row 7 of the whole input.
    const std::string message = ErrorOf(path, Spec({"x"}));
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("missing outcome 'y' at row 7"), std::string::npos) << message;
  }
  // With the outcome complete, the null feature cell is NaN.
  Python(dir, "t = pa.table({'y': [1.0, 2.0, 3.0], 'd': [0, 1, 1], 'x': [None, 2.5, 3.0]})\n"
              "pq.write_table(t, 'ok.parquet')\n");
  const Dataset data = ReadDataset((dir / "ok.parquet").string(), Spec());
  EXPECT_TRUE(std::isnan(data.x[0]));
  EXPECT_EQ(data.x[1], 2.5f);
}

TEST(ColumnarRead, NullWeightNamesRow) {
  const fs::path dir = TestDir();
  Python(dir, "t = pa.table({'y': [1.0, 2.0, 3.0, 4.0], 'd': [0, 1, 1, 0], 'x': [1, 2, 3, 4],\n"
              "              'w': [1.0, None, 1.0, 1.0]})\npq.write_table(t, 't.parquet')\n");
  ColumnSpec spec = Spec({"x"});
  spec.weights = "w";
  const std::string message = ErrorOf((dir / "t.parquet").string(), spec);
  EXPECT_NE(message.find("row 2"), std::string::npos) << message;
}

// The typing rule: numbers with one stray word are an error naming the column,
// the first bad row and the cell, in CSV and in a Parquet text column alike;
// a column with no number at all is text and is left out of the features.
TEST(TypingRule, StrayWordAmongNumbersIsAnError) {
  const fs::path dir = TestDir();
  std::string csv = "y,d,x,z,name\n";
  for (int i = 1; i <= 200; ++i) {
    csv += std::to_string(i % 7) + "," + std::to_string(i % 2) + "," + std::to_string(i) + "," +
           (i == 150 ? std::string("oops") : std::to_string(i * 2)) + ",shop" + std::to_string(i % 3) + "\n";
  }
  WriteText(dir / "t.csv", csv);
  Python(dir, "t = pyarrow.csv.read_csv('t.csv', convert_options=pyarrow.csv.ConvertOptions(\n"
              "    column_types={'z': pa.string()}))\n"
              "pq.write_table(t, 't.parquet', row_group_size=64)\nfeather.write_feather(t, 't.arrow')\n"
              "pq.write_table(t.set_column(3, 'z', t.column('z').dictionary_encode()), 'dict.parquet')\n");
  for (const std::string file : {"t.csv", "t.parquet", "t.arrow", "dict.parquet"}) {
    SCOPED_TRACE(file);
    const std::string path = (dir / file).string();
    const std::string message = ErrorOf(path, Spec());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("column 'z'"), std::string::npos) << message;
    EXPECT_NE(message.find("data row 150"), std::string::npos) << message;
    EXPECT_NE(message.find("'oops'"), std::string::npos) << message;
    // Listing the features leaves z out, and the text column too.
    const Dataset data = ReadDataset(path, Spec({"x"}));
    EXPECT_EQ(data.p, 1u);
  }
  // The non-streaming path (the fuzz harness' reference) applies the same rule.
  EXPECT_THROW(BuildDataset(ReadCsv((dir / "t.csv").string()), Spec()), DataError);
}

TEST(TypingRule, TextColumnIsLeftOutAndWordFirstStillCounts) {
  const fs::path dir = TestDir();
  WriteText(dir / "text.csv", "y,d,x,name\n1,0,1,a\n2,1,2,b\n3,0,3,\n4,1,4,NA\n");
  std::vector<std::string> skipped;
  const Dataset data = ReadDataset((dir / "text.csv").string(), Spec(), ',', &skipped);
  EXPECT_EQ(data.feature_names, std::vector<std::string>{"x"});
  EXPECT_EQ(skipped, std::vector<std::string>{"name"});
  // The word comes first and the numbers later: still a mixed column.
  WriteText(dir / "late.csv", "y,d,x,z\n1,0,1,oops\n2,1,2,\n3,0,3,7\n4,1,4,8\n");
  const std::string message = ErrorOf((dir / "late.csv").string(), Spec());
  EXPECT_NE(message.find("column 'z'"), std::string::npos) << message;
  EXPECT_NE(message.find("data row 1"), std::string::npos) << message;
  // Text columns in Parquet and Arrow: left out the same way.
  Python(dir, "t = pyarrow.csv.read_csv('text.csv')\npq.write_table(t, 'text.parquet')\n"
              "feather.write_feather(t, 'text.arrow')\n");
  for (const std::string file : {"text.parquet", "text.arrow"}) {
    skipped.clear();
    const Dataset columnar = ReadDataset((dir / file).string(), Spec(), ',', &skipped);
    EXPECT_EQ(columnar.feature_names, std::vector<std::string>{"x"});
    EXPECT_EQ(skipped, std::vector<std::string>{"name"});
  }
}

// Dates, lists, binary: left out of the default features like text; an error
// naming the column and its type in a role or as a listed feature.
TEST(ColumnarRead, UnsupportedTypes) {
  const fs::path dir = TestDir();
  Python(dir, "t = pa.table({'y': [1.0, 2.0, 3.0], 'd': [0, 1, 1], 'x': [1.5, 2.5, 0.5],\n"
              "  'when': pa.array([datetime.date(2020, 1, k + 1) for k in range(3)]),\n"
              "  'tags': pa.array([[1], [2, 3], []]), 'blob': pa.array([b'a', b'b', b'c'])})\n"
              "pq.write_table(t, 't.parquet')\nfeather.write_feather(t, 't.arrow')\n");
  for (const std::string file : {"t.parquet", "t.arrow"}) {
    SCOPED_TRACE(file);
    const std::string path = (dir / file).string();
    std::vector<std::string> skipped;
    const Dataset data = ReadDataset(path, Spec(), ',', &skipped);
    EXPECT_EQ(data.feature_names, std::vector<std::string>{"x"});
    EXPECT_EQ(skipped, (std::vector<std::string>{"when", "tags", "blob"}));
    std::string message = ErrorOf(path, Spec({"x", "when"}));
    EXPECT_NE(message.find("feature column 'when'"), std::string::npos) << message;
    EXPECT_NE(message.find("date32"), std::string::npos) << message;
    ColumnSpec spec = Spec({"x"});
    spec.outcome = "tags";
    message = ErrorOf(path, spec);
    EXPECT_NE(message.find("outcome column 'tags'"), std::string::npos) << message;
    EXPECT_NE(message.find("list"), std::string::npos) << message;
  }
}

TEST(ColumnarRead, CorruptOrWrongFilesAreDataErrorsNamingTheFile) {
  const fs::path dir = TestDir();
  Python(dir, "t = pa.table({'y': [1.0, 2.0, 3.0] * 50, 'd': [0, 1, 1] * 50, 'x': [1.5, 2.5, 0.5] * 50})\n"
              "pq.write_table(t, 'good.parquet')\nfeather.write_feather(t, 'good.arrow')\n"
              "for name in ['good.parquet', 'good.arrow']:\n"
              "    data = open(name, 'rb').read()\n"
              "    open('cut_' + name, 'wb').write(data[: len(data) // 2])\n"
              "    open('flipped_' + name, 'wb').write(data[:8] + bytes(200) + data[208:])\n"
              "open('text.parquet', 'w').write('y,d,x\\n1,0,1\\n')\nopen('text.arrow', 'w').write('y,d\\n')\n"
              "open('empty.parquet', 'w').close()\n"
              "pq.write_table(t.slice(0, 0), 'norows.parquet')\n"
              "os.makedirs('mixed')\npq.write_table(t, 'mixed/a.parquet')\n"
              "pq.write_table(t.rename_columns(['y', 'd', 'z']), 'mixed/b.parquet')\n"
              "os.makedirs('emptydir')\n");
  for (const std::string file : {"cut_good.parquet", "cut_good.arrow", "text.parquet", "text.arrow",
                                 "empty.parquet", "norows.parquet", "missing.parquet", "missing.arrow",
                                 "emptydir", "mixed"}) {
    SCOPED_TRACE(file);
    const std::string path = (dir / file).string();
    const std::string message = ErrorOf(path, Spec());
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
  EXPECT_NE(ErrorOf((dir / "mixed").string(), Spec()).find("b.parquet"), std::string::npos);
  // A flipped block inside the data either fails cleanly or reads numbers;
  // it must not crash.
  for (const std::string file : {"flipped_good.parquet", "flipped_good.arrow"}) {
    try {
      ReadDataset((dir / file).string(), Spec());
    } catch (const Error&) {
    }
  }
  // The CSV reader still reads .csv files of course, and a CSV given
  // --format parquet is a Parquet error naming the file.
  WriteText(dir / "t.csv", "y,d,x\n1,0,1\n2,1,2\n3,1,3\n");
  const std::string message = ErrorOf((dir / "t.csv").string(), Spec(), DataFormat::kParquet);
  EXPECT_NE(message.find("t.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("Parquet"), std::string::npos) << message;
}

// Large enough for several slices and matrix tiles per batch, with columns
// dropped and reordered: the columnar matrix equals the CSV one.
TEST(ColumnarRead, ManyRowsMatchCsv) {
  const fs::path dir = TestDir();
  Python(dir, "rng = np.random.default_rng(1)\nn = 20000\n"
              "cols = {'y': rng.normal(size=n), 'd': rng.integers(0, 2, n)}\n"
              "for j in range(7): cols[f'x{j}'] = rng.normal(size=n) * 10 ** j\n"
              "cols['x3'][5] = np.nan\n"
              "t = pa.table(cols)\n"
              "pyarrow.csv.write_csv(t, 't.csv')\n"
              "pq.write_table(t, 't.parquet', row_group_size=7000)\nfeather.write_feather(t, 't.arrow')\n");
  for (const auto& features : {std::vector<std::string>{}, std::vector<std::string>{"x5", "x0", "x3"}}) {
    const Dataset csv = ReadDataset((dir / "t.csv").string(), Spec(features));
    for (const std::string file : {"t.parquet", "t.arrow"}) {
      const Dataset columnar = ReadDataset((dir / file).string(), Spec(features));
      EXPECT_EQ(columnar.feature_names, csv.feature_names);
      ASSERT_EQ(columnar.x.size(), csv.x.size());
      EXPECT_EQ(std::memcmp(columnar.x.data(), csv.x.data(), csv.x.size() * sizeof(float)), 0) << file;
      EXPECT_EQ(columnar.y, csv.y);
      EXPECT_EQ(columnar.d, csv.d);
    }
  }
}

TEST(ColumnarRead, FeatureBeyondFloatRange) {
  const fs::path dir = TestDir();
  Python(dir, "t = pa.table({'y': [1.0, 2.0, 3.0], 'd': [0, 1, 1], 'x': [1.0, 1e300, 2.0]})\n"
              "pq.write_table(t, 't.parquet')\n");
  const std::string message = ErrorOf((dir / "t.parquet").string(), Spec());
  EXPECT_NE(message.find("feature 'x': data row 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace fastdml::io
