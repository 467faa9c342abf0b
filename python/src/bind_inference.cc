// fastdml._ext: the report of estimates, the multiplier bootstrap and p-value adjustment.
#include "bindings.h"

#include <cstring>
#include <string>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "io/report.h"

namespace fastdml {
namespace {

nb::dict EstimateDict(const EstimateResult& e) {
  nb::dict d = InferenceDict(e);
  d["estimand"] = e.estimand;
  d["p_adjusted"] = e.p_adjusted;
  return d;
}

}  // namespace

void BindInference(nb::module_& m) {
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
                     if (r.overlap.has_ipw) {  // IRM: the worst repetition's (W-EXTREME-PROPENSITY)
                       d["clipped_worst_rep"] = r.overlap.clipped_worst_rep;
                       d["share_clipped_worst_rep"] = r.overlap.share_clipped_worst_rep;
                       d["ipw_ess"] = r.overlap.ipw_ess;
                       d["ipw_ess_share"] = r.overlap.ipw_ess_share;
                       d["ipw_ess_treated"] = r.overlap.ipw_ess_treated;
                       d["ipw_ess_control"] = r.overlap.ipw_ess_control;
                     }
                     if (!r.overlap.histogram_treated.empty()) {  // binary D: per arm, repetitions pooled
                       d["quantiles_treated"] = r.overlap.quantiles_treated;
                       d["quantiles_control"] = r.overlap.quantiles_control;
                       d["histogram_treated"] = r.overlap.histogram_treated;
                       d["histogram_control"] = r.overlap.histogram_control;
                     }
                     return d;
                   })
      // IRM: per feature {feature, smd_raw, smd_ate, smd_att} (src/inference/balance.h); empty for PLR.
      .def_prop_ro("balance",
                   [](const Report& r) {
                     nb::list out;
                     for (const FeatureBalance& b : r.balance) {
                       nb::dict d;
                       d["feature"] = b.feature;
                       d["smd_raw"] = b.smd_raw;
                       d["smd_ate"] = b.smd_ate;
                       d["smd_att"] = b.smd_att;
                       out.append(d);
                     }
                     return out;
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
        // Columns: this report's estimands, or after joint_inference every
        // cell x estimand of the grid (the summary is the grid's).
        const std::size_t k = t.size() / static_cast<std::size_t>(r.bootstrap.options.replicates);
        double* buf = new double[t.size()];
        std::memcpy(buf, t.data(), t.size() * sizeof(double));
        nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<double*>(p); });
        return nb::ndarray<nb::numpy, double, nb::ndim<2>>(buf, {t.size() / k, k}, owner);
      });

  m.def("bootstrap", &Bootstrap, "report"_a, "options"_a, "joint"_a, nb::call_guard<nb::gil_scoped_release>());
  m.def("adjust_pvalues", &AdjustPValues, "report"_a, "methods"_a);
  // A grid's joint inference (JointInference): the bootstrap (bootstrap not
  // None) and the p-value adjustments over every cell x estimand with one
  // multiplier per row shared by all cells; every cell report keeps the
  // grid's bootstrap summary, as the CLI's grid report does.
  m.def(
      "joint_inference",
      [](std::vector<Report*> cells, std::optional<BootstrapOptions> bootstrap, bool joint,
         const std::vector<std::string>& methods) {
        BootstrapSummary summary;
        {
          nb::gil_scoped_release release;
          summary = JointInference(cells, bootstrap ? &*bootstrap : nullptr, joint, methods);
        }
        for (Report* r : cells) r->bootstrap = summary;
      },
      "reports"_a, "bootstrap"_a.none(), "joint"_a, "methods"_a);
  // The grid's document, as the CLI's grid --json (io::GridReportJson over
  // each cell's ReportJson); selects the cells in turn and leaves (0, 0).
  m.def("grid_report_json", [](Dataset& data, GridFit& grid, const std::vector<Report*>& reports) {
    if (reports.size() != grid.cells.size()) throw UsageError("grid_report_json: one report per cell");
    const std::size_t t = grid.treatments.size();
    std::vector<nlohmann::json> docs;
    for (std::size_t c = 0; c < grid.cells.size(); ++c) {
      data.SelectCell(c / t, c % t);
      docs.push_back(io::ReportJson(*reports[c], grid.cells[c], data));
    }
    data.SelectCell(0, 0);
    return io::GridReportJson(std::move(docs)).dump(2);
  });
  m.def("report_json", [](const Report& r, const Fit& f, const Dataset& d) { return io::ReportJson(r, f, d).dump(2); });
}

}  // namespace fastdml
