// The seller design (see sim/simulate.h): listings of sellers who did or did
// not follow a stock recommendation, with its true effect and propensity.
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

namespace fastdml::sim {

namespace {

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

}  // namespace

const char* const kSellerCategoryNames[kSellerCategories] = {"grocery", "electronics", "apparel",
                                                             "home", "toys"};

double SellerTau(int category, double inventory_level) {
  const double z = StdLogInventory(inventory_level);
  // Low stock: following a restock recommendation prevents stock-outs, so the
  // effect is up to 2x tau_c; well-stocked listings gain only 0.5x tau_c.
  return kCategoryTau[category] * (0.5 + 1.5 * detail::Sigmoid(-1.5 * z));
}

double SellerPropensity(double proactiveness_score, double experience_years,
                        double inventory_level) {
  const double s = (proactiveness_score - kScoreCenter) / kScoreScale;
  const double z_e = (std::log(experience_years) - kExperienceLogMean) / kExperienceLogSd;
  const double z_inv = StdLogInventory(inventory_level);
  const double index = -0.2 + 1.5 * s + 0.5 * z_e - 0.5 * z_inv;
  // Squeezed logistic: overlap holds by construction (no propensity outside
  // [0.05, 0.95]), so clipping at DoubleML's 0.01 never binds on the truth.
  return kPropensityFloor + (1.0 - 2.0 * kPropensityFloor) * detail::Sigmoid(index);
}

namespace detail {

// The seller design: (seller, product) listings. d = followed a stock
// recommendation, y = revenue. The latent proactiveness a_s raises revenue and
// (through its observed proxy, proactiveness_score) the chance of following:
// the naive follower/non-follower comparison is badly biased upward.
SimData SimulateSeller(const SimOptions& o) {
  const CounterRng rng(o.seed);
  const std::size_t n = o.n;
  const std::size_t n_sellers = std::max<std::size_t>(1, n / kProductsPerSeller);
  const std::size_t n_noise = o.p - 7;

  std::vector<double> overlap(n);  // e (1 - e) with the true propensity e, for the ATO truth
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
    overlap[i] = e * (1.0 - e);
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
  double tau_sum = 0, tau_treated = 0, tau_control = 0, n_treated = 0, h_sum = 0, h_tau_sum = 0;
  double cat_sum[kSellerCategories] = {}, cat_n[kSellerCategories] = {};
  for (std::size_t i = 0; i < n; ++i) {
    tau_sum += tau[i];
    tau_treated += tau[i] * d[i];
    tau_control += tau[i] * (1.0 - d[i]);
    h_sum += overlap[i];
    h_tau_sum += overlap[i] * tau[i];
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
  // Sample ATC: the mean of tau over the untreated rows.
  const double n_control = static_cast<double>(n) - n_treated;
  const double atc = n_control > 0 ? tau_control / n_control : std::numeric_limits<double>::quiet_NaN();
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
      {"atc", atc},
      // Sample overlap-weighted ATE: sum e(1-e) tau / sum e(1-e), true propensity e.
      {"ato", h_tau_sum / h_sum},
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

}  // namespace detail

}  // namespace fastdml::sim
