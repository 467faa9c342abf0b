// A small IRM or PLR data set with stored predictions, for GATE/BLP tests.
#pragma once
#include <cmath>
#include <random>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"

namespace fastdml::testing_cate {

struct Problem {
  Dataset data;
  Fit fit;
  std::vector<double> z;        // a continuous column (not a feature)
  std::vector<double> category;  // codes 0..3
};

inline Problem MakeProblem(std::size_t n, int reps, unsigned seed, Model model = Model::kIrm) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> norm;
  std::uniform_real_distribution<double> unif;
  Problem p;
  Dataset& d = p.data;
  d.n = n;
  d.p = 1;
  d.x.resize(n);
  d.y.resize(n);
  d.d.resize(n);
  d.feature_names = {"x"};
  p.z.resize(n);
  p.category.resize(n);
  Predictions& pr = p.fit.predictions;
  pr.n = n;
  pr.reps = reps;
  pr.fold.resize(n * reps);
  pr.m.resize(n * reps);
  if (model == Model::kIrm) {
    pr.g0.resize(n * reps);
    pr.g1.resize(n * reps);
  } else {
    pr.l.resize(n * reps);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double x = norm(rng);
    d.x[i] = static_cast<float>(x);
    p.z[i] = x + 0.5 * norm(rng);
    const double u = unif(rng);
    p.category[i] = u < 0.4 ? 0 : u < 0.7 ? 1 : u < 0.9 ? 2 : 3;
    const double ps = 1 / (1 + std::exp(-0.8 * x));
    d.d[i] = unif(rng) < ps ? 1.0 : 0.0;
    const double tau = 1 + p.category[i] + 0.5 * x;
    d.y[i] = x + d.d[i] * tau + norm(rng);
    for (int r = 0; r < reps; ++r) {
      const std::size_t k = r * n + i;
      pr.fold[k] = static_cast<int>((i + r) % 5);
      pr.m[k] = std::min(0.995, std::max(0.005, ps + 0.05 * norm(rng)));
      if (model == Model::kIrm) {
        pr.g0[k] = x + 0.2 * norm(rng);
        pr.g1[k] = x + tau + 0.2 * norm(rng);
      } else {
        pr.l[k] = x + ps * tau + 0.2 * norm(rng);
      }
    }
  }
  p.fit.options.model = model;
  p.fit.options.reps = reps;
  if (model == Model::kPlr) p.fit.options.estimands = {Estimand::kAte};
  return p;
}

}  // namespace fastdml::testing_cate
