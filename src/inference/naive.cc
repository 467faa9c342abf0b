#include "inference/naive.h"

#include <cmath>
#include <cstddef>

#include "inference/normal.h"

namespace fastdml {

NaiveDifference NaiveComparison(const std::vector<double>& y, const std::vector<double>& d, bool binary_d) {
  const std::size_t n = y.size();
  NaiveDifference nd;
  if (!binary_d) {
    double md = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) md += d[i], my += y[i];
    md /= n;
    my /= n;
    double sdd = 0, sdy = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sdd += (d[i] - md) * (d[i] - md);
      sdy += (d[i] - md) * (y[i] - my);
    }
    const double slope = sdy / sdd;
    double meat = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = y[i] - my - slope * (d[i] - md);
      meat += std::pow((d[i] - md) * e, 2);
    }
    nd.estimate = slope;
    nd.se = std::sqrt(meat) / sdd;
  } else {
    double s[2] = {0, 0}, ss[2] = {0, 0};
    std::size_t c[2] = {0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      const int arm = d[i] == 1.0;
      s[arm] += y[i];
      ss[arm] += y[i] * y[i];
      ++c[arm];
    }
    nd.n_treated = c[1];
    nd.n_control = c[0];
    const double m1 = s[1] / c[1], m0 = s[0] / c[0];
    const double v1 = c[1] > 1 ? (ss[1] - c[1] * m1 * m1) / (c[1] - 1) : 0;
    const double v0 = c[0] > 1 ? (ss[0] - c[0] * m0 * m0) / (c[0] - 1) : 0;
    nd.estimate = m1 - m0;
    nd.se = std::sqrt(v1 / c[1] + v0 / c[0]);
  }
  nd.t = nd.estimate / nd.se;
  nd.p_value = 2 * NormalCdf(-std::fabs(nd.t));
  return nd;
}

}  // namespace fastdml
