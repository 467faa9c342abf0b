// fastdml._ext: trimming to comparable propensities (include/fastdml/trim.h,
// Crump, Hotz, Imbens and Mitnik 2009). The kept rows' Dataset and Fit come
// back as new engine objects, on which the package runs Estimate, Bootstrap
// and Sensitivity as the CLI's --trim does; the "trimming" dict is the CLI's
// JSON text (io::TrimmingJson), written in one place and read with json.loads.
#include "bindings.h"

#include <nanobind/stl/tuple.h>

#include <string>
#include <tuple>
#include <utility>

#include "fastdml/trim.h"
#include "io/report.h"

namespace fastdml {

void BindTrim(nb::module_& m) {
  m.def(
      "parse_trim", [](const std::string& text) { return ParseTrim(text).rule == TrimRule::kCrump; }, "text"_a,
      "Checks a --trim value ('crump' or an alpha in (0, 0.5)); ValueError naming --trim otherwise. True for crump.");
  m.def(
      "trim",
      [](const Dataset& data, const Fit& fit, const std::string& text) {
        const TrimOptions options = ParseTrim(text);
        TrimmedSample t;
        {
          nb::gil_scoped_release release;
          t = Trim(data, fit, options);
        }
        std::string json = io::TrimmingJson(t).dump();
        return std::make_tuple(std::move(t.data), std::move(t.fit), std::move(json));
      },
      "data"_a, "fit"_a, "text"_a,
      "The rows whose repetition-averaged propensity lies in [alpha, 1 - alpha] (text: 'crump' or alpha): "
      "(kept Dataset, kept Fit, the CLI's \"trimming\" JSON text). ValueError when an arm is left empty.");
}

}  // namespace fastdml
