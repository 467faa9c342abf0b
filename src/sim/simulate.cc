// Simulated data with a known truth: the design dispatch and the CSV writer.
// See simulate.h for the designs; each lives in its own file (sim/seller.cc,
// sim/irm.cc, sim/plr.cc, sim/grid.cc) and its truth JSON lists the formulas and constants
// it was drawn from.
#include "sim/simulate.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>

#include "fastdml/error.h"
#include "io/atomic_file.h"
#include "sim/design_helpers.h"

namespace fastdml::sim {

namespace {

std::size_t MinFeatures(Design design) {
  switch (design) {
    case Design::kSeller: return 8;
    case Design::kGrid: return 6;  // the effects and propensities use x1..x6
    default: return 3;
  }
}

}  // namespace

Design ParseDesign(const std::string& name) {
  if (name == "seller") return Design::kSeller;
  if (name == "irm") return Design::kIrm;
  if (name == "plr") return Design::kPlr;
  if (name == "grid") return Design::kGrid;
  throw UsageError("--design: unknown design '" + name + "' (expected seller, irm, plr or grid)");
}

const char* ToString(Design design) {
  switch (design) {
    case Design::kSeller: return "seller";
    case Design::kIrm: return "irm";
    case Design::kPlr: return "plr";
    case Design::kGrid: return "grid";
  }
  return "unknown";
}

SimData Simulate(const SimOptions& options) {
  if (options.n < 10)
    throw UsageError("--n must be at least 10 (got " + std::to_string(options.n) + ")");
  const std::size_t min_p = MinFeatures(options.design);
  if (options.p < min_p)
    throw UsageError("--p must be at least " + std::to_string(min_p) + " for --design " +
                     ToString(options.design) + " (got " + std::to_string(options.p) + ")");
  if (!std::isfinite(options.theta)) throw UsageError("--theta must be a finite number");
  // Bounds first, so that n * (p + 5) cannot wrap around in size_t.
  constexpr std::size_t kMaxSimFeatures = 100000;
  constexpr std::size_t kMaxSimCells = std::size_t{1} << 31;  // 16 GiB of doubles
  if (options.p > kMaxSimFeatures)
    throw UsageError("--p must be at most " + std::to_string(kMaxSimFeatures) + " (got " +
                     std::to_string(options.p) + ")");
  const std::size_t extra = options.design == Design::kGrid ? 5 : 2;  // outcome and treatment columns
  if (options.n > kMaxSimCells / (options.p + extra))
    throw UsageError("--n " + std::to_string(options.n) + " x (--p + " + std::to_string(extra) + ") columns exceeds " +
                     std::to_string(kMaxSimCells) + " cells; simulate fewer rows");
  switch (options.design) {
    case Design::kSeller: return detail::SimulateSeller(options);
    case Design::kIrm: return detail::SimulateIrm(options);
    case Design::kPlr: return detail::SimulatePlr(options);
    case Design::kGrid: return detail::SimulateGrid(options);
  }
  throw Error("Simulate: unknown design");
}

void WriteCsv(const SimData& data, const std::string& path) {
  if (data.columns.size() != data.column_names.size())
    throw Error("WriteCsv: " + std::to_string(data.column_names.size()) + " names for " +
                std::to_string(data.columns.size()) + " columns");
  const std::size_t n = data.columns.empty() ? 0 : data.columns[0].size();
  for (const auto& col : data.columns)
    if (col.size() != n) throw Error("WriteCsv: columns of different lengths");

  // Through a temporary file: an interrupted run leaves no truncated CSV.
  io::AtomicFile file(path);
  std::string buf;
  buf.reserve(1 << 20);
  for (std::size_t j = 0; j < data.column_names.size(); ++j) {
    if (j > 0) buf += ',';
    buf += data.column_names[j];
  }
  buf += '\n';
  char num[64];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < data.columns.size(); ++j) {
      if (j > 0) buf += ',';
      // Shortest representation that parses back to the same double.
      const auto res = std::to_chars(num, num + sizeof(num), data.columns[j][i]);
      buf.append(num, res.ptr);
    }
    buf += '\n';
    if (buf.size() > (1u << 20) - 4096) {
      file.Write(buf);
      buf.clear();
    }
  }
  file.Write(buf);
  file.Commit();
}

}  // namespace fastdml::sim
