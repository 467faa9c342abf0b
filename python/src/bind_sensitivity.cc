// fastdml._ext: omitted-variable-bias sensitivity (include/fastdml/sensitivity.h)
// from a fit's stored predictions. Results come back as the CLI's JSON text
// (src/io/report.cc SensitivityJson: "sensitivity", "sensitivity_elements",
// "sensitivity_grid", "sensitivity_benchmark"), written in one place and read
// with json.loads, so that Python and the CLI name and round every quantity
// alike (doubles round-trip exactly).
#include "bindings.h"

#include <nanobind/stl/tuple.h>

#include <string>
#include <tuple>
#include <vector>

#include "fastdml/sensitivity.h"
#include "io/report.h"

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
        return std::make_tuple(io::SensitivityJson(r).dump(), r.warnings);
      },
      "data"_a, "fit"_a, "options"_a, "report"_a, "scenarios"_a, "null_hypothesis"_a,
      "Omitted-variable-bias bounds for each (cf_y, cf_d, rho) scenario as the CLI's JSON text, and the warnings; "
      "the report must come from Estimate on this fit with these options.");
  m.def(
      "sensitivity_benchmark",
      [](const Dataset& data, const Fit& fit, const Options& options, const Report& report,
         const std::vector<std::string>& features, double null_hypothesis) {
        std::vector<SensitivityBenchmark> b;
        SensitivityReport r;
        {
          nb::gil_scoped_release release;
          CheckSensitivityBenchmark(data, features);
          r = Sensitivity(data, fit, options, report, {}, null_hypothesis);
          b = BenchmarkSensitivity(data, fit, options, report, r, features, null_hypothesis);
        }
        return std::make_tuple(io::SensitivityJson(r, b)["sensitivity_benchmark"].dump(), r.warnings);
      },
      "data"_a, "fit"_a, "options"_a, "report"_a, "features"_a, "null_hypothesis"_a,
      "Refits without `features` and returns the CLI's \"sensitivity_benchmark\" JSON text, and the warnings.");
}

}  // namespace fastdml
