// DR-learner CATE model: recovers the seller design's effect heterogeneity,
// reproduces itself through a saved file, and does not depend on threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>

#include "cate/cate_test_data.h"
#include "cate/signal.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"

namespace fastdml {
namespace {

using cate_test::Correlation;

struct SellerFit {
  Dataset data;
  Fit fit;
};

// One fit shared by the tests below (the nuisances are the slow part).
const SellerFit& Seller() {
  static const SellerFit* s = [] {
    auto* out = new SellerFit;
    out->data = cate_test::SellerData(10000, 11);
    out->fit = FitNuisances(out->data, cate_test::FastOptions());
    return out;
  }();
  return *s;
}

TEST(DrLearner, PseudoOutcomeMeanIsTheAteEstimate) {
  // phi_i is the ATE score's psi_b, so its mean is the AIPW ATE (psi_a = -1).
  const SellerFit& s = Seller();
  CateModelOptions co;
  co.learner.rounds = 5;
  const CateModel m = FitCateModel(s.data, s.fit, co);
  Options eo = s.fit.options;
  eo.estimands = {Estimand::kAte};
  const Report r = Estimate(s.data, s.fit, eo);
  const double mean = std::accumulate(m.pseudo_outcome.begin(), m.pseudo_outcome.end(), 0.0) / s.data.n;
  EXPECT_NEAR(mean, r.estimates[0].estimate, 1e-9 * std::abs(mean));
}

TEST(DrLearner, PseudoOutcomeIsTheAteSignalOfTheFitsScore) {
  // One IRM pass (ops/irm_pass.h) behind both: the fit's clipping and Hajek
  // choice reach the pseudo-outcome exactly as they reach GATE / BLP.
  const SellerFit& s = Seller();
  Fit fit = s.fit;
  fit.options.clip = 0.07;
  fit.options.normalize_ipw = true;
  CateModelOptions co;
  co.learner.rounds = 2;
  const CateModel m = FitCateModel(s.data, fit, co);
  const cate::Signal sig = cate::MakeSignal(s.data, fit, 0, fit.options.Score(Estimand::kAte));
  ASSERT_EQ(m.pseudo_outcome.size(), sig.y.size());
  for (std::size_t i = 0; i < sig.y.size(); ++i) ASSERT_EQ(m.pseudo_outcome[i], sig.y[i]) << "row " << i;
  // ... and they differ from the default score's, so the settings were read.
  const cate::Signal plain = cate::MakeSignal(s.data, fit, 0, ScoreSpec());
  EXPECT_NE(plain.y, sig.y);
}

TEST(DrLearner, OutOfFoldPredictionsTrackTheTrueCateOnSellerDesign) {
  const SellerFit& s = Seller();
  const CateModel m = FitCateModel(s.data, s.fit, CateModelOptions{});
  const std::vector<double> tau = cate_test::SellerTrueCate(s.data);
  const double r_oof = Correlation(m.out_of_fold, tau);
  const double r_final = Correlation(m.in_sample, tau);
  // Measured at seed 11, n = 10000 (XGBoost 3.2, default CATE learner):
  // r_oof = 0.866, r_final = 0.901. The bounds leave room for other XGBoost
  // builds and fail for a proxy without signal (r near 0) or a weak one.
  std::printf("corr(out_of_fold, tau) = %.4f, corr(final, tau) = %.4f\n", r_oof, r_final);
  EXPECT_GT(r_oof, 0.75);
  EXPECT_GT(r_final, 0.8);
  // Out of fold, the model beats a constant (the training folds' mean of phi)
  // at predicting the pseudo-outcome: the paired difference of squared errors
  // has a mean below zero by more than 2 SE.
  std::vector<double> fold_sum(m.folds, 0.0), fold_n(m.folds, 0.0);
  for (std::size_t i = 0; i < s.data.n; ++i) {
    for (int k = 0; k < m.folds; ++k) {
      if (m.fold[i] != k) {
        fold_sum[k] += m.pseudo_outcome[i];
        fold_n[k] += 1;
      }
    }
  }
  const double n = static_cast<double>(s.data.n);
  double sum = 0, sum2 = 0, model_sq = 0;
  for (std::size_t i = 0; i < s.data.n; ++i) {
    const double phi = m.pseudo_outcome[i], c = fold_sum[m.fold[i]] / fold_n[m.fold[i]];
    const double e_model = (phi - m.out_of_fold[i]) * (phi - m.out_of_fold[i]);
    const double diff = e_model - (phi - c) * (phi - c);
    model_sq += e_model;
    sum += diff;
    sum2 += diff * diff;
  }
  const double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
  EXPECT_NEAR(model_sq / n, m.pseudo_outcome_mse, 1e-9 * m.pseudo_outcome_mse);
  EXPECT_NEAR(mean, m.pseudo_outcome_mse - m.constant_mse, 1e-9 * m.constant_mse);
  std::printf("pseudo-outcome mse %.4f vs constant %.4f (difference %.4f, SE %.4f)\n", m.pseudo_outcome_mse,
              m.constant_mse, mean, se);
  EXPECT_LT(mean, -2 * se);
  for (double v : m.out_of_fold) ASSERT_TRUE(std::isfinite(v));
}

TEST(DrLearner, FeatureSubsetUsesOnlyThoseColumns) {
  const SellerFit& s = Seller();
  CateModelOptions co;
  co.features = {"inventory_level", "category"};
  const CateModel m = FitCateModel(s.data, s.fit, co);
  EXPECT_EQ(m.feature_names, co.features);
  const std::vector<double> tau = cate_test::SellerTrueCate(s.data);
  EXPECT_GT(Correlation(m.out_of_fold, tau), 0.5);
  // Predicting from a two-column block in that order reproduces the final model.
  std::vector<float> x;
  const std::size_t inv = cate_test::Column(s.data, "inventory_level"), cat = cate_test::Column(s.data, "category");
  for (std::size_t i = 0; i < s.data.n; ++i) {
    x.push_back(s.data.X(i, inv));
    x.push_back(s.data.X(i, cat));
  }
  EXPECT_EQ(PredictCate(m, x.data(), s.data.n), m.in_sample);
}

TEST(DrLearner, SavedModelReproducesInSamplePredictionsBitForBit) {
  const SellerFit& s = Seller();
  const CateModel m = FitCateModel(s.data, s.fit, CateModelOptions{});
  const std::string path = std::string(FASTDML_TEST_TMPDIR) + "/dr_learner_model.ubj";
  std::system(("mkdir -p " + std::string(FASTDML_TEST_TMPDIR)).c_str());
  SaveCateModel(m, path);
  const CateModel loaded = LoadCateModel(path);
  EXPECT_EQ(loaded.feature_names, m.feature_names);
  EXPECT_EQ(loaded.learner.rounds, m.learner.rounds);
  const std::vector<double> again = PredictCate(loaded, s.data.x.data(), s.data.n);
  ASSERT_EQ(again.size(), m.in_sample.size());
  for (std::size_t i = 0; i < again.size(); ++i) ASSERT_EQ(again[i], m.in_sample[i]) << "row " << i;
}

TEST(DrLearner, IdenticalAtOneAndThreeThreads) {
  const SellerFit& s = Seller();
  CateModelOptions co;
  co.learner.subsample = 0.7;  // exercises the seeded sampler
  co.threads = 1;
  const CateModel a = FitCateModel(s.data, s.fit, co);
  co.threads = 3;
  const CateModel b = FitCateModel(s.data, s.fit, co);
  EXPECT_EQ(a.out_of_fold, b.out_of_fold);
  EXPECT_EQ(a.in_sample, b.in_sample);
  EXPECT_EQ(a.pseudo_outcome_mse, b.pseudo_outcome_mse);
}

TEST(DrLearner, BadInputsGiveClearErrors) {
  const SellerFit& s = Seller();
  auto message = [&](CateModelOptions co, const Fit& fit, const Dataset& data) -> std::string {
    try {
      FitCateModel(data, fit, co);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no error)";
  };
  CateModelOptions co;
  co.features = {"category", "no_such_column"};
  EXPECT_NE(message(co, s.fit, s.data).find("'no_such_column' is not one of the fit's features"), std::string::npos);
  co.features = {"category", "category"};
  EXPECT_NE(message(co, s.fit, s.data).find("'category' is listed twice"), std::string::npos);
  co = CateModelOptions{};
  co.repetition = 1;
  EXPECT_NE(message(co, s.fit, s.data).find("--cate-rep: repetition 1 does not exist"), std::string::npos);
  co = CateModelOptions{};
  co.learner.max_depth = 0;
  EXPECT_NE(message(co, s.fit, s.data).find("--cate-max-depth"), std::string::npos);
  Fit plr = s.fit;
  plr.options.model = Model::kPlr;
  EXPECT_NE(message(CateModelOptions{}, plr, s.data).find("--model irm"), std::string::npos);
  Dataset weighted = s.data;
  weighted.weights.assign(weighted.n, 1.0);
  EXPECT_NE(message(CateModelOptions{}, s.fit, weighted).find("--weights"), std::string::npos);
}

TEST(DrLearner, LoadRejectsAMissingOrForeignSidecar) {
  const std::string dir = std::string(FASTDML_TEST_TMPDIR);
  std::system(("mkdir -p " + dir).c_str());
  try {
    LoadCateModel(dir + "/does_not_exist.ubj");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("does_not_exist.ubj.meta.json"), std::string::npos) << e.what();
  }
  std::FILE* f = std::fopen((dir + "/foreign.ubj.meta.json").c_str(), "w");
  std::fputs("{\"format\": \"something-else\"}", f);
  std::fclose(f);
  try {
    LoadCateModel(dir + "/foreign.ubj");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("not a fastdml CATE model sidecar"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fastdml
