// The layers depend only downward: src/ops/ and cuda/ (the CUDA twins and
// their stubs) include nothing from src/cpu/, src/cate/, src/inference/,
// src/nuisance/ or the driver, only ops/, cuda/ and the public fastdml/
// headers. A twin that needs a plain type or a formula gets it from ops/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fastdml {
namespace {

namespace fs = std::filesystem;

// "dir/file" -> the project headers it includes ("ops/scores.h", ...).
std::vector<std::string> ProjectIncludes(const fs::path& file) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> out;
  std::ifstream in(file);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, kInclude)) out.push_back(m[1]);
  return out;
}

std::vector<fs::path> SourcesUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".h" || ext == ".cc" || ext == ".cu")) files.push_back(e.path());
  }
  return files;
}

bool Allowed(const std::string& header) {
  for (const char* prefix : {"ops/", "cuda/", "fastdml/"})
    if (header.rfind(prefix, 0) == 0) return true;
  return false;
}

TEST(Layering, OpsAndCudaIncludeOnlyOpsCudaAndThePublicHeaders) {
  const fs::path root = FASTDML_SOURCE_DIR;
  std::size_t files = 0;
  for (const char* dir : {"src/ops", "cuda"}) {
    for (const fs::path& f : SourcesUnder(root / dir)) {
      ++files;
      const std::string name = fs::relative(f, root).generic_string();
      for (const std::string& h : ProjectIncludes(f)) {
        if (Allowed(h)) continue;
        ADD_FAILURE() << name << " includes \"" << h << "\" (a layer above ops/ and cuda/)";
      }
    }
  }
  EXPECT_GT(files, 20u);  // the walk found the trees
}

TEST(Layering, TheRuleSeesAnUpwardInclude) {
  EXPECT_FALSE(Allowed("cpu/scores.h"));
  EXPECT_FALSE(Allowed("cate/ols/row_sums.h"));
  EXPECT_FALSE(Allowed("nuisance/xgboost_api.h"));
  EXPECT_TRUE(Allowed("ops/score_args.h"));
  EXPECT_TRUE(Allowed("fastdml/options.h"));
}

}  // namespace
}  // namespace fastdml
