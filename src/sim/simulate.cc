// Simulated data with a known truth. See simulate.h for the designs; the truth
// JSON of each design lists the formulas and constants it was drawn from.
#include "sim/simulate.h"

#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <system_error>

#include "fastdml/error.h"
#include "io/atomic_file.h"

namespace fastdml::sim {

namespace {

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

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double Softplus(double x) { return x > 30.0 ? x : std::log1p(std::exp(x)); }

// Difference in means of y between d = 1 and d = 0 and its unpooled SE
// (the comparison the product exists to correct).
struct Naive {
  double diff = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();
};
Naive NaiveDifference(const std::vector<double>& y, const std::vector<double>& d) {
  double s[2] = {0, 0}, ss[2] = {0, 0};
  std::size_t c[2] = {0, 0};
  for (std::size_t i = 0; i < y.size(); ++i) {
    const int g = d[i] == 1.0 ? 1 : 0;
    s[g] += y[i];
    ss[g] += y[i] * y[i];
    ++c[g];
  }
  Naive out;
  if (c[0] < 2 || c[1] < 2) return out;
  double m[2], v[2];
  for (int g = 0; g < 2; ++g) {
    m[g] = s[g] / c[g];
    v[g] = (ss[g] - c[g] * m[g] * m[g]) / (c[g] - 1);
  }
  out.diff = m[1] - m[0];
  out.se = std::sqrt(v[1] / c[1] + v[0] / c[0]);
  return out;
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
};

// --- seller design constants ---------------------------------------------
constexpr double kCategoryShare[kSellerCategories] = {0.30, 0.15, 0.25, 0.15, 0.15};
constexpr double kCategoryTau[kSellerCategories] = {4.0, 1.0, 2.5, 2.0, 3.0};
constexpr double kCategoryPrice[kSellerCategories] = {6.0, 180.0, 35.0, 60.0, 25.0};
constexpr double kExperienceLogMean = 1.4, kExperienceLogSd = 0.5;
constexpr double kInventoryLogMean = 3.0, kInventoryLogSd = 0.7;
constexpr double kInventoryExperienceCorr = 0.3;
constexpr double kScoreCenter = 50.0, kScoreScale = 15.0, kScoreNoiseSd = 0.6;
constexpr double kPropensityFloor = 0.05;  // propensities lie in [0.05, 0.95]
constexpr std::size_t kProductsPerSeller = 20;

double StdLogInventory(double inventory_level) {
  return (std::log(inventory_level) - kInventoryLogMean) / kInventoryLogSd;
}

int CategoryFromUniform(double u) {
  double cum = 0.0;
  for (int c = 0; c < kSellerCategories - 1; ++c) {
    cum += kCategoryShare[c];
    if (u < cum) return c;
  }
  return kSellerCategories - 1;
}

// The seller design: (seller, product) listings. d = followed a stock
// recommendation, y = revenue. The latent proactiveness a_s raises revenue and
// (through its observed proxy, proactiveness_score) the chance of following:
// the naive follower/non-follower comparison is badly biased upward.
SimData SimulateSeller(const SimOptions& o) {
  const CounterRng rng(o.seed);
  const std::size_t n = o.n;
  const std::size_t n_sellers = std::max<std::size_t>(1, n / kProductsPerSeller);
  const std::size_t n_noise = o.p - 7;

  std::vector<double> y(n), d(n), seller(n), experience(n), score(n), category(n),
      inventory(n), price(n), demand(n), tau(n);
  std::vector<std::vector<double>> noise(n_noise, std::vector<double>(n));

  for (std::size_t i = 0; i < n; ++i) {
    // Contiguous blocks of ~20 listings per seller (i * n_sellers < n^2 / 20
    // cannot overflow 64 bits for any n that fits in memory).
    const std::size_t s = static_cast<std::size_t>(
        static_cast<std::uint64_t>(i) * n_sellers / n);
    const auto traits = rng.Normals(kSellerTraits, s);
    const double a = traits[0];    // latent proactiveness, never observed
    const double z_e = traits[1];  // standardised log experience
    const double eta = rng.Normal(kSellerScoreNoise, s, 0);

    const auto u = rng.Uniforms(kListingUniforms, i);
    const auto w = rng.Normals(kListingNormals, i);
    const auto w2 = rng.Normals(kListingNormals2, i);

    const int c = CategoryFromUniform(u[0]);
    const double z_inv = kInventoryExperienceCorr * z_e +
                         std::sqrt(1.0 - kInventoryExperienceCorr * kInventoryExperienceCorr) * w[0];

    seller[i] = static_cast<double>(s);
    experience[i] = std::exp(kExperienceLogMean + kExperienceLogSd * z_e);
    score[i] = kScoreCenter +
               kScoreScale * (a + kScoreNoiseSd * eta) / std::sqrt(1.0 + kScoreNoiseSd * kScoreNoiseSd);
    category[i] = c;
    inventory[i] = std::exp(kInventoryLogMean + kInventoryLogSd * z_inv);
    price[i] = kCategoryPrice[c] * std::exp(0.4 * w[1]);
    demand[i] = std::exp(0.4 * w2[0]);
    for (std::size_t k = 0; k < n_noise; ++k) noise[k][i] = rng.Normal(kSellerNoiseFeatures, i, k);

    const double e = SellerPropensity(score[i], experience[i], inventory[i]);
    d[i] = u[1] < e ? 1.0 : 0.0;
    tau[i] = SellerTau(c, inventory[i]);
    // Baseline revenue: nonlinear, strongly increasing in proactiveness and
    // experience; never below 10, and the skewed noise is above -8, so y > 0.
    const double base = 10.0 + 15.0 * Softplus(1.2 * a) + 6.0 * std::log1p(experience[i]) +
                        8.0 * demand[i] + 2.0 * std::log1p(price[i]);
    const double eps = 8.0 * (std::exp(0.6 * w2[1] - 0.18) - 1.0);  // mean 0
    y[i] = base + tau[i] * d[i] + eps;
  }

  SimData data;
  AddColumn(data, "y", y);
  AddColumn(data, "d", d);
  AddColumn(data, "seller_id", seller);
  AddColumn(data, "experience_years", experience);
  AddColumn(data, "proactiveness_score", score);
  AddColumn(data, "category", category);
  AddColumn(data, "inventory_level", inventory);
  AddColumn(data, "price", price);
  AddColumn(data, "demand_index", demand);
  for (std::size_t k = 0; k < n_noise; ++k)
    AddColumn(data, "x" + std::to_string(k + 1), std::move(noise[k]));

  // Truth: sample means of the realised tau_i (what an estimator of the ATE
  // on this sample targets), GATEs by category and inventory quintile.
  double tau_sum = 0, tau_treated = 0, n_treated = 0;
  double cat_sum[kSellerCategories] = {}, cat_n[kSellerCategories] = {};
  for (std::size_t i = 0; i < n; ++i) {
    tau_sum += tau[i];
    tau_treated += tau[i] * d[i];
    n_treated += d[i];
    const int c = static_cast<int>(category[i]);
    cat_sum[c] += tau[i];
    cat_n[c] += 1;
  }
  // Rank-based quintiles: q = floor(5 * rank / n), rank 0-based in ascending
  // inventory_level, ties by row.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return inventory[a] < inventory[b]; });
  double q_sum[5] = {}, q_n[5] = {}, q_max[5] = {};
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t q = r * 5 / n;
    q_sum[q] += tau[order[r]];
    q_n[q] += 1;
    q_max[q] = inventory[order[r]];
  }

  nlohmann::json gate_cat, gate_cat_n, gate_q, gate_q_n, names, shares, tau_c, edges;
  for (int c = 0; c < kSellerCategories; ++c) {
    const std::string key = std::to_string(c);
    gate_cat[key] = cat_n[c] > 0 ? cat_sum[c] / cat_n[c] : std::numeric_limits<double>::quiet_NaN();
    gate_cat_n[key] = static_cast<std::size_t>(cat_n[c]);
    names[key] = kSellerCategoryNames[c];
    shares[key] = kCategoryShare[c];
    tau_c[key] = kCategoryTau[c];
  }
  for (int q = 0; q < 5; ++q) {
    const std::string key = std::to_string(q);
    gate_q[key] = q_n[q] > 0 ? q_sum[q] / q_n[q] : std::numeric_limits<double>::quiet_NaN();
    gate_q_n[key] = static_cast<std::size_t>(q_n[q]);
    if (q < 4) edges.push_back(q_max[q]);
  }
  // Population ATE: E[tau] = sum_c share_c tau_c * E[0.5 + 1.5 sigmoid(-1.5 Z)]
  // with Z ~ N(0,1); the expectation is 0.5 + 1.5 * 0.5 = 1.25 by symmetry.
  double ate_population = 0;
  for (int c = 0; c < kSellerCategories; ++c) ate_population += kCategoryShare[c] * kCategoryTau[c];
  ate_population *= 1.25;

  const Naive naive = NaiveDifference(y, d);
  const double ate = tau_sum / static_cast<double>(n);
  const double att = n_treated > 0 ? tau_treated / n_treated : std::numeric_limits<double>::quiet_NaN();
  data.truth = {
      {"design", "seller"},
      {"n", n},
      {"p", o.p},
      {"seed", o.seed},
      {"outcome", "y"},
      {"treatment", "d"},
      {"treatment_type", "binary"},
      {"cluster", "seller_id"},
      {"n_sellers", n_sellers},
      {"ate", ate},
      {"ate_sample", ate},
      {"att", att},
      {"ate_population", ate_population},
      {"gate", {{"category", gate_cat}, {"inventory_quintile", gate_q}}},
      {"gate_n", {{"category", gate_cat_n}, {"inventory_quintile", gate_q_n}}},
      {"inventory_quintile_rule",
       "q = floor(5*rank/n), rank 0-based in ascending inventory_level (ties by row); "
       "inventory_quintile_upper holds the largest inventory_level of quintiles 0..3"},
      {"inventory_quintile_upper", edges},
      {"category_names", names},
      {"category_shares", shares},
      {"tau_category", tau_c},
      {"naive_difference", naive.diff},
      {"naive_se", naive.se},
      {"share_treated", n_treated / static_cast<double>(n)},
      {"propensity_range", {kPropensityFloor, 1.0 - kPropensityFloor}},
      {"formulas",
       {{"seller", "s = floor(i * n_sellers / n), n_sellers = max(1, floor(n/20)); per seller "
                   "a, z_e, eta ~ N(0,1) iid (a = latent proactiveness, not a column)"},
        {"experience_years", "exp(1.4 + 0.5 z_e)"},
        {"proactiveness_score", "50 + 15 (a + 0.6 eta) / sqrt(1.36)"},
        {"category", "0..4 with shares category_shares"},
        {"inventory_level", "exp(3 + 0.7 z_inv), z_inv = 0.3 z_e + sqrt(0.91) w1"},
        {"price", "price_c exp(0.4 w2), price_c = 6, 180, 35, 60, 25 by category"},
        {"demand_index", "exp(0.4 w3)"},
        {"x_k", "N(0,1) noise features, unrelated to y and d"},
        {"propensity",
         "0.05 + 0.9 sigmoid(-0.2 + 1.5 s + 0.5 z_e - 0.5 z_inv), "
         "s = (proactiveness_score - 50)/15; depends on observed columns only"},
        {"d", "1{U < propensity}, U ~ Unif(0,1)"},
        {"tau", "tau_category[c] * (0.5 + 1.5 / (1 + exp(1.5 z_inv)))"},
        {"y", "10 + 15 softplus(1.2 a) + 6 log(1 + experience_years) + 8 demand_index + "
              "2 log(1 + price) + tau d + 8 (exp(0.6 w4 - 0.18) - 1)"}}},
  };
  return data;
}

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
  for (std::size_t i = 0; i < n; ++i) {
    double xb = 0;
    for (std::size_t j = 0; j < p; ++j) xb += x[j][i] * beta[j];
    const auto noise = rng.Uniforms(kIrmNoise, i);
    const double v = noise[0];
    const double zeta = rng.Normal(kIrmNoise, i, 2);  // sub 1: independent of v
    d[i] = Sigmoid(c_d * xb) > v ? 1.0 : 0.0;
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

std::size_t MinFeatures(Design design) { return design == Design::kSeller ? 8 : 3; }

}  // namespace

const char* const kSellerCategoryNames[kSellerCategories] = {"grocery", "electronics", "apparel",
                                                             "home", "toys"};

Design ParseDesign(const std::string& name) {
  if (name == "seller") return Design::kSeller;
  if (name == "irm") return Design::kIrm;
  if (name == "plr") return Design::kPlr;
  throw UsageError("--design: unknown design '" + name + "' (expected seller, irm or plr)");
}

const char* ToString(Design design) {
  switch (design) {
    case Design::kSeller: return "seller";
    case Design::kIrm: return "irm";
    case Design::kPlr: return "plr";
  }
  return "unknown";
}

double SellerTau(int category, double inventory_level) {
  const double z = StdLogInventory(inventory_level);
  // Low stock: following a restock recommendation prevents stock-outs, so the
  // effect is up to 2x tau_c; well-stocked listings gain only 0.5x tau_c.
  return kCategoryTau[category] * (0.5 + 1.5 * Sigmoid(-1.5 * z));
}

double SellerPropensity(double proactiveness_score, double experience_years,
                        double inventory_level) {
  const double s = (proactiveness_score - kScoreCenter) / kScoreScale;
  const double z_e = (std::log(experience_years) - kExperienceLogMean) / kExperienceLogSd;
  const double z_inv = StdLogInventory(inventory_level);
  const double index = -0.2 + 1.5 * s + 0.5 * z_e - 0.5 * z_inv;
  // Squeezed logistic: overlap holds by construction (no propensity outside
  // [0.05, 0.95]), so clipping at DoubleML's 0.01 never binds on the truth.
  return kPropensityFloor + (1.0 - 2.0 * kPropensityFloor) * Sigmoid(index);
}

SimData Simulate(const SimOptions& options) {
  if (options.n < 10)
    throw UsageError("--n must be at least 10 (got " + std::to_string(options.n) + ")");
  const std::size_t min_p = MinFeatures(options.design);
  if (options.p < min_p)
    throw UsageError("--p must be at least " + std::to_string(min_p) + " for --design " +
                     ToString(options.design) + " (got " + std::to_string(options.p) + ")");
  if (!std::isfinite(options.theta)) throw UsageError("--theta must be a finite number");
  // Bounds first, so that n * (p + 2) cannot wrap around in size_t.
  constexpr std::size_t kMaxSimFeatures = 100000;
  constexpr std::size_t kMaxSimCells = std::size_t{1} << 31;  // 16 GiB of doubles
  if (options.p > kMaxSimFeatures)
    throw UsageError("--p must be at most " + std::to_string(kMaxSimFeatures) + " (got " +
                     std::to_string(options.p) + ")");
  if (options.n > kMaxSimCells / (options.p + 2))
    throw UsageError("--n " + std::to_string(options.n) + " x (--p + 2) columns exceeds " +
                     std::to_string(kMaxSimCells) + " cells; simulate fewer rows");
  switch (options.design) {
    case Design::kSeller: return SimulateSeller(options);
    case Design::kIrm: return SimulateIrm(options);
    case Design::kPlr: return SimulatePlr(options);
  }
  throw Error("Simulate: unknown design");
}

void WriteCsv(const SimData& data, const std::string& path) {
  if (data.columns.size() != data.column_names.size())
    throw Error("WriteCsv: " + std::to_string(data.column_names.size()) + " names for " +
                std::to_string(data.columns.size()) + " columns");
  const std::size_t n = data.columns.empty() ? 0 : data.columns[0].size();
  for (const auto& col : data.columns)
    if (col.size() != n) throw Error("WriteCsv: columns of different lengths");

  // Through a temporary file: an interrupted run leaves no truncated CSV.
  io::AtomicFile file(path);
  std::string buf;
  buf.reserve(1 << 20);
  for (std::size_t j = 0; j < data.column_names.size(); ++j) {
    if (j > 0) buf += ',';
    buf += data.column_names[j];
  }
  buf += '\n';
  char num[64];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < data.columns.size(); ++j) {
      if (j > 0) buf += ',';
      // Shortest representation that parses back to the same double.
      const auto res = std::to_chars(num, num + sizeof(num), data.columns[j][i]);
      buf.append(num, res.ptr);
    }
    buf += '\n';
    if (buf.size() > (1u << 20) - 4096) {
      file.Write(buf);
      buf.clear();
    }
  }
  file.Write(buf);
  file.Commit();
}

}  // namespace fastdml::sim
