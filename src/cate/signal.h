// The orthogonal signal of one repetition, from a fit's stored predictions.
#pragma once
#include <vector>

#include "fastdml/cate.h"

namespace fastdml::cate {

// IRM: y = psi_b of the score (cpu::IrmScores: estimand, clip and Hajek
// choice from `score`), a = -psi_a; scale empty.
// PLR: y = Y - l(X), scale = D - m(X), a = scale^2 (DoubleML's PLR cate).
// The model is the fit's; score.model is not read.
struct Signal {
  std::vector<double> y, scale, a;
};
Signal MakeSignal(const Dataset& data, const Fit& fit, int rep, const ScoreSpec& score);

// `score` for the ATE signal, the only one of BLP and sorted GATES.
inline ScoreSpec AteScore(ScoreSpec score) {
  score.estimand = Estimand::kAte;
  return score;
}

}  // namespace fastdml::cate
