#include "io/dataset_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/error.h"
#include "io/csv.h"
#include "io/test_csv_file.h"

namespace fastdml::io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using test::WriteTemp;

CsvTable Table(const std::string& content) { return ReadCsv(WriteTemp(content)); }

// The DataError message thrown by `call`, or "" (with a test failure).
// The message of the DataError or UsageError `call` throws (a column given
// two roles is a usage error, a bad cell a data error: RoleConflictsAreUsageErrors).
std::string ErrorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const DataError& e) {
    return e.what();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError or UsageError thrown";
  return "";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

ColumnSpec Spec(std::vector<std::string> features = {}) {
  ColumnSpec spec;
  spec.outcome = "y";
  spec.treatment = "d";
  spec.features = std::move(features);
  return spec;
}

const char* const kGood =
    "y,d,x1,x2\n"
    "1.5,0,10,-1\n"
    "2.5,1,20,-2\n"
    "3.5,0,30,-3\n"
    "4.5,1,40,-4\n";

// --- BuildDataset -----------------------------------------------------------

TEST(DatasetBuilder, CopiesOutcomeTreatmentAndRowMajorFeatures) {
  const Dataset data = BuildDataset(Table(kGood), Spec());
  EXPECT_EQ(data.n, 4u);
  EXPECT_EQ(data.p, 2u);
  EXPECT_EQ(data.y, (std::vector<double>{1.5, 2.5, 3.5, 4.5}));
  EXPECT_EQ(data.d, (std::vector<double>{0, 1, 0, 1}));
  EXPECT_EQ(data.x, (std::vector<float>{10, -1, 20, -2, 30, -3, 40, -4}));
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(data.outcome_name, "y");
  EXPECT_EQ(data.treatment_name, "d");
  EXPECT_TRUE(data.weights.empty());
  EXPECT_TRUE(data.fold.empty());
  EXPECT_EQ(data.X(2, 1), -3.0f);
}

TEST(DatasetBuilder, ExplicitFeaturesKeepTheGivenOrderAndSubset) {
  const Dataset data = BuildDataset(Table(kGood), Spec({"x2"}));
  EXPECT_EQ(data.p, 1u);
  EXPECT_EQ(data.x, (std::vector<float>{-1, -2, -3, -4}));
  const Dataset both = BuildDataset(Table(kGood), Spec({"x2", "x1"}));
  EXPECT_EQ(both.feature_names, (std::vector<std::string>{"x2", "x1"}));
  EXPECT_EQ(both.X(0, 0), -1.0f);
  EXPECT_EQ(both.X(0, 1), 10.0f);
}

TEST(DatasetBuilder, DefaultFeaturesSkipRoleAndNonNumericColumns) {
  const auto table = Table(
      "id_text,x1,y,w,d,k,x2\n"
      "a,1,1.0,1,0,1,5\n"
      "b,2,2.0,2,1,2,6\n"
      "c,3,3.0,1,0,1,7\n"
      "e,4,4.0,2,1,2,8\n");
  ColumnSpec spec = Spec();
  spec.weights = "w";
  spec.fold = "k";
  std::vector<std::string> skipped;
  const Dataset data = BuildDataset(table, spec, &skipped);
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(skipped, (std::vector<std::string>{"id_text"}));
  EXPECT_EQ(data.weights, (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(data.fold, (std::vector<int>{0, 1, 0, 1}));
}

TEST(DatasetBuilder, MissingValuesInFeaturesStayNaN) {
  const Dataset data = BuildDataset(Table("y,d,x\n1,0,NA\n2,1,\n3,0,nan\n4,1,2.5\n"), Spec());
  ASSERT_EQ(data.x.size(), 4u);
  EXPECT_TRUE(std::isnan(data.x[0]));
  EXPECT_TRUE(std::isnan(data.x[1]));
  EXPECT_TRUE(std::isnan(data.x[2]));
  EXPECT_EQ(data.x[3], 2.5f);
}

TEST(DatasetBuilder, MissingOutcomeColumnListsAvailableColumns) {
  ColumnSpec spec = Spec();
  spec.outcome = "revenue";
  const std::string err = ErrorOf([&] { BuildDataset(Table(kGood), spec); });
  EXPECT_CONTAINS(err, "outcome column 'revenue' not found");
  EXPECT_CONTAINS(err, "available columns: y, d, x1, x2");
}

TEST(DatasetBuilder, MissingFeatureWeightsOrFoldColumnIsNamed) {
  const auto table = Table(kGood);
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, Spec({"x1", "x9"})); }),
                  "feature column 'x9' not found");
  ColumnSpec weights = Spec();
  weights.weights = "wt";
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, weights); }), "weights column 'wt' not found");
  ColumnSpec fold = Spec();
  fold.fold = "fold";
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, fold); }), "fold column 'fold' not found");
}

TEST(DatasetBuilder, NonNumericTreatmentQuotesCellRowAndColumn) {
  const std::string err = ErrorOf(
      [&] { BuildDataset(Table("y,d,x\n1,0,1\n2,yes,2\n3,1,3\n"), Spec()); });
  EXPECT_CONTAINS(err, "treatment column 'd'");
  EXPECT_CONTAINS(err, "column 2");
  EXPECT_CONTAINS(err, "data row 2");
  EXPECT_CONTAINS(err, "'yes'");
}

TEST(DatasetBuilder, NonNumericOutcomeQuotesCellRowAndColumn) {
  const std::string err = ErrorOf(
      [&] { BuildDataset(Table("y,d,x\n1,0,1\n2,1,2\n$3,1,3\n"), Spec()); });
  EXPECT_CONTAINS(err, "outcome column 'y'");
  EXPECT_CONTAINS(err, "data row 3");
  EXPECT_CONTAINS(err, "'$3'");
}

TEST(DatasetBuilder, NonNumericFeatureNamedExplicitlyIsAnError) {
  const auto table = Table("y,d,city\n1,0,Paris\n2,1,Rome\n");
  const std::string err = ErrorOf([&] { BuildDataset(table, Spec({"city"})); });
  EXPECT_CONTAINS(err, "feature column 'city'");
  EXPECT_CONTAINS(err, "data row 1");
  EXPECT_CONTAINS(err, "'Paris'");
}

TEST(DatasetBuilder, LongBadCellIsCutInTheMessage) {
  const std::string text(500, 'z');
  const std::string err =
      ErrorOf([&] { BuildDataset(Table("y,d,x\n1,0,1\n\"" + text + "\",1,2\n"), Spec()); });
  EXPECT_CONTAINS(err, "data row 2 has 'zzzz");
  EXPECT_CONTAINS(err, "...' (500 bytes)");
  EXPECT_LT(err.size(), 200u);
}

TEST(DatasetBuilder, NoNumericFeatureLeftIsAnError) {
  const auto table = Table("y,d,city\n1,0,Paris\n2,1,Rome\n");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, Spec()); }), "no numeric feature columns");
}

TEST(DatasetBuilder, FeatureListedTwiceIsAnError) {
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table(kGood), Spec({"x1", "x2", "x1"})); }),
                  "feature 'x1' is listed twice");
}

TEST(DatasetBuilder, OutcomeOrTreatmentAmongFeaturesIsAnError) {
  const auto table = Table(kGood);
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, Spec({"x1", "y"})); }),
                  "feature 'y' is also the outcome column");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(table, Spec({"d"})); }),
                  "feature 'd' is also the treatment column");
}

TEST(DatasetBuilder, RoleConflictsAreUsageErrors) {
  ColumnSpec both = Spec();
  both.treatment = "y";
  EXPECT_THROW(BuildDataset(Table(kGood), both), UsageError);
  EXPECT_THROW(BuildDataset(Table(kGood), Spec({"d"})), UsageError);
  EXPECT_THROW(BuildDataset(Table(kGood), Spec({"x1", "x1"})), UsageError);
}

TEST(DatasetBuilder, OneColumnInTwoRolesIsAnError) {
  ColumnSpec spec = Spec();
  spec.treatment = "y";
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table(kGood), spec); }),
                  "column 'y' is given as both the outcome and the treatment column");
  ColumnSpec weights = Spec();
  weights.weights = "d";
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table(kGood), weights); }),
                  "both the treatment and the weights");
}

TEST(DatasetBuilder, EmptyOutcomeNameIsAUsageError) {
  ColumnSpec spec = Spec();
  spec.outcome.clear();
  EXPECT_THROW(BuildDataset(Table(kGood), spec), UsageError);
}

TEST(DatasetBuilder, OneBasedFoldIdsAreStoredZeroBased) {
  ColumnSpec spec = Spec({"x"});
  spec.fold = "k";
  const Dataset data = BuildDataset(Table("y,d,x,k\n1,0,1,1\n2,1,2,3\n3,0,3,2\n4,1,4,1\n"), spec);
  EXPECT_EQ(data.fold, (std::vector<int>{0, 2, 1, 0}));
}

TEST(DatasetBuilder, ZeroBasedFoldIdsAreKept) {
  ColumnSpec spec = Spec({"x"});
  spec.fold = "k";
  const Dataset data = BuildDataset(Table("y,d,x,k\n1,0,1,0\n2,1,2,1\n3,0,3,1\n4,1,4,0\n"), spec);
  EXPECT_EQ(data.fold, (std::vector<int>{0, 1, 1, 0}));
}

TEST(DatasetBuilder, NonIntegerFoldIdNamesTheRow) {
  ColumnSpec spec = Spec({"x"});
  spec.fold = "k";
  const std::string err = ErrorOf(
      [&] { BuildDataset(Table("y,d,x,k\n1,0,1,0\n2,1,2,1.5\n3,0,3,1\n"), spec); });
  EXPECT_CONTAINS(err, "fold column 'k'");
  EXPECT_CONTAINS(err, "data row 2 has 1.5");
}

TEST(DatasetBuilder, MissingOrNegativeFoldIdNamesTheRow) {
  ColumnSpec spec = Spec({"x"});
  spec.fold = "k";
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,0\n2,1,2,\n3,0,3,1\n"), spec); }),
      "missing fold id at data row 2");
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,0\n2,1,2,1\n3,0,3,-1\n"), spec); }),
      "data row 3 has -1");
}

TEST(DatasetBuilder, FoldIdsMustStartAtZeroOrOneAndBeConsecutive) {
  ColumnSpec spec = Spec({"x"});
  spec.fold = "k";
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,2\n2,1,2,3\n3,0,3,2\n"), spec); }),
      "smallest fold id is 2");
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,1\n2,1,2,3\n3,0,3,1\n"), spec); }),
      "fold id 2 has no rows");
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,1\n2,1,2,1\n3,0,3,1\n"), spec); }),
      "at least 2 folds");
  EXPECT_CONTAINS(
      ErrorOf([&] { BuildDataset(Table("y,d,x,k\n1,0,1,0\n2,1,2,99999\n3,0,3,1\n"), spec); }),
      "fold ids must be consecutive");
}

TEST(DatasetBuilder, FeatureBeyondFloatRangeNamesRowAndFeature) {
  const std::string err =
      ErrorOf([&] { BuildDataset(Table("y,d,x\n1,0,1\n2,1,1e39\n"), Spec()); });
  EXPECT_CONTAINS(err, "feature 'x'");
  EXPECT_CONTAINS(err, "data row 2");
  EXPECT_CONTAINS(err, "float32");
}

TEST(DatasetBuilder, RunsValidationOnTheResult) {
  const std::string err =
      ErrorOf([&] { BuildDataset(Table("y,d,x\n1,0,1\nNA,1,2\n3,0,3\n"), Spec()); });
  EXPECT_CONTAINS(err, "missing outcome 'y' at row 2");
  EXPECT_CONTAINS(err, "drop or impute");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table("y,d,x\n1,1,1\n2,1,2\n"), Spec()); }),
                  "every row is treated");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table("y,d,x\n1,0,1\n2,2,2\n"), Spec()); }),
                  "row 2 (1-based) has 2");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table("y,d,x\n1,0,inf\n2,1,2\n"), Spec()); }),
                  "feature 'x' is inf at row 1");
}

// --- cluster column -----------------------------------------------------------

ColumnSpec ClusterSpec(const std::string& cluster = "g") {
  ColumnSpec spec = Spec();
  spec.cluster = cluster;
  return spec;
}

TEST(DatasetBuilder, ClusterIdsMapToDenseIndicesInIncreasingIdOrder) {
  const auto table = Table(
      "y,d,g,x\n"
      "1,0,907,1\n"
      "2,1,-3,2\n"
      "3,0,42,3\n"
      "4,1,907,4\n"
      "5,0,-3,5\n"
      "6,1,1e6,6\n");
  const Dataset data = BuildDataset(table, ClusterSpec());
  EXPECT_EQ(data.n_clusters, 4);
  EXPECT_EQ(data.cluster, (std::vector<std::int32_t>{2, 0, 1, 2, 0, 3}));
  EXPECT_EQ(data.cluster_name, "g");
  // excluded from the default features, like weights and fold
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x"}));
  // Without a cluster column nothing is set.
  const Dataset plain = BuildDataset(table, Spec());
  EXPECT_TRUE(plain.cluster.empty());
  EXPECT_EQ(plain.n_clusters, 0);
  EXPECT_EQ(plain.feature_names, (std::vector<std::string>{"g", "x"}));
}

TEST(DatasetBuilder, ClusterIndicesDoNotDependOnRowOrder) {
  const Dataset a = BuildDataset(Table("y,d,g,x\n1,0,5,1\n2,1,9,2\n3,0,7,3\n"), ClusterSpec());
  const Dataset b = BuildDataset(Table("y,d,g,x\n3,0,7,3\n1,0,5,1\n2,1,9,2\n"), ClusterSpec());
  EXPECT_EQ(a.cluster, (std::vector<std::int32_t>{0, 2, 1}));
  EXPECT_EQ(b.cluster, (std::vector<std::int32_t>{1, 0, 2}));
}

TEST(DatasetBuilder, BadClusterIdNamesRowAndColumn) {
  std::string err = ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,1,1\n2,1,2.5,2\n"), ClusterSpec()); });
  EXPECT_CONTAINS(err, "cluster column 'g'");
  EXPECT_CONTAINS(err, "data row 2 has 2.5");
  err = ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,1,1\n2,1,NA,2\n"), ClusterSpec()); });
  EXPECT_CONTAINS(err, "cluster column 'g'");
  EXPECT_CONTAINS(err, "missing cluster id at data row 2");
  err = ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,inf,1\n2,1,1,2\n"), ClusterSpec()); });
  EXPECT_CONTAINS(err, "data row 1 has inf");
  err = ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,1e300,1\n2,1,1,2\n"), ClusterSpec()); });
  EXPECT_CONTAINS(err, "beyond 2^53");
  err = ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,a1,1\n2,1,b2,2\n"), ClusterSpec()); });
  EXPECT_CONTAINS(err, "cluster column 'g'");
  EXPECT_CONTAINS(err, "is not numeric");
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table(kGood), ClusterSpec("site")); }),
                  "cluster column 'site' not found");
}

TEST(DatasetBuilder, SingleClusterIsAnError) {
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table("y,d,g,x\n1,0,4,1\n2,1,4,2\n3,0,4,3\n"), ClusterSpec()); }),
                  "at least 2 clusters");
}

TEST(DatasetBuilder, ClusterColumnInAnotherRoleOrAsFeatureIsAnError) {
  ColumnSpec spec = ClusterSpec("x1");
  spec.features = {"x1", "x2"};
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table(kGood), spec); }), "feature 'x1' is also the cluster column");
  ColumnSpec both = ClusterSpec("k");
  both.fold = "k";
  EXPECT_CONTAINS(ErrorOf([&] { BuildDataset(Table("y,d,k,x\n1,0,1,1\n2,1,2,2\n"), both); }),
                  "both the fold and the cluster column");
}

TEST(DatasetBuilder, FoldColumnMustKeepClustersWhole) {
  ColumnSpec spec = ClusterSpec();
  spec.fold = "k";
  const Dataset ok = BuildDataset(Table("y,d,g,k,x\n1,0,5,1,1\n2,1,5,1,2\n3,0,6,2,3\n4,1,6,2,4\n"), spec);
  EXPECT_EQ(ok.fold, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(ok.cluster, (std::vector<std::int32_t>{0, 0, 1, 1}));
  const std::string err = ErrorOf([&] {
    BuildDataset(Table("y,d,g,k,x\n1,0,5,1,1\n2,1,5,2,2\n3,0,6,2,3\n4,1,6,1,4\n"), spec);
  });
  EXPECT_CONTAINS(err, "fold column 'k' splits a cluster of 'g'");
  EXPECT_CONTAINS(err, "data row 1 and data row 2");
}

// --- ValidateDataset --------------------------------------------------------

Dataset GoodData() {
  Dataset data;
  data.n = 4;
  data.p = 2;
  data.x = {1, 2, 3, 4, 5, 6, 7, 8};
  data.y = {1.0, 2.0, 3.0, 4.0};
  data.d = {0, 1, 0, 1};
  data.feature_names = {"age", "price"};
  data.outcome_name = "revenue";
  data.treatment_name = "followed";
  return data;
}

TEST(ValidateDataset, AcceptsConsistentData) {
  EXPECT_NO_THROW(ValidateDataset(GoodData(), 2));
  Dataset data = GoodData();
  data.weights = {1, 0.5, 2, 3};
  data.fold = {0, 1, 1, 0};
  EXPECT_NO_THROW(ValidateDataset(data, 4));
}

TEST(ValidateDataset, MissingValuesInFeaturesAreAllowed) {
  Dataset data = GoodData();
  data.x[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NO_THROW(ValidateDataset(data, 2));
}

TEST(ValidateDataset, RejectsSizesThatDisagree) {
  Dataset y = GoodData();
  y.y.pop_back();
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(y, 2); }), "outcome has 3 values, expected 4");
  Dataset x = GoodData();
  x.x.push_back(1);
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(x, 2); }), "X has 9 values, expected 8");
  Dataset w = GoodData();
  w.weights = {1, 1};
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(w, 2); }), "weights has 2 values, expected 4");
  Dataset names = GoodData();
  names.feature_names.pop_back();
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(names, 2); }), "feature names has 1 values");
}

TEST(ValidateDataset, RejectsFewerRowsThanRequired) {
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(GoodData(), 5); }),
                  "dataset has 4 rows, need at least 5");
  Dataset empty;
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(empty, 0); }), "dataset has 0 rows");
}

TEST(ValidateDataset, MissingOutcomeNamesRowAndColumnAndSaysDropOrImpute) {
  Dataset data = GoodData();
  data.y[2] = kNaN;
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "missing outcome 'revenue' at row 3");
  EXPECT_CONTAINS(err, "drop or impute the row before estimating");
}

TEST(ValidateDataset, InfiniteOutcomeNamesRowAndColumn) {
  Dataset data = GoodData();
  data.y[1] = -kInf;
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "outcome 'revenue' is -inf at row 2");
}

TEST(ValidateDataset, MissingOrInfiniteTreatmentNamesRowAndColumn) {
  Dataset nan = GoodData();
  nan.d[3] = kNaN;
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(nan, 2); }),
                  "missing treatment 'followed' at row 4");
  Dataset inf = GoodData();
  inf.d[0] = kInf;
  const std::string err = ErrorOf([&] { ValidateDataset(inf, 2); });
  EXPECT_CONTAINS(err, "treatment 'followed' must be 0 or 1");
  EXPECT_CONTAINS(err, "row 1 (1-based) has inf");
}

TEST(ValidateDataset, TreatmentOutsideZeroOneNamesRowAndValue) {
  Dataset data = GoodData();
  data.d[1] = 0.5;
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "treatment 'followed' must be 0 or 1");
  EXPECT_CONTAINS(err, "row 2 (1-based) has 0.5");
  Dataset two = GoodData();
  two.d[2] = 2;
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(two, 2); }), "row 3 (1-based) has 2");
}

TEST(ValidateDataset, AllTreatedIsAnErrorWithCounts) {
  Dataset data = GoodData();
  data.d = {1, 1, 1, 1};
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "every row is treated");
  EXPECT_CONTAINS(err, "4 treated (1) and 0 control (0) rows");
}

TEST(ValidateDataset, NoneTreatedIsAnErrorWithCounts) {
  Dataset data = GoodData();
  data.d = {0, 0, 0, 0};
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "no row is treated");
  EXPECT_CONTAINS(err, "0 treated (1) and 4 control (0) rows");
}

TEST(ValidateDataset, NonPositiveOrNonFiniteWeightNamesTheRow) {
  for (double bad : {0.0, -1.0, kNaN, kInf}) {
    Dataset data = GoodData();
    data.weights = {1, 1, bad, 1};
    const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
    EXPECT_CONTAINS(err, "weight at row 3");
    EXPECT_CONTAINS(err, "finite and > 0");
  }
}

TEST(ValidateDataset, InfiniteFeatureNamesRowAndFeature) {
  Dataset data = GoodData();
  data.x[5] = -std::numeric_limits<float>::infinity();  // row 3, "price"
  const std::string err = ErrorOf([&] { ValidateDataset(data, 2); });
  EXPECT_CONTAINS(err, "feature 'price' is -inf at row 3");
  Dataset unnamed = GoodData();
  unnamed.feature_names.clear();
  unnamed.x[0] = std::numeric_limits<float>::infinity();
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(unnamed, 2); }), "feature 1 is inf at row 1");
}

TEST(ValidateDataset, FoldIdsMustBeNonNegativeAndConsecutive) {
  Dataset negative = GoodData();
  negative.fold = {0, -1, 1, 0};
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(negative, 2); }), "fold id -1 at row 2");
  Dataset gap = GoodData();
  gap.fold = {0, 2, 2, 0};
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(gap, 2); }), "fold 1 has no rows");
  Dataset single = GoodData();
  single.fold = {0, 0, 0, 0};
  EXPECT_CONTAINS(ErrorOf([&] { ValidateDataset(single, 2); }), "at least 2 folds");
}

}  // namespace
}  // namespace fastdml::io
