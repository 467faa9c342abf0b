// fastdml._ext: the nuisance fit (trained, or from given predictions) and Estimate.
#include "bindings.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "io/report.h"

namespace fastdml {
namespace {

// Runs `train(&cancel)` (FitNuisances or FitGrid) on a worker thread with the
// GIL released. The calling (main) thread polls Python's signal handlers every
// 50 ms; when one raises (Ctrl-C -> KeyboardInterrupt) it sets the fit's
// cancel flag, waits for the workers to stop (within one boosting round) and
// re-raises that exception.
template <typename Result, typename Train>
Result RunWithSignals(Train train) {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  Result fit;
  std::exception_ptr error;
  std::optional<nb::python_error> interrupt;
  {
    nb::gil_scoped_release release;
    std::thread worker([&] {
      try {
        fit = train(&cancel);
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

Fit FitWithSignals(const Dataset& data, const Options& options) {
  return RunWithSignals<Fit>([&](const std::atomic<bool>* cancel) { return FitNuisances(data, options, cancel); });
}

// The grid's cells share X and the fold plan; FitGrid selects cells in turn
// and leaves cell (0, 0) selected in `data`.
GridFit FitGridWithSignals(Dataset& data, const Options& options) {
  return RunWithSignals<GridFit>([&](const std::atomic<bool>* cancel) { return FitGrid(&data, options, cancel); });
}

}  // namespace

void BindFit(nb::module_& m) {
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
                       d["constant"] = q.constant;
                       d["worse_t"] = q.worse_t;
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
        d["tuning"] = t.tuning;
        d["prediction"] = t.prediction;
        d["scores"] = t.scores;
        d["total"] = t.total;
        return d;
      })
      // diagnostics.nuisance_tuning of the CLI's JSON, as that JSON's text
      // (one serializer, io::TuningJson; the package parses it): "{}" for a
      // fit from given predictions.
      .def_prop_ro("tuning_json", [](const Fit& f) { return io::TuningJson(f.tuning).dump(); })
      .def("set_scores_seconds", [](Fit& f, double s) { f.timings.scores = s; });

  nb::class_<GridFit>(m, "GridFit")
      .def_ro("outcomes", &GridFit::outcomes)
      .def_ro("treatments", &GridFit::treatments)
      .def_prop_ro("n_cells", [](const GridFit& g) { return g.cells.size(); })
      // Cell (j, k)'s Fit at j * len(treatments) + k, by reference: it lives
      // as long as the GridFit (no copy of its predictions).
      .def("cell",
           [](GridFit& g, std::size_t c) -> Fit& {
             if (c >= g.cells.size()) throw UsageError("GridFit.cell: no cell " + std::to_string(c));
             return g.cells[c];
           },
           "index"_a, nb::rv_policy::reference_internal);
  m.def("fit_grid", &FitGridWithSignals, "data"_a, "options"_a,
        "Every (outcome, treatment) cell of a grid Dataset on one fold plan (FitGrid); GIL released, Ctrl-C cancels.");
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
  m.def("nuisance_models_trained", &NuisanceModelsTrained,
        "XGBoost models trained by this process so far (re-estimation adds none).");
}

}  // namespace fastdml
