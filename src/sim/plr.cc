// The plr design (doubleml.datasets.make_plr_CCDDHNR2018; see sim/simulate.h).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "sim/design_helpers.h"

namespace fastdml::sim::detail {

// doubleml.datasets.make_plr_CCDDHNR2018 (DoubleML 0.11,
// plm/datasets/dgp_plr_CCDDHNR2018.py), Chernozhukov et al. (2018), Figure 1.
SimData SimulatePlr(const SimOptions& o) {
  const CounterRng rng(o.seed);
  const std::size_t n = o.n, p = o.p;
  const double alpha = o.theta, a_0 = 1.0, a_1 = 0.25, s_1 = 1.0, b_0 = 1.0, b_1 = 0.25,
               s_2 = 1.0, rho = 0.7;

  auto x = ToeplitzNormals(rng, kPlrX, n, p, rho);
  std::vector<double> y(n), d(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto noise = rng.Normals(kPlrNoise, i);
    const double m0 = a_0 * x[0][i] + a_1 * Sigmoid(x[2][i]);
    const double g0 = b_0 * Sigmoid(x[0][i]) + b_1 * x[2][i];
    d[i] = m0 + s_1 * noise[0];
    y[i] = alpha * d[i] + g0 + s_2 * noise[1];
  }

  SimData data;
  AddColumn(data, "y", std::move(y));
  AddColumn(data, "d", std::move(d));
  const auto names = DoubleMlNames(p);
  for (std::size_t j = 0; j < p; ++j) AddColumn(data, names[j], std::move(x[j]));

  data.truth = {
      {"design", "plr"},
      {"source", "doubleml.datasets.make_plr_CCDDHNR2018 (same formula, not the same random numbers)"},
      {"n", n},
      {"p", p},
      {"seed", o.seed},
      {"outcome", "y"},
      {"treatment", "d"},
      {"treatment_type", "continuous"},
      {"alpha", alpha},
      {"ate", alpha},
      {"ate_population", alpha},
      {"params", {{"a_0", a_0}, {"a_1", a_1}, {"s_1", s_1}, {"b_0", b_0}, {"b_1", b_1}, {"s_2", s_2}}},
      {"formulas",
       {{"X", "N(0, Sigma), Sigma_kj = 0.7^|j-k|"},
        {"m0", "a_0 X1 + a_1 exp(X3)/(1 + exp(X3))"},
        {"g0", "b_0 exp(X1)/(1 + exp(X1)) + b_1 X3"},
        {"d", "m0(X) + s_1 v, v ~ N(0,1)"},
        {"y", "alpha d + g0(X) + s_2 zeta, zeta ~ N(0,1)"}}},
  };
  return data;
}

}  // namespace fastdml::sim::detail
