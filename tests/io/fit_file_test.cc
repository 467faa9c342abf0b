// The binary fit file of --save-fit / --load-fit (src/io/fit_file.h, layout in
// docs/fit-file.md): a bit-exact round trip, and a clear error naming the file
// for every way a file can be wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "fastdml/error.h"
#include "io/fit_file.h"

namespace fastdml::io {
namespace {

namespace fs = std::filesystem;

fs::path TempPath(const std::string& name) {
  const fs::path dir = fs::path(FASTDML_TEST_TMPDIR) / "fit_file";
  fs::create_directories(dir);
  return dir / name;
}

std::string Slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Spit(const fs::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// 60 rows, alternating arms, 4 folds x 2 repetitions; values with full
// 53-bit mantissas (and one subnormal, one negative zero) so that any
// rounding on the way through the file would show.
struct Example {
  Dataset data;
  Fit fit;
};

Example MakeExample(Model model) {
  Example ex;
  const std::size_t n = 60;
  const int reps = 2;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Dataset& d = ex.data;
  d.n = n;
  d.p = 2;
  d.feature_names = {"x1", "x2"};
  d.outcome_name = "revenue";
  d.treatment_name = "followed";
  for (std::size_t i = 0; i < n; ++i) {
    d.x.push_back(static_cast<float>(u(rng)));
    d.x.push_back(static_cast<float>(u(rng)));
    d.y.push_back(10 * u(rng) - 3);
    d.d.push_back(static_cast<double>(i % 2));
  }
  Fit& f = ex.fit;
  f.options.model = model;
  f.options.estimands = {Estimand::kAte};
  f.options.folds = 4;
  f.options.reps = reps;
  f.options.seed = 123456789012345ULL;
  f.options.outcome_design = OutcomeDesign::kSeparate;
  f.options.propensity.max_depth = 3;
  f.options.outcome.eta = 0.0625;
  f.options.outcome.seed = 99;
  f.xgboost_version = "3.2.0";
  Predictions& p = f.predictions;
  p.n = n;
  p.reps = reps;
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      p.fold.push_back(static_cast<int>((i / 2 + r) % 4));
      p.m.push_back(0.05 + 0.9 * u(rng));
      if (model == Model::kIrm) {
        p.g0.push_back(u(rng) * 7 - 1);
        p.g1.push_back(u(rng) * 9 - 1);
      } else {
        p.l.push_back(u(rng) * 5);
      }
    }
  }
  if (model == Model::kIrm) {
    p.g0[3] = 4.9406564584124654e-324;  // subnormal
    p.g1[5] = -0.0;
  }
  return ex;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Runs `f`, expects a DataError whose message names `path` and contains `what`.
template <typename F>
void ExpectDataError(F f, const fs::path& path, const std::string& what) {
  try {
    f();
    FAIL() << "no error; expected one mentioning '" << what << "'";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(FitFile, RoundTripIsBitExactForIrm) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("irm.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {"sales.csv", "w", ""});
  const FitFile back = ReadFitFile(path.string());
  EXPECT_EQ(back.version, kFitFileVersion);
  EXPECT_EQ(back.xgboost_version, "3.2.0");
  EXPECT_EQ(back.predictions.n, 60u);
  EXPECT_EQ(back.predictions.reps, 2);
  EXPECT_EQ(back.predictions.fold, ex.fit.predictions.fold);
  EXPECT_TRUE(SameBits(back.predictions.m, ex.fit.predictions.m));
  EXPECT_TRUE(SameBits(back.predictions.g0, ex.fit.predictions.g0));
  EXPECT_TRUE(SameBits(back.predictions.g1, ex.fit.predictions.g1));
  EXPECT_TRUE(back.predictions.l.empty());
  EXPECT_EQ(back.options.model, Model::kIrm);
  EXPECT_EQ(back.options.outcome_design, OutcomeDesign::kSeparate);
  EXPECT_EQ(back.options.seed, 123456789012345ULL);
  EXPECT_EQ(back.options.propensity.max_depth, 3);
  EXPECT_EQ(back.options.outcome.eta, 0.0625);
  EXPECT_EQ(back.options.outcome.seed, 99);
  EXPECT_EQ(back.outcome, "revenue");
  EXPECT_EQ(back.treatment, "followed");
  EXPECT_EQ(back.features, ex.data.feature_names);
  EXPECT_EQ(back.source.data_path, "sales.csv");
  EXPECT_EQ(back.source.weights, "w");
  EXPECT_EQ(back.y_hash, ColumnHash(ex.data.y));
  EXPECT_EQ(back.d_hash, ColumnHash(ex.data.d));
}

TEST(FitFile, RoundTripIsBitExactForPlrAndTheLayoutIsAsDocumented) {
  const Example ex = MakeExample(Model::kPlr);
  const fs::path path = TempPath("plr.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  const FitFile back = ReadFitFile(path.string());
  EXPECT_EQ(back.options.model, Model::kPlr);
  EXPECT_TRUE(SameBits(back.predictions.m, ex.fit.predictions.m));
  EXPECT_TRUE(SameBits(back.predictions.l, ex.fit.predictions.l));
  EXPECT_TRUE(back.predictions.g0.empty());

  // docs/fit-file.md: magic, uint32 version, uint32 0, uint64 header length,
  // header, zero padding to 8, then fold (int32) and m (float64) columns.
  const std::string bytes = Slurp(path);
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("FDMLFIT\0", 8));
  std::uint32_t version = 0, reserved = 1;
  std::uint64_t header = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&reserved, bytes.data() + 12, 4);
  std::memcpy(&header, bytes.data() + 16, 8);
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(reserved, 0u);
  const std::size_t data_start = (24 + header + 7) / 8 * 8;
  const std::size_t total = 120;
  const std::size_t m_offset = (total * 4 + 7) / 8 * 8;
  EXPECT_EQ(bytes.size(), data_start + m_offset + 2 * total * 8);
  int fold5 = -1;
  std::memcpy(&fold5, bytes.data() + data_start + 5 * 4, 4);
  EXPECT_EQ(fold5, ex.fit.predictions.fold[5]);
  double m7 = 0;
  std::memcpy(&m7, bytes.data() + data_start + m_offset + 7 * 8, 8);
  EXPECT_EQ(m7, ex.fit.predictions.m[7]);
}

TEST(FitFile, TruncatedFilesAreNamedAsTruncated) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("whole.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  const std::string bytes = Slurp(path);
  std::uint64_t header = 0;
  std::memcpy(&header, bytes.data() + 16, 8);
  const fs::path cut = TempPath("cut.fit");
  for (std::size_t keep : {std::size_t{0}, std::size_t{5}, std::size_t{20}, std::size_t{24 + header / 2},
                           bytes.size() / 2, bytes.size() - 1}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(bytes.size()) + " bytes");
    Spit(cut, bytes.substr(0, keep));
    ExpectDataError([&] { ReadFitFile(cut.string()); }, cut, "truncated");
  }
}

TEST(FitFile, BadMagicSaysItIsNotAFitFile) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("magic.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  std::string bytes = Slurp(path);
  bytes[3] = 'X';
  Spit(path, bytes);
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "bad magic");
  // A predictions CSV given to --load-fit by mistake.
  Spit(path, "row,rep,fold,m_hat,g0_hat,g1_hat,l_hat\n0,0,0,0.5,1,2,\n");
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "bad magic");
}

TEST(FitFile, AnotherLayoutVersionIsRefusedWithBothVersions) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("version.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  std::string bytes = Slurp(path);
  const std::uint32_t two = 2;
  std::memcpy(bytes.data() + 8, &two, 4);
  Spit(path, bytes);
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "layout version 2");
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "reads version 1");
}

TEST(FitFile, TrailingBytesAndABrokenHeaderAreErrors) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("broken.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  const std::string bytes = Slurp(path);
  Spit(path, bytes + std::string(8, '\0'));
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "bytes after the last column");
  std::string broken = bytes;
  broken[24] = '[';  // the header's opening brace
  Spit(path, broken);
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "not JSON");
  ExpectDataError([&] { ReadFitFile(TempPath("absent.fit").string()); }, TempPath("absent.fit"), "cannot open");
}

// Rebuilds the file at `path` with its header replaced by `edit(header)`.
template <typename Edit>
void EditHeader(const fs::path& path, Edit edit) {
  const std::string bytes = Slurp(path);
  std::uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes.data() + 16, 8);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(24, header_bytes));
  const std::string data = bytes.substr((24 + header_bytes + 7) / 8 * 8);
  edit(header);
  const std::string text = header.dump();
  std::string out = bytes.substr(0, 16);
  const std::uint64_t length = text.size();
  out.append(reinterpret_cast<const char*>(&length), 8);
  out += text;
  out.resize((out.size() + 7) / 8 * 8, '\0');
  Spit(path, out + data);
}

TEST(FitFile, ADamagedHeaderIsRefusedBeforeAnythingIsAllocated) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("huge.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  // 2^36 rows x 8 bytes would be 512 GiB per column: the reader must refuse
  // it from the file's size, not try to allocate it.
  EditHeader(path, [](nlohmann::json& h) {
    h["n"] = std::uint64_t{1} << 36;
    h["reps"] = 1;
    for (auto& c : h["columns"]) c["count"] = std::uint64_t{1} << 36;
  });
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "lies outside the data section");

  WriteFitFile(path.string(), ex.fit, ex.data, {});
  EditHeader(path, [](nlohmann::json& h) { h["columns"][1]["type"] = "float32"; });
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "column 'm' has type float32");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  EditHeader(path, [](nlohmann::json& h) { h["columns"].erase(3); });  // g1
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "the column 'g1' is missing");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  EditHeader(path, [](nlohmann::json& h) { h["options"].erase("seed"); });
  ExpectDataError([&] { ReadFitFile(path.string()); }, path, "lacks 'options.seed'");
  WriteFitFile(path.string(), ex.fit, ex.data, {});
  EditHeader(path, [](nlohmann::json& h) { h["columns"].push_back({{"name", "extra"}, {"type", "uint8"}}); });
  EXPECT_NO_THROW(ReadFitFile(path.string()));  // unknown columns are ignored (docs/fit-file.md)
}

TEST(FitFile, FitFromFitFileRejectsOtherDataAndKeepsTheFitsSettings) {
  const Example ex = MakeExample(Model::kIrm);
  const fs::path path = TempPath("data.fit");
  WriteFitFile(path.string(), ex.fit, ex.data, {"sales.csv", "", ""});

  Options now;  // re-estimation settings of this run
  now.model = Model::kIrm;
  now.estimands = {Estimand::kAte, Estimand::kAtt};
  now.clip = 0.05;
  const Fit fit = FitFromFitFile(ReadFitFile(path.string()), path.string(), ex.data, now);
  EXPECT_TRUE(SameBits(fit.predictions.g1, ex.fit.predictions.g1));
  EXPECT_EQ(fit.options.clip, 0.05);
  EXPECT_EQ(fit.options.estimands.size(), 2u);
  EXPECT_EQ(fit.options.seed, 123456789012345ULL);
  EXPECT_EQ(fit.options.outcome_design, OutcomeDesign::kSeparate);
  EXPECT_EQ(fit.options.folds, 4);
  EXPECT_EQ(fit.options.reps, 2);
  EXPECT_EQ(fit.xgboost_version, "3.2.0");

  Dataset fewer = ex.data;
  fewer.n -= 2;
  fewer.y.resize(fewer.n);
  fewer.d.resize(fewer.n);
  fewer.x.resize(fewer.n * fewer.p);
  ExpectDataError([&] { FitFromFitFile(ReadFitFile(path.string()), path.string(), fewer, now); }, path,
                  "covers 60 rows but the data has 58");
  Dataset edited = ex.data;
  edited.y[17] = std::nextafter(edited.y[17], 1e9);
  ExpectDataError([&] { FitFromFitFile(ReadFitFile(path.string()), path.string(), edited, now); }, path,
                  "outcome column 'revenue' of the data differs");
  Dataset renamed = ex.data;
  renamed.treatment_name = "d";
  ExpectDataError([&] { FitFromFitFile(ReadFitFile(path.string()), path.string(), renamed, now); }, path,
                  "--treatment 'followed', this run has 'd'");
  Options plr = now;
  plr.model = Model::kPlr;
  plr.estimands = {Estimand::kAte};
  EXPECT_THROW(FitFromFitFile(ReadFitFile(path.string()), path.string(), ex.data, plr), UsageError);
  std::string model = "plr";
  EXPECT_THROW(ReadFitFileForModel(path.string(), &model, true), UsageError);
  model = "irm";
  ReadFitFileForModel(path.string(), &model, false);
  EXPECT_EQ(model, "irm");
}

}  // namespace
}  // namespace fastdml::io
