// Tests of the data simulators: determinism, shapes, and that each design's
// truth JSON agrees with the data it came with.
#include "sim/simulate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fastdml/error.h"

namespace fastdml::sim {
namespace {

SimData Make(Design design, std::size_t n, std::size_t p, std::uint64_t seed, double theta = 0.5) {
  SimOptions o;
  o.design = design;
  o.n = n;
  o.p = p;
  o.seed = seed;
  o.theta = theta;
  return Simulate(o);
}

const std::vector<double>& Column(const SimData& data, const std::string& name) {
  for (std::size_t j = 0; j < data.column_names.size(); ++j)
    if (data.column_names[j] == name) return data.columns[j];
  ADD_FAILURE() << "no column " << name;
  static const std::vector<double> empty;
  return empty;
}

double MeanOf(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

template <typename F>
void ExpectThrowsUsageNaming(F&& f, const std::string& option) {
  try {
    f();
    ADD_FAILURE() << "expected UsageError naming " << option;
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(option), std::string::npos) << e.what();
  }
}

const Design kAllDesigns[] = {Design::kSeller, Design::kIrm, Design::kPlr};

TEST(ParseDesign, AcceptsTheThreeDesignNames) {
  EXPECT_EQ(ParseDesign("seller"), Design::kSeller);
  EXPECT_EQ(ParseDesign("irm"), Design::kIrm);
  EXPECT_EQ(ParseDesign("plr"), Design::kPlr);
  for (Design d : kAllDesigns) EXPECT_EQ(ParseDesign(ToString(d)), d);
}

TEST(ParseDesign, RejectsUnknownNameWithUsageErrorNamingTheOption) {
  ExpectThrowsUsageNaming([] { ParseDesign("IRM "); }, "--design");
  ExpectThrowsUsageNaming([] { ParseDesign(""); }, "--design");
}

TEST(Simulate, RejectsTooFewRowsNamingN) {
  for (Design d : kAllDesigns) ExpectThrowsUsageNaming([d] { Make(d, 9, 20, 0); }, "--n");
}

TEST(Simulate, RejectsTooFewFeaturesNamingP) {
  ExpectThrowsUsageNaming([] { Make(Design::kSeller, 100, 7, 0); }, "--p");
  ExpectThrowsUsageNaming([] { Make(Design::kIrm, 100, 2, 0); }, "--p");
  ExpectThrowsUsageNaming([] { Make(Design::kPlr, 100, 2, 0); }, "--p");
  EXPECT_NO_THROW(Make(Design::kSeller, 10, 8, 0));
  EXPECT_NO_THROW(Make(Design::kIrm, 10, 3, 0));
  EXPECT_NO_THROW(Make(Design::kPlr, 10, 3, 0));
}

TEST(Simulate, RejectsNonFiniteThetaNamingTheta) {
  ExpectThrowsUsageNaming([] { Make(Design::kIrm, 100, 5, 0, std::nan("")); }, "--theta");
}

TEST(Simulate, SameSeedGivesIdenticalData) {
  for (Design d : kAllDesigns) {
    const SimData a = Make(d, 500, 12, 42);
    const SimData b = Make(d, 500, 12, 42);
    EXPECT_EQ(a.column_names, b.column_names);
    EXPECT_EQ(a.columns, b.columns) << ToString(d);  // bitwise equal doubles
    EXPECT_EQ(a.truth, b.truth) << ToString(d);
  }
}

TEST(Simulate, DifferentSeedGivesDifferentData) {
  for (Design d : kAllDesigns) {
    const SimData a = Make(d, 500, 12, 1);
    const SimData b = Make(d, 500, 12, 2);
    EXPECT_NE(Column(a, "y"), Column(b, "y")) << ToString(d);
    EXPECT_NE(a.columns.back(), b.columns.back()) << ToString(d);
  }
  // Seeds that differ only in the high 32 bits are different keys too.
  EXPECT_NE(Column(Make(Design::kIrm, 100, 3, 1), "y"),
            Column(Make(Design::kIrm, 100, 3, 1 + (std::uint64_t{1} << 32)), "y"));
}

TEST(Simulate, IrmRowsDependOnlyOnSeedAndRowIndex) {
  // Counter-based draws: a longer sample extends a shorter one.
  const SimData a = Make(Design::kIrm, 50, 6, 7);
  const SimData b = Make(Design::kIrm, 120, 6, 7);
  for (std::size_t j = 0; j < a.columns.size(); ++j)
    for (std::size_t i = 0; i < 50; ++i) ASSERT_EQ(a.columns[j][i], b.columns[j][i]);
}

TEST(Simulate, SellerHasNamedColumnsThenNoiseFeatures) {
  const SimData data = Make(Design::kSeller, 200, 10, 0);
  const std::vector<std::string> expected = {
      "y",        "d",     "seller_id",    "experience_years", "proactiveness_score", "category",
      "inventory_level", "price", "demand_index", "x1", "x2", "x3"};
  EXPECT_EQ(data.column_names, expected);
  ASSERT_EQ(data.columns.size(), expected.size());
  for (const auto& c : data.columns) EXPECT_EQ(c.size(), 200u);
  EXPECT_EQ(data.truth["design"], "seller");
  EXPECT_EQ(data.truth["outcome"], "y");
  EXPECT_EQ(data.truth["treatment"], "d");
  EXPECT_EQ(data.truth["n"], 200);
  EXPECT_EQ(data.truth["p"], 10);
  EXPECT_EQ(data.truth["category_names"]["0"], "grocery");
  EXPECT_EQ(data.truth["category_names"]["4"], "toys");
}

TEST(Simulate, IrmAndPlrUseDoubleMlColumnNames) {
  for (Design d : {Design::kIrm, Design::kPlr}) {
    const SimData data = Make(d, 100, 4, 0);
    const std::vector<std::string> expected = {"y", "d", "X1", "X2", "X3", "X4"};
    EXPECT_EQ(data.column_names, expected);
    for (const auto& c : data.columns) EXPECT_EQ(c.size(), 100u);
    EXPECT_EQ(data.truth["design"], ToString(d));
  }
}

TEST(SellerDesign, ColumnsHaveTheirDocumentedDomains) {
  const SimData data = Make(Design::kSeller, 5000, 8, 3);
  const auto& seller = Column(data, "seller_id");
  std::map<double, int> listings_per_seller;
  for (std::size_t i = 0; i < seller.size(); ++i) {
    EXPECT_EQ(seller[i], std::floor(seller[i]));
    ++listings_per_seller[seller[i]];
    const double d = Column(data, "d")[i];
    EXPECT_TRUE(d == 0.0 || d == 1.0);
    const double c = Column(data, "category")[i];
    EXPECT_TRUE(c == std::floor(c) && c >= 0 && c <= 4) << c;
    EXPECT_GT(Column(data, "y")[i], 0.0);  // revenue
    EXPECT_GT(Column(data, "inventory_level")[i], 0.0);
    EXPECT_GT(Column(data, "price")[i], 0.0);
    EXPECT_GT(Column(data, "experience_years")[i], 0.0);
  }
  EXPECT_EQ(listings_per_seller.size(), 250u);
  for (const auto& [s, count] : listings_per_seller) EXPECT_EQ(count, 20) << "seller " << s;
  EXPECT_EQ(data.truth["n_sellers"], 250);
}

TEST(SellerDesign, TruthAteAttAndAtcAreSampleMeansOfTau) {
  const SimData data = Make(Design::kSeller, 3000, 8, 11);
  const auto& cat = Column(data, "category");
  const auto& inv = Column(data, "inventory_level");
  const auto& d = Column(data, "d");
  double sum = 0, sum_treated = 0, n_treated = 0, sum_control = 0, n_control = 0;
  for (std::size_t i = 0; i < cat.size(); ++i) {
    const double tau = SellerTau(static_cast<int>(cat[i]), inv[i]);
    sum += tau;
    if (d[i] == 1.0) {
      sum_treated += tau;
      n_treated += 1;
    } else {
      sum_control += tau;
      n_control += 1;
    }
  }
  EXPECT_NEAR(data.truth["ate"].get<double>(), sum / cat.size(), 1e-12);
  EXPECT_NEAR(data.truth["att"].get<double>(), sum_treated / n_treated, 1e-12);
  EXPECT_NEAR(data.truth["atc"].get<double>(), sum_control / n_control, 1e-12);
  // Treatment is selected on tau's drivers, so the three populations differ.
  EXPECT_GT(std::fabs(data.truth["atc"].get<double>() - data.truth["att"].get<double>()), 0.01);
  EXPECT_EQ(data.truth["ate_sample"], data.truth["ate"]);
}

TEST(SellerDesign, TruthAtoIsTheOverlapWeightedMeanOfTau) {
  const SimData data = Make(Design::kSeller, 3000, 8, 12);
  const auto& cat = Column(data, "category");
  const auto& inv = Column(data, "inventory_level");
  const auto& score = Column(data, "proactiveness_score");
  const auto& exp_years = Column(data, "experience_years");
  double h_sum = 0, h_tau = 0;
  for (std::size_t i = 0; i < cat.size(); ++i) {
    const double e = SellerPropensity(score[i], exp_years[i], inv[i]);
    h_sum += e * (1 - e);
    h_tau += e * (1 - e) * SellerTau(static_cast<int>(cat[i]), inv[i]);
  }
  // The truth sums in the generation loop; the same terms, so rounding only.
  EXPECT_NEAR(data.truth["ato"].get<double>(), h_tau / h_sum, 1e-9);
  // Weighting towards e = 1/2 moves it away from the ATE here.
  EXPECT_GT(std::fabs(data.truth["ato"].get<double>() - data.truth["ate"].get<double>()), 0.005);
}

TEST(SellerDesign, GatesWeightedByGroupSharesEqualTheAte) {
  const SimData data = Make(Design::kSeller, 20000, 8, 5);
  const double ate = data.truth["ate"].get<double>();
  const double n = 20000;
  for (const char* grouping : {"category", "inventory_quintile"}) {
    double weighted = 0, rows = 0;
    for (const auto& [key, gate] : data.truth["gate"][grouping].items()) {
      const double count = data.truth["gate_n"][grouping][key].get<double>();
      weighted += gate.get<double>() * count / n;
      rows += count;
    }
    EXPECT_EQ(rows, n) << grouping;
    EXPECT_NEAR(weighted, ate, 1e-12) << grouping;
  }
  // Category counts agree with the column; effects are larger at low stock.
  const auto& cat = Column(data, "category");
  for (int c = 0; c < kSellerCategories; ++c) {
    double count = 0;
    for (double v : cat) count += v == c;
    EXPECT_EQ(data.truth["gate_n"]["category"][std::to_string(c)].get<double>(), count);
  }
  const auto& q = data.truth["gate"]["inventory_quintile"];
  for (int k = 0; k < 4; ++k)
    EXPECT_GT(q[std::to_string(k)].get<double>(), q[std::to_string(k + 1)].get<double>());
}

TEST(SellerDesign, NaiveDifferenceExceedsAteByMoreThanTenStandardErrors) {
  // Pins the selection bias the product exists to remove.
  const SimData data = Make(Design::kSeller, 20000, 20, 0);
  const auto& y = Column(data, "y");
  const auto& d = Column(data, "d");
  double s[2] = {0, 0}, ss[2] = {0, 0}, c[2] = {0, 0};
  for (std::size_t i = 0; i < y.size(); ++i) {
    const int g = static_cast<int>(d[i]);
    s[g] += y[i];
    ss[g] += y[i] * y[i];
    c[g] += 1;
  }
  const double m1 = s[1] / c[1], m0 = s[0] / c[0];
  const double v1 = (ss[1] - c[1] * m1 * m1) / (c[1] - 1);
  const double v0 = (ss[0] - c[0] * m0 * m0) / (c[0] - 1);
  const double naive = m1 - m0, se = std::sqrt(v1 / c[1] + v0 / c[0]);
  EXPECT_NEAR(data.truth["naive_difference"].get<double>(), naive, 1e-9);
  EXPECT_NEAR(data.truth["naive_se"].get<double>(), se, 1e-9);
  EXPECT_GT(naive - data.truth["ate"].get<double>(), 10 * se);
  EXPECT_GT(naive - data.truth["att"].get<double>(), 10 * se);
}

TEST(SellerDesign, PropensitiesOverlapAndBothArmsAppearInEveryCategory) {
  const SimData data = Make(Design::kSeller, 20000, 8, 9);
  const auto& score = Column(data, "proactiveness_score");
  const auto& exp_years = Column(data, "experience_years");
  const auto& inv = Column(data, "inventory_level");
  const auto& cat = Column(data, "category");
  const auto& d = Column(data, "d");
  int arms[kSellerCategories][2] = {};
  double mean_e = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double e = SellerPropensity(score[i], exp_years[i], inv[i]);
    ASSERT_GE(e, 0.05);
    ASSERT_LE(e, 0.95);
    mean_e += e / d.size();
    ++arms[static_cast<int>(cat[i])][static_cast<int>(d[i])];
  }
  for (int c = 0; c < kSellerCategories; ++c) {
    EXPECT_GT(arms[c][0], 100) << kSellerCategoryNames[c];
    EXPECT_GT(arms[c][1], 100) << kSellerCategoryNames[c];
  }
  // d is drawn from these propensities: the share treated matches their mean.
  EXPECT_NEAR(MeanOf(d), mean_e, 4 * std::sqrt(0.25 / d.size()));
}

TEST(SellerDesign, IpwWithTruePropensityRecoversTheAte) {
  // d depends on observed columns only, so the effect is identified given X:
  // Horvitz-Thompson with the true propensity is unbiased for E[tau]. SE is
  // cluster-robust by seller (the latent proactiveness is shared per seller).
  const SimData data = Make(Design::kSeller, 100000, 8, 21);
  const auto& y = Column(data, "y");
  const auto& d = Column(data, "d");
  const auto& seller = Column(data, "seller_id");
  std::vector<double> psi(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double e = SellerPropensity(Column(data, "proactiveness_score")[i],
                                      Column(data, "experience_years")[i],
                                      Column(data, "inventory_level")[i]);
    psi[i] = d[i] * y[i] / e - (1 - d[i]) * y[i] / (1 - e);
  }
  const double est = MeanOf(psi);
  std::map<double, double> cluster_sum;
  for (std::size_t i = 0; i < psi.size(); ++i) cluster_sum[seller[i]] += psi[i] - est;
  double var = 0;
  for (const auto& [s, v] : cluster_sum) var += v * v;
  const double se = std::sqrt(var) / psi.size();
  EXPECT_NEAR(est, data.truth["ate"].get<double>(), 4 * se);
  EXPECT_NEAR(data.truth["ate"].get<double>(), data.truth["ate_population"].get<double>(), 0.1);
}

// Sum over j of beta_j x_j with beta_j = 1/j^2 (make_irm_data).
std::vector<double> IrmIndex(const SimData& data, std::size_t p) {
  std::vector<double> xb(data.columns[0].size(), 0.0);
  for (std::size_t j = 1; j <= p; ++j) {
    const auto& x = Column(data, "X" + std::to_string(j));
    for (std::size_t i = 0; i < xb.size(); ++i) xb[i] += x[i] / static_cast<double>(j * j);
  }
  return xb;
}

TEST(IrmDesign, TreatmentIsBinaryAndCovariatesHaveDocumentedMoments) {
  const std::size_t n = 40000, p = 5;
  const SimData data = Make(Design::kIrm, n, p, 4);
  for (double v : Column(data, "d")) ASSERT_TRUE(v == 0.0 || v == 1.0);
  const double tol = 4.0 / std::sqrt(static_cast<double>(n));
  for (std::size_t j = 1; j <= p; ++j) {
    const auto& x = Column(data, "X" + std::to_string(j));
    EXPECT_NEAR(MeanOf(x), 0.0, tol) << "X" << j;
    double ss = 0;
    for (double v : x) ss += v * v;
    EXPECT_NEAR(ss / n, 1.0, 4 * std::sqrt(2.0 / n)) << "X" << j;
  }
  // Sigma_kj = 0.5^|j-k|: neighbours correlate 0.5, lag two 0.25.
  const auto& x1 = Column(data, "X1");
  const auto& x2 = Column(data, "X2");
  const auto& x3 = Column(data, "X3");
  double c12 = 0, c13 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    c12 += x1[i] * x2[i] / n;
    c13 += x1[i] * x3[i] / n;
  }
  EXPECT_NEAR(c12, 0.5, 4 * std::sqrt(1.25 / n));
  EXPECT_NEAR(c13, 0.25, 4 * std::sqrt(1.0625 / n));
  // With theta = 0 the treated share is 1/2 by symmetry of x'beta.
  EXPECT_NEAR(MeanOf(Column(data, "d")), 0.5, 4 * std::sqrt(0.25 / n));
}

TEST(IrmDesign, TruthMatchesMakeIrmDataConstantsAndSample) {
  const std::size_t n = 20000, p = 20;
  const SimData data = Make(Design::kIrm, n, p, 8, 0.5);
  // beta' Sigma beta for p = 20, computed with DoubleML's own code.
  EXPECT_NEAR(data.truth["b_sigma_b"].get<double>(), 1.469303999105506, 1e-12);
  const double c_y = data.truth["c_y"].get<double>();
  EXPECT_NEAR(c_y, 0.824981423941055, 1e-12);
  EXPECT_NEAR(data.truth["c_d"].get<double>(), 1.4963507822493252, 1e-12);
  EXPECT_EQ(data.truth["ate"].get<double>(), 0.5);
  EXPECT_EQ(data.truth["treatment_type"], "binary");

  const auto xb = IrmIndex(data, p);
  const auto& d = Column(data, "d");
  const auto& y = Column(data, "y");
  double s_xb = 0, s_xb_t = 0, n_t = 0, resid = 0, resid_ss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    s_xb += xb[i];
    s_xb_t += xb[i] * d[i];
    n_t += d[i];
    const double r = y[i] - 0.5 * d[i] - c_y * xb[i] * d[i];  // = zeta
    resid += r / n;
    resid_ss += r * r / n;
  }
  EXPECT_NEAR(data.truth["ate_sample"].get<double>(), 0.5 + c_y * s_xb / n, 1e-9);
  EXPECT_NEAR(data.truth["att"].get<double>(), 0.5 + c_y * s_xb_t / n_t, 1e-9);
  EXPECT_GT(data.truth["att"].get<double>(), 0.5);  // treated have larger x'beta
  EXPECT_NEAR(data.truth["atc"].get<double>(), 0.5 + c_y * (s_xb - s_xb_t) / (n - n_t), 1e-9);
  EXPECT_LT(data.truth["atc"].get<double>(), 0.5);  // the untreated have smaller x'beta
  {
    double h_sum = 0, h_tau = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = 1.0 / (1.0 + std::exp(-data.truth["c_d"].get<double>() * xb[i]));
      h_sum += e * (1 - e);
      h_tau += e * (1 - e) * (0.5 + c_y * xb[i]);
    }
    EXPECT_NEAR(data.truth["ato"].get<double>(), h_tau / h_sum, 1e-9);
  }
  EXPECT_NEAR(resid, 0.0, 4 / std::sqrt(static_cast<double>(n)));
  EXPECT_NEAR(resid_ss, 1.0, 4 * std::sqrt(2.0 / n));
}

TEST(PlrDesign, RegressionOfYMinusG0OnDRecoversAlpha) {
  const std::size_t n = 20000;
  const double alpha = 0.7;
  const SimData data = Make(Design::kPlr, n, 6, 12, alpha);
  EXPECT_EQ(data.truth["treatment_type"], "continuous");
  EXPECT_EQ(data.truth["ate"].get<double>(), alpha);
  const auto& x1 = Column(data, "X1");
  const auto& x3 = Column(data, "X3");
  const auto& d = Column(data, "d");
  const auto& y = Column(data, "y");
  double sdd = 0, sdr = 0, dv = 0, svv = 0;
  bool continuous = false;
  for (std::size_t i = 0; i < n; ++i) {
    // make_plr_CCDDHNR2018 with b_0 = 1, b_1 = 0.25, a_0 = 1, a_1 = 0.25.
    const double g0 = 1.0 / (1.0 + std::exp(-x1[i])) + 0.25 * x3[i];
    const double m0 = x1[i] + 0.25 / (1.0 + std::exp(-x3[i]));
    sdd += d[i] * d[i];
    sdr += d[i] * (y[i] - g0);
    const double v = d[i] - m0;
    dv += v / n;
    svv += v * v / n;
    continuous |= d[i] != std::floor(d[i]);
  }
  EXPECT_TRUE(continuous);
  // OLS through the origin; residual is s_2 zeta with s_2 = 1: SE = 1/sqrt(sum d^2).
  EXPECT_NEAR(sdr / sdd, alpha, 4 / std::sqrt(sdd));
  // d - m0(x) = s_1 v with s_1 = 1.
  EXPECT_NEAR(dv, 0.0, 4 / std::sqrt(static_cast<double>(n)));
  EXPECT_NEAR(svv, 1.0, 4 * std::sqrt(2.0 / n));
}

std::vector<std::string> SplitComma(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

TEST(WriteCsv, RoundTripsEveryValueExactly) {
  for (Design design : kAllDesigns) {
    const SimData data = Make(design, 300, 9, 77);
    const std::string path = ::testing::TempDir() + "fastdml_sim_" + ToString(design) + ".csv";
    WriteCsv(data, path);
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(SplitComma(line), data.column_names);
    std::size_t row = 0;
    while (std::getline(in, line)) {
      const auto cells = SplitComma(line);
      ASSERT_EQ(cells.size(), data.columns.size()) << "row " << row;
      for (std::size_t j = 0; j < cells.size(); ++j) {
        char* end = nullptr;
        const double v = std::strtod(cells[j].c_str(), &end);
        ASSERT_EQ(*end, '\0') << cells[j];
        ASSERT_EQ(v, data.columns[j][row]) << data.column_names[j] << " row " << row;
      }
      ++row;
    }
    EXPECT_EQ(row, 300u);
    std::remove(path.c_str());
  }
}

TEST(WriteCsv, UnwritablePathThrowsUsageError) {
  const SimData data = Make(Design::kIrm, 10, 3, 0);
  EXPECT_THROW(WriteCsv(data, "/nonexistent-dir/fastdml/out.csv"), UsageError);
}

}  // namespace
}  // namespace fastdml::sim
