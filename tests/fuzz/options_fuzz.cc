// libFuzzer harness: command-line parsing (CLI11 through the CLI's own option
// table, cli/args.cc) and the option checks (ResolveEstimateOptions ->
// Options::Validate). The input is split at newlines into argv. Parsing or
// usage errors are the expected outcome for bad options; any other exception,
// a crash or a sanitizer report is a bug.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/args.h"
#include "fastdml/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
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
  fastdml::cli::EstimateArgs estimate;
  fastdml::cli::SimulateArgs simulate;
  const fastdml::cli::Commands commands = fastdml::cli::AddCommands(&app, &estimate, &simulate);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return 0;  // help, version or a parse error: CLI11 reports it
  }
  try {
    if (*commands.estimate) fastdml::cli::ResolveEstimateOptions(estimate);
  } catch (const fastdml::UsageError&) {
  }
  return 0;
}
