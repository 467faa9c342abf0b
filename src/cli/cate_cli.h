// The heterogeneity flags of `fastdml estimate` (--cate-by, --cate-cov,
// --cate-signal, --blp, --blp-grid): GATE and BLP from the fit's stored
// predictions, into the table and the JSON ("gate", "blp").
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "fastdml/cate.h"
#include "io/csv.h"

namespace fastdml::cli {

struct CateArgs {
  std::vector<std::string> by;
  std::string cov, signal = "ate", blp, blp_grid;  // cov empty: CateCov's default
  bool Any() const { return !by.empty() || !blp.empty(); }
};

void AddCateOptions(CLI::App* est, CateArgs* args);

// The --cate-cov in force for GATE, BLP, sorted GATES and CLAN: the one given,
// else "cluster" when the data has a cluster column (--cluster; the estimates
// are already cluster-aware, so their SEs must be too) and "hc0" without.
std::string CateCov(const std::string& given, bool clustered);

// Checks the flags and their columns before any training: specs parse, the
// columns exist and are numeric, the basis can be built. Throws like RunCate.
void CheckCateArgs(const CateArgs& args, const io::CsvTable& table, const std::string& data_path, bool plr);

// Runs every requested GATE and the BLP; prints the table to `os` and returns
// {"gate": [...], "blp": {...}} (absent keys when not asked). `bootstrap` > 0
// adds joint bands and Romano-Wolf p-values (Gaussian multipliers, `seed`).
nlohmann::json RunCate(const CateArgs& args, const io::CsvTable& table, const std::string& data_path,
                       const Dataset& data, const Fit& fit, std::int64_t bootstrap, std::uint64_t seed,
                       std::ostream& os);

}  // namespace fastdml::cli
