// fastdml._ext: simulated designs with a known truth (src/sim).
#include "bindings.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "sim/simulate.h"

namespace fastdml {

void BindSim(nb::module_& m) {
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
}

}  // namespace fastdml
