// Grids (several outcomes x treatments in one run, FitGrid): every cell is the
// one-pair fit of its columns on the grid's folds, the propensity is shared,
// the joint fold plan keeps every treatment's arms in every fold, and the joint
// inference over the grid is the one-pair inference on the merged scores.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "driver/fold_plan.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/inference.h"
#include "sim/simulate.h"

namespace fastdml {
namespace {

// simulate --design grid as a grid Dataset: y1..y3, t1, t2 and features x1..xp.
Dataset GridData(std::size_t n, std::uint64_t seed) {
  sim::SimOptions so;
  so.design = sim::Design::kGrid;
  so.n = n;
  so.p = 6;
  so.seed = seed;
  const sim::SimData s = sim::Simulate(so);
  Dataset d;
  d.n = n;
  std::vector<const std::vector<double>*> features;
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    const std::string& name = s.column_names[c];
    if (name[0] == 'y') {
      d.outcomes.push_back(s.columns[c]);
      d.outcome_names.push_back(name);
    } else if (name[0] == 't') {
      d.treatments.push_back(s.columns[c]);
      d.treatment_names.push_back(name);
    } else {
      d.feature_names.push_back(name);
      features.push_back(&s.columns[c]);
    }
  }
  d.p = features.size();
  d.x.resize(n * d.p);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d.p; ++j) d.x[i * d.p + j] = static_cast<float>((*features[j])[i]);
  }
  d.SelectCell(0, 0);
  return d;
}

// Cell (j, k) of a grid as one-pair data.
Dataset OnePair(const Dataset& grid, std::size_t j, std::size_t k) {
  Dataset d = grid;
  d.SelectCell(j, k);
  d.outcomes.clear();
  d.treatments.clear();
  d.outcome_names.clear();
  d.treatment_names.clear();
  return d;
}

Options Small(Model model, OutcomeDesign design) {
  Options o;
  o.model = model;
  o.outcome_design = design;
  if (model == Model::kPlr) o.estimands = {Estimand::kAte};
  o.propensity.rounds = o.outcome.rounds = 12;
  o.propensity.max_depth = o.outcome.max_depth = 3;
  o.threads = 2;
  o.seed = 7;
  return o;
}

void ExpectSame(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-12) << what << " at " << i;
}

class GridCells : public ::testing::TestWithParam<std::pair<Model, OutcomeDesign>> {};

// The contract: a grid cell equals the one-pair run of the same
// columns on the same folds (the grid's plan given as a fold column), to 1e-12
// in every prediction and estimate; here they are in fact identical models.
TEST_P(GridCells, EveryCellEqualsItsOnePairFitOnTheGridsFolds) {
  const auto [model, design] = GetParam();
  Dataset grid = GridData(600, 3);
  const Options o = Small(model, design);
  const GridFit fit = FitGrid(&grid, o);
  ASSERT_EQ(fit.cells.size(), 6u);
  for (std::size_t j = 0; j < 3; ++j) {
    for (std::size_t k = 0; k < 2; ++k) {
      const Fit& cell = fit.cells[fit.CellIndex(j, k)];
      Dataset one = OnePair(grid, j, k);
      one.fold = cell.predictions.fold;
      const Fit single = FitNuisances(one, o);
      ExpectSame(cell.predictions.m, single.predictions.m, "m");
      ExpectSame(cell.predictions.g0, single.predictions.g0, "g0");
      ExpectSame(cell.predictions.g1, single.predictions.g1, "g1");
      ExpectSame(cell.predictions.l, single.predictions.l, "l");
      grid.SelectCell(j, k);
      const Report a = Estimate(grid, cell, o);
      const Report b = Estimate(one, single, o);
      ASSERT_EQ(a.estimates.size(), b.estimates.size());
      for (std::size_t e = 0; e < a.estimates.size(); ++e) {
        EXPECT_NEAR(a.estimates[e].estimate, b.estimates[e].estimate, 1e-12);
        EXPECT_NEAR(a.estimates[e].se, b.estimates[e].se, 1e-12);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Designs, GridCells,
                         ::testing::Values(std::make_pair(Model::kIrm, OutcomeDesign::kPooled),
                                           std::make_pair(Model::kIrm, OutcomeDesign::kSeparate),
                                           std::make_pair(Model::kPlr, OutcomeDesign::kPooled)));

// One propensity model per (treatment, rep, fold), whatever the outcome count:
// 2 treatments x 2 reps x 3 folds propensities, plus one pooled outcome model
// per cell, rep and fold.
TEST(Grid, ThePropensityIsTrainedOncePerTreatmentAndSharedByEveryOutcome) {
  Dataset grid = GridData(500, 4);
  Options o = Small(Model::kIrm, OutcomeDesign::kPooled);
  o.folds = 3;
  o.reps = 2;
  const std::uint64_t before = NuisanceModelsTrained();
  const GridFit fit = FitGrid(&grid, o);
  EXPECT_EQ(NuisanceModelsTrained() - before, 2u * 2 * 3 + 6u * 2 * 3);
  for (std::size_t k = 0; k < 2; ++k) {
    for (std::size_t j = 1; j < 3; ++j) {
      EXPECT_EQ(fit.cells[fit.CellIndex(j, k)].predictions.m, fit.cells[fit.CellIndex(0, k)].predictions.m);
    }
  }
  EXPECT_NE(fit.cells[fit.CellIndex(0, 0)].predictions.m, fit.cells[fit.CellIndex(0, 1)].predictions.m);
  // Every cell shares one fold plan.
  for (const Fit& cell : fit.cells) EXPECT_EQ(cell.predictions.fold, fit.cells[0].predictions.fold);
}

// The joint plan spreads every joint pattern of the treatments over the folds
// (within one row of even, plus the carry of the patterns dealt before it) and
// is a pure function of the seed; with one treatment it is MakeFoldPlan's.
TEST(Grid, TheJointFoldPlanBalancesEveryTreatmentPattern) {
  const Dataset grid = GridData(997, 5);
  const int folds = 5;
  const FoldPlan plan = MakeJointFoldPlan({&grid.treatments[0], &grid.treatments[1]}, folds, 2, 11);
  EXPECT_EQ(plan.fold, MakeJointFoldPlan({&grid.treatments[0], &grid.treatments[1]}, folds, 2, 11).fold);
  for (int r = 0; r < 2; ++r) {
    std::map<int, std::vector<int>> per_pattern;  // pattern -> rows per fold
    for (std::size_t i = 0; i < grid.n; ++i) {
      const int pattern = static_cast<int>(grid.treatments[0][i]) * 2 + static_cast<int>(grid.treatments[1][i]);
      auto& counts = per_pattern[pattern];
      counts.resize(folds);
      ++counts[static_cast<std::size_t>(plan.At(r, i))];
    }
    ASSERT_EQ(per_pattern.size(), 4u);
    for (const auto& [pattern, counts] : per_pattern) {
      const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
      EXPECT_LE(*hi - *lo, 1) << "pattern " << pattern << " rep " << r;
    }
  }
  EXPECT_EQ(MakeJointFoldPlan({&grid.treatments[1]}, folds, 3, 2).fold,
            MakeFoldPlan(grid.treatments[1], folds, 3, 2).fold);
}

// Joint inference over one cell is that cell's Bootstrap + AdjustPValues; over
// several, each replicate's sup over more estimands can only grow, so the
// grid's joint critical value is at least every cell's own.
TEST(Grid, JointInferenceOverTheGridIsTheOnePairInferenceOnMergedScores) {
  Dataset grid = GridData(700, 6);
  const Options o = Small(Model::kIrm, OutcomeDesign::kPooled);
  const GridFit fit = FitGrid(&grid, o);
  std::vector<Report> reports;
  for (std::size_t c = 0; c < fit.cells.size(); ++c) {
    grid.SelectCell(c / 2, c % 2);
    reports.push_back(Estimate(grid, fit.cells[c], o));
  }
  BootstrapOptions bo;
  bo.replicates = 499;
  bo.method = BootstrapMethod::kRademacher;
  bo.seed = 3;

  Report alone = reports[1];
  Bootstrap(&alone, bo, true);
  AdjustPValues(&alone, {"romano-wolf", "holm"});
  Report via_grid = reports[1];
  const BootstrapSummary one = JointInference({&via_grid}, &bo, true, {"romano-wolf", "holm"});
  EXPECT_EQ(one.joint_critical_values, alone.bootstrap.joint_critical_values);
  for (std::size_t e = 0; e < alone.estimates.size(); ++e) {
    EXPECT_EQ(via_grid.estimates[e].joint_ci_lower, alone.estimates[e].joint_ci_lower);
    EXPECT_EQ(via_grid.estimates[e].p_adjusted, alone.estimates[e].p_adjusted);
  }

  std::vector<Report*> all;
  for (Report& r : reports) all.push_back(&r);
  const BootstrapSummary joint = JointInference(all, &bo, true, {"bonferroni"});
  ASSERT_EQ(joint.t_boot[0].size(), 499u * 12);
  for (std::size_t c = 0; c < reports.size(); ++c) {
    Report own = reports[c];
    Bootstrap(&own, bo, true);
    EXPECT_GE(joint.joint_critical_values[0], own.bootstrap.joint_critical_values[0]) << "cell " << c;
    for (const EstimateResult& e : reports[c].estimates) {
      EXPECT_TRUE(e.has_joint);
      EXPECT_LE(e.joint_ci_lower, e.ci_lower);
      // Bonferroni over the 12 estimands of the grid, not the cell's 2.
      EXPECT_NEAR(e.p_adjusted.at("bonferroni"), std::min(1.0, 12 * e.p_value), 1e-12);
    }
  }
}

TEST(Grid, AMissingOutcomeValueNamesTheOutcomeAndTheRow) {
  Dataset grid = GridData(300, 8);
  grid.outcomes[1][41] = NAN;
  try {
    FitGrid(&grid, Small(Model::kIrm, OutcomeDesign::kPooled));
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing outcome 'y2' at row 42"), std::string::npos) << e.what();
  }
}

TEST(Grid, ATreatmentWithoutBothArmsInEveryFoldIsNamed) {
  Dataset grid = GridData(300, 9);
  // t2 treats only three rows: fewer than the 5 folds.
  std::fill(grid.treatments[1].begin(), grid.treatments[1].end(), 0.0);
  grid.treatments[1][3] = grid.treatments[1][100] = grid.treatments[1][200] = 1.0;
  try {
    FitGrid(&grid, Small(Model::kIrm, OutcomeDesign::kPooled));
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("treatment 't2': cannot stratify 5 folds: 3 treated"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fastdml
