// The property the options fuzz harness checks, shared with the corpus replay
// test (tests/io/fuzz_corpus_test.cc). The input is split at newlines into
// argv for `fastdml`, parsed with the CLI's own option table (cli/args.cc) and
// checked (ResolveEstimateOptions -> Options::Validate, and the heterogeneity
// flags of cli/cate_cli.cc and cli/cate_model_cli.cc against a small data set
// with features a and b). Expected: a CLI11 parse error, a fastdml::UsageError
// or DataError naming the flag, or success; any other exception escapes.
#pragma once
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/cate_cli.h"
#include "cli/cate_model_cli.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml::fuzz {

inline void CheckOptionsInput(const std::uint8_t* bytes, std::size_t size) {
  std::vector<std::string> words = {"fastdml"};
  std::string word;
  for (std::size_t k = 0; k < size && words.size() < 64; ++k) {
    if (bytes[k] == '\n') {
      words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(bytes[k]);
    }
  }
  if (!word.empty()) words.push_back(word);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());

  CLI::App app{"fastdml"};
  app.require_subcommand(1);
  cli::EstimateArgs estimate;
  cli::SimulateArgs simulate;
  const cli::Commands commands = cli::AddCommands(&app, &estimate, &simulate);
  cli::CateArgs cate;
  cli::CateModelArgs cate_model;
  cli::AddCateOptions(commands.estimate, &cate);
  cli::AddCateModelOptions(commands.estimate, &cate_model);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return;  // help, version or a parse error: CLI11 reports it
  }
  try {
    if (!*commands.estimate) return;
    cli::ResolveEstimateOptions(estimate);
    ParseCovType(cate.cov);
    for (const auto& spec : cate.by) ParseGroupSpec(spec);
    Dataset data;  // what the pre-fit checks read: size, features, weights
    data.n = 200;
    data.p = 2;
    data.feature_names = {"a", "b"};
    cli::CheckCateModelArgs(cate_model, data, estimate.opt, cate.cov);
  } catch (const UsageError&) {
  } catch (const DataError&) {
  }
}

}  // namespace fastdml::fuzz
