// fastdml._ext: the C++ engine for Python (nanobind). Thin on purpose: the
// estimator class, input conversion and error messages about Python objects
// live in python/fastdml; this module exposes the engine's own types.
//
// Copies: a Dataset owns its arrays (include/fastdml/dataset.h). Python fills
// them through writable numpy views (Dataset.x, .y, .d, ...), so every input
// is converted straight into the engine's buffer: one copy, none more.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "cuda/device.h"  // CopyFromDevice
#include "driver/device_select.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "io/report.h"
#include "nuisance/xgboost_api.h"
#include "sim/simulate.h"


namespace nb = nanobind;
using namespace nb::literals;

namespace fastdml {
namespace {

template <typename T>
using View1 = nb::ndarray<nb::numpy, T, nb::ndim<1>>;
template <typename T>
using In1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using In2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

// (reps, n) copy of one prediction vector; empty (0, n) where it does not apply.
template <typename T>
nb::ndarray<nb::numpy, T, nb::ndim<2>> RepMatrix(const std::vector<T>& v, std::size_t n, int reps) {
  const std::size_t rows = v.empty() ? 0 : static_cast<std::size_t>(reps);
  T* buf = new T[rows * n];
  if (!v.empty()) std::memcpy(buf, v.data(), rows * n * sizeof(T));
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::ndarray<nb::numpy, T, nb::ndim<2>>(buf, {rows, n}, owner);
}

template <typename T>
std::vector<T> ToVector(const nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>& a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

// Runs FitNuisances on a worker thread with the GIL released. The calling
// (main) thread polls Python's signal handlers every 50 ms; when one raises
// (Ctrl-C -> KeyboardInterrupt) it sets the fit's cancel flag, waits for the
// workers to stop (within one boosting round) and re-raises that exception.
Fit FitWithSignals(const Dataset& data, const Options& options) {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  Fit fit;
  std::exception_ptr error;
  std::optional<nb::python_error> interrupt;
  {
    nb::gil_scoped_release release;
    std::thread worker([&] {
      try {
        fit = FitNuisances(data, options, &cancel);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    while (!finished) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
      if (finished || interrupt) continue;
      lock.unlock();
      {
        nb::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {
          interrupt.emplace();  // takes the pending exception (KeyboardInterrupt)
          cancel = true;
        }
      }
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (interrupt) throw *interrupt;
  if (error) std::rethrow_exception(error);
  return fit;
}

nb::dict EstimateDict(const EstimateResult& e) {
  nb::dict d;
  d["estimand"] = e.estimand;
  d["estimate"] = e.estimate;
  d["se"] = e.se;
  d["t"] = e.t;
  d["p_value"] = e.p_value;
  d["ci_lower"] = e.ci_lower;
  d["ci_upper"] = e.ci_upper;
  d["theta_reps"] = e.theta_reps;
  d["se_reps"] = e.se_reps;
  d["has_joint"] = e.has_joint;
  d["joint_ci_lower"] = e.joint_ci_lower;
  d["joint_ci_upper"] = e.joint_ci_upper;
  d["p_adjusted"] = e.p_adjusted;
  return d;
}

nb::dict GroupDict(const GroupEffect& e) {
  nb::dict d;
  d["label"] = e.label;
  d["n"] = e.n;
  d["n_treated"] = e.n_treated;
  d["estimate"] = e.estimate;
  d["se"] = e.se;
  d["t"] = e.t;
  d["p_value"] = e.p_value;
  d["ci_lower"] = e.ci_lower;
  d["ci_upper"] = e.ci_upper;
  d["has_joint"] = e.has_joint;
  d["joint_ci_lower"] = e.joint_ci_lower;
  d["joint_ci_upper"] = e.joint_ci_upper;
  d["p_romano_wolf"] = e.p_romano_wolf;
  d["theta_reps"] = e.theta_reps;
  d["se_reps"] = e.se_reps;
  return d;
}

}  // namespace
}  // namespace fastdml

NB_MODULE(_ext, m) {
  using namespace fastdml;
  m.doc() = "fastdml C++ engine (use the fastdml package, not this module directly)";

  // Engine errors map onto the Python exceptions users expect: bad options or
  // data -> ValueError; library trouble -> RuntimeError; cancel -> KeyboardInterrupt.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const DataError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Cancelled& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  nb::class_<Dataset>(m, "Dataset")
      .def("__init__",
           [](Dataset* self, std::size_t n, std::size_t p) {
             new (self) Dataset();
             self->n = n;
             self->p = p;
             self->x.assign(n * p, 0.0f);
             self->y.assign(n, 0.0);
             self->d.assign(n, 0.0);
           },
           "n"_a, "p"_a)
      .def_ro("n", &Dataset::n)
      .def_ro("p", &Dataset::p)
      // Writable views into the engine's own buffers (the owner stays alive).
      .def_prop_ro("x", [](Dataset& s) { return nb::ndarray<nb::numpy, float, nb::ndim<2>>(s.x.data(), {s.n, s.p}); },
                   nb::rv_policy::reference_internal)
      .def_prop_ro("y", [](Dataset& s) { return View1<double>(s.y.data(), {s.n}); },
                   nb::rv_policy::reference_internal)
      .def_prop_ro("d", [](Dataset& s) { return View1<double>(s.d.data(), {s.n}); },
                   nb::rv_policy::reference_internal)
      .def("alloc_weights",
           [](Dataset& s) {
             s.weights.assign(s.n, 1.0);
             return View1<double>(s.weights.data(), {s.n});
           },
           nb::rv_policy::reference_internal)
      .def("set_clusters",
           [](Dataset& s, In1<std::int32_t> ids, std::int32_t n_clusters, const std::string& name) {
             s.cluster.assign(ids.data(), ids.data() + ids.shape(0));
             s.n_clusters = n_clusters;
             s.cluster_name = name;
           },
           "ids"_a, "n_clusters"_a, "name"_a)
      .def("set_folds", [](Dataset& s, In1<std::int32_t> f) { s.fold.assign(f.data(), f.data() + f.shape(0)); })
      .def_rw("feature_names", &Dataset::feature_names)
      .def_rw("outcome_name", &Dataset::outcome_name)
      .def_rw("treatment_name", &Dataset::treatment_name)
      .def("validate", [](const Dataset& s, std::size_t min_rows, bool binary) { ValidateDataset(s, min_rows, binary); },
           "min_rows"_a, "binary_treatment"_a);

  nb::class_<LearnerParams>(m, "LearnerParams")
      .def(nb::init<>())
      .def_rw("rounds", &LearnerParams::rounds)
      .def_rw("max_depth", &LearnerParams::max_depth)
      .def_rw("eta", &LearnerParams::eta)
      .def_rw("subsample", &LearnerParams::subsample)
      .def_rw("colsample_bytree", &LearnerParams::colsample_bytree)
      .def_rw("min_child_weight", &LearnerParams::min_child_weight)
      .def_rw("lambda_", &LearnerParams::lambda)
      .def_rw("max_bin", &LearnerParams::max_bin)
      .def_rw("nthread", &LearnerParams::nthread)
      .def_rw("seed", &LearnerParams::seed);

  nb::class_<Options>(m, "Options")
      .def(nb::init<>())
      .def_prop_rw("model", [](const Options& o) { return std::string(ToString(o.model)); },
                   [](Options& o, const std::string& v) {
                     if (v != "irm" && v != "plr") throw UsageError("model: expected 'irm' or 'plr', got '" + v + "'");
                     o.model = v == "irm" ? Model::kIrm : Model::kPlr;
                   })
      .def_prop_rw("estimands",
                   [](const Options& o) {
                     std::vector<std::string> out;
                     for (Estimand e : o.estimands) out.push_back(ToString(e));
                     return out;
                   },
                   [](Options& o, const std::vector<std::string>& v) {
                     o.estimands.clear();
                     for (const auto& e : v) {
                       if (e == "ate") o.estimands.push_back(Estimand::kAte);
                       else if (e == "att" || e == "atte") o.estimands.push_back(Estimand::kAtt);
                       else throw UsageError("estimand: unknown estimand '" + e + "' (expected 'ate' or 'att')");
                     }
                   })
      .def_prop_rw("outcome_design", [](const Options& o) { return std::string(ToString(o.outcome_design)); },
                   [](Options& o, const std::string& v) {
                     if (v != "pooled" && v != "separate") {
                       throw UsageError("outcome_design: expected 'pooled' or 'separate', got '" + v + "'");
                     }
                     o.outcome_design = v == "pooled" ? OutcomeDesign::kPooled : OutcomeDesign::kSeparate;
                   })
      .def_rw("folds", &Options::folds)
      .def_rw("reps", &Options::reps)
      .def_rw("seed", &Options::seed)
      .def_rw("clip", &Options::clip)
      .def_rw("normalize_ipw", &Options::normalize_ipw)
      .def_rw("level", &Options::level)
      .def_rw("threads", &Options::threads)
      .def_prop_rw("device", [](const Options& o) { return ToString(o.device); },
                   [](Options& o, const std::string& v) { o.device = ParseDevice(v); })
      .def_rw("propensity", &Options::propensity)
      .def_rw("outcome", &Options::outcome)
      .def("validate", &Options::Validate);

  nb::class_<BootstrapOptions>(m, "BootstrapOptions")
      .def(nb::init<>())
      .def_rw("replicates", &BootstrapOptions::replicates)
      .def_prop_rw("method", [](const BootstrapOptions& b) { return std::string(ToString(b.method)); },
                   [](BootstrapOptions& b, const std::string& v) { b.method = ParseBootstrapMethod(v); })
      .def_prop_rw("sampler",
                   [](const BootstrapOptions& b) {
                     return std::string(b.sampler == BootstrapSampler::kExact  ? "exact"
                                        : b.sampler == BootstrapSampler::kLoop ? "loop"
                                                                                : "auto");
                   },
                   [](BootstrapOptions& b, const std::string& v) {
                     if (v == "auto") b.sampler = BootstrapSampler::kAuto;
                     else if (v == "exact") b.sampler = BootstrapSampler::kExact;
                     else if (v == "loop") b.sampler = BootstrapSampler::kLoop;
                     else throw UsageError("sampler: expected 'auto', 'exact' or 'loop', got '" + v + "'");
                   })
      .def_rw("seed", &BootstrapOptions::seed)
      .def_rw("threads", &BootstrapOptions::threads)
      .def_rw("device", &BootstrapOptions::device);

  nb::class_<Fit>(m, "Fit")
      .def_ro("options", &Fit::options)
      .def_ro("xgboost_version", &Fit::xgboost_version)
      .def_ro("threads", &Fit::threads)
      .def_prop_ro("n", [](const Fit& f) { return f.predictions.n; })
      .def_prop_ro("reps", [](const Fit& f) { return f.predictions.reps; })
      .def_prop_ro("m", [](const Fit& f) { return RepMatrix(f.predictions.m, f.predictions.n, f.predictions.reps); }, nb::rv_policy::automatic)
      .def_prop_ro("g0", [](const Fit& f) { return RepMatrix(f.predictions.g0, f.predictions.n, f.predictions.reps); }, nb::rv_policy::automatic)
      .def_prop_ro("g1", [](const Fit& f) { return RepMatrix(f.predictions.g1, f.predictions.n, f.predictions.reps); }, nb::rv_policy::automatic)
      .def_prop_ro("l", [](const Fit& f) { return RepMatrix(f.predictions.l, f.predictions.n, f.predictions.reps); }, nb::rv_policy::automatic)
      .def_prop_ro("fold", [](const Fit& f) { return RepMatrix(f.predictions.fold, f.predictions.n, f.predictions.reps); }, nb::rv_policy::automatic)
      .def_prop_ro("quality",
                   [](const Fit& f) {
                     nb::list out;
                     for (const auto& q : f.quality) {
                       nb::dict d;
                       d["name"] = q.name;
                       d["metric"] = q.metric;
                       d["value"] = q.value;
                       d["auc"] = q.auc;
                       d["rows"] = q.rows;
                       out.append(d);
                     }
                     return out;
                   })
      .def_prop_ro("timings", [](const Fit& f) {
        const Timings& t = f.timings;
        nb::dict d;
        d["setup"] = t.setup;
        d["gather"] = t.gather;
        d["fold_matrices"] = t.fold_matrices;
        d["training"] = t.training;
        d["prediction"] = t.prediction;
        d["scores"] = t.scores;
        d["total"] = t.total;
        return d;
      })
      .def("set_scores_seconds", [](Fit& f, double s) { f.timings.scores = s; });

  nb::class_<Report>(m, "Report")
      .def_ro("level", &Report::level)
      .def_ro("warnings", &Report::warnings)
      .def_ro("seconds", &Report::seconds)
      .def_prop_ro("estimates",
                   [](const Report& r) {
                     nb::list out;
                     for (const auto& e : r.estimates) out.append(EstimateDict(e));
                     return out;
                   })
      .def_prop_ro("naive",
                   [](const Report& r) {
                     nb::dict d;
                     d["estimate"] = r.naive.estimate;
                     d["se"] = r.naive.se;
                     d["t"] = r.naive.t;
                     d["p_value"] = r.naive.p_value;
                     d["n_treated"] = r.naive.n_treated;
                     d["n_control"] = r.naive.n_control;
                     return d;
                   })
      .def_prop_ro("overlap",
                   [](const Report& r) {
                     nb::dict d;
                     d["min"] = r.overlap.min;
                     d["max"] = r.overlap.max;
                     d["quantiles"] = r.overlap.quantiles;
                     d["clipped_low"] = r.overlap.clipped_low;
                     d["clipped_high"] = r.overlap.clipped_high;
                     d["share_clipped"] = r.overlap.share_clipped;
                     return d;
                   })
      .def_prop_ro("bootstrap_done", [](const Report& r) { return r.bootstrap.done; })
      .def_prop_ro("bootstrap_sampler", [](const Report& r) { return r.bootstrap.sampler; })
      .def_prop_ro("bootstrap_seconds", [](const Report& r) { return r.bootstrap.seconds; })
      .def_prop_ro("joint_critical_values", [](const Report& r) { return r.bootstrap.joint_critical_values; })
      // Bootstrap t-statistics of repetition `rep` as a (B, k) array.
      .def("t_boot", [](const Report& r, int rep) {
        if (!r.bootstrap.done) throw UsageError("no bootstrap yet: call bootstrap() first");
        if (rep < 0 || rep >= static_cast<int>(r.bootstrap.t_boot.size())) {
          throw UsageError("rep must be in 0.." + std::to_string(r.bootstrap.t_boot.size() - 1));
        }
        const auto& t = r.bootstrap.t_boot[rep];
        const std::size_t k = r.estimates.size();
        double* buf = new double[t.size()];
        std::memcpy(buf, t.data(), t.size() * sizeof(double));
        nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<double*>(p); });
        return nb::ndarray<nb::numpy, double, nb::ndim<2>>(buf, {t.size() / k, k}, owner);
      });

  m.def("fit_nuisances", &FitWithSignals, "data"_a, "options"_a,
        "Cross-fitted nuisance predictions; GIL released, Ctrl-C cancels.");
  m.def("fit_from_predictions",
        [](const Dataset& data, const Options& options, In2 m_hat, std::optional<In2> g0, std::optional<In2> g1,
           std::optional<In2> l, nb::ndarray<const std::int32_t, nb::ndim<2>, nb::c_contig, nb::device::cpu> fold) {
          Predictions p;
          p.n = data.n;
          p.reps = static_cast<int>(m_hat.shape(0));
          p.m = ToVector<double>(m_hat);
          if (g0) p.g0 = ToVector<double>(*g0);
          if (g1) p.g1 = ToVector<double>(*g1);
          if (l) p.l = ToVector<double>(*l);
          p.fold.assign(fold.data(), fold.data() + fold.size());
          return FitFromPredictions(data, options, std::move(p));
        },
        "data"_a, "options"_a, "m"_a, "g0"_a.none(), "g1"_a.none(), "l"_a.none(), "fold"_a);
  m.def("estimate", &Estimate, "data"_a, "fit"_a, "options"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("bootstrap", &Bootstrap, "report"_a, "options"_a, "joint"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("adjust_pvalues", &AdjustPValues, "report"_a, "methods"_a);
  m.def("report_json", [](const Report& r, const Fit& f, const Dataset& d) { return io::ReportJson(r, f, d).dump(2); });
  m.def("nuisance_models_trained", &NuisanceModelsTrained,
        "XGBoost models trained by this process so far (re-estimation adds none).");

  // --- heterogeneous effects (include/fastdml/cate.h): GATE and BLP from the
  // stored predictions; nothing is refitted.
  nb::class_<Grouping>(m, "Grouping")
      .def(nb::init<>())
      .def_rw("name", &Grouping::name)
      .def_rw("labels", &Grouping::labels)
      .def_rw("group", &Grouping::group);
  m.def("group_by_category", &GroupByCategory, "name"_a, "values"_a);
  m.def("group_by_quantiles", &GroupByQuantiles, "name"_a, "values"_a, "bins"_a);
  m.def("gate",
        [](const Dataset& data, const Fit& fit, const Grouping& g, const std::string& signal, const std::string& cov,
           double level, double clip, bool normalize_ipw, std::int64_t replicates, std::uint64_t seed) {
          GateOptions o;
          if (signal != "ate" && signal != "att") throw UsageError("signal: expected 'ate' or 'att', got '" + signal + "'");
          o.score = fit.options.Score(signal == "att" ? Estimand::kAtt : Estimand::kAte);
          o.cov = ParseCovType(cov);
          o.level = level;
          o.score.clip = clip;
          o.score.normalize_ipw = normalize_ipw;
          o.bootstrap.replicates = replicates;
          o.bootstrap.seed = seed;
          const GateResult r = Gate(data, fit, g, o);
          nb::list groups;
          for (const auto& e : r.groups) groups.append(GroupDict(e));
          nb::dict d;
          d["by"] = r.by;
          d["signal"] = r.signal;
          d["level"] = r.level;
          d["groups"] = groups;
          d["joint_critical_values"] = r.joint_critical_values;
          d["seconds"] = r.seconds;
          return d;
        },
        "data"_a, "fit"_a, "grouping"_a, "signal"_a, "cov"_a, "level"_a, "clip"_a, "normalize_ipw"_a,
        "replicates"_a, "seed"_a);
  nb::class_<Basis>(m, "Basis")
      .def_ro("names", &Basis::names)
      .def_ro("k", &Basis::k)
      .def_ro("n", &Basis::n)
      .def_prop_ro("x", [](const Basis& b) {
        double* buf = new double[b.x.size()];
        std::memcpy(buf, b.x.data(), b.x.size() * sizeof(double));
        nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<double*>(p); });
        return nb::ndarray<nb::numpy, double, nb::ndim<2>>(buf, {b.n, static_cast<std::size_t>(b.k)}, owner);
      }, nb::rv_policy::automatic);
  m.def("make_basis", &MakeBasis, "spec"_a, "columns"_a, "n"_a);
  m.def("make_basis_like", &MakeBasisLike, "fitted"_a, "columns"_a, "n"_a);
  m.def("basis_from_matrix", [](In2 x, const std::vector<std::string>& names) {
    Basis b;
    b.n = x.shape(0);
    b.k = static_cast<int>(x.shape(1));
    if (names.size() != static_cast<std::size_t>(b.k)) throw UsageError("basis: one name per column is needed");
    b.names = names;
    b.x.assign(x.data(), x.data() + x.size());
    return b;
  });
  nb::class_<BlpResult>(m, "BlpResult")
      .def_ro("names", &BlpResult::names)
      .def_ro("coef", &BlpResult::coef)
      .def_ro("se", &BlpResult::se)
      .def_ro("t", &BlpResult::t)
      .def_ro("p_value", &BlpResult::p_value)
      .def_ro("ci_lower", &BlpResult::ci_lower)
      .def_ro("ci_upper", &BlpResult::ci_upper)
      .def_ro("level", &BlpResult::level);
  m.def("blp",
        [](const Dataset& data, const Fit& fit, const Basis& basis, const std::string& cov, double level, double clip,
           bool normalize_ipw, std::int64_t replicates, std::uint64_t seed) {
          BlpOptions o;
          o.cov = ParseCovType(cov);
          o.level = level;
          o.score.clip = clip;
          o.score.normalize_ipw = normalize_ipw;
          o.bootstrap.replicates = replicates;
          o.bootstrap.seed = seed;
          return Blp(data, fit, basis, o);
        },
        "data"_a, "fit"_a, "basis"_a, "cov"_a, "level"_a, "clip"_a, "normalize_ipw"_a, "replicates"_a, "seed"_a);
  m.def("predict_blp", [](const BlpResult& blp, const Basis& grid) {
    const BlpPrediction p = PredictBlp(blp, grid);
    nb::dict d;
    d["estimate"] = p.estimate;
    d["se"] = p.se;
    d["ci_lower"] = p.ci_lower;
    d["ci_upper"] = p.ci_upper;
    d["has_joint"] = p.has_joint;
    d["joint_ci_lower"] = p.joint_ci_lower;
    d["joint_ci_upper"] = p.joint_ci_upper;
    return d;
  });

  m.def("simulate",
        [](const std::string& design, std::size_t n, std::size_t p, std::uint64_t seed, double theta) {
          sim::SimOptions o;
          o.design = sim::ParseDesign(design);
          o.n = n;
          o.p = p;
          o.seed = seed;
          o.theta = theta;
          const sim::SimData data = sim::Simulate(o);
          nb::dict cols;
          for (std::size_t j = 0; j < data.column_names.size(); ++j) {
            const auto& c = data.columns[j];
            double* buf = new double[c.size()];
            std::memcpy(buf, c.data(), c.size() * sizeof(double));
            nb::capsule owner(buf, [](void* q) noexcept { delete[] static_cast<double*>(q); });
            cols[data.column_names[j].c_str()] = View1<double>(buf, {c.size()}, owner);
          }
          return nb::make_tuple(cols, data.truth.dump());
        },
        "design"_a, "n"_a, "p"_a, "seed"_a, "theta"_a = 0.5);
  m.def("seller_tau", [](int category, double inventory) { return sim::SellerTau(category, inventory); });
  m.def("seller_category_names", [] {
    std::vector<std::string> out(sim::kSellerCategoryNames, sim::kSellerCategoryNames + sim::kSellerCategories);
    return out;
  });

  m.def("resolve_device", [](const std::string& d) { return ToString(ResolveDevice(ParseDevice(d))); }, "device"_a,
        "The device a fit would run on (cpu or cuda[:N]); LibraryError says why CUDA is not usable.");
  m.def("build_info", [] {
    nb::dict d;
    d["version"] = FASTDML_VERSION;
    d["xgboost_version"] = xgb::CheckLibraryVersion();
    d["xgboost_has_cuda"] = xgb::LibraryHasCuda();
#ifdef FASTDML_WITH_CUDA
    d["cuda"] = true;
#else
    d["cuda"] = false;
#endif
    return d;
  });

  // Device -> host copy of a C-contiguous float32 device buffer straight into
  // the Dataset's X (CUDA builds only; the engine's Dataset is host-resident).
  // Checked (cuda/check.h): a failure is a CudaError naming the call.
  m.def("copy_device_x", [](Dataset& s, std::uintptr_t ptr, std::size_t nbytes) {
    if (nbytes != s.x.size() * sizeof(float)) throw UsageError("device X: size does not match n x p float32");
    nb::gil_scoped_release release;
    cuda::CopyFromDevice(ptr, nbytes, s.x.data());
  });
}
