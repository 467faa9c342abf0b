// The estimate command's option table (src/cli/args.cc): flags land in
// Options, and every bad value is a UsageError naming its flag before any
// data is read.
#include "cli/args.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "fastdml/error.h"

namespace fastdml::cli {
namespace {

struct Parsed {
  CLI::App app{"fastdml"};
  EstimateArgs estimate;
  SimulateArgs simulate;
};

// Parses `fastdml estimate --data x.csv --outcome y --treatment d EXTRA...`
// and resolves the options; the UsageError (if any) propagates.
void Parse(Parsed* p, std::vector<std::string> extra) {
  AddCommands(&p->app, &p->estimate, &p->simulate);
  std::vector<std::string> argv = {"estimate", "--data", "x.csv", "--outcome", "y", "--treatment", "d"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them last-first
  p->app.parse(reversed);
  ResolveEstimateOptions(p->estimate);
}

std::string UsageMessage(std::vector<std::string> extra) {
  Parsed p;
  try {
    Parse(&p, std::move(extra));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CliArgs, DefaultsFollowTheModel) {
  Parsed irm;
  Parse(&irm, {});
  EXPECT_EQ(irm.estimate.opt.model, Model::kIrm);
  EXPECT_EQ(irm.estimate.opt.estimands, (std::vector<Estimand>{Estimand::kAte, Estimand::kAtt}));
  Parsed plr;
  Parse(&plr, {"--model", "plr"});
  EXPECT_EQ(plr.estimate.opt.estimands, std::vector<Estimand>{Estimand::kAte});
}

TEST(CliArgs, LearnerFlagsApplyToEveryNuisanceThenPerNuisance) {
  Parsed p;
  Parse(&p, {"--rounds", "50", "--propensity-rounds", "20", "--outcome-max-depth", "3"});
  EXPECT_EQ(p.estimate.opt.propensity.rounds, 20);
  EXPECT_EQ(p.estimate.opt.outcome.rounds, 50);
  EXPECT_EQ(p.estimate.opt.outcome.max_depth, 3);
  EXPECT_EQ(p.estimate.opt.propensity.max_depth, LearnerParams().max_depth);
}

TEST(CliArgs, AttIsAlsoSpelledAtte) {
  Parsed p;
  Parse(&p, {"--estimand", "atte"});
  EXPECT_EQ(p.estimate.opt.estimands, std::vector<Estimand>{Estimand::kAtt});
}

TEST(CliArgs, EstimandsAteAttAtcInAnyCombination) {
  const std::vector<std::pair<std::string, std::vector<Estimand>>> cases = {
      {"atc", {Estimand::kAtc}},
      {"atc,ate", {Estimand::kAtc, Estimand::kAte}},
      {"ate,att,atc", {Estimand::kAte, Estimand::kAtt, Estimand::kAtc}},
      {"att,atc", {Estimand::kAtt, Estimand::kAtc}},
      {"ato", {Estimand::kAto}},
      {"ate,ato,atc", {Estimand::kAte, Estimand::kAto, Estimand::kAtc}},
  };
  for (const auto& [flag, want] : cases) {
    Parsed p;
    Parse(&p, {"--estimand", flag});
    EXPECT_EQ(p.estimate.opt.estimands, want) << flag;
  }
}

TEST(CliArgs, AtcNeedsTheIrmModel) {
  const std::string plr = UsageMessage({"--model", "plr", "--estimand", "ate,atc"});
  EXPECT_NE(plr.find("--estimand atc"), std::string::npos) << plr;
  EXPECT_NE(plr.find("--model irm"), std::string::npos) << plr;
  const std::string unknown = UsageMessage({"--estimand", "ate,atu"});
  EXPECT_NE(unknown.find("unknown estimand 'atu'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("atc"), std::string::npos) << unknown;  // the list of valid names
}

TEST(CliArgs, BadValuesNameTheirFlag) {
  EXPECT_NE(UsageMessage({"--estimand", "late"}).find("--estimand"), std::string::npos);
  EXPECT_NE(UsageMessage({"--joint"}).find("--joint needs the bootstrap"), std::string::npos);
  EXPECT_NE(UsageMessage({"--bootstrap", "-1"}).find("--bootstrap"), std::string::npos);
  EXPECT_NE(UsageMessage({"--p-adjust", "sidak"}).find("--p-adjust"), std::string::npos);
  EXPECT_NE(UsageMessage({"--p-adjust", "romano-wolf"}).find("needs the bootstrap"), std::string::npos);
  EXPECT_EQ(UsageMessage({"--p-adjust", "holm,bonferroni"}), "");
}

TEST(CliArgs, SplitListDropsEmptyItems) {
  EXPECT_EQ(SplitList("a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace fastdml::cli
