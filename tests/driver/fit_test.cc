// End-to-end cross-fitting with real XGBoost models on small simulated data.
#include <gtest/gtest.h>

#include <cmath>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "sim/simulate.h"
#include "held_out_check.h"
#include "sim_dataset.h"

namespace fastdml {
namespace {

Dataset FromSim(const sim::SimData& s) { return test::DatasetFromSim(s); }

Dataset IrmData(std::size_t n, std::uint64_t seed) {
  sim::SimOptions so;
  so.design = sim::Design::kIrm;
  so.n = n;
  so.p = 5;
  so.seed = seed;
  return FromSim(sim::Simulate(so));
}

Options SmallOptions() {
  Options o;
  o.propensity.rounds = o.outcome.rounds = 30;
  o.propensity.max_depth = o.outcome.max_depth = 3;
  o.propensity.subsample = o.outcome.subsample = 0.8;  // exercises the seeded sampler
  return o;
}

TEST(Fit, PredictionsAreIdenticalAtOneAndTwoThreads) {
  const Dataset data = IrmData(1500, 3);
  Options o = SmallOptions();
  o.reps = 2;
  o.threads = 1;
  const Fit a = FitNuisances(data, o);
  o.threads = 2;
  const Fit b = FitNuisances(data, o);
  EXPECT_EQ(a.predictions.fold, b.predictions.fold);
  EXPECT_EQ(a.predictions.m, b.predictions.m);  // bit for bit
  EXPECT_EQ(a.predictions.g0, b.predictions.g0);
  EXPECT_EQ(a.predictions.g1, b.predictions.g1);
}

// A per-model nthread changes how XGBoost sums histograms, but a result made
// at a given nthread still does not depend on how many models run at once.
TEST(Fit, PredictionsAtFixedModelThreadsDoNotDependOnWorkers) {
  const Dataset data = IrmData(1500, 9);
  Options o = SmallOptions();
  o.propensity.nthread = o.outcome.nthread = 2;
  o.threads = 1;
  const Fit a = FitNuisances(data, o);
  o.threads = 2;
  const Fit b = FitNuisances(data, o);
  EXPECT_EQ(a.predictions.m, b.predictions.m);
  EXPECT_EQ(a.predictions.g0, b.predictions.g0);
}

TEST(Fit, PerNuisanceSeedMovesOnlyThatNuisance) {
  const Dataset data = IrmData(1500, 10);
  Options o = SmallOptions();  // subsample 0.8: the seed matters
  const Fit a = FitNuisances(data, o);
  o.propensity.seed = 12345;
  const Fit b = FitNuisances(data, o);
  EXPECT_NE(a.predictions.m, b.predictions.m);
  EXPECT_EQ(a.predictions.g0, b.predictions.g0);
  EXPECT_EQ(a.predictions.g1, b.predictions.g1);
}

// Changing the outcome and treatment of the rows of fold 0 must not change any
// prediction made for fold 0: the held-out rows never reach their own model.
TEST(Fit, HeldOutRowsDoNotInfluenceTheirOwnFoldModels) {
  for (MatrixStrategy strategy : {MatrixStrategy::kSharedCuts, MatrixStrategy::kPerFold, MatrixStrategy::kZeroWeight}) {
    Options o = SmallOptions();
    o.matrix_strategy = strategy;
    test::ExpectHeldOutFoldNeverReachesItsModels(IrmData(1200, 4), o, ToString(strategy));
  }
}

// Known truth (DoubleML's make_irm_data, theta = 0.5): with 30 shallow trees the
// estimate lies within 3 SE of the truth for each outcome design.
TEST(Fit, RecoversTheIrmEffectWithSeparateAndPooledOutcomeModels) {
  const Dataset data = IrmData(4000, 5);
  for (OutcomeDesign design : {OutcomeDesign::kSeparate, OutcomeDesign::kPooled}) {
    Options o = SmallOptions();
    o.outcome_design = design;
    o.estimands = {Estimand::kAte};
    const Fit fit = FitNuisances(data, o);
    const Report rep = Estimate(data, fit, o);
    EXPECT_LT(std::fabs(rep.estimates[0].estimate - 0.5), 3 * rep.estimates[0].se) << ToString(design);
  }
}

TEST(Fit, PlrHasPropensityAndOutcomeRegressionOnly) {
  const Dataset data = IrmData(800, 6);
  Options o = SmallOptions();
  o.model = Model::kPlr;
  o.estimands = {Estimand::kAte};
  const Fit fit = FitNuisances(data, o);
  EXPECT_EQ(fit.predictions.l.size(), data.n);
  EXPECT_TRUE(fit.predictions.g0.empty());
  ASSERT_EQ(fit.quality.size(), 2u);
  EXPECT_EQ(fit.quality[0].name, "m");
  EXPECT_GT(fit.quality[0].auc, 0.6);  // the irm design's propensity is learnable
}

TEST(Fit, FewerRowsThanFoldsIsAnError) {
  Dataset data = IrmData(20, 7);
  Options o = SmallOptions();
  o.folds = 30;
  EXPECT_THROW(FitNuisances(data, o), DataError);
}

TEST(Fit, ExternalPredictionsMustCoverEveryRow) {
  const Dataset data = IrmData(100, 8);
  Predictions p;
  p.n = 90;
  p.reps = 1;
  EXPECT_THROW(FitFromPredictions(data, Options(), p), DataError);
}

}  // namespace
}  // namespace fastdml
