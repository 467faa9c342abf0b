// Multi-valued treatments: D takes a few integer levels (a discount of 0, 10
// or 20 percent; no, one or two recommendations followed). The IRM with one
// one-vs-rest propensity per level, as DoubleML's DoubleMLAPOS and
// causal_contrast: the average potential outcome of every level and, against
// a reference level, the ATE and the ATT contrasts (docs/cli.md, "Multi-valued
// treatments").
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/options.h"

namespace fastdml {

// A treatment with 3 to 20 distinct integer values is taken as multi-valued
// by --model irm without --treatment-levels (the report says so).
inline constexpr std::size_t kMinAutoLevels = 3, kMaxAutoLevels = 20;

struct TreatmentLevels {
  std::string treatment;           // the treatment column
  std::vector<double> values;      // the levels, ascending
  std::vector<std::size_t> rows;   // rows at each level
  std::size_t reference = 0;       // index into values
  bool automatic = false;          // detected, not asked for with --treatment-levels
};

// True when d holds kMinAutoLevels..kMaxAutoLevels distinct finite integers.
bool LooksMultiValued(const std::vector<double>& d);

// Replaces the one treatment of `data` by one 0/1 indicator per level, named
// "<treatment>=<level>" (a grid of one outcome and L treatments: FitGrid
// trains the one-vs-rest propensity of each level and the outcome model of
// each level's cell). `reference`: the reference level's value (default the
// smallest). Throws DataError naming the row of a missing or non-integer
// treatment value, and UsageError for fewer than 2 levels, more than 100, or a
// reference that is not a level.
TreatmentLevels ExpandLevels(Dataset* data, std::optional<double> reference);

// From a FitGrid fit of the expanded data, per repetition as DoubleML: the
// average potential outcome of each level ("apo:<v>";
// psi_b = w g_v + wbar D_v (Y - g_v) / m_v, psi_a = -w), the ATE contrast of
// each other level against the reference ("ate:<v> vs <ref>": the difference
// of the two APO scores) and its ATT, the effect on the rows treated at v
// ("att:<v> vs <ref>": psi_a = -w D_v / p_v, psi_b = w D_v (Y - g_ref) / p_v -
// w m_v D_ref (Y - g_ref) / (p_v m_ref), p_v = mean(w D_v); with two levels it
// is the binary ATT). g_v is the outcome model at level v (the cell's g1),
// m_v its propensity, clipped to [clip, 1 - clip]; normalize_ipw normalises
// D_v / m_v (and D_ref / m_ref) as DoubleML's APO does. Cluster-robust with
// a cluster column. The report carries the scores, for Bootstrap and
// AdjustPValues over all of its estimands.
Report EstimateLevels(const Dataset& data, const GridFit& fit, const TreatmentLevels& levels,
                      const Options& options);

// "2", "-1", "10": a level as written in names (integers without a decimal point).
std::string LevelName(double value);

}  // namespace fastdml
