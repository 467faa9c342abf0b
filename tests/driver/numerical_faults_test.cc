// Numerical faults (issue 7, item 4): each condition gives its documented
// error or warning (docs/reliability.md; codes in fastdml/warnings.h) rather
// than a silent inf or NaN. Small crafted datasets with given predictions, so
// that each condition is exact and no model is trained.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/warnings.h"
#include "io/report.h"

namespace fastdml {
namespace {

struct Case {
  Dataset data;
  Predictions pred;
};

// n rows, features x0 (noise) and x1 (noise), propensities from `propensity`.
template <class Propensity>
Case MakeCase(std::size_t n, unsigned seed, Propensity propensity) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> z(0, 1);
  Case c;
  c.data.n = n;
  c.data.p = 2;
  c.data.feature_names = {"x0", "x1"};
  c.pred.n = n;
  c.pred.reps = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = i % 2 == 0 ? 1.0 : 0.0;
    c.data.d.push_back(d);
    c.data.y.push_back(1.0 + d + z(rng));
    c.data.x.push_back(static_cast<float>(z(rng)));
    c.data.x.push_back(static_cast<float>(z(rng)));
    c.pred.fold.push_back(static_cast<int>((i / 2) % 2));  // both arms in each fold
    c.pred.m.push_back(propensity(d, u(rng)));
    c.pred.g0.push_back(1.0);
    c.pred.g1.push_back(2.0);
  }
  return c;
}

double Overlapping(double, double u) { return 0.2 + 0.6 * u; }
// Close to the true propensity 0.5: as good as a constant within noise.
double NearTruth(double, double u) { return 0.45 + 0.1 * u; }

bool HasWarning(const Report& r, const std::string& code) {
  for (const auto& w : r.warnings) {
    if (w.rfind(code + ":", 0) == 0) return true;
  }
  return false;
}

std::string AllWarnings(const Report& r) {
  std::string s;
  for (const auto& w : r.warnings) s += w + "\n";
  return s;
}

Report EstimateCase(const Case& c, double clip = 0.01) {
  Options o;
  o.clip = clip;
  return Estimate(c.data, FitFromPredictions(c.data, o, c.pred), o);
}

TEST(NumericalFaults, WellBehavedDataHasNoWarnings) {
  const Report r = EstimateCase(MakeCase(400, 1, NearTruth));
  EXPECT_TRUE(r.warnings.empty()) << AllWarnings(r);
}

TEST(NumericalFaults, ConstantOutcomeIsADataErrorBeforeFitting) {
  Case c = MakeCase(100, 2, Overlapping);
  c.data.outcome_name = "revenue";
  c.data.y.assign(c.data.n, 3.5);
  try {
    ValidateDataset(c.data, 2);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("outcome 'revenue' is constant (3.5"), std::string::npos) << what;
  }
  // FitNuisances validates first, so no model is trained on it.
  Options o;
  EXPECT_THROW(FitNuisances(c.data, o), DataError);
}

TEST(NumericalFaults, FeatureEqualToTreatmentIsWarnedByName) {
  Case c = MakeCase(200, 3, Overlapping);
  for (std::size_t i = 0; i < c.data.n; ++i) c.data.x[i * 2 + 1] = static_cast<float>(c.data.d[i]);
  c.data.feature_names = {"x0", "followed"};
  const Report r = EstimateCase(c);
  ASSERT_TRUE(HasWarning(r, kWarnFeatureIsTreatment)) << AllWarnings(r);
  EXPECT_NE(AllWarnings(r).find("'followed'"), std::string::npos) << AllWarnings(r);
  EXPECT_EQ(AllWarnings(r).find("'x0'"), std::string::npos) << AllWarnings(r);
}

TEST(NumericalFaults, FeatureEqualToOneMinusTreatmentIsWarned) {
  Case c = MakeCase(200, 4, Overlapping);
  for (std::size_t i = 0; i < c.data.n; ++i) c.data.x[i * 2] = static_cast<float>(1.0 - c.data.d[i]);
  const Report r = EstimateCase(c);
  ASSERT_TRUE(HasWarning(r, kWarnFeatureIsTreatment)) << AllWarnings(r);
  EXPECT_NE(AllWarnings(r).find("'x0' (as 1 - D)"), std::string::npos) << AllWarnings(r);
}

TEST(NumericalFaults, FeatureEqualToTreatmentInPlrNamesItInTheError) {
  // PLR with l = E[Y|X] and m = E[D|X] both perfect: psi_a = -(D - m)^2 = 0.
  Case c = MakeCase(100, 5, Overlapping);
  for (std::size_t i = 0; i < c.data.n; ++i) {
    c.data.d[i] = 0.5 * static_cast<double>(i % 7);
    c.data.x[i * 2] = static_cast<float>(c.data.d[i]);
    c.pred.m[i] = c.data.d[i];
  }
  c.pred.g0.clear();
  c.pred.g1.clear();
  c.pred.l.assign(c.data.n, 1.0);
  Options o;
  o.model = Model::kPlr;
  o.estimands = {Estimand::kAte};
  try {
    Estimate(c.data, FitFromPredictions(c.data, o, c.pred), o);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'x0'"), std::string::npos) << e.what();
  }
}

TEST(NumericalFaults, PerfectlyPredictedTreatmentWarnsSeparationAndClippedShare) {
  // Propensities 0.001 for controls and 0.999 for treated: all clipped.
  const Case c = MakeCase(300, 6, [](double d, double) { return d == 1.0 ? 0.999 : 0.001; });
  const Report r = EstimateCase(c);
  EXPECT_TRUE(HasWarning(r, kWarnSeparation)) << AllWarnings(r);
  EXPECT_TRUE(HasWarning(r, kWarnOverlap)) << AllWarnings(r);
  EXPECT_DOUBLE_EQ(r.overlap.share_clipped, 1.0);
  for (const auto& e : r.estimates) EXPECT_TRUE(std::isfinite(e.estimate) && std::isfinite(e.se));
}

TEST(NumericalFaults, PerfectPredictionWithoutClippingIsADataErrorNamingRows) {
  const Case c = MakeCase(300, 7, [](double d, double) { return d; });  // m = D exactly
  try {
    EstimateCase(c, /*clip=*/0);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("300 out-of-fold propensities are 0 or 1"), std::string::npos) << what;
    EXPECT_NE(what.find("row 1 (repetition 0"), std::string::npos) << what;
    EXPECT_NE(what.find("--clip"), std::string::npos) << what;
  }
}

TEST(NumericalFaults, ClippedShareWarnsOnlyAboveTheDocumentedThreshold) {
  // Rows 0..k-1 get propensity 0.005 (below clip 0.01), the rest overlap.
  for (const std::size_t clipped : {std::size_t(15), std::size_t(25)}) {  // 3% and 5% of 500
    Case c = MakeCase(500, 8, Overlapping);
    for (std::size_t i = 0; i < clipped; ++i) c.pred.m[i] = 0.005;
    const Report r = EstimateCase(c);
    EXPECT_EQ(r.overlap.clipped_low, clipped);
    EXPECT_FALSE(HasWarning(r, kWarnOverlap)) << clipped << ": " << AllWarnings(r);
  }
  Case c = MakeCase(500, 8, Overlapping);
  for (std::size_t i = 0; i < 26; ++i) c.pred.m[i] = 0.995;  // 5.2% high
  const Report r = EstimateCase(c);
  ASSERT_TRUE(HasWarning(r, kWarnOverlap)) << AllWarnings(r);
  EXPECT_NE(AllWarnings(r).find("5.2% of propensities (0 low, 26 high)"), std::string::npos)
      << AllWarnings(r);
  EXPECT_FALSE(HasWarning(r, kWarnSeparation)) << AllWarnings(r);
}

TEST(NumericalFaults, NonFiniteNumbersInTheJsonAreNamedInAWarning) {
  const Case c = MakeCase(200, 9, Overlapping);
  Options o;
  const Fit fit = FitFromPredictions(c.data, o, c.pred);
  Report r = Estimate(c.data, fit, o);
  ASSERT_GE(r.estimates.size(), 2u);
  r.estimates[0].t = std::numeric_limits<double>::quiet_NaN();
  r.estimates[1].se_reps[0] = std::numeric_limits<double>::infinity();
  const nlohmann::json j = io::ReportJson(r, fit, c.data);
  EXPECT_TRUE(j["estimates"][0]["t"].is_null() || std::isnan(j["estimates"][0]["t"].get<double>()));
  const std::string text = j.dump();
  EXPECT_NE(text.find("\"t\":null"), std::string::npos);
  const auto& warnings = j["diagnostics"]["warnings"];
  ASSERT_FALSE(warnings.empty());
  const std::string last = warnings.back().get<std::string>();
  EXPECT_EQ(last.rfind(std::string(kWarnNonFinite) + ":", 0), 0u) << last;
  EXPECT_NE(last.find("estimates[0].t"), std::string::npos) << last;
  EXPECT_NE(last.find("estimates[1].se_reps[0]"), std::string::npos) << last;
}

TEST(NumericalFaults, FiniteReportHasNoNonFiniteWarning) {
  const Case c = MakeCase(200, 10, Overlapping);
  Options o;
  const Fit fit = FitFromPredictions(c.data, o, c.pred);
  const nlohmann::json j = io::ReportJson(Estimate(c.data, fit, o), fit, c.data);
  EXPECT_EQ(j.dump().find(kWarnNonFinite), std::string::npos);
}

TEST(ReportJson, NoTimingsLeavesOutEveryWallClockField) {
  const Case c = MakeCase(200, 11, Overlapping);
  Options o;
  Fit fit = FitFromPredictions(c.data, o, c.pred);
  fit.timings.total = 1.25;
  const Report r = Estimate(c.data, fit, o);
  EXPECT_TRUE(io::ReportJson(r, fit, c.data, true).contains("timings"));
  const nlohmann::json j = io::ReportJson(r, fit, c.data, false);
  EXPECT_FALSE(j.contains("timings"));
  EXPECT_EQ(j.dump().find("1.25"), std::string::npos);
}

TEST(OptionBounds, ThreadCountsBeyondTheBoundAreUsageErrors) {
  // Found in review: --threads 2000000000 allocated
  // per-thread buffers up front and overflowed int in the bootstrap split.
  Options o;
  o.threads = kMaxThreads;
  EXPECT_NO_THROW(o.Validate());
  o.threads = kMaxThreads + 1;
  EXPECT_THROW(o.Validate(), UsageError);
  o.threads = 2000000000;
  EXPECT_THROW(o.Validate(), UsageError);
}

}  // namespace
}  // namespace fastdml
