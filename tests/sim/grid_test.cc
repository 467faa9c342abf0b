// Tests of the grid design (sim/grid.cc): columns, determinism, and that the
// truth JSON's closed-form population values agree with independent numerical
// integration and with large simulated samples.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "sim/simulate.h"

namespace fastdml::sim {
namespace {

SimData MakeGrid(std::size_t n, std::size_t p, std::uint64_t seed) {
  SimOptions o;
  o.design = Design::kGrid;
  o.n = n;
  o.p = p;
  o.seed = seed;
  return Simulate(o);
}

const std::vector<double>& Col(const SimData& data, const std::string& name) {
  for (std::size_t j = 0; j < data.column_names.size(); ++j)
    if (data.column_names[j] == name) return data.columns[j];
  ADD_FAILURE() << "no column " << name;
  static const std::vector<double> empty;
  return empty;
}

// x1..x6 of row i, as GridTau and GridPropensity take them.
std::vector<double> Row(const SimData& data, std::size_t i) {
  std::vector<double> x(6);
  for (int u = 0; u < 6; ++u) x[u] = Col(data, "x" + std::to_string(u + 1))[i];
  return x;
}

const nlohmann::json& Cell(const SimData& data, int j, int k) {
  return data.truth["cells"][static_cast<std::size_t>(j * kGridTreatments + k)];
}

struct MeanSe {
  double mean, se;
};
MeanSe MeanAndSe(const std::vector<double>& v) {
  double s = 0, ss = 0;
  for (double x : v) s += x;
  const double m = s / v.size();
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / (v.size() - 1) / v.size())};
}

TEST(GridDesign, ParsesAndNamesItself) {
  EXPECT_EQ(ParseDesign("grid"), Design::kGrid);
  EXPECT_STREQ(ToString(Design::kGrid), "grid");
}

TEST(GridDesign, ColumnsAreOutcomesTreatmentsThenFeatures) {
  const SimData data = MakeGrid(300, 8, 1);
  const std::vector<std::string> expected = {"y1", "y2", "y3", "t1", "t2", "x1", "x2",
                                             "x3", "x4", "x5", "x6", "x7", "x8"};
  EXPECT_EQ(data.column_names, expected);
  for (const auto& c : data.columns) EXPECT_EQ(c.size(), 300u);
  for (const char* t : {"t1", "t2"})
    for (double v : Col(data, t)) ASSERT_TRUE(v == 0.0 || v == 1.0) << t;
  for (const auto& c : data.columns)
    for (double v : c) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(data.truth["design"], "grid");
  EXPECT_EQ(data.truth["outcome"], "y1,y2,y3");
  EXPECT_EQ(data.truth["treatment"], "t1,t2");
  EXPECT_EQ(data.truth["n"], 300);
  EXPECT_EQ(data.truth["p"], 8);
}

TEST(GridDesign, NeedsSixFeaturesNamingP) {
  try {
    MakeGrid(100, 5, 0);
    ADD_FAILURE() << "p = 5 accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--p"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(MakeGrid(10, 6, 0));
}

TEST(GridDesign, SeedFixesTheDataAndRowsDependOnlyOnSeedAndRow) {
  const SimData a = MakeGrid(400, 7, 42), b = MakeGrid(400, 7, 42), c = MakeGrid(400, 7, 43);
  EXPECT_EQ(a.columns, b.columns);  // bitwise equal doubles
  EXPECT_EQ(a.truth, b.truth);
  for (std::size_t j = 0; j < a.columns.size(); ++j) EXPECT_NE(a.columns[j], c.columns[j]) << a.column_names[j];
  // Counter-based draws: a longer sample (and more features) extends a shorter one.
  const SimData longer = MakeGrid(900, 9, 42);
  for (std::size_t j = 0; j < a.columns.size(); ++j)
    for (std::size_t i = 0; i < 400; ++i) ASSERT_EQ(a.columns[j][i], longer.columns[j][i]) << j << "," << i;
}

TEST(GridDesign, TruthListsEveryCellWithOneNull) {
  const SimData data = MakeGrid(200, 6, 3);
  const auto& cells = data.truth["cells"];
  ASSERT_EQ(cells.size(), 6u);
  int nulls = 0;
  for (int j = 0; j < kGridOutcomes; ++j) {
    for (int k = 0; k < kGridTreatments; ++k) {
      const auto& c = Cell(data, j, k);
      EXPECT_EQ(c["outcome"], kGridOutcomeNames[j]);
      EXPECT_EQ(c["treatment"], kGridTreatmentNames[k]);
      for (const char* key : {"ate", "att", "ate_sample", "att_sample"})
        EXPECT_TRUE(std::isfinite(c[key].get<double>())) << key;
      if (c["null"].get<bool>()) {
        ++nulls;
        EXPECT_EQ(c["ate"].get<double>(), 0.0);
        EXPECT_EQ(c["att"].get<double>(), 0.0);
        EXPECT_EQ(c["ate_sample"].get<double>(), 0.0);
      } else {
        EXPECT_GT(std::fabs(c["ate"].get<double>()), 0.25) << j << k;
      }
    }
  }
  EXPECT_EQ(nulls, 1);
  EXPECT_EQ(data.truth["null_cells"][0]["outcome"], "y2");
  EXPECT_EQ(data.truth["null_cells"][0]["treatment"], "t2");
  EXPECT_NE(data.truth["description"].get<std::string>().find("total effect"), std::string::npos);
}

TEST(GridDesign, ClosedFormTruthsMatchNumericalIntegration) {
  // Reference values from an 80-point-per-axis Gauss-Hermite quadrature over
  // (x1, x2, x3) in numpy/scipy, independent of the closed forms in grid.cc.
  const double ate[3][2] = {{1.25, 0.7426122638850534}, {-0.36063463175914034, 0.0}, {0.3, 0.8}};
  const double att[3][2] = {{1.413990020374829, 0.6324473158342109},
                            {-0.483627147040262, 0.0},
                            {0.39839401222489745, 1.1965938129830331}};
  const SimData data = MakeGrid(50, 6, 0);
  for (int j = 0; j < 3; ++j) {
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(Cell(data, j, k)["ate"].get<double>(), ate[j][k], 1e-12) << j << k;
      EXPECT_NEAR(Cell(data, j, k)["att"].get<double>(), att[j][k], 1e-9) << j << k;
    }
  }
  EXPECT_NEAR(data.truth["share_treated_population"]["t1"].get<double>(), 0.544985166407314, 1e-9);
  EXPECT_NEAR(data.truth["share_treated_population"]["t2"].get<double>(), 0.4280359404516978, 1e-9);
}

TEST(GridDesign, SampleTruthsAreMeansOfTauOverRowsAndTreatedRows) {
  const std::size_t n = 3000;
  const SimData data = MakeGrid(n, 6, 11);
  for (int k = 0; k < kGridTreatments; ++k) {
    const auto& t = Col(data, kGridTreatmentNames[k]);
    for (int j = 0; j < kGridOutcomes; ++j) {
      double sum = 0, sum_t = 0, n_t = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double tau = GridTau(j, k, Row(data, i).data());
        sum += tau;
        sum_t += tau * t[i];
        n_t += t[i];
      }
      EXPECT_NEAR(Cell(data, j, k)["ate_sample"].get<double>(), sum / n, 1e-12);
      EXPECT_NEAR(Cell(data, j, k)["att_sample"].get<double>(), sum_t / n_t, 1e-12);
    }
  }
}

// The large-sample checks below use n = 200,000 rows and a tolerance of 4
// standard errors of the sample quantity (iid rows; for means over treated
// rows, the SE of a mean of n_t draws from the treated population).
constexpr std::size_t kLargeN = 200000;

TEST(GridDesign, PopulationTruthsAgreeWithALargeSample) {
  const SimData data = MakeGrid(kLargeN, 6, 21);
  for (int k = 0; k < kGridTreatments; ++k) {
    const auto& t = Col(data, kGridTreatmentNames[k]);
    const MeanSe share = MeanAndSe(t);
    EXPECT_NEAR(share.mean, data.truth["share_treated_population"][kGridTreatmentNames[k]].get<double>(),
                4 * share.se);
    for (int j = 0; j < kGridOutcomes; ++j) {
      std::vector<double> tau(kLargeN), tau_t;
      for (std::size_t i = 0; i < kLargeN; ++i) {
        tau[i] = GridTau(j, k, Row(data, i).data());
        if (t[i] == 1.0) tau_t.push_back(tau[i]);
      }
      const auto& c = Cell(data, j, k);
      const MeanSe all = MeanAndSe(tau), treated = MeanAndSe(tau_t);
      if (c["null"].get<bool>()) {
        EXPECT_EQ(all.mean, 0.0);
        continue;
      }
      EXPECT_NEAR(all.mean, c["ate"].get<double>(), 4 * all.se) << j << k;
      EXPECT_NEAR(treated.mean, c["att"].get<double>(), 4 * treated.se) << j << k;
      // Selection on the effect's drivers separates ATT from ATE (by 0.098 to
      // 0.40), so the ATT check is not the ATE check twice.
      EXPECT_GT(std::fabs(c["att"].get<double>() - c["ate"].get<double>()), 0.05) << j << k;
    }
  }
}

TEST(GridDesign, IpwWithTruePropensityRecoversEveryCellFromTheOutcomes) {
  // Checks that y really carries tau_jk and that the total effect of t_k (the
  // other treatment left to its own propensity) is E[tau_jk]: Horvitz-Thompson
  // on (y_j, t_k) alone with the true e_k is unbiased for the ATE, and the
  // odds-weighted contrast for the ATT.
  const SimData data = MakeGrid(kLargeN, 6, 22);
  for (int k = 0; k < kGridTreatments; ++k) {
    const auto& t = Col(data, kGridTreatmentNames[k]);
    std::vector<double> e(kLargeN);
    double n_t = 0;
    for (std::size_t i = 0; i < kLargeN; ++i) {
      e[i] = GridPropensity(k, Row(data, i).data());
      ASSERT_GE(e[i], 0.1);
      ASSERT_LE(e[i], 0.9);
      n_t += t[i];
    }
    const double share = n_t / kLargeN;
    for (int j = 0; j < kGridOutcomes; ++j) {
      const auto& y = Col(data, kGridOutcomeNames[j]);
      std::vector<double> psi_ate(kLargeN), w_y(kLargeN);
      double att_num = 0;
      for (std::size_t i = 0; i < kLargeN; ++i) {
        psi_ate[i] = t[i] * y[i] / e[i] - (1 - t[i]) * y[i] / (1 - e[i]);
        w_y[i] = (t[i] - (1 - t[i]) * e[i] / (1 - e[i])) * y[i];
        att_num += w_y[i];
      }
      const double att = att_num / n_t;
      std::vector<double> psi_att(kLargeN);  // influence function of the ratio
      for (std::size_t i = 0; i < kLargeN; ++i) psi_att[i] = (w_y[i] - t[i] * att) / share;
      const MeanSe ate_hat = MeanAndSe(psi_ate), att_if = MeanAndSe(psi_att);
      const auto& c = Cell(data, j, k);
      EXPECT_NEAR(ate_hat.mean, c["ate"].get<double>(), 4 * ate_hat.se) << j << k;
      EXPECT_NEAR(att, c["att"].get<double>(), 4 * att_if.se) << j << k;
      EXPECT_LT(ate_hat.se, 0.05);  // the check has teeth: every nonzero effect is > 5 SE
    }
  }
}

TEST(GridDesign, TreatmentsIndependentGivenXAndNoiseAsDocumented) {
  const SimData data = MakeGrid(kLargeN, 6, 23);
  const auto& t1 = Col(data, "t1");
  const auto& t2 = Col(data, "t2");
  std::vector<double> r12(kLargeN), eps[3], cross01(kLargeN);
  for (auto& v : eps) v.resize(kLargeN);
  double marginal_t1t2 = 0;
  for (std::size_t i = 0; i < kLargeN; ++i) {
    const auto x = Row(data, i);
    r12[i] = (t1[i] - GridPropensity(0, x.data())) * (t2[i] - GridPropensity(1, x.data()));
    marginal_t1t2 += t1[i] * t2[i] / kLargeN;
    for (int j = 0; j < 3; ++j) {
      eps[j][i] = Col(data, kGridOutcomeNames[j])[i] - GridBaseline(j, x.data()) -
                  GridTau(j, 0, x.data()) * t1[i] - GridTau(j, 1, x.data()) * t2[i];
    }
    cross01[i] = eps[0][i] * eps[1][i];
  }
  const MeanSe r = MeanAndSe(r12);
  EXPECT_NEAR(r.mean, 0.0, 4 * r.se);
  // ...while x2 drives both, so t1 and t2 are dependent marginally (E[t1 t2] != E t1 E t2).
  const double m1 = MeanAndSe(t1).mean, m2 = MeanAndSe(t2).mean;
  EXPECT_GT(std::fabs(marginal_t1t2 - m1 * m2), 10 * r.se);
  for (int j = 0; j < 3; ++j) {
    const MeanSe m = MeanAndSe(eps[j]);
    EXPECT_NEAR(m.mean, 0.0, 4 * m.se) << "eps" << j + 1;
    EXPECT_NEAR(m.se * m.se * kLargeN, 1.0, 4 * std::sqrt(2.0 / kLargeN)) << "eps" << j + 1;
  }
  const MeanSe c = MeanAndSe(cross01);
  EXPECT_NEAR(c.mean, data.truth["noise_correlation"].get<double>(), 4 * c.se);
}

}  // namespace
}  // namespace fastdml::sim
