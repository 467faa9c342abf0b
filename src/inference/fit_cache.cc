#include "inference/fit_cache.h"

#include <algorithm>
#include <cmath>

#include "fastdml/error.h"

namespace fastdml {
namespace {

// Names (quoted, comma-separated) of the features equal to d or 1 - d in
// every row; empty when none. Stops at a feature's first differing row.
std::string FeaturesEqualToTreatment(const Dataset& data) {
  std::string names;
  const bool binary = IsBinaryTreatment(data.d);
  for (std::size_t j = 0; j < data.p; ++j) {
    bool same = true, flipped = binary;
    for (std::size_t i = 0; i < data.n && (same || flipped); ++i) {
      const float x = data.x[i * data.p + j];
      same = same && x == static_cast<float>(data.d[i]);
      flipped = flipped && x == static_cast<float>(1.0 - data.d[i]);
    }
    if (same || flipped) {
      const std::string name = j < data.feature_names.size() ? data.feature_names[j] : "x" + std::to_string(j + 1);
      names += (names.empty() ? "'" : ", '") + name + "'" + (same ? "" : " (as 1 - D)");
    }
  }
  return names;
}

template <typename T>
void SetKey(FitCache* c, int slot, const std::vector<T>& v) {
  c->key[slot] = v.data();
  c->key_size[slot] = v.size();
}

void Keys(const Dataset& data, const Predictions& pred, FitCache* c) {
  SetKey(c, 0, data.x);
  SetKey(c, 1, data.y);
  SetKey(c, 2, data.d);
  SetKey(c, 3, pred.m);
  SetKey(c, 4, pred.g0);
  SetKey(c, 5, pred.g1);
  SetKey(c, 6, pred.fold);
  SetKey(c, 7, data.feature_names);  // same_as_d names them
  c->key_size[7] = data.p;
}

}  // namespace

bool FitCache::Matches(const Dataset& data, const Predictions& pred) const {
  FitCache now;
  Keys(data, pred, &now);
  // pred.l is not keyed: nothing here reads it.
  return std::equal(std::begin(key), std::end(key), std::begin(now.key)) &&
         std::equal(std::begin(key_size), std::end(key_size), std::begin(now.key_size));
}

void FitCache::ClippedCounts(const Predictions& pred, double clip, std::size_t* low, std::size_t* high) const {
  if (clip > kTail) {
    *low = *high = 0;
    for (double m : pred.m) {
      if (m < clip) ++*low;
      if (m > 1 - clip) ++*high;
    }
    return;
  }
  // clip <= kTail: every m < clip lies in low_tail, every m > 1 - clip in high_tail.
  *low = static_cast<std::size_t>(std::lower_bound(low_tail.begin(), low_tail.end(), clip) - low_tail.begin());
  *high = static_cast<std::size_t>(high_tail.end() - std::upper_bound(high_tail.begin(), high_tail.end(), 1 - clip));
}

std::shared_ptr<const FitCache> MakeFitCache(const Dataset& data, const Predictions& pred) {
  auto c = std::make_shared<FitCache>();
  Keys(data, pred, c.get());
  const std::size_t n = pred.n;
  c->binary_d = IsBinaryTreatment(data.d);
  c->same_as_d = FeaturesEqualToTreatment(data);
  c->naive = NaiveDifferenceOf(data);
  if (c->binary_d && n == data.n) {
    for (double m : pred.m) {
      if (!(m > 0 && m < 1)) ++c->degenerate;
      if (m < FitCache::kTail) c->low_tail.push_back(m);
      if (m > 1 - FitCache::kTail) c->high_tail.push_back(m);
    }
    std::sort(c->low_tail.begin(), c->low_tail.end());
    std::sort(c->high_tail.begin(), c->high_tail.end());
    if (!pred.m.empty()) {  // the overlap as Estimate computed it: quantiles of all values, sorted
      std::vector<double> sorted = pred.m;
      std::sort(sorted.begin(), sorted.end());
      c->overlap.min = sorted.front();
      c->overlap.max = sorted.back();
      for (double q : kOverlapProbs) {
        c->overlap.quantiles.push_back(sorted[static_cast<std::size_t>(q * (sorted.size() - 1) + 0.5)]);
      }
    }
    for (int r = 0; r < pred.reps && c->separated_rep < 0; ++r) {
      // Perfect separation: every treated row's propensity above every
      // control row's, so no treated row has a comparable control.
      double max_control = -1, min_treated = 2;
      for (std::size_t i = 0; i < n; ++i) {
        const double mi = pred.m[static_cast<std::size_t>(r) * n + i];
        if (data.d[i] == 1.0) {
          min_treated = std::min(min_treated, mi);
        } else {
          max_control = std::max(max_control, mi);
        }
      }
      if (max_control < min_treated) c->separated_rep = r;
    }
  }
  return c;
}

const FitCache& CacheFor(const Dataset& data, const Fit& fit, std::shared_ptr<const FitCache>* local) {
  if (fit.cache && fit.cache->Matches(data, fit.predictions)) return *fit.cache;
  *local = MakeFitCache(data, fit.predictions);
  return **local;
}

}  // namespace fastdml
