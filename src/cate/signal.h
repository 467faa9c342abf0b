// The orthogonal signal of one repetition, from a fit's stored predictions.
#pragma once
#include <vector>

#include "fastdml/cate.h"

namespace fastdml::cate {

// IRM: y = psi_b of the ATE (att = false) or ATT score, a = -psi_a; scale empty.
// PLR: y = Y - l(X), scale = D - m(X), a = scale^2 (DoubleML's PLR cate).
struct Signal {
  std::vector<double> y, scale, a;
};
Signal MakeSignal(const Dataset& data, const Fit& fit, int rep, bool att, double clip, bool normalize_ipw);

}  // namespace fastdml::cate
