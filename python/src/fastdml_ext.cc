// fastdml._ext: the C++ engine for Python (nanobind). Thin on purpose: the
// estimator class, input conversion and error messages about Python objects
// live in python/fastdml; this module exposes the engine's own types.
//
// Copies: a Dataset owns its arrays (include/fastdml/dataset.h). Python fills
// them through writable numpy views (Dataset.x, .y, .d, ...), so every input
// is converted straight into the engine's buffer: one copy, none more.
//
// This file defines the module: error translation, options and device; each
// area binds itself in bind_<area>.cc (declared in bindings.h).
#include "bindings.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda/device.h"  // CopyFromDevice
#include "driver/device_select.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "nuisance/xgboost_api.h"


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

  BindDataset(m);

  nb::class_<LearnerParams>(m, "LearnerParams")
      .def(nb::init<>())
      // 0 (kAutoRounds): early stopping on an inner validation split, at
      // most max_rounds, patience early_stopping_rounds (docs/tuning.md).
      .def_rw("rounds", &LearnerParams::rounds)
      .def_rw("max_rounds", &LearnerParams::max_rounds)
      .def_rw("early_stopping_rounds", &LearnerParams::early_stopping_rounds)
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
                       Estimand parsed;
                       if (!ParseEstimand(e, &parsed)) {
                         throw UsageError("estimand: unknown estimand '" + e + "' (expected 'ate', 'att', 'atc' or 'ato')");
                       }
                       o.estimands.push_back(parsed);
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
      .def_rw("validation_fraction", &Options::validation_fraction)
      .def_prop_rw("early_stopping_model",
                   [](const Options& o) { return std::string(ToString(o.early_stopping_model)); },
                   [](Options& o, const std::string& v) {
                     if (v != "refit" && v != "keep") {
                       throw UsageError("early_stopping_model: expected 'refit' or 'keep', got '" + v + "'");
                     }
                     o.early_stopping_model = v == "keep" ? EarlyStopModel::kKeep : EarlyStopModel::kRefit;
                   })
      // --tune as three fields: on/off, the searched parameters (the CLI's
      // names: depth, eta, min-child-weight) and --tune-per-fold.
      .def_prop_rw("tune", [](const Options& o) { return o.tune.enabled; },
                   [](Options& o, bool v) { o.tune.enabled = v; })
      .def_prop_rw("tune_params",
                   [](const Options& o) {
                     std::vector<std::string> out;
                     for (TuneParam t : o.tune.params) out.push_back(ToString(t));
                     return out;
                   },
                   [](Options& o, const std::vector<std::string>& v) {
                     std::vector<TuneParam> params;
                     for (const auto& name : v) {
                       TuneParam t;
                       if (name == "depth") t = TuneParam::kMaxDepth;
                       else if (name == "eta") t = TuneParam::kEta;
                       else if (name == "min-child-weight") t = TuneParam::kMinChildWeight;
                       else throw UsageError("tune: unknown parameter '" + name + "' (expected depth, eta, min-child-weight)");
                       if (std::find(params.begin(), params.end(), t) == params.end()) params.push_back(t);
                     }
                     o.tune.params = std::move(params);
                   })
      .def_prop_rw("tune_per_fold", [](const Options& o) { return o.tune.per_fold; },
                   [](Options& o, bool v) { o.tune.per_fold = v; })
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
      .def_prop_rw("device", [](const BootstrapOptions& o) { return ToString(o.device); },
                   [](BootstrapOptions& o, const std::string& v) { o.device = ParseDevice(v); });

  BindFit(m);
  BindInference(m);
  BindSensitivity(m);
  BindTrim(m);

  BindCate(m);
  BindSim(m);

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
