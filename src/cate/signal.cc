#include "cate/signal.h"

#include "cpu/scores.h"
#include "fastdml/error.h"

namespace fastdml::cate {

Signal MakeSignal(const Dataset& data, const Fit& fit, int rep, const ScoreSpec& score) {
  const Predictions& pred = fit.predictions;
  const std::size_t n = pred.n;
  if (n != data.n) throw Error("internal: predictions and data differ in rows");
  const std::size_t off = static_cast<std::size_t>(rep) * n;
  Signal s;
  if (fit.options.model == Model::kIrm) {
    const std::vector<double> uw = MeanOneWeights(data.weights);  // as Estimate() weights the scores
    ScoreSpec irm = score;
    irm.model = Model::kIrm;
    const IrmScoreArgs args = IrmArgsOf(data, pred, rep, uw, irm);
    s.y.resize(n);
    s.a.resize(n);
    cpu::IrmScores(args, s.a.data(), s.y.data());
    for (double& v : s.a) v = -v;
    return s;
  }
  if (score.estimand == Estimand::kAtt) throw UsageError("--cate-signal att: the group-wise ATT needs --model irm (PLR has one effect per row)");
  if (score.estimand == Estimand::kAtc) throw UsageError("--cate-signal atc: the group-wise ATC needs --model irm (PLR has one effect per row)");
  if (score.estimand == Estimand::kAto) throw UsageError("--cate-signal ato: the group-wise overlap-weighted ATE needs --model irm");
  if (!data.weights.empty()) throw UsageError("--weights: sample weights apply to the IRM model only (as in DoubleML)");
  s.y.resize(n);
  s.scale.resize(n);
  s.a.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.y[i] = data.y[i] - pred.l[off + i];
    s.scale[i] = data.d[i] - pred.m[off + i];
    s.a[i] = s.scale[i] * s.scale[i];
  }
  return s;
}

}  // namespace fastdml::cate
