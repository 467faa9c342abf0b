// FitNuisances' cancel flag and model counter (the Python package's Ctrl-C
// and its proof that re-estimation trains nothing).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "sim/simulate.h"

namespace fastdml {
namespace {

Dataset SellerData(std::size_t n) {
  sim::SimOptions so;
  so.n = n;
  so.p = 8;
  so.seed = 5;
  const sim::SimData s = sim::Simulate(so);
  Dataset d;
  d.n = n;
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    if (s.column_names[c] == "y") d.y = s.columns[c];
    else if (s.column_names[c] == "d") d.d = s.columns[c];
    else d.feature_names.push_back(s.column_names[c]);
  }
  d.p = d.feature_names.size();
  d.x.resize(n * d.p);
  std::size_t j = 0;
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    if (s.column_names[c] == "y" || s.column_names[c] == "d") continue;
    for (std::size_t i = 0; i < n; ++i) d.x[i * d.p + j] = static_cast<float>(s.columns[c][i]);
    ++j;
  }
  return d;
}

TEST(FitCancel, CountsOneModelPerTaskAndNoneForEstimates) {
  const Dataset data = SellerData(600);
  Options o;
  o.folds = 3;
  o.reps = 2;
  o.propensity.rounds = o.outcome.rounds = 5;
  o.outcome_design = OutcomeDesign::kSeparate;
  const std::uint64_t before = NuisanceModelsTrained();
  const Fit fit = FitNuisances(data, o);
  EXPECT_EQ(NuisanceModelsTrained() - before, 3u * 2u * 3u);  // m, g0, g1 per fold and rep
  Report r = Estimate(data, fit, o);
  BootstrapOptions bo;
  bo.replicates = 50;
  Bootstrap(&r, bo, true);
  EXPECT_EQ(NuisanceModelsTrained() - before, 18u);
}

TEST(FitCancel, ASetFlagStopsBeforeAnyModel) {
  const Dataset data = SellerData(600);
  Options o;
  o.folds = 3;
  std::atomic<bool> cancel{true};
  const std::uint64_t before = NuisanceModelsTrained();
  EXPECT_THROW(FitNuisances(data, o, &cancel), Cancelled);
  EXPECT_EQ(NuisanceModelsTrained(), before);
}

TEST(FitCancel, AFlagSetDuringTheFitStopsItWithinARound) {
  const Dataset data = SellerData(4000);
  Options o;
  o.folds = 5;
  o.reps = 4;
  o.threads = 2;
  o.propensity.rounds = o.outcome.rounds = 5000;  // minutes if it ran to the end
  std::atomic<bool> cancel{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(FitNuisances(data, o, &cancel), Cancelled);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  setter.join();
  EXPECT_LT(seconds, 5.0);
  EXPECT_EQ(Cancelled("x").exit_code(), kExitCancelled);
}

}  // namespace
}  // namespace fastdml
