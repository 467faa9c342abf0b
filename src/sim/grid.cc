// The grid design (see sim/simulate.h): 3 outcomes x 2 binary treatments, for
// the one-run estimation of every (outcome, treatment) cell. Each cell has its
// own heterogeneous effect, one cell has none (a true null for --p-adjust),
// and every truth is a closed-form population value.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "sim/design_helpers.h"

namespace fastdml::sim {

namespace {

// Propensity e_k(x) = f + (1 - 2f) Phi(a_k + b_k'x) over x1..x3: a squeezed
// probit, so overlap holds by construction and E[e_k], E[x_u e_k] have
// closed forms (below).
constexpr double kGridFloor = 0.1;  // propensities lie in [0.1, 0.9]
constexpr double kPropA[kGridTreatments] = {0.2, -0.3};
constexpr double kPropB[kGridTreatments][3] = {{0.8, -0.6, 0.0}, {0.0, 0.7, 0.5}};

// tau_jk(x) = c + l'(x1, x2, x3) + h_jk(x4, x5, x6). x4..x6 are independent
// of both propensities, so E[h | t_k = 1] = E[h]; the linear part carries the
// selection on effects that makes the ATT differ from the ATE.
struct CellSpec {
  double c;
  double lin[3];
  double h_mean;  // E[h_jk(x4, x5, x6)] under x ~ N(0, I)
  const char* formula;
};

double H(int j, int k, double x4, double x5, double x6) {
  switch (j * kGridTreatments + k) {
    case 0: return 0.5 * (x4 > 0 ? 1.0 : 0.0);
    case 1: return 0.4 * std::cos(x5);
    case 2: return 0.3 * std::fabs(x6);
    case 3: return 0.0;
    case 4: return 0.4 * (x5 * x5 - 1.0);
    case 5: return 0.3 * x4 * x6;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

const CellSpec kCells[kGridOutcomes][kGridTreatments] = {
    {{1.0, {0.5, 0.0, 0.0}, 0.25, "1 + 0.5 x1 + 0.5 1{x4 > 0}"},
     {0.5, {0.0, 0.0, -0.4}, 0.4 * 0.60653065971263342, "0.5 - 0.4 x3 + 0.4 cos(x5)"}},  // E cos Z = e^-1/2
    {{-0.6, {0.0, 0.5, 0.0}, 0.3 * 0.79788456080286536, "-0.6 + 0.5 x2 + 0.3 |x6|"},   // E|Z| = sqrt(2/pi)
     {0.0, {0.0, 0.0, 0.0}, 0.0, "0 (no effect: the true null)"}},
    {{0.3, {0.0, -0.4, 0.0}, 0.0, "0.3 - 0.4 x2 + 0.4 (x5^2 - 1)"},
     {0.8, {0.0, 0.6, 0.6}, 0.0, "0.8 + 0.6 x2 + 0.6 x3 + 0.3 x4 x6"}},
};

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double PhiDensity(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * detail::kPi); }

// s_k = sqrt(1 + |b_k|^2): a_k + b_k'x ~ N(a_k, s_k^2 - 1) under x ~ N(0, I).
double PropScale(int k) {
  double bb = 1.0;
  for (double b : kPropB[k]) bb += b * b;
  return std::sqrt(bb);
}

// P(t_k = 1) = E[e_k] = f + (1 - 2f) Phi(a/s), since E[Phi(a + V)] = Phi(a/s)
// for V ~ N(0, s^2 - 1).
double TreatedShare(int k) {
  return kGridFloor + (1.0 - 2.0 * kGridFloor) * Phi(kPropA[k] / PropScale(k));
}

// E[x_u | t_k = 1] = E[x_u e_k] / E[e_k], with Stein's lemma
// E[x_u Phi(a + b'x)] = b_u E[phi(a + b'x)] = b_u phi(a/s) / s.
double TreatedMeanOfX(int k, int u) {
  const double s = PropScale(k);
  return (1.0 - 2.0 * kGridFloor) * kPropB[k][u] * PhiDensity(kPropA[k] / s) / s / TreatedShare(k);
}

}  // namespace

const char* const kGridOutcomeNames[kGridOutcomes] = {"y1", "y2", "y3"};
const char* const kGridTreatmentNames[kGridTreatments] = {"t1", "t2"};

double GridPropensity(int treatment, const double* x) {
  const double index =
      kPropA[treatment] + kPropB[treatment][0] * x[0] + kPropB[treatment][1] * x[1] + kPropB[treatment][2] * x[2];
  return kGridFloor + (1.0 - 2.0 * kGridFloor) * Phi(index);
}

double GridTau(int outcome, int treatment, const double* x) {
  const CellSpec& c = kCells[outcome][treatment];
  return c.c + c.lin[0] * x[0] + c.lin[1] * x[1] + c.lin[2] * x[2] + H(outcome, treatment, x[3], x[4], x[5]);
}

double GridBaseline(int outcome, const double* x) {
  switch (outcome) {
    case 0: return 1.5 * std::sin(1.2 * x[0]) + 0.8 * x[1] * x[1] + 0.5 * x[2] + 0.5 * x[5];
    case 1: return 2.0 * detail::Softplus(x[0] + x[1]) - 0.6 * x[2] * x[2] + 0.4 * x[4];
    case 2: return 1.2 * std::tanh(2.0 * x[1]) + 0.8 * x[0] * x[2] + 0.6 * std::cos(x[3]);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace detail {

// y_j = g_j(x) + tau_j1(x) t1 + tau_j2(x) t2 + eps_j, t_k = 1{U_k < e_k(x)}
// with independent uniforms (t1, t2 independent given x), x ~ N(0, I_p),
// eps_j = 0.7 w0 + sqrt(0.51) w_j: unit variance, correlation 0.49 across
// outcomes (the joint band must carry the scores' correlation).
SimData SimulateGrid(const SimOptions& o) {
  const CounterRng rng(o.seed);
  const std::size_t n = o.n, p = o.p;
  constexpr int J = kGridOutcomes, K = kGridTreatments;
  constexpr double kCommon = 0.7;
  const double own = std::sqrt(1.0 - kCommon * kCommon);

  std::vector<std::vector<double>> x(p, std::vector<double>(n));
  std::vector<std::vector<double>> y(J, std::vector<double>(n)), t(K, std::vector<double>(n));
  double tau_sum[J][K] = {}, tau_treated[J][K] = {}, n_treated[K] = {};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < p; ++k) x[k][i] = rng.Normal(kGridX, i, k);
    const double xi[6] = {x[0][i], x[1][i], x[2][i], x[3][i], x[4][i], x[5][i]};
    const auto u = rng.Uniforms(kGridTreat, i);
    for (int k = 0; k < K; ++k) {
      t[k][i] = u[k] < GridPropensity(k, xi) ? 1.0 : 0.0;
      n_treated[k] += t[k][i];
    }
    const double w0 = rng.Normal(kGridNoise, i, 0);
    for (int j = 0; j < J; ++j) {
      double yj = GridBaseline(j, xi) + kCommon * w0 + own * rng.Normal(kGridNoise, i, 1 + j);
      for (int k = 0; k < K; ++k) {
        const double tau = GridTau(j, k, xi);
        yj += tau * t[k][i];
        tau_sum[j][k] += tau;
        tau_treated[j][k] += tau * t[k][i];
      }
      y[j][i] = yj;
    }
  }

  SimData data;
  for (int j = 0; j < J; ++j) AddColumn(data, kGridOutcomeNames[j], y[j]);
  for (int k = 0; k < K; ++k) AddColumn(data, kGridTreatmentNames[k], t[k]);

  nlohmann::json cells = nlohmann::json::array(), null_cells = nlohmann::json::array();
  for (int j = 0; j < J; ++j) {
    for (int k = 0; k < K; ++k) {
      const CellSpec& c = kCells[j][k];
      double att = c.c + c.h_mean;
      for (int u = 0; u < 3; ++u) att += c.lin[u] * TreatedMeanOfX(k, u);
      const Naive naive = NaiveDifference(y[j], t[k]);
      const bool null = c.c == 0.0 && c.lin[0] == 0.0 && c.lin[1] == 0.0 && c.lin[2] == 0.0 && c.h_mean == 0.0;
      if (null) {
        nlohmann::json cell = nlohmann::json::object();
        cell["outcome"] = kGridOutcomeNames[j];
        cell["treatment"] = kGridTreatmentNames[k];
        null_cells.push_back(cell);
      }
      cells.push_back({
          {"outcome", kGridOutcomeNames[j]},
          {"treatment", kGridTreatmentNames[k]},
          {"ate", c.c + c.h_mean},
          {"att", att},
          {"ate_sample", tau_sum[j][k] / static_cast<double>(n)},
          {"att_sample", n_treated[k] > 0 ? tau_treated[j][k] / n_treated[k]
                                          : std::numeric_limits<double>::quiet_NaN()},
          {"null", null},
          {"tau", c.formula},
          {"naive_difference", naive.diff},
          {"naive_se", naive.se},
      });
    }
  }
  for (std::size_t k = 0; k < p; ++k) AddColumn(data, "x" + std::to_string(k + 1), std::move(x[k]));

  nlohmann::json shares, shares_population;
  for (int k = 0; k < K; ++k) {
    shares[kGridTreatmentNames[k]] = n_treated[k] / static_cast<double>(n);
    shares_population[kGridTreatmentNames[k]] = TreatedShare(k);
  }
  data.truth = {
      {"design", "grid"},
      {"n", n},
      {"p", p},
      {"seed", o.seed},
      {"outcome", "y1,y2,y3"},
      {"treatment", "t1,t2"},
      {"outcomes", {"y1", "y2", "y3"}},
      {"treatments", {"t1", "t2"}},
      {"treatment_type", "binary"},
      {"description",
       "Each cell (outcome y_j, treatment t_k) targets the total effect of t_k on y_j with the other "
       "treatment following its own propensity: ate = E[Y_j(t_k = 1) - Y_j(t_k = 0)] = E[tau_jk(X)], "
       "att = E[tau_jk(X) | t_k = 1]. t1 and t2 are independent given X and y has no t1 x t2 term, so "
       "this equals the direct effect tau_jk and an IRM of y_j on t_k with features X identifies it "
       "(the other treatment is not a confounder and must not be a feature). ate and att are population "
       "values in closed form; ate_sample and att_sample are the means of tau_jk over this sample's rows "
       "(all rows, rows with t_k = 1)."},
      {"truth_kind", "population, closed form"},
      {"cells", cells},
      {"null_cells", null_cells},
      {"share_treated", shares},
      {"share_treated_population", shares_population},
      {"propensity_range", {kGridFloor, 1.0 - kGridFloor}},
      {"noise_correlation", kCommon * kCommon},
      {"formulas",
       {{"x", "x1..xp iid N(0,1); x7..xp are unrelated to t and y"},
        {"e1", "0.1 + 0.8 Phi(0.2 + 0.8 x1 - 0.6 x2)"},
        {"e2", "0.1 + 0.8 Phi(-0.3 + 0.7 x2 + 0.5 x3)"},
        {"t_k", "1{U_k < e_k(x)}, U_1, U_2 iid Unif(0,1): t1, t2 independent given x"},
        {"g1", "1.5 sin(1.2 x1) + 0.8 x2^2 + 0.5 x3 + 0.5 x6"},
        {"g2", "2 softplus(x1 + x2) - 0.6 x3^2 + 0.4 x5"},
        {"g3", "1.2 tanh(2 x2) + 0.8 x1 x3 + 0.6 cos(x4)"},
        {"y_j", "g_j(x) + tau_j1(x) t1 + tau_j2(x) t2 + 0.7 w0 + sqrt(0.51) w_j, w ~ N(0,1) iid"},
        {"ate", "c + E[h(x4, x5, x6)]: E 1{Z > 0} = 1/2, E cos Z = exp(-1/2), E |Z| = sqrt(2/pi), E Z^2 = 1"},
        {"att",
         "ate + sum_u l_u E[x_u | t_k = 1], E[x_u | t_k = 1] = 0.8 b_ku phi(a_k/s_k) / s_k / P(t_k = 1), "
         "P(t_k = 1) = 0.1 + 0.8 Phi(a_k/s_k), s_k = sqrt(1 + |b_k|^2) (Stein's lemma); x4..x6 are "
         "independent of t_k"}}},
  };
  return data;
}

}  // namespace detail

}  // namespace fastdml::sim
