// Turns a parsed CSV table into a validated Dataset, given which column plays
// which role.
#pragma once
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "io/csv.h"

namespace fastdml::io {

struct ColumnSpec {
  std::string outcome;
  std::string treatment;
  // Empty = every other numeric column (all but outcome, treatment, weights,
  // fold); non-numeric columns are then skipped.
  std::vector<std::string> features;
  std::string weights;  // empty = unweighted
  std::string fold;     // empty = engine-made folds; ids 0..K-1 or 1..K
  bool binary_treatment = true;  // false: continuous D allowed (PLR)
};

// Copies the named columns into a Dataset (X as float32 row-major, user fold
// ids stored 0-based) and runs ValidateDataset(data, 2). Throws DataError for
// a missing column (listing the available ones), a non-numeric column in a
// role or named as a feature (quoting the bad cell, its row and column), a
// column used twice, a value beyond float32 range in X, bad fold ids, and
// anything ValidateDataset rejects. When `skipped_columns` is given it
// receives the non-numeric columns left out of the default feature set.
Dataset BuildDataset(const CsvTable& table, const ColumnSpec& spec,
                     std::vector<std::string>* skipped_columns = nullptr);

}  // namespace fastdml::io
