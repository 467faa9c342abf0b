// Cross-fitting with the data on the GPU (--device cuda) against the CPU fit
// on the same simulated data and seed. XGBoost's GPU hist sketches its own
// cuts and sums histograms in another order, so predictions are not
// bit-identical to the CPU's: the GPU fit differs from the CPU fit about as
// much as a CPU fit with other XGBoost seeds does. Measured on the CPU (this
// design, n = 6000, these options, 8 learner seeds, same folds): the pairwise
// difference of two IRM estimates has sd 0.2-0.3 SE and of their SEs 5-8%, so
// the bounds are 1 SE for the estimates and 25% for the SEs (>= 3 sd each: a
// 0.5 SE / 10% bound would fail a correct GPU fit in roughly one run out of
// three over the five comparisons). Wrong rows or misplaced predictions move
// far more, and the nuisance losses (seed to seed within 0.5%) must agree
// within 5% relative. Integer results (the fold plan) and repeated GPU runs must be
// identical. Skips (with cuda::Available's reason) where no GPU is usable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cuda/device.h"
#include "cuda/device_data.h"
#include "driver/fold_plan.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "nuisance/xgboost_api.h"
#include "sim/simulate.h"
#include "sim_dataset.h"

namespace fastdml {
namespace {

// Empty when a CUDA fit can run here, else why not.
std::string WhyNoCudaFit() {
  std::string why;
  if (!cuda::Available(&why)) return why;
  if (!xgb::LibraryHasCuda()) return "the loaded libxgboost was built without CUDA";
  return "";
}

#define SKIP_WITHOUT_CUDA_FIT()                         \
  do {                                                  \
    const std::string why_not = WhyNoCudaFit();         \
    if (!why_not.empty()) GTEST_SKIP() << why_not;      \
  } while (0)

Dataset SimData(sim::Design design, std::size_t n, std::uint64_t seed) {
  sim::SimOptions so;
  so.design = design;
  so.n = n;
  so.p = 8;
  so.seed = seed;
  return test::DatasetFromSim(sim::Simulate(so));
}

Options SmallOptions(const std::string& device) {
  Options o;
  o.device = ParseDevice(device);
  o.folds = 3;
  o.reps = 2;
  o.propensity.rounds = o.outcome.rounds = 60;
  o.propensity.max_depth = o.outcome.max_depth = 4;
  o.propensity.subsample = o.outcome.subsample = 0.8;  // exercises the seeded GPU sampler
  return o;
}

struct Case {
  const char* name;
  sim::Design design;
  Model model;
  OutcomeDesign outcome;
};
const Case kCases[] = {{"irm separate", sim::Design::kIrm, Model::kIrm, OutcomeDesign::kSeparate},
                       {"irm pooled", sim::Design::kIrm, Model::kIrm, OutcomeDesign::kPooled},
                       {"plr", sim::Design::kPlr, Model::kPlr, OutcomeDesign::kPooled}};

TEST(FitCuda, EstimatesAgreeWithCpuWithinOneStandardError) {
  SKIP_WITHOUT_CUDA_FIT();
  for (const Case& c : kCases) {
    const Dataset data = SimData(c.design, 6000, 21);
    Options cpu_o = SmallOptions("cpu"), gpu_o = SmallOptions("cuda");
    for (Options* o : {&cpu_o, &gpu_o}) {
      o->model = c.model;
      o->outcome_design = c.outcome;
      o->estimands = c.model == Model::kIrm ? std::vector<Estimand>{Estimand::kAte, Estimand::kAtt}
                                            : std::vector<Estimand>{Estimand::kAte};
    }
    const Fit cpu = FitNuisances(data, cpu_o), gpu = FitNuisances(data, gpu_o);
    EXPECT_EQ(ToString(gpu.options.device), "cuda");
    EXPECT_EQ(cpu.predictions.fold, gpu.predictions.fold) << c.name;  // same plan, integer for integer
    EXPECT_GT(gpu.timings.upload, 0.0) << c.name;
    EXPECT_GT(gpu.timings.download, 0.0) << c.name;
    const Report cpu_r = Estimate(data, cpu, cpu_o), gpu_r = Estimate(data, gpu, gpu_o);
    ASSERT_EQ(cpu_r.estimates.size(), gpu_r.estimates.size());
    for (std::size_t e = 0; e < cpu_r.estimates.size(); ++e) {
      const EstimateResult &a = cpu_r.estimates[e], &b = gpu_r.estimates[e];
      EXPECT_LT(std::fabs(a.estimate - b.estimate), 1.0 * a.se)
          << c.name << " " << a.estimand << ": cpu " << a.estimate << " gpu " << b.estimate << " se " << a.se;
      EXPECT_NEAR(b.se, a.se, 0.25 * a.se) << c.name << " " << a.estimand;
    }
    ASSERT_EQ(cpu.quality.size(), gpu.quality.size());
    for (std::size_t q = 0; q < cpu.quality.size(); ++q) {
      EXPECT_EQ(cpu.quality[q].name, gpu.quality[q].name);
      EXPECT_NEAR(gpu.quality[q].value, cpu.quality[q].value, 0.05 * cpu.quality[q].value)
          << c.name << " " << cpu.quality[q].name << " " << cpu.quality[q].metric;
    }
  }
}

// Early stopping and --tune on the device (issue 14): the inner split is
// drawn on the host and its rows gathered on the GPU (DeviceData::
// UseTrainingRows). The chosen rounds may differ from the CPU's (GPU
// histograms sum in another order), the estimates agree as above, and a
// perturbed held-out fold leaves its own predictions bit-identical.
TEST(FitCuda, EarlyStoppingAndTuningRunOnTheDevice) {
  SKIP_WITHOUT_CUDA_FIT();
  Dataset data = SimData(sim::Design::kIrm, 6000, 23);
  Options cpu_o = SmallOptions("cpu"), gpu_o = SmallOptions("cuda");
  for (Options* o : {&cpu_o, &gpu_o}) {
    o->reps = 1;
    o->propensity.rounds = o->outcome.rounds = kAutoRounds;
    o->tune.enabled = true;
    o->tune.params = {TuneParam::kMaxDepth};
    o->estimands = {Estimand::kAte, Estimand::kAtt};
  }
  const Fit cpu = FitNuisances(data, cpu_o), gpu = FitNuisances(data, gpu_o);
  ASSERT_EQ(gpu.tuning.size(), cpu.tuning.size());
  for (const NuisanceTuning& t : gpu.tuning) {
    ASSERT_EQ(t.searches.size(), 1u) << t.name;
    for (const auto& m : t.models) EXPECT_GE(m.rounds, 1) << t.name;
  }
  const Report cpu_r = Estimate(data, cpu, cpu_o), gpu_r = Estimate(data, gpu, gpu_o);
  for (std::size_t e = 0; e < cpu_r.estimates.size(); ++e) {
    const EstimateResult &a = cpu_r.estimates[e], &b = gpu_r.estimates[e];
    EXPECT_LT(std::fabs(a.estimate - b.estimate), 1.0 * a.se) << a.estimand;
  }
  gpu_o.tune.per_fold = true;
  data.fold.resize(data.n);
  for (std::size_t i = 0; i < data.n; ++i) data.fold[i] = static_cast<int>(i % 3);
  const Fit before = FitNuisances(data, gpu_o);
  for (std::size_t i = 0; i < data.n; i += 3) data.y[i] = 100.0 + 7.0 * data.y[i];
  const Fit after = FitNuisances(data, gpu_o);
  for (std::size_t i = 0; i < data.n; i += 3) {
    ASSERT_EQ(before.predictions.g0[i], after.predictions.g0[i]) << "row " << i;
    ASSERT_EQ(before.predictions.g1[i], after.predictions.g1[i]) << "row " << i;
  }
}

// The device-resident route: a GPU fit keeps its predictions on the device,
// Estimate scores them there (cuda::ScoreSession) and leaves psi there for the
// bootstrap. The same predictions handed over without the device copy (so
// uploaded) must give the same bits: same reductions on the same device. The
// CPU's sequential sums may differ in the last bits only: 1e-12 relative.
TEST(FitCuda, ResidentPredictionsGiveTheUploadedAndCpuResults) {
  SKIP_WITHOUT_CUDA_FIT();
  for (const Case& c : kCases) {
    const Dataset data = SimData(c.design, 4000, 31);
    Options o = SmallOptions("cuda");
    o.model = c.model;
    o.outcome_design = c.outcome;
    o.estimands = c.model == Model::kIrm ? std::vector<Estimand>{Estimand::kAte, Estimand::kAtt}
                                         : std::vector<Estimand>{Estimand::kAte};
    const Fit gpu = FitNuisances(data, o);
    ASSERT_NE(gpu.device_predictions, nullptr) << c.name;
    EXPECT_EQ(gpu.device_predictions->n(), data.n) << c.name;
    EXPECT_EQ(gpu.device_predictions->reps(), o.reps) << c.name;
    Fit uploaded = gpu, on_cpu = gpu;
    uploaded.device_predictions.reset();
    on_cpu.device_predictions.reset();
    on_cpu.options.device = Device::Cpu();
    Options cpu_o = o;
    cpu_o.device = Device::Cpu();
    const Report resident = Estimate(data, gpu, o), upload = Estimate(data, uploaded, o),
                 host = Estimate(data, on_cpu, cpu_o);
    for (std::size_t e = 0; e < resident.estimates.size(); ++e) {
      const EstimateResult &a = resident.estimates[e], &b = upload.estimates[e], &h = host.estimates[e];
      EXPECT_EQ(a.theta_reps, b.theta_reps) << c.name << " " << a.estimand;
      EXPECT_EQ(a.se_reps, b.se_reps) << c.name << " " << a.estimand;
      for (std::size_t r = 0; r < a.theta_reps.size(); ++r) {
        EXPECT_NEAR(a.theta_reps[r], h.theta_reps[r], 1e-12 * std::fabs(h.theta_reps[r]) + 1e-15) << c.name;
        EXPECT_NEAR(a.se_reps[r], h.se_reps[r], 1e-12 * h.se_reps[r]) << c.name;
      }
    }
    for (std::size_t r = 0; r < resident.scores.size(); ++r) {
      ASSERT_NE(resident.scores[r].device_scores, nullptr) << c.name;
      EXPECT_EQ(host.scores[r].device_scores, nullptr) << c.name;
      EXPECT_EQ(resident.scores[r].psi, upload.scores[r].psi) << c.name;
    }
    // The bootstrap reads psi from the device: the same t* as from an upload.
    BootstrapOptions bo;
    bo.replicates = 300;
    bo.method = BootstrapMethod::kRademacher;
    bo.sampler = BootstrapSampler::kLoop;
    bo.seed = 4;
    bo.device = Device::Cuda();
    ScoreBlock without_device = resident.scores[1];
    without_device.device_scores.reset();
    EXPECT_EQ(BootstrapT(resident.scores[1], bo, 1), BootstrapT(without_device, bo, 1)) << c.name;
  }
}

TEST(FitCuda, RepeatedGpuFitsGiveIdenticalPredictions) {
  SKIP_WITHOUT_CUDA_FIT();
  for (const Case& c : kCases) {
    const Dataset data = SimData(c.design, 3000, 8);
    Options o = SmallOptions("cuda");
    o.model = c.model;
    o.outcome_design = c.outcome;
    const Fit a = FitNuisances(data, o), b = FitNuisances(data, o);
    EXPECT_EQ(a.predictions.m, b.predictions.m) << c.name;  // bit for bit
    EXPECT_EQ(a.predictions.g0, b.predictions.g0) << c.name;
    EXPECT_EQ(a.predictions.g1, b.predictions.g1) << c.name;
    EXPECT_EQ(a.predictions.l, b.predictions.l) << c.name;
    for (double v : a.predictions.m) ASSERT_TRUE(std::isfinite(v)) << c.name;  // every row predicted
  }
}

// As Fit.HeldOutRowsDoNotInfluenceTheirOwnFoldModels on the CPU: changing the
// outcome and treatment of fold 0's rows changes no prediction made for fold 0.
TEST(FitCuda, HeldOutRowsDoNotInfluenceTheirOwnFoldModels) {
  SKIP_WITHOUT_CUDA_FIT();
  for (MatrixStrategy strategy : {MatrixStrategy::kSharedCuts, MatrixStrategy::kPerFold}) {
    for (OutcomeDesign design : {OutcomeDesign::kSeparate, OutcomeDesign::kPooled}) {
      Dataset data = SimData(sim::Design::kIrm, 1500, 4);
      data.fold.resize(data.n);
      for (std::size_t i = 0; i < data.n; ++i) data.fold[i] = static_cast<int>(i % 3);
      Options o = SmallOptions("cuda");
      o.reps = 1;
      o.matrix_strategy = strategy;
      o.outcome_design = design;
      const Fit before = FitNuisances(data, o);
      for (std::size_t i = 0; i < data.n; i += 3) {
        data.y[i] = 100.0 + 7.0 * data.y[i];
        if (i % 9 == 0) data.d[i] = 1.0 - data.d[i];
      }
      const Fit after = FitNuisances(data, o);
      const std::string what = std::string(ToString(strategy)) + " " + ToString(design);
      for (std::size_t i = 0; i < data.n; i += 3) {
        ASSERT_EQ(before.predictions.m[i], after.predictions.m[i]) << what << " row " << i;
        ASSERT_EQ(before.predictions.g0[i], after.predictions.g0[i]) << what << " row " << i;
        ASSERT_EQ(before.predictions.g1[i], after.predictions.g1[i]) << what << " row " << i;
      }
      bool moved = false;  // ...while other folds' predictions move (the test can fail)
      for (std::size_t i = 1; i < data.n; i += 3) moved |= before.predictions.g0[i] != after.predictions.g0[i];
      EXPECT_TRUE(moved) << what;
    }
  }
}

// The device row lists are the CPU driver's, on real GPU memory.
TEST(FitCuda, DeviceRowListsEqualTheCpuDrivers) {
  SKIP_WITHOUT_CUDA_FIT();
  const Dataset data = SimData(sim::Design::kIrm, 997, 3);
  const FoldPlan plan = MakeFoldPlan(data.d, 4, 2, 7);
  std::vector<float> y(data.n), d(data.n);
  for (std::size_t i = 0; i < data.n; ++i) {
    y[i] = static_cast<float>(data.y[i]);
    d[i] = static_cast<float>(data.d[i]);
  }
  cuda::FitDataView view{data.x.data(), data.n, data.p, y.data(), d.data(), plan.fold.data(), 2, true, true};
  cuda::DeviceData dev(0, view);
  std::vector<std::uint32_t> train, held;
  for (int r = 0; r < 2; ++r) {
    for (int k = 0; k < 4; ++k) {
      for (ops::RowArm arm : {ops::RowArm::kAll, ops::RowArm::kControl, ops::RowArm::kTreated}) {
        const std::optional<double> arm_d = arm == ops::RowArm::kControl   ? std::optional<double>(0.0)
                                            : arm == ops::RowArm::kTreated ? std::optional<double>(1.0)
                                                                           : std::nullopt;
        SplitFoldRows(plan, data.d, r, k, arm_d, &train, &held);
        dev.SelectRows(r, k, arm);
        ASSERT_EQ(dev.TrainingRows(), train) << "rep " << r << " fold " << k;
        ASSERT_EQ(dev.HeldOutRows(), held) << "rep " << r << " fold " << k;
      }
    }
  }
  Predictions untouched;
  dev.Download(&untouched);
  ASSERT_EQ(untouched.m.size(), 2 * data.n);
  for (double v : untouched.m) ASSERT_TRUE(std::isnan(v));  // NaN until a model writes a row
  EXPECT_TRUE(untouched.l.empty());
}

// More rows than the GPU has bytes: a LibraryError naming the bytes asked,
// raised by the allocation that DeviceData makes before reading any host data
// (so the small host arrays here are never read past their end).
TEST(FitCuda, OutOfMemoryIsALibraryErrorNamingTheBytes) {
  SKIP_WITHOUT_CUDA_FIT();
  const cuda::DeviceInfo info = cuda::Query(0);
  const std::size_t p = 64, n = info.total_memory / (p * sizeof(float)) + 1;
  const std::vector<float> tiny(1, 0.0f);
  const std::vector<int> fold(1, 0);
  cuda::FitDataView view{tiny.data(), n, p, tiny.data(), tiny.data(), fold.data(), 1, false, true};
  try {
    cuda::DeviceData dev(0, view);
    FAIL() << "allocating " << n * p * sizeof(float) << " bytes succeeded";
  } catch (const LibraryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("out of memory"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(n * p * sizeof(float)) + " bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("--device cpu"), std::string::npos) << what;
  }
}

TEST(FitCuda, ZeroWeightStrategyIsRejectedOnCuda) {
  SKIP_WITHOUT_CUDA_FIT();
  const Dataset data = SimData(sim::Design::kIrm, 500, 1);
  Options o = SmallOptions("cuda");
  o.matrix_strategy = MatrixStrategy::kZeroWeight;
  try {
    FitNuisances(data, o);
    FAIL() << "zero-weight ran on cuda";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--matrix-strategy"), std::string::npos) << e.what();
  }
}

// Runs wherever CUDA is NOT fully usable (this includes CPU-only CI with the
// xgboost-cpu wheel): --device cuda fails up front with the reason.
TEST(FitCuda, DeviceCudaWithoutUsableCudaSaysWhy) {
  std::string why_gpu;
  const bool gpu = cuda::Available(&why_gpu);
  const bool xgboost_cuda = xgb::LibraryHasCuda();
  if (gpu && xgboost_cuda) GTEST_SKIP() << "CUDA is usable here";
  const Dataset data = SimData(sim::Design::kIrm, 200, 1);
  Options o = SmallOptions("cuda");
  const std::uint64_t trained = NuisanceModelsTrained();
  try {
    FitNuisances(data, o);
    FAIL() << "--device cuda ran without a usable CUDA";
  } catch (const LibraryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--device cuda: CUDA is not usable"), std::string::npos) << what;
    EXPECT_NE(what.find(gpu ? std::string("USE_CUDA=false") : why_gpu), std::string::npos) << what;
  }
  EXPECT_EQ(NuisanceModelsTrained(), trained);  // nothing trained before the error
}

}  // namespace
}  // namespace fastdml
