// fastdml._ext: heterogeneous effects (include/fastdml/cate.h).
#include "bindings.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "fastdml/cate.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"

namespace fastdml {
namespace {

template <typename T>
std::vector<T> ToStdVector(const In1<T>& a) {
  return std::vector<T>(a.data(), a.data() + a.shape(0));
}

// A ColumnSource over a Python callable that returns a 1-D float64 array.
ColumnSource ArrayColumns(nb::callable columns) {
  return [columns = std::move(columns)](const std::string& name) {
    nb::gil_scoped_acquire gil;
    return ToStdVector(nb::cast<In1<double>>(columns(name)));
  };
}

nb::dict GroupDict(const GroupEffect& e) {
  nb::dict d = InferenceDict(e);
  d["label"] = e.label;
  d["n"] = e.n;
  d["n_treated"] = e.n_treated;
  d["p_romano_wolf"] = e.p_romano_wolf;
  return d;
}

// The settings GATE and BLP share, as the Python calls pass them.
template <class CateOptions>
void SetCateOptions(CateOptions* o, const std::string& cov, double level, double clip, bool normalize_ipw,
                    std::int64_t replicates, std::uint64_t seed) {
  o->cov = ParseCovType(cov);
  o->level = level;
  o->score.clip = clip;
  o->score.normalize_ipw = normalize_ipw;
  o->bootstrap.replicates = replicates;
  o->bootstrap.seed = seed;
}

}  // namespace

void BindCate(nb::module_& m) {
  // --- heterogeneous effects (include/fastdml/cate.h): GATE and BLP from the
  // stored predictions; nothing is refitted.
  nb::class_<Grouping>(m, "Grouping")
      .def(nb::init<>())
      .def_rw("name", &Grouping::name)
      .def_rw("labels", &Grouping::labels)
      .def_rw("group", &Grouping::group);
  // Columns arrive as contiguous float64 / int32 arrays (numpy, or pandas and
  // Arrow through numpy): read in place by group_by_category, copied once
  // into the engine's vectors by the others. A Python list of n floats cost
  // ~20x that (bench/RESULTS.md, re-estimation latency).
  m.def("group_by_category",
        [](const std::string& name, In1<double> values) {
          return GroupByCategory(name, values.data(), values.shape(0));
        },
        "name"_a, "values"_a);
  m.def("group_by_quantiles",
        [](const std::string& name, In1<double> values, int bins) {
          return GroupByQuantiles(name, ToStdVector(values), bins);
        },
        "name"_a, "values"_a, "bins"_a);
  m.def("grouping_from_codes",
        [](const std::string& name, const std::vector<std::string>& labels, In1<std::int32_t> codes) {
          Grouping g;
          g.name = name;
          g.labels = labels;
          g.group = ToStdVector(codes);
          return g;
        },
        "name"_a, "labels"_a, "codes"_a);
  m.def("gate",
        [](const Dataset& data, const Fit& fit, const Grouping& g, const std::string& signal, const std::string& cov,
           double level, double clip, bool normalize_ipw, std::int64_t replicates, std::uint64_t seed) {
          GateOptions o;
          Estimand e;
          if (signal == "atte" || !ParseEstimand(signal, &e)) {
            throw UsageError("signal: expected 'ate', 'att', 'atc' or 'ato', got '" + signal + "'");
          }
          o.score = fit.options.Score(e);
          SetCateOptions(&o, cov, level, clip, normalize_ipw, replicates, seed);
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
  // `columns(name)` returns a float64 array: one copy into the basis column.
  m.def("make_basis",
        [](const std::string& spec, nb::callable columns, std::size_t n) {
          return MakeBasis(spec, ArrayColumns(std::move(columns)), n);
        },
        "spec"_a, "columns"_a, "n"_a);
  m.def("make_basis_like",
        [](const Basis& fitted, nb::callable columns, std::size_t n) {
          return MakeBasisLike(fitted, ArrayColumns(std::move(columns)), n);
        },
        "fitted"_a, "columns"_a, "n"_a);
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
          SetCateOptions(&o, cov, level, clip, normalize_ipw, replicates, seed);
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
}

}  // namespace fastdml
