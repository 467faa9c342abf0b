// Outputs appear whole or not at all (issue 7, item 5): io::AtomicFile and
// WriteFileAtomic, which every CLI output goes through.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fastdml/error.h"
#include "io/atomic_file.h"

namespace fastdml::io {
namespace {

namespace fs = std::filesystem;

fs::path FreshDir(const std::string& name) {
  const fs::path dir = fs::path(FASTDML_TEST_TMPDIR) / ("atomic_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Slurp(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::size_t FilesIn(const fs::path& dir) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) count += entry.is_regular_file();
  return count;
}

TEST(AtomicFile, WriteFileAtomicReplacesTheFileAndLeavesNoTemporary) {
  const fs::path dir = FreshDir("replace");
  const fs::path out = dir / "report.json";
  WriteFileAtomic(out.string(), "old\n");
  WriteFileAtomic(out.string(), "{\"new\": true}\n");
  EXPECT_EQ(Slurp(out), "{\"new\": true}\n");
  EXPECT_EQ(FilesIn(dir), 1u);
}

TEST(AtomicFile, TargetIsUntouchedUntilCommit) {
  const fs::path dir = FreshDir("commit");
  const fs::path out = dir / "report.json";
  WriteFileAtomic(out.string(), "old\n");
  AtomicFile file(out.string());
  file.Write("{\"half\": ");
  EXPECT_EQ(Slurp(out), "old\n");  // a reader mid-write sees the old file
  EXPECT_TRUE(fs::exists(file.temp_path()));
  file.Write("1}\n");
  file.Commit();
  EXPECT_EQ(Slurp(out), "{\"half\": 1}\n");
  EXPECT_FALSE(fs::exists(file.temp_path()));
}

TEST(AtomicFile, AnInterruptedWriteLeavesTheOldFileAndNoPartialFile) {
  const fs::path dir = FreshDir("interrupted");
  const fs::path out = dir / "predictions.csv";
  WriteFileAtomic(out.string(), "row,rep\n0,0\n");
  std::string temp;
  try {
    AtomicFile file(out.string());
    temp = file.temp_path();
    file.Write("row,rep\n0,");
    throw std::runtime_error("interrupted");  // e.g. an error while formatting
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(Slurp(out), "row,rep\n0,0\n");
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(FilesIn(dir), 1u);
}

TEST(AtomicFile, AFirstWriteThatFailsLeavesNoFile) {
  const fs::path dir = FreshDir("first");
  const fs::path out = dir / "new.json";
  { AtomicFile file(out.string()); file.Write("partial"); }  // no Commit
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(FilesIn(dir), 0u);
}

TEST(AtomicFile, UnwritableFolderIsAUsageErrorNamingThePath) {
  const fs::path out = fs::path(FASTDML_TEST_TMPDIR) / "no_such_dir" / "x" / "out.json";
  try {
    WriteFileAtomic(out.string(), "x");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(out.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(AtomicFile, RenameOntoADirectoryFailsAndRemovesTheTemporary) {
  const fs::path dir = FreshDir("rename");
  const fs::path target = dir / "taken";
  fs::create_directories(target / "child");  // rename(2) cannot replace a non-empty folder
  EXPECT_THROW(WriteFileAtomic(target.string(), "x"), UsageError);
  EXPECT_TRUE(fs::is_directory(target / "child"));
  EXPECT_EQ(FilesIn(dir), 0u);
}

TEST(AtomicFile, ADeviceIsWrittenThroughNotReplaced) {
  WriteFileAtomic("/dev/null", "discarded\n");
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  for (const auto& entry : fs::directory_iterator("/dev")) {
    EXPECT_EQ(entry.path().filename().string().rfind("null.tmp.", 0), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace fastdml::io
