#include "cpu/scores.h"

#include <memory>
#include <vector>

#include "ops/irm_pass.h"
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
                       const ScoreSpec& spec) {
  const std::size_t off = static_cast<std::size_t>(rep) * pred.n;
  IrmScoreArgs a;
  a.n = pred.n;
  a.y = data.y.data();
  a.d = data.d.data();
  a.m = pred.m.data() + off;
  a.g0 = pred.g0.data() + off;
  a.g1 = pred.g1.data() + off;
  a.uw = uw.empty() ? nullptr : uw.data();
  a.spec = spec;
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
  // Scratch for the normalised propensity (only normalize_ipw writes it);
  // written before it is read, so no zero fill (a pass over 8n bytes per call).
  const std::unique_ptr<double[]> m(a.spec.normalize_ipw ? new double[a.n] : nullptr);
  ops::IrmPass(ops::SerialLoops{}, a, m.get(), psi_a, psi_b);
}

void PlrScores(const PlrScoreArgs& a, double* psi_a, double* psi_b) {
  for (std::size_t i = 0; i < a.n; ++i) {
    const ops::ScorePair s = ops::PlrScore(a.y[i], a.d[i], a.m[i], a.l[i]);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
}

// DML2 on the host (ops::SolveFromSums): theta, J, se from psi_a, psi_b, and
// psi = theta psi_a + psi_b written to `psi`.
ops::ScoreSolution SolveScore(const double* psi_a, const double* psi_b, std::size_t n, double* psi) {
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sa += psi_a[i];
    sb += psi_b[i];
  }
  const double theta = ops::SolveTheta(sa, sb);
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    psi[i] = theta * psi_a[i] + psi_b[i];
    ss += psi[i] * psi[i];
  }
  return ops::SolveFromSums(n, sa, sb, ss);
}

}  // namespace fastdml::cpu
