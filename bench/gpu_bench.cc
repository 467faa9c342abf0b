// The GPU benchmarks of issue 5, runnable on any device (so the CPU of the same
// machine gives the ratio). Plain main, no Google Benchmark: the offline GPU
// machine builds it from the bundle alone (scripts/gpu-bringup runs it).
//
//   gpu_bench bootstrap --n 10000000 --replicates 10000 --k 2 --method rademacher
//                       --device cuda --repeats 3
//   gpu_bench fit --n 1000000 --p 100 --rounds 500 --depth 8 --folds 5 --device cuda
//
// Each run prints one JSON object per line (stdout): the machine (GPU model,
// driver and CUDA runtime versions, CPU model, threads), the configuration,
// every timed run and the median. Timing: one untimed warm-up run (CUDA
// context, kernel loading, XGBoost's first allocations), then `--repeats`
// timed runs on a synchronised wall clock (every timed call returns host
// results, so the device has finished).
//
// `fit` times one end-to-end IRM analysis on the seller design: the nuisance
// fit (ATE + ATT scores), GATE by category and a bootstrap of B replicates,
// and splits the wall time into upload, XGBoost (quantile sketch, fold
// matrices, training, prediction), download and our kernels (gather, scores,
// GATE, bootstrap), so the share that is not XGBoost itself can be checked.
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda/device.h"
#include "driver/device_select.h"
#include "fastdml/cate.h"
#include "fastdml/dataset.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "inference/aggregate.h"
#include "fastdml/inference.h"
#include "sim/simulate.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --name value pairs; every flag must be known (a typo is an error, not a default).
class Flags {
 public:
  Flags(int argc, char** argv, std::map<std::string, std::string> defaults)
      : values_(std::move(defaults)) {
    for (int i = 2; i < argc; i += 2) {
      const std::string name = argv[i];
      if (name.rfind("--", 0) != 0 || !values_.count(name.substr(2)))
        throw fastdml::UsageError("unknown option '" + name + "'");
      if (i + 1 >= argc) throw fastdml::UsageError(name + " needs a value");
      values_[name.substr(2)] = argv[i + 1];
    }
  }
  std::string Str(const std::string& k) const { return values_.at(k); }
  long long Int(const std::string& k) const {
    const std::string& s = values_.at(k);
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || v < 0)
      throw fastdml::UsageError("--" + k + " expects a non-negative integer, got '" + s + "'");
    return v;
  }

 private:
  std::map<std::string, std::string> values_;
};

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

json Machine(const std::string& device) {
  json m = {{"cpu", CpuModel()}, {"hardware_threads", std::thread::hardware_concurrency()}};
  std::string why;
  if (fastdml::cuda::Available(&why)) {
    int index = 0;
    if (device.rfind("cuda:", 0) == 0) index = std::atoi(device.c_str() + 5);
    const fastdml::cuda::DeviceInfo info = fastdml::cuda::Query(index);
    auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); };
    m["gpu"] = info.name;
    m["gpu_memory_gib"] = static_cast<double>(info.total_memory) / (1024.0 * 1024 * 1024);
    m["compute_capability"] = std::to_string(info.major) + "." + std::to_string(info.minor);
    m["cuda_driver"] = version(info.driver_version);
    m["cuda_runtime"] = version(info.runtime_version);
  } else {
    m["gpu"] = nullptr;
    m["gpu_unavailable"] = why;
  }
  return m;
}

// Scores shaped like the engine's: k estimands, J = -1, se from the scores.
fastdml::ScoreBlock BenchScores(std::size_t n, int k) {
  fastdml::ScoreBlock sc;
  sc.n = n;
  sc.k = k;
  sc.psi.resize(n * static_cast<std::size_t>(k));
  std::uint64_t state = 0x9E3779B97F4A7C15ull;  // xorshift: fast, and the values do not matter
  for (double& v : sc.psi) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    v = static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5;
  }
  for (int j = 0; j < k; ++j) {
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) ss += sc.psi[j * n + i] * sc.psi[j * n + i];
    sc.j.push_back(-1.0);
    sc.se.push_back(std::sqrt(ss) / static_cast<double>(n));
    sc.theta.push_back(0.0);
  }
  return sc;
}

int RunBootstrap(const Flags& f) {
  const std::size_t n = static_cast<std::size_t>(f.Int("n"));
  const int k = static_cast<int>(f.Int("k"));
  fastdml::BootstrapOptions o;
  o.replicates = f.Int("replicates");
  o.method = fastdml::ParseBootstrapMethod(f.Str("method"));
  o.sampler = fastdml::BootstrapSampler::kLoop;  // the per-(replicate, row) work being measured
  // The device it will really run on ("auto" may mean the CPU); "cuda"
  // without a usable GPU stops here with the reason.
  o.device = fastdml::ResolveDevice(fastdml::ParseDevice(f.Str("device")));
  o.seed = 7;
  const fastdml::ScoreBlock sc = BenchScores(n, k);
  fastdml::BootstrapT(sc, o, 0);  // warm-up
  std::vector<double> runs;
  double checksum = 0;
  for (long long r = 0; r < std::max<long long>(1, f.Int("repeats")); ++r) {
    const auto t0 = Clock::now();
    const std::vector<double> t = fastdml::BootstrapT(sc, o, 0);
    runs.push_back(Seconds(t0));
    checksum = t.empty() ? 0 : t[0] + t.back();
  }
  const double med = fastdml::inference::Median(runs);
  json out = {{"bench", "bootstrap"},
              {"device", fastdml::ToString(o.device)},
              {"machine", Machine(fastdml::ToString(o.device))},
              {"n", n},
              {"k", k},
              {"replicates", o.replicates},
              {"method", fastdml::ToString(o.method)},
              {"runs_s", runs},
              {"median_s", med},
              {"pairs_per_s", static_cast<double>(n) * static_cast<double>(o.replicates) / med},
              {"checksum", checksum}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// The seller design as a Dataset, freeing each simulated column once copied
// (n = 1e7 at p = 100 would otherwise hold 8 GB of doubles twice).
fastdml::Dataset SellerData(std::size_t n, std::size_t p, std::vector<double>* category) {
  fastdml::sim::SimOptions so;
  so.design = fastdml::sim::Design::kSeller;
  so.n = n;
  so.p = p;
  so.seed = 11;
  fastdml::sim::SimData s = fastdml::sim::Simulate(so);
  fastdml::Dataset d;
  d.n = n;
  for (const std::string& name : s.column_names)
    if (name != "y" && name != "d") d.feature_names.push_back(name);
  d.p = d.feature_names.size();
  d.x.resize(d.n * d.p);
  std::size_t j = 0;
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    std::vector<double>& col = s.columns[c];
    if (s.column_names[c] == "y") {
      d.y = std::move(col);
    } else if (s.column_names[c] == "d") {
      d.d = std::move(col);
    } else {
      for (std::size_t i = 0; i < n; ++i) d.x[i * d.p + j] = static_cast<float>(col[i]);
      if (s.column_names[c] == "category") *category = std::move(col);
      ++j;
    }
    std::vector<double>().swap(col);
  }
  return d;
}

int RunFit(const Flags& f) {
  const std::size_t n = static_cast<std::size_t>(f.Int("n"));
  std::vector<double> category;
  const auto t_sim = Clock::now();
  const fastdml::Dataset data = SellerData(n, static_cast<std::size_t>(f.Int("p")), &category);
  const double sim_s = Seconds(t_sim);

  fastdml::Options o;
  o.folds = static_cast<int>(f.Int("folds"));
  o.device = fastdml::ResolveDevice(fastdml::ParseDevice(f.Str("device")));
  o.threads = static_cast<int>(f.Int("threads"));
  for (fastdml::LearnerParams* lp : {&o.propensity, &o.outcome}) {
    lp->rounds = static_cast<int>(f.Int("rounds"));
    lp->max_depth = static_cast<int>(f.Int("depth"));
    lp->nthread = static_cast<int>(f.Int("xgb-threads"));
  }
  fastdml::BootstrapOptions bo;
  bo.replicates = f.Int("replicates");
  bo.method = fastdml::BootstrapMethod::kRademacher;
  bo.sampler = fastdml::BootstrapSampler::kLoop;
  const fastdml::Grouping groups = fastdml::GroupByCategory("category", category);

  auto once = [&]() {
    json phase;
    const auto t0 = Clock::now();
    const fastdml::Fit fit = fastdml::FitNuisances(data, o);
    auto t = Clock::now();
    fastdml::Report report = fastdml::Estimate(data, fit, o);
    phase["scores"] = Seconds(t);
    t = Clock::now();
    fastdml::GateOptions go;
    const fastdml::GateResult gate = fastdml::Gate(data, fit, groups, go);
    phase["gate"] = Seconds(t);
    t = Clock::now();
    bo.device = fit.options.device;
    fastdml::Bootstrap(&report, bo, /*joint=*/true);
    phase["bootstrap"] = Seconds(t);
    const double total = Seconds(t0);
    const fastdml::Timings& tm = fit.timings;
    phase["upload"] = tm.upload;
    phase["setup_sketch"] = tm.setup;
    phase["gather"] = tm.gather;
    phase["fold_matrices"] = tm.fold_matrices;
    phase["training"] = tm.training;
    phase["prediction"] = tm.prediction;
    phase["download"] = tm.download;
    phase["fit_total"] = tm.total;
    // XGBoost itself: the quantile sketch (most of setup), fold matrices,
    // boosting and prediction. Everything else is ours (or the bus).
    const double xgboost = tm.setup + tm.fold_matrices + tm.training + tm.prediction;
    json result = {{"total_s", total},
                   {"xgboost_s", xgboost},
                   {"not_xgboost_share", total > 0 ? (total - xgboost) / total : 0.0},
                   {"phases_s", phase},
                   {"device", fastdml::ToString(fit.options.device)},
                   {"ate", report.estimates.at(0).estimate},
                   {"ate_se", report.estimates.at(0).se},
                   {"att", report.estimates.size() > 1 ? report.estimates[1].estimate : 0.0},
                   {"gate_groups", gate.groups.size()}};
    return result;
  };
  // A small warm-up fit (same device and settings, 2 rounds) instead of a
  // full one: it pays CUDA context creation and XGBoost's first allocations.
  {
    fastdml::Options w = o;
    w.propensity.rounds = w.outcome.rounds = 2;
    fastdml::FitNuisances(data, w);
  }
  std::vector<json> runs;
  std::vector<double> totals;
  for (long long r = 0; r < std::max<long long>(1, f.Int("repeats")); ++r) {
    runs.push_back(once());
    totals.push_back(runs.back()["total_s"].get<double>());
  }
  json out = {{"bench", "fit"},
              {"device", fastdml::ToString(o.device)},
              {"machine", Machine(fastdml::ToString(o.device))},
              {"design", "seller"},
              {"n", n},
              {"p", data.p},
              {"folds", o.folds},
              {"rounds", o.outcome.rounds},
              {"depth", o.outcome.max_depth},
              {"outcome_design", fastdml::ToString(o.outcome_design)},
              {"bootstrap_replicates", bo.replicates},
              {"simulate_s", sim_s},
              {"runs", runs},
              {"median_total_s", fastdml::inference::Median(totals)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

void Usage() {
  std::fprintf(stderr,
               "usage: gpu_bench bootstrap [--n N] [--replicates B] [--k K] [--method M]\n"
               "                           [--device D] [--repeats R]\n"
               "       gpu_bench fit [--n N] [--p P] [--rounds R] [--depth D] [--folds K]\n"
               "                     [--replicates B] [--device D] [--threads T]\n"
               "                     [--xgb-threads T] [--repeats R]\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage();
    return fastdml::kExitUsage;
  }
  const std::string what = argv[1];
  try {
    if (what == "bootstrap") {
      return RunBootstrap(Flags(argc, argv,
                                {{"n", "10000000"}, {"replicates", "10000"}, {"k", "2"},
                                 {"method", "rademacher"}, {"device", "cuda"}, {"repeats", "3"}}));
    }
    if (what == "fit") {
      return RunFit(Flags(argc, argv,
                          {{"n", "1000000"}, {"p", "100"}, {"rounds", "500"}, {"depth", "8"},
                           {"folds", "5"}, {"replicates", "10000"}, {"device", "cuda"},
                           {"threads", "0"}, {"xgb-threads", "1"}, {"repeats", "1"}}));
    }
    Usage();
    return fastdml::kExitUsage;
  } catch (const fastdml::Error& e) {
    std::fprintf(stderr, "gpu_bench: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_bench: %s\n", e.what());
    return 1;
  }
}
