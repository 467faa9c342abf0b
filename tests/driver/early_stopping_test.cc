// Early stopping and --tune (issue 14): the inner validation split stays
// inside each model's training rows, the held-out fold never reaches its own
// model, and the chosen rounds and hyperparameters do not depend on threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "driver/fold_plan.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "sim/simulate.h"
#include "held_out_check.h"
#include "sim_dataset.h"

namespace fastdml {
namespace {

Dataset IrmData(std::size_t n, std::uint64_t seed) {
  sim::SimOptions so;
  so.design = sim::Design::kIrm;
  so.n = n;
  so.p = 5;
  so.seed = seed;
  return test::DatasetFromSim(sim::Simulate(so));
}

// Early stopping with small limits, so that each test runs in about a second.
Options AutoOptions() {
  Options o;
  for (LearnerParams* p : {&o.propensity, &o.outcome}) {
    p->rounds = kAutoRounds;
    p->max_rounds = 60;
    p->early_stopping_rounds = 5;
    p->max_depth = 3;
    p->subsample = 0.8;  // exercises the seeded sampler
  }
  return o;
}

// --- the split ---------------------------------------------------------------------

TEST(ValidationSplit, PartitionsTheTrainingRowsStratifiedByTreatment) {
  std::vector<double> d(1000);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = i % 4 == 0 ? 1.0 : 0.0;  // 25% treated
  std::vector<std::uint32_t> train;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    if (i % 5 != 2) train.push_back(i);  // one fold (i % 5 == 2) held out
  }
  std::vector<std::uint32_t> inner, valid;
  SplitValidationRows(train, d, {}, 0.2, 77, &inner, &valid);
  EXPECT_TRUE(std::is_sorted(inner.begin(), inner.end()));
  EXPECT_TRUE(std::is_sorted(valid.begin(), valid.end()));
  std::vector<std::uint32_t> both = inner;
  both.insert(both.end(), valid.begin(), valid.end());
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, train);  // a partition of the training rows: no held-out row enters
  // round(0.2 x arm size) per arm: 200 treated -> 40, 600 control -> 120.
  const auto treated = std::count_if(valid.begin(), valid.end(), [&](std::uint32_t i) { return d[i] == 1.0; });
  EXPECT_EQ(treated, 40);
  EXPECT_EQ(valid.size(), 160u);
  // Seeded: the same seed gives the same split, another seed another.
  std::vector<std::uint32_t> inner2, valid2;
  SplitValidationRows(train, d, {}, 0.2, 77, &inner2, &valid2);
  EXPECT_EQ(valid, valid2);
  SplitValidationRows(train, d, {}, 0.2, 78, &inner2, &valid2);
  EXPECT_NE(valid, valid2);
}

TEST(ValidationSplit, KeepsClustersWhole) {
  const std::size_t n = 600;
  std::vector<double> d(n);
  std::vector<std::int32_t> cluster(n);
  for (std::size_t i = 0; i < n; ++i) {
    cluster[i] = static_cast<std::int32_t>(i / 10);  // 60 clusters of 10
    d[i] = (i * 7) % 3 == 0 ? 1.0 : 0.0;
  }
  std::vector<std::uint32_t> train;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (cluster[i] % 5 != 0) train.push_back(i);  // 48 clusters train
  }
  std::vector<std::uint32_t> inner, valid;
  SplitValidationRows(train, d, cluster, 0.25, 5, &inner, &valid);
  std::set<std::int32_t> inner_clusters, valid_clusters;
  for (auto i : inner) inner_clusters.insert(cluster[i]);
  for (auto i : valid) valid_clusters.insert(cluster[i]);
  for (auto c : valid_clusters) EXPECT_EQ(inner_clusters.count(c), 0u) << "cluster " << c << " straddles";
  EXPECT_EQ(valid_clusters.size(), 12u);  // round(0.25 x 48)
  EXPECT_EQ(inner.size() + valid.size(), train.size());
}

TEST(ValidationSplit, TooFewRowsOrClustersNameTheWayOut) {
  std::vector<double> d = {0, 1};
  std::vector<std::uint32_t> inner, valid;
  try {
    SplitValidationRows({0}, d, {}, 0.2, 1, &inner, &valid);
    FAIL() << "one training row cannot be split";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("--rounds N"), std::string::npos) << e.what();
  }
  try {
    SplitValidationRows({0, 1}, d, {3, 3}, 0.2, 1, &inner, &valid);
    FAIL() << "one cluster cannot be split";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("--cluster"), std::string::npos) << e.what();
  }
}

// --- the fit -------------------------------------------------------------------------

// Changing y and d of fold 0's rows leaves every prediction for fold 0
// bit-identical under early stopping (both model choices) and per-fold tuning:
// neither the split nor the search ever reads a held-out row. The other
// folds' predictions move, so the test can fail.
TEST(EarlyStopping, HeldOutFoldNeverReachesItsOwnModel) {
  struct Case {
    const char* name;
    EarlyStopModel model;
    bool tune_per_fold;
  };
  for (const Case& c : {Case{"keep", EarlyStopModel::kKeep, false}, Case{"refit", EarlyStopModel::kRefit, false},
                        Case{"tune-per-fold", EarlyStopModel::kRefit, true}}) {
    Options o = AutoOptions();
    o.early_stopping_model = c.model;
    if (c.tune_per_fold) {
      o.tune.enabled = o.tune.per_fold = true;
      o.tune.params = {TuneParam::kMaxDepth};
    }
    test::ExpectHeldOutFoldNeverReachesItsModels(IrmData(900, 4), o, c.name);
  }
}

TEST(EarlyStopping, SameRoundsAndPredictionsAtOneAndTwoThreads) {
  const Dataset data = IrmData(1500, 3);
  Options o = AutoOptions();
  o.reps = 2;
  o.tune.enabled = true;
  o.tune.params = {TuneParam::kMaxDepth, TuneParam::kEta};
  o.threads = 1;
  const Fit a = FitNuisances(data, o);
  o.threads = 2;
  const Fit b = FitNuisances(data, o);
  EXPECT_EQ(a.predictions.m, b.predictions.m);  // bit for bit
  EXPECT_EQ(a.predictions.g0, b.predictions.g0);
  EXPECT_EQ(a.predictions.g1, b.predictions.g1);
  ASSERT_EQ(a.tuning.size(), b.tuning.size());
  for (std::size_t k = 0; k < a.tuning.size(); ++k) {
    EXPECT_EQ(a.tuning[k].rounds_run, b.tuning[k].rounds_run) << a.tuning[k].name;
    ASSERT_EQ(a.tuning[k].searches.size(), 1u);
    EXPECT_EQ(a.tuning[k].searches[0].chosen, b.tuning[k].searches[0].chosen) << a.tuning[k].name;
    for (std::size_t m = 0; m < a.tuning[k].models.size(); ++m) {
      EXPECT_EQ(a.tuning[k].models[m].rounds, b.tuning[k].models[m].rounds);
      EXPECT_EQ(a.tuning[k].models[m].loss, b.tuning[k].models[m].loss);
    }
  }
}

TEST(EarlyStopping, RecordsRoundsLossesAndStopsWithinItsLimits) {
  const Dataset data = IrmData(1200, 8);
  Options o = AutoOptions();
  o.outcome_design = OutcomeDesign::kSeparate;
  const Fit fit = FitNuisances(data, o);
  ASSERT_EQ(fit.tuning.size(), 3u);  // m, g0, g1
  EXPECT_EQ(fit.tuning[0].name, "m");
  EXPECT_EQ(fit.tuning[0].metric, "logloss");
  EXPECT_EQ(fit.tuning[1].metric, "rmse");
  for (const NuisanceTuning& t : fit.tuning) {
    ASSERT_EQ(t.models.size(), 5u) << t.name;
    EXPECT_TRUE(t.searches.empty());
    for (std::size_t k = 0; k < t.models.size(); ++k) {
      const int rounds = t.models[k].rounds, run = t.rounds_run[k];
      EXPECT_GE(rounds, 1);
      // Either the patience ran out after the best round, or max_rounds did.
      EXPECT_TRUE(run == rounds + 5 || run == 60) << t.name << " fold " << k << ": " << rounds << "/" << run;
      EXPECT_TRUE(std::isfinite(t.models[k].loss));
      EXPECT_EQ(t.models[k].max_depth, 3);
    }
  }
}

TEST(Tuning, ChoosesTheSmallestValidationLossPerNuisanceOrPerFold) {
  const Dataset data = IrmData(1200, 6);
  Options o = AutoOptions();
  o.tune.enabled = true;
  o.tune.params = {TuneParam::kMaxDepth, TuneParam::kMinChildWeight};
  const Fit once = FitNuisances(data, o);
  for (const NuisanceTuning& t : once.tuning) {
    ASSERT_EQ(t.searches.size(), 1u) << t.name;
    const auto& s = t.searches[0];
    ASSERT_EQ(s.candidates.size(), 5u * 4u);  // depth x min_child_weight
    for (const auto& c : s.candidates) EXPECT_GE(c.loss, s.candidates[s.chosen].loss);
    // Every fold's model trains with the winner's hyperparameters.
    for (const auto& m : t.models) {
      EXPECT_EQ(m.max_depth, s.candidates[s.chosen].max_depth);
      EXPECT_EQ(m.min_child_weight, s.candidates[s.chosen].min_child_weight);
      EXPECT_EQ(m.eta, o.propensity.eta);  // not searched
    }
  }
  o.tune.per_fold = true;
  const Fit per_fold = FitNuisances(data, o);
  for (const NuisanceTuning& t : per_fold.tuning) {
    ASSERT_EQ(t.searches.size(), 5u) << t.name;  // one per fold
    for (std::size_t k = 0; k < t.searches.size(); ++k) {
      EXPECT_EQ(t.searches[k].fold, static_cast<int>(k));
      EXPECT_EQ(t.models[k].max_depth, t.searches[k].candidates[t.searches[k].chosen].max_depth);
    }
  }
}

// A fixed count keeps the fit exactly as it was: no split, no record of one.
TEST(EarlyStopping, FixedRoundsTrainOnAllTrainingRows) {
  const Dataset data = IrmData(800, 2);
  Options o = AutoOptions();
  o.propensity.rounds = o.outcome.rounds = 25;
  const Fit fit = FitNuisances(data, o);
  for (const NuisanceTuning& t : fit.tuning) {
    EXPECT_FALSE(t.early_stopping);
    for (std::size_t k = 0; k < t.models.size(); ++k) {
      EXPECT_EQ(t.models[k].rounds, 25);
      EXPECT_TRUE(std::isnan(t.models[k].loss));
    }
  }
}

}  // namespace
}  // namespace fastdml
