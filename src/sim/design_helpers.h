// Internals shared by the simulated designs (sim/seller.cc, sim/irm.cc,
// sim/plr.cc, sim/grid.cc): the counter-based generator, the stream ids and the column
// helpers. sim/simulate.h is the public face.
#pragma once
#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/simulate.h"

namespace fastdml::sim::detail {

constexpr double kPi = 3.14159265358979323846;

// Counter-based generator: every draw is a pure function of (seed, stream,
// index, sub), never of draw order, so designs can add variables without
// shifting the others and rows can be generated in any order.
class CounterRng {
 public:
  explicit CounterRng(std::uint64_t seed)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}} {}

  // Two uniforms in the open interval (0, 1), 53 random bits each.
  std::array<double, 2> Uniforms(std::uint32_t stream, std::uint64_t index,
                                 std::uint32_t sub = 0) const {
    r123::Philox4x32::ctr_type ctr = {{static_cast<std::uint32_t>(index),
                                       static_cast<std::uint32_t>(index >> 32), stream, sub}};
    const r123::Philox4x32::ctr_type r = philox_(ctr, key_);
    const std::uint64_t a = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
    const std::uint64_t b = (static_cast<std::uint64_t>(r.v[2]) << 32) | r.v[3];
    return {ToOpenUnit(a), ToOpenUnit(b)};
  }

  // Two independent standard normals (Box-Muller on Uniforms()).
  std::array<double, 2> Normals(std::uint32_t stream, std::uint64_t index,
                                std::uint32_t sub = 0) const {
    const auto u = Uniforms(stream, index, sub);
    const double r = std::sqrt(-2.0 * std::log(u[0]));
    const double angle = 2.0 * kPi * u[1];
    return {r * std::cos(angle), r * std::sin(angle)};
  }

  // Normal number `k` of a stream for one index (two per Philox call).
  double Normal(std::uint32_t stream, std::uint64_t index, std::size_t k) const {
    return Normals(stream, index, static_cast<std::uint32_t>(k / 2))[k % 2];
  }

 private:
  static double ToOpenUnit(std::uint64_t x) {
    return (static_cast<double>(x >> 11) + 0.5) * 0x1p-53;
  }

  r123::Philox4x32 philox_;
  r123::Philox4x32::key_type key_;
};

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double Softplus(double x) { return x > 30.0 ? x : std::log1p(std::exp(x)); }

// Difference in means of y between d = 1 and d = 0 and its unpooled SE
// (the comparison the product exists to correct; NaN when an arm has fewer
// than 2 rows). The formula is fastdml::NaiveComparison (inference/naive.h).
struct Naive {
  double diff;
  double se;
};
Naive NaiveDifference(const std::vector<double>& y, const std::vector<double>& d);

// Rows of x ~ N(0, Sigma) with Sigma_kj = rho^|j-k| (see design_helpers.cc).
std::vector<std::vector<double>> ToeplitzNormals(const CounterRng& rng, std::uint32_t stream,
                                                 std::size_t n, std::size_t p, double rho);

void AddColumn(SimData& data, std::string name, std::vector<double> values);

// X1..Xp, as DoubleML names its features.
std::vector<std::string> DoubleMlNames(std::size_t p);

// Stream ids: one per simulated variable, so draws never overlap.
enum Stream : std::uint32_t {
  kSellerTraits = 1,    // per seller: proactiveness, experience
  kSellerScoreNoise,    // per seller: noise of the observed proactiveness score
  kListingUniforms,     // per row: category, treatment
  kListingNormals,      // per row: inventory, price
  kListingNormals2,     // per row: demand, outcome noise
  kSellerNoiseFeatures, // per row: x1..x{p-7}
  kIrmX = 16,           // per row: X
  kIrmNoise,            // per row: v (treatment uniform), zeta
  kPlrX = 32,           // per row: X
  kPlrNoise,            // per row: v, zeta
  kGridX = 48,          // per row: x1..xp
  kGridTreat,           // per row: U_1, U_2 (treatments)
  kGridNoise,           // per row: w0 (shared), w1..w3 (outcome noise)
};

SimData SimulateSeller(const SimOptions& o);
SimData SimulateIrm(const SimOptions& o);
SimData SimulatePlr(const SimOptions& o);
SimData SimulateGrid(const SimOptions& o);

}  // namespace fastdml::sim::detail
