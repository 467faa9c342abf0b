// fastdml._ext: omitted-variable-bias sensitivity (include/fastdml/sensitivity.h)
// from a fit's stored predictions. Plain dicts and lists out, keyed as the
// CLI's JSON sections "sensitivity", "sensitivity_elements" and
// "sensitivity_grid" (src/io/report.cc SensitivityJson), so that Python and the
// CLI name every quantity alike.
#include "bindings.h"

#include <nanobind/stl/tuple.h>

#include <string>
#include <tuple>
#include <vector>

#include "fastdml/sensitivity.h"

namespace fastdml {

void BindSensitivity(nb::module_& m) {
  m.def(
      "sensitivity",
      [](const Dataset& data, const Fit& fit, const Options& options, const Report& report,
         const std::vector<std::tuple<double, double, double>>& scenarios, double null_hypothesis) {
        std::vector<SensitivityScenario> s;
        for (const auto& [cf_y, cf_d, rho] : scenarios) s.push_back({cf_y, cf_d, rho});
        SensitivityReport r;
        {
          nb::gil_scoped_release release;
          r = Sensitivity(data, fit, options, report, s, null_hypothesis);
        }
        nb::list bounds, elements, grids;
        for (const SensitivityBounds& b : r.bounds) {
          nb::dict d;
          d["estimand"] = b.estimand;
          d["cf_y"] = b.scenario.cf_y;
          d["cf_d"] = b.scenario.cf_d;
          d["rho"] = b.scenario.rho;
          d["level"] = b.level;
          d["null_hypothesis"] = b.null_hypothesis;
          d["theta"] = b.theta;
          d["theta_lower"] = b.theta_lower;
          d["theta_upper"] = b.theta_upper;
          d["se_lower"] = b.se_lower;
          d["se_upper"] = b.se_upper;
          d["ci_lower"] = b.ci_lower;
          d["ci_upper"] = b.ci_upper;
          d["rv"] = b.rv;
          d["rva"] = b.rva;
          bounds.append(d);
        }
        for (const SensitivityElements& e : r.elements) {
          nb::dict d;
          d["estimand"] = e.estimand;
          d["sigma2"] = e.sigma2;
          d["nu2"] = e.nu2;
          d["max_bias"] = e.max_bias;
          d["riesz_fallback"] = e.riesz_fallback;
          elements.append(d);
        }
        for (const SensitivityGrid& g : r.grids) {
          nb::dict d;
          d["estimand"] = g.estimand;
          d["bound"] = g.bound;
          d["rho"] = g.rho;
          d["cf_y"] = g.cf_y;
          d["cf_d"] = g.cf_d;
          d["theta"] = g.theta;  // row-major (cf_y, cf_d)
          grids.append(d);
        }
        nb::dict out;
        out["sensitivity"] = bounds;
        out["sensitivity_elements"] = elements;
        out["sensitivity_grid"] = grids;
        out["warnings"] = r.warnings;
        return out;
      },
      "data"_a, "fit"_a, "options"_a, "report"_a, "scenarios"_a, "null_hypothesis"_a,
      "Omitted-variable-bias bounds for each (cf_y, cf_d, rho) scenario; the report must come from Estimate on "
      "this fit with these options.");
}

}  // namespace fastdml
