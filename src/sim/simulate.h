// Simulated data sets with a known causal truth, for demos, tests and
// benchmarks. Every draw is a pure function of (seed, variable, row) through a
// counter-based Philox4x32 generator (Random123) with Box-Muller normals, so a
// seed gives the same data on every platform and standard library.
//
// Designs:
//   seller  listings of sellers who did or did not follow a recommendation;
//           strong selection bias from seller proactiveness and experience,
//           effects that vary by category and inventory level.
//   irm     doubleml.datasets.make_irm_data (binary d, effect theta + c_y x'b).
//   plr     doubleml.datasets.make_plr_CCDDHNR2018 (continuous d, effect alpha).
//   grid    3 outcomes x 2 binary treatments with cell-specific heterogeneous
//           effects (one cell zero), for the one-run grid of every
//           (outcome, treatment) cell (sim/grid.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fastdml::sim {

enum class Design { kSeller, kIrm, kPlr, kGrid };

// "seller" | "irm" | "plr" | "grid"; anything else throws UsageError naming --design.
Design ParseDesign(const std::string& name);
const char* ToString(Design design);

struct SimOptions {
  Design design = Design::kSeller;
  std::size_t n = 10000;   // rows; at least 10
  std::size_t p = 20;      // features; seller >= 8, grid >= 6, irm and plr >= 3
  std::uint64_t seed = 0;
  double theta = 0.5;      // irm: theta, plr: alpha; unused by seller and grid
};

struct SimData {
  // "y", "d", then the features (seller: seller_id, experience_years,
  // proactiveness_score, category, inventory_level, price, demand_index,
  // x1..x{p-7}; irm and plr: X1..Xp as DoubleML names them). The grid
  // design has y1, y2, y3, t1, t2, then x1..xp.
  std::vector<std::string> column_names;
  std::vector<std::vector<double>> columns;  // column-major, each of length n
  nlohmann::json truth;                      // the known truth (see the design's file)
};

// Throws UsageError naming --n, --p or --theta when the options are invalid.
SimData Simulate(const SimOptions& options);

// Header, then one line per row; numbers in the shortest form that reads back
// to the identical double. Throws UsageError when `path` cannot be written.
void WriteCsv(const SimData& data, const std::string& path);

// --- The seller design's true functions (exposed so tests and notebooks can
// recompute the truth from the observed columns). ---

inline constexpr int kSellerCategories = 5;
// Category codes 0..4 in the `category` column.
extern const char* const kSellerCategoryNames[kSellerCategories];

// Effect of following the recommendation on revenue for one listing:
// tau = tau_c * (0.5 + 1.5 / (1 + exp(1.5 z))), z = standardised log inventory.
double SellerTau(int category, double inventory_level);

// True probability of following the recommendation, in [0.05, 0.95]; a
// function of observed columns only, so the effect is identified given X.
double SellerPropensity(double proactiveness_score, double experience_years,
                        double inventory_level);

// --- The grid design's true functions (sim/grid.cc). `x` points at x1..x6;
// outcome 0..2 is y1..y3, treatment 0..1 is t1..t2. ---

inline constexpr int kGridOutcomes = 3;
inline constexpr int kGridTreatments = 2;
extern const char* const kGridOutcomeNames[kGridOutcomes];      // y1, y2, y3
extern const char* const kGridTreatmentNames[kGridTreatments];  // t1, t2

// Effect of t_k on y_j for one row; zero for (y2, t2).
double GridTau(int outcome, int treatment, const double* x);

// P(t_k = 1 | x), in [0.1, 0.9]; t1 and t2 are drawn independently given x.
double GridPropensity(int treatment, const double* x);

// E[y_j | x, t1 = t2 = 0].
double GridBaseline(int outcome, const double* x);

}  // namespace fastdml::sim
