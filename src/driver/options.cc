#include <cmath>
#include <string>

#include "fastdml/error.h"
#include "fastdml/options.h"

namespace fastdml {

void ValidateLearner(const LearnerParams& p, const std::string& prefix, bool allow_auto) {
  auto bad = [&](const std::string& opt, const std::string& why) {
    throw UsageError("--" + prefix + opt + ": " + why);
  };
  if (p.rounds < 0 || (!allow_auto && p.rounds == kAutoRounds)) {
    bad("rounds", allow_auto ? "must be auto or at least 1" : "must be at least 1");
  }
  if (p.max_rounds < 1 || p.max_rounds > 100000) bad("max-rounds", "must be in 1..100000");
  if (p.early_stopping_rounds < 1) bad("early-stopping-rounds", "must be at least 1");
  if (p.max_depth < 1 || p.max_depth > 30) bad("max-depth", "must be in 1..30");
  if (!(p.eta > 0 && p.eta <= 1)) bad("eta", "must be in (0, 1]");
  if (!(p.subsample > 0 && p.subsample <= 1)) bad("subsample", "must be in (0, 1]");
  if (!(p.colsample_bytree > 0 && p.colsample_bytree <= 1)) bad("colsample", "must be in (0, 1]");
  if (!(p.min_child_weight >= 0) || !std::isfinite(p.min_child_weight)) bad("min-child-weight", "must be >= 0");
  if (!(p.lambda >= 0) || !std::isfinite(p.lambda)) bad("lambda", "must be >= 0");
  if (p.max_bin < 2 || p.max_bin > 65536) bad("max-bin", "must be in 2..65536");
  if (p.nthread < 1 || p.nthread > 1024) bad("nthread", "must be in 1..1024");
  if (p.seed < -1) bad("seed", "must be >= 0");
}

void Options::Validate() const {
  if (folds < 2) throw UsageError("--folds: cross-fitting needs at least 2 folds (got " + std::to_string(folds) + ")");
  if (reps < 1) throw UsageError("--reps: must be at least 1 (got " + std::to_string(reps) + ")");
  if (!(clip >= 0 && clip < 0.5)) throw UsageError("--clip: must be in [0, 0.5)");
  if (!(level > 0 && level < 1)) throw UsageError("--level: must be in (0, 1)");
  // Bounded: per-thread buffers are allocated up front, and 4 * threads must
  // not overflow int in the bootstrap's work split.
  if (threads < 0 || threads > kMaxThreads) {
    throw UsageError("--threads: must be in 0.." + std::to_string(kMaxThreads) + " (0 = all cores; got " +
                     std::to_string(threads) + ")");
  }
  if (estimands.empty()) throw UsageError("--estimand: give at least one of ate, att, atc, ato");
  if (model == Model::kPlr) {
    for (Estimand e : estimands) {
      if (e == Estimand::kAtt) throw UsageError("--estimand att: the PLR model estimates one constant effect; use --model irm for the ATT");
      if (e == Estimand::kAtc) throw UsageError("--estimand atc: the PLR model estimates one constant effect; use --model irm for the ATC");
      if (e == Estimand::kAto) throw UsageError("--estimand ato: the overlap-weighted ATE needs --model irm (its outcome models g0, g1); PLR's theta is already weighted by Var(D|X)");
    }
  }
  ValidateLearner(propensity, "propensity-", true);
  ValidateLearner(outcome, "outcome-", true);
  if (!(validation_fraction > 0 && validation_fraction < 1)) {
    throw UsageError("--validation-fraction: must be in (0, 1)");
  }
  if (tune.enabled && tune.params.empty()) {
    throw UsageError("--tune: name at least one of depth, eta, min-child-weight");
  }
}

const char* ToString(Model m) { return m == Model::kIrm ? "irm" : "plr"; }
const char* ToString(Estimand e) {
  switch (e) {
    case Estimand::kAte: return "ate";
    case Estimand::kAtt: return "att";
    case Estimand::kAtc: return "atc";
    case Estimand::kAto: return "ato";
  }
  return "?";
}
bool ParseEstimand(const std::string& name, Estimand* e) {
  if (name == "ate") {
    *e = Estimand::kAte;
  } else if (name == "att" || name == "atte") {
    *e = Estimand::kAtt;
  } else if (name == "atc") {
    *e = Estimand::kAtc;
  } else if (name == "ato") {
    *e = Estimand::kAto;
  } else {
    return false;
  }
  return true;
}

const char* ToString(OutcomeDesign o) { return o == OutcomeDesign::kSeparate ? "separate" : "pooled"; }
const char* ToString(MatrixStrategy s) {
  switch (s) {
    case MatrixStrategy::kSharedCuts: return "shared-cuts";
    case MatrixStrategy::kPerFold: return "per-fold";
    case MatrixStrategy::kZeroWeight: return "zero-weight";
  }
  return "?";
}

const char* ToString(EarlyStopModel m) { return m == EarlyStopModel::kKeep ? "keep" : "refit"; }
const char* ToString(TuneParam t) {
  switch (t) {
    case TuneParam::kMaxDepth: return "depth";
    case TuneParam::kEta: return "eta";
    case TuneParam::kMinChildWeight: return "min-child-weight";
  }
  return "?";
}

}  // namespace fastdml
