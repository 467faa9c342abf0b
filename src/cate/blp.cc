// Best linear predictor of the CATE on a basis (Semenova and Chernozhukov
// 2021, eq. 2.3; DoubleML cate()): OLS of the orthogonal signal on the basis,
// and its predictions b' beta over a grid with pointwise and sup-t bands.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "cate/ols/ols.h"
#include "cuda/device.h"
#include "cate/ols/row_sums.h"
#include "cate/signal.h"
#include "fastdml/error.h"
#include "inference/aggregate.h"
#include "inference/normal.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

std::string Trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string FormatValue(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Splits "a,cat(b),spline(c,4)" at the commas outside parentheses.
std::vector<std::string> SplitTerms(const std::string& spec) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : spec) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) throw UsageError("--blp '" + spec + "': unbalanced parentheses");
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (depth != 0) throw UsageError("--blp '" + spec + "': unbalanced parentheses");
  out.push_back(Trim(cur));
  return out;
}

BasisTerm ParseTerm(const std::string& term, const std::string& spec) {
  BasisTerm t;
  if (term.empty()) throw UsageError("--blp '" + spec + "': an empty term (two commas in a row?)");
  const std::size_t open = term.find('(');
  if (open == std::string::npos) {
    t.column = term;
    return t;
  }
  if (term.back() != ')') throw UsageError("--blp term '" + term + "': expected col, cat(col) or spline(col,K)");
  const std::string fn = Trim(term.substr(0, open));
  const std::string inner = term.substr(open + 1, term.size() - open - 2);
  if (fn == "cat") {
    t.kind = BasisTerm::Kind::kOneHot;
    t.column = Trim(inner);
  } else if (fn == "spline") {
    const std::size_t comma = inner.rfind(',');
    if (comma == std::string::npos) throw UsageError("--blp term '" + term + "': spline needs (col,K)");
    t.kind = BasisTerm::Kind::kSpline;
    t.column = Trim(inner.substr(0, comma));
    const std::string k = Trim(inner.substr(comma + 1));
    char* end = nullptr;
    const long df = std::strtol(k.c_str(), &end, 10);
    if (k.empty() || *end != '\0' || df < 2 || df > 100) {
      throw UsageError("--blp term '" + term + "': spline pieces K must be an integer in 2..100");
    }
    t.df = static_cast<int>(df);
  } else {
    throw UsageError("--blp term '" + term + "': unknown function '" + fn + "' (expected cat or spline)");
  }
  if (t.column.empty()) throw UsageError("--blp term '" + term + "': the column name is empty");
  return t;
}

std::vector<double> FetchColumn(const ColumnSource& columns, const std::string& name, std::size_t n) {
  std::vector<double> v = columns(name);
  if (v.size() != n) throw Error("internal: basis column '" + name + "' has the wrong length");
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      throw DataError("--blp: column '" + name + "' row " + std::to_string(i + 1) +
                      " is missing or infinite; fill or drop such rows first");
    }
  }
  return v;
}

// numpy's default (linear) quantile of sorted values.
double Quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * (sorted.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

// Fills the columns of `basis` from its terms (levels and knots fixed).
void Evaluate(Basis* basis, const ColumnSource& columns, std::size_t n) {
  basis->names = {"intercept"};
  for (const BasisTerm& t : basis->terms) {
    if (t.kind == BasisTerm::Kind::kLinear) basis->names.push_back(t.column);
    if (t.kind == BasisTerm::Kind::kOneHot) {
      for (double l : t.levels) basis->names.push_back(t.column + "=" + FormatValue(l));
    }
    if (t.kind == BasisTerm::Kind::kSpline) {
      for (double c : t.knots) basis->names.push_back("(" + t.column + "-" + FormatValue(c) + ")+");
    }
  }
  const int k = static_cast<int>(basis->names.size());
  basis->n = n;
  basis->k = k;
  basis->x.assign(n * k, 0.0);
  for (std::size_t i = 0; i < n; ++i) basis->x[i * k] = 1.0;
  int col = 1;
  for (const BasisTerm& t : basis->terms) {
    const std::vector<double> v = FetchColumn(columns, t.column, n);
    if (t.kind == BasisTerm::Kind::kLinear) {
      for (std::size_t i = 0; i < n; ++i) basis->x[i * k + col] = v[i];
      col += 1;
    } else if (t.kind == BasisTerm::Kind::kOneHot) {
      for (std::size_t i = 0; i < n; ++i) {
        const auto it = std::find(t.levels.begin(), t.levels.end(), v[i]);
        if (it != t.levels.end()) basis->x[i * k + col + (it - t.levels.begin())] = 1.0;
      }
      col += static_cast<int>(t.levels.size());
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < t.knots.size(); ++j) basis->x[i * k + col + j] = std::max(0.0, v[i] - t.knots[j]);
      }
      col += static_cast<int>(t.knots.size());
    }
  }
}

}  // namespace

Basis MakeBasis(const std::string& spec, const ColumnSource& columns, std::size_t n) {
  Basis basis;
  for (const std::string& term : SplitTerms(spec)) {
    BasisTerm t = ParseTerm(term, spec);
    if (t.kind != BasisTerm::Kind::kLinear) {
      std::vector<double> v = FetchColumn(columns, t.column, n);
      std::sort(v.begin(), v.end());
      if (t.kind == BasisTerm::Kind::kOneHot) {
        v.erase(std::unique(v.begin(), v.end()), v.end());
        if (v.size() < 2) throw DataError("--blp cat(" + t.column + "): the column has a single value");
        t.levels.assign(v.begin() + 1, v.end());  // the first level is the intercept's
      } else {
        for (int j = 1; j < t.df; ++j) t.knots.push_back(Quantile(v, static_cast<double>(j) / t.df));
      }
    }
    basis.terms.push_back(t);
  }
  Evaluate(&basis, columns, n);
  return basis;
}

Basis MakeBasisLike(const Basis& fitted, const ColumnSource& columns, std::size_t n) {
  Basis basis;
  basis.terms = fitted.terms;
  Evaluate(&basis, columns, n);
  return basis;
}

BlpResult Blp(const Dataset& data, const Fit& fit, const Basis& basis, const BlpOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!(opts.level > 0 && opts.level < 1)) throw UsageError("--level must lie in (0, 1)");
  const std::size_t n = data.n;
  const int k = basis.k;
  if (basis.n != n) throw Error("internal: basis and data differ in rows");
  BlpResult res;
  res.names = basis.names;
  res.cov = opts.cov;
  res.level = opts.level;
  res.options = opts;
  const int reps = fit.predictions.reps;
  const Device device = fit.options.device;  // X'X, X'y and the meat on the fit's device
  const cuda::DeviceScope on_device(fit.options.device);  // "cuda:N": that GPU
  std::vector<std::vector<double>> se_reps(reps);
  std::vector<double> scaled;
  for (int r = 0; r < reps; ++r) {
    const cate::Signal s = cate::MakeSignal(data, fit, r, cate::AteScore(opts.score));
    const std::vector<double>* x = &basis.x;
    if (!s.scale.empty()) {
      scaled = basis.x;
      for (std::size_t i = 0; i < n; ++i) {
        for (int j = 0; j < k; ++j) scaled[i * k + j] *= s.scale[i];
      }
      x = &scaled;
    }
    OlsFit ols = cate::OlsRobust(device, s.y, *x, n, k, opts.cov, data.cluster, data.n_clusters, basis.names);
    for (int j = 0; j < k; ++j) se_reps[r].push_back(std::sqrt(ols.cov[static_cast<std::size_t>(j) * k + j]));
    res.coef_reps.push_back(std::move(ols.coef));
    res.cov_reps.push_back(std::move(ols.cov));
  }
  for (int j = 0; j < k; ++j) {
    std::vector<double> th(reps), se(reps);
    for (int r = 0; r < reps; ++r) {
      th[r] = res.coef_reps[r][j];
      se[r] = se_reps[r][j];
    }
    const inference::Inference f = inference::Finish(th, se, opts.level);
    res.coef.push_back(f.estimate);
    res.se.push_back(f.se);
    res.t.push_back(f.t);
    res.p_value.push_back(f.p_value);
    res.ci_lower.push_back(f.ci_lower);
    res.ci_upper.push_back(f.ci_upper);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

BlpPrediction PredictBlp(const BlpResult& blp, const Basis& grid) {
  const int k = static_cast<int>(blp.names.size());
  if (grid.k != k || grid.names != blp.names) {
    throw UsageError("--blp-grid: the grid's basis terms differ from the fitted basis; build it with MakeBasisLike");
  }
  const int m = static_cast<int>(grid.n);
  const int reps = static_cast<int>(blp.coef_reps.size());
  std::vector<std::vector<double>> est(m, std::vector<double>(reps)), se = est;
  for (int r = 0; r < reps; ++r) {
    const std::vector<double>& beta = blp.coef_reps[r];
    const std::vector<double>& om = blp.cov_reps[r];
    for (int g = 0; g < m; ++g) {
      const double* b = grid.x.data() + static_cast<std::size_t>(g) * k;
      double e = 0, v = 0;
      for (int a = 0; a < k; ++a) {
        e += b[a] * beta[a];
        for (int c = 0; c < k; ++c) v += b[a] * om[a * k + c] * b[c];
      }
      est[g][r] = e;
      se[g][r] = std::sqrt(std::max(v, 0.0));
    }
  }
  BlpPrediction out;
  const bool joint = blp.options.bootstrap.replicates > 0;
  std::vector<double> crit(reps);
  if (joint) {
    for (int r = 0; r < reps; ++r) {
      const std::vector<double> t = cate::GaussianT(blp.cov_reps[r], k, grid.x, m, blp.options.bootstrap, r,
                                                    ops::kStreamBlpBand);
      crit[r] = JointCriticalValue(t, m, blp.level);
    }
    out.has_joint = true;
    out.joint_critical_values = crit;
  }
  for (int g = 0; g < m; ++g) {
    const inference::Inference f = inference::Finish(est[g], se[g], blp.level);
    out.estimate.push_back(f.estimate);
    out.se.push_back(f.se);
    out.ci_lower.push_back(f.ci_lower);
    out.ci_upper.push_back(f.ci_upper);
    if (joint) {
      const inference::Bounds band = inference::MedianBounds(est[g], se[g], crit);
      out.joint_ci_lower.push_back(band.lower);
      out.joint_ci_upper.push_back(band.upper);
    }
  }
  return out;
}

}  // namespace fastdml
