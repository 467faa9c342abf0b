// Shared fixtures for the CATE tests: simulated data sets as Datasets and a
// small, fast nuisance configuration.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/options.h"
#include "sim/simulate.h"
#include "sim_dataset.h"

namespace fastdml::cate_test {

inline Dataset FromSim(const sim::SimData& s) { return test::DatasetFromSim(s); }

inline Dataset SellerData(std::size_t n, std::uint64_t seed) {
  sim::SimOptions so;
  so.design = sim::Design::kSeller;
  so.n = n;
  so.p = 10;
  so.seed = seed;
  return FromSim(sim::Simulate(so));
}

inline std::size_t Column(const Dataset& d, const std::string& name) {
  for (std::size_t j = 0; j < d.p; ++j) {
    if (d.feature_names[j] == name) return j;
  }
  return d.p;
}

// The seller design's true CATE of each row (src/sim/simulate.cc, SellerTau).
inline std::vector<double> SellerTrueCate(const Dataset& d) {
  const std::size_t c = Column(d, "category"), inv = Column(d, "inventory_level");
  std::vector<double> tau(d.n);
  for (std::size_t i = 0; i < d.n; ++i) tau[i] = sim::SellerTau(static_cast<int>(d.X(i, c)), d.X(i, inv));
  return tau;
}

// Small nuisances: enough for the seller design's selection, fast on 2 cores.
inline Options FastOptions() {
  Options o;
  o.propensity.rounds = o.outcome.rounds = 80;
  o.propensity.max_depth = o.outcome.max_depth = 4;
  o.threads = 2;
  return o;
}

inline double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace fastdml::cate_test
