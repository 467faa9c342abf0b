// The irm design (doubleml.datasets.make_irm_data; see sim/simulate.h).
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

// doubleml.datasets.make_irm_data (DoubleML 0.11, irm/datasets/dgp_irm_data.py)
// with R2_d = R2_y = 0.5: d = 1{sigmoid(c_d x'beta) > v}, and, as in that
// source, y = theta d + c_y x'beta d + zeta (no baseline term in y).
SimData SimulateIrm(const SimOptions& o) {
  const CounterRng rng(o.seed);
  const std::size_t n = o.n, p = o.p;
  const double theta = o.theta, r2_d = 0.5, r2_y = 0.5, rho = 0.5;

  std::vector<double> beta(p);
  for (std::size_t j = 0; j < p; ++j) beta[j] = 1.0 / static_cast<double>((j + 1) * (j + 1));
  double b_sigma_b = 0;
  for (std::size_t j = 0; j < p; ++j)
    for (std::size_t k = 0; k < p; ++k)
      b_sigma_b += beta[j] * beta[k] * std::pow(rho, std::abs(static_cast<double>(j) - static_cast<double>(k)));
  const double c_y = std::sqrt(r2_y / ((1 - r2_y) * b_sigma_b));
  const double c_d = std::sqrt(kPi * kPi / 3.0 * r2_d / ((1 - r2_d) * b_sigma_b));

  auto x = ToeplitzNormals(rng, kIrmX, n, p, rho);
  std::vector<double> y(n), d(n);
  double xb_sum = 0, xb_treated = 0, n_treated = 0;
  double h_sum = 0, h_tau_sum = 0;  // overlap weights e (1 - e) and e (1 - e) tau, tau = theta + c_y x'beta
  for (std::size_t i = 0; i < n; ++i) {
    double xb = 0;
    for (std::size_t j = 0; j < p; ++j) xb += x[j][i] * beta[j];
    const auto noise = rng.Uniforms(kIrmNoise, i);
    const double v = noise[0];
    const double zeta = rng.Normal(kIrmNoise, i, 2);  // sub 1: independent of v
    const double e = Sigmoid(c_d * xb);  // the true propensity
    d[i] = e > v ? 1.0 : 0.0;
    h_sum += e * (1.0 - e);
    h_tau_sum += e * (1.0 - e) * (theta + c_y * xb);
    y[i] = theta * d[i] + c_y * xb * d[i] + zeta;
    xb_sum += xb;
    xb_treated += xb * d[i];
    n_treated += d[i];
  }

  SimData data;
  AddColumn(data, "y", std::move(y));
  const Naive naive = NaiveDifference(data.columns[0], d);
  AddColumn(data, "d", std::move(d));
  const auto names = DoubleMlNames(p);
  for (std::size_t j = 0; j < p; ++j) AddColumn(data, names[j], std::move(x[j]));

  data.truth = {
      {"design", "irm"},
      {"source", "doubleml.datasets.make_irm_data (same formula, not the same random numbers)"},
      {"n", n},
      {"p", p},
      {"seed", o.seed},
      {"outcome", "y"},
      {"treatment", "d"},
      {"treatment_type", "binary"},
      {"theta", theta},
      {"ate", theta},
      {"ate_population", theta},
      {"ate_sample", theta + c_y * xb_sum / static_cast<double>(n)},
      {"att", n_treated > 0 ? theta + c_y * xb_treated / n_treated
                            : std::numeric_limits<double>::quiet_NaN()},
      {"atc", n_treated < n ? theta + c_y * (xb_sum - xb_treated) / (static_cast<double>(n) - n_treated)
                            : std::numeric_limits<double>::quiet_NaN()},
      // Sample overlap-weighted ATE (Li, Morgan and Zaslavsky 2018) with the true propensity.
      {"ato", h_tau_sum / h_sum},
      {"R2_d", r2_d},
      {"R2_y", r2_y},
      {"c_d", c_d},
      {"c_y", c_y},
      {"b_sigma_b", b_sigma_b},
      {"naive_difference", naive.diff},
      {"naive_se", naive.se},
      {"share_treated", n_treated / static_cast<double>(n)},
      {"formulas",
       {{"X", "N(0, Sigma), Sigma_kj = 0.5^|j-k|"},
        {"beta", "beta_j = 1/j^2, j = 1..p"},
        {"d", "1{exp(c_d X beta)/(1 + exp(c_d X beta)) > v}, v ~ Unif(0,1)"},
        {"y", "theta d + c_y (X beta) d + zeta, zeta ~ N(0,1)"},
        {"tau", "theta + c_y X beta"}}},
  };
  return data;
}

}  // namespace fastdml::sim::detail
