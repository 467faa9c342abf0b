#include "cate/signal.h"

#include "cpu/scores.h"
#include "fastdml/error.h"

namespace fastdml::cate {

Signal MakeSignal(const Dataset& data, const Fit& fit, int rep, bool att, double clip, bool normalize_ipw) {
  const Predictions& pred = fit.predictions;
  const std::size_t n = pred.n;
  if (n != data.n) throw Error("internal: predictions and data differ in rows");
  const std::size_t off = static_cast<std::size_t>(rep) * n;
  Signal s;
  if (fit.options.model == Model::kIrm) {
    // Sample weights rescaled to mean 1, as Estimate() does.
    std::vector<double> uw;
    if (!data.weights.empty()) {
      double sum = 0;
      for (double w : data.weights) sum += w;
      uw.resize(n);
      for (std::size_t i = 0; i < n; ++i) uw[i] = data.weights[i] * n / sum;
    }
    IrmScoreArgs args;
    args.n = n;
    args.y = data.y.data();
    args.d = data.d.data();
    args.m = pred.m.data() + off;
    args.g0 = pred.g0.data() + off;
    args.g1 = pred.g1.data() + off;
    args.uw = uw.empty() ? nullptr : uw.data();
    args.clip = clip;
    args.normalize_ipw = normalize_ipw;
    args.att = att;
    s.y.resize(n);
    s.a.resize(n);
    cpu::IrmScores(args, s.a.data(), s.y.data());
    for (double& v : s.a) v = -v;
    return s;
  }
  if (att) throw UsageError("--cate-signal att: the group-wise ATT needs --model irm (PLR has one effect per row)");
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
