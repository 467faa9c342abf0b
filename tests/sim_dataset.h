// Test helper: a simulated data set as a Dataset (columns y and d, every
// other column a float32 feature), for tests that fit without the CSV path.
#pragma once
#include <cstddef>

#include "fastdml/dataset.h"
#include "sim/simulate.h"

namespace fastdml::test {

inline Dataset DatasetFromSim(const sim::SimData& s) {
  Dataset d;
  d.n = s.columns[0].size();
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    if (s.column_names[c] == "y") d.y = s.columns[c];
    else if (s.column_names[c] == "d") d.d = s.columns[c];
    else d.feature_names.push_back(s.column_names[c]);
  }
  d.p = d.feature_names.size();
  d.x.resize(d.n * d.p);
  std::size_t j = 0;
  for (std::size_t c = 0; c < s.column_names.size(); ++c) {
    if (s.column_names[c] == "y" || s.column_names[c] == "d") continue;
    for (std::size_t i = 0; i < d.n; ++i) d.x[i * d.p + j] = static_cast<float>(s.columns[c][i]);
    ++j;
  }
  return d;
}

}  // namespace fastdml::test
