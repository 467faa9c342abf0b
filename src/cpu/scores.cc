#include "cpu/scores.h"

#include <memory>
#include <vector>

#include "ops/scores.h"

namespace fastdml {

std::vector<double> MeanOneWeights(const std::vector<double>& weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  const std::size_t n = weights.size();
  std::vector<double> uw(n);
  for (std::size_t i = 0; i < n; ++i) uw[i] = weights[i] * n / sum;
  return uw;
}

IrmScoreArgs IrmArgsOf(const Dataset& data, const Predictions& pred, int rep, const std::vector<double>& uw,
                       double clip, bool normalize_ipw, bool att) {
  const std::size_t off = static_cast<std::size_t>(rep) * pred.n;
  IrmScoreArgs a;
  a.n = pred.n;
  a.y = data.y.data();
  a.d = data.d.data();
  a.m = pred.m.data() + off;
  a.g0 = pred.g0.data() + off;
  a.g1 = pred.g1.data() + off;
  a.uw = uw.empty() ? nullptr : uw.data();
  a.clip = clip;
  a.normalize_ipw = normalize_ipw;
  a.att = att;
  return a;
}

PlrScoreArgs PlrArgsOf(const Dataset& data, const Predictions& pred, int rep) {
  const std::size_t off = static_cast<std::size_t>(rep) * pred.n;
  PlrScoreArgs a;
  a.n = pred.n;
  a.y = data.y.data();
  a.d = data.d.data();
  a.m = pred.m.data() + off;
  a.l = pred.l.data() + off;
  return a;
}

}  // namespace fastdml

namespace fastdml::cpu {

void IrmScores(const IrmScoreArgs& a, double* psi_a, double* psi_b) {
  const std::size_t n = a.n;
  // Clipped propensity, then (optionally) Hajek-normalised: two passes because
  // the normalisation needs means over all rows (DoubleML _normalize_ipw).
  // Written before it is read: no zero fill (a pass over 8n bytes per call).
  const std::unique_ptr<double[]> m(new double[n]);
  for (std::size_t i = 0; i < n; ++i) m[i] = ops::ClipPropensity(a.m[i], a.clip);
  if (a.normalize_ipw) {
    double s1 = 0, s0 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      s1 += a.d[i] / m[i];
      s0 += (1.0 - a.d[i]) / (1.0 - m[i]);
    }
    const double mean1 = s1 / n, mean0 = s0 / n;
    for (std::size_t i = 0; i < n; ++i) m[i] = ops::NormalizedPropensity(m[i], a.d[i], mean1, mean0);
  }
  double p = 1.0;
  if (a.att) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += (a.uw ? a.uw[i] : 1.0) * a.d[i];
    p = s / n;
  }
  double sum_w = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double w, wbar;
    ops::IrmWeights(a.att, a.d[i], m[i], a.uw ? a.uw[i] : 1.0, p, &w, &wbar);
    const ops::ScorePair s = ops::IrmScore(a.y[i], a.d[i], m[i], a.g0[i], a.g1[i], w, wbar);
    psi_a[i] = s.a;  // -w, rescaled below
    psi_b[i] = s.b;
    sum_w += w;
  }
  // DoubleML: psi_a = -w / mean(w).
  const double mean_w = sum_w / n;
  for (std::size_t i = 0; i < n; ++i) psi_a[i] /= mean_w;
}

void PlrScores(const PlrScoreArgs& a, double* psi_a, double* psi_b) {
  for (std::size_t i = 0; i < a.n; ++i) {
    const ops::ScorePair s = ops::PlrScore(a.y[i], a.d[i], a.m[i], a.l[i]);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
}

}  // namespace fastdml::cpu
