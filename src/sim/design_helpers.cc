#include "sim/design_helpers.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "inference/naive.h"

namespace fastdml::sim::detail {

Naive NaiveDifference(const std::vector<double>& y, const std::vector<double>& d) {
  const fastdml::NaiveDifference nd = NaiveComparison(y, d, /*binary_d=*/true);
  if (nd.n_treated < 2 || nd.n_control < 2) {
    return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  }
  return {nd.estimate, nd.se};
}

// Rows of x ~ N(0, Sigma) with Sigma_kj = rho^|j-k| (the Toeplitz covariance of
// DoubleML's make_irm_data and make_plr_CCDDHNR2018), built as a stationary
// AR(1) across columns: x_0 = z_0, x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j,
// which is exactly the Cholesky factor of that matrix applied to z.
std::vector<std::vector<double>> ToeplitzNormals(const CounterRng& rng, std::uint32_t stream,
                                                 std::size_t n, std::size_t p, double rho) {
  std::vector<std::vector<double>> x(p, std::vector<double>(n));
  const double innovation = std::sqrt(1.0 - rho * rho);
  for (std::size_t i = 0; i < n; ++i) {
    double prev = 0.0;
    for (std::size_t j = 0; j < p; j += 2) {
      const auto z = rng.Normals(stream, i, static_cast<std::uint32_t>(j / 2));
      for (std::size_t k = j; k < std::min(j + 2, p); ++k) {
        prev = k == 0 ? z[0] : rho * prev + innovation * z[k - j];
        x[k][i] = prev;
      }
    }
  }
  return x;
}

void AddColumn(SimData& data, std::string name, std::vector<double> values) {
  data.column_names.push_back(std::move(name));
  data.columns.push_back(std::move(values));
}

std::vector<std::string> DoubleMlNames(std::size_t p) {
  std::vector<std::string> names;
  for (std::size_t j = 1; j <= p; ++j) names.push_back("X" + std::to_string(j));
  return names;
}

}  // namespace fastdml::sim::detail
