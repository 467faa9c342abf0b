// Standard normal distribution: CDF and quantile, no external dependency.
#pragma once

namespace fastdml {

double NormalCdf(double x);
// Inverse CDF: Acklam's rational approximation refined by one Halley step
// (relative error ~1e-15 over (0, 1)).
double NormalQuantile(double p);

}  // namespace fastdml
