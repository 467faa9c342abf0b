// Turns a parsed CSV table into a validated Dataset, given which column plays
// which role.
#pragma once
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "io/columnar.h"
#include "io/csv.h"

namespace fastdml::io {

struct ColumnSpec {
  std::string outcome;
  std::string treatment;
  // A grid (every (outcome, treatment) pair estimated in one run): the
  // outcome and treatment columns, in order. Either list may hold one name;
  // when both are empty (or hold exactly `outcome` and `treatment`) the data
  // are one pair, named by `outcome` and `treatment`. Set with GridColumns.
  std::vector<std::string> outcomes, treatments;
  // Empty = every other numeric column (all but outcome, treatment, weights,
  // fold, cluster); text columns are then skipped, and a column of numbers
  // with a stray non-number is a DataError (the typing rule, docs/cli.md).
  std::vector<std::string> features;
  std::string weights;  // empty = unweighted
  std::string fold;     // empty = engine-made folds; ids 0..K-1 or 1..K
  std::string cluster;  // empty = no clusters; integer ids (any values)
  bool binary_treatment = true;  // false: continuous D allowed (PLR)
  // IRM, one treatment: validate it as multi-valued (fastdml/levels.h) when
  // asked (--treatment-levels) or, with auto_levels, when it holds 3..20
  // distinct integers; otherwise binary_treatment's rules apply.
  bool treatment_levels = false, auto_levels = false;
};

// Sets `outcome`/`treatment` and, for several names, the grid lists.
void GridColumns(ColumnSpec* spec, const std::vector<std::string>& outcomes,
                 const std::vector<std::string>& treatments);

// Copies the named columns into a Dataset (X as float32 row-major, user fold
// ids stored 0-based) and runs ValidateDataset(data, 2). Throws DataError for
// a missing column (listing the available ones), a non-numeric column in a
// role or named as a feature (quoting the bad cell, its row and column), a
// column used twice, a value beyond float32 range in X, bad fold ids, and
// anything ValidateDataset rejects.
//
// A cluster column's ids (finite integers, |id| <= 2^53) are mapped to dense
// indices 0..C-1 in increasing order of the id value (data.cluster,
// data.n_clusters, data.cluster_name). DataError for a missing, non-integer or
// infinite id (naming the row and column), fewer than 2 distinct ids, or a
// user fold column that splits a cluster across folds. When `skipped_columns` is given it
// receives the non-numeric columns left out of the default feature set.
Dataset BuildDataset(const CsvTable& table, const ColumnSpec& spec,
                     std::vector<std::string>* skipped_columns = nullptr);

// ReadCsv + BuildDataset in one streaming pass, for large files: features go
// straight from the text into the float32 matrix (CsvPlan), columns not used
// are not parsed, and the role columns are moved, so that peak memory stays
// near the Dataset's own size (bench/RESULTS.md). Accepts exactly what
// BuildDataset(ReadCsv(path, sep), spec) accepts, with the same Dataset and,
// for a single fault, the same message (tests/fuzz/csv_check.h,
// tests/io/read_dataset_test.cc). Missing or misused columns are reported
// from the header, before any data row is parsed, so with several faults that
// one may be named first. Every DataError names the file. `format` picks the
// reader (kAuto: by extension, see io/columnar.h); Parquet and Arrow files go
// through the same plan and the same checks as CSV.
Dataset ReadDataset(const std::string& path, const ColumnSpec& spec, char sep = ',',
                    std::vector<std::string>* skipped_columns = nullptr,
                    DataFormat format = DataFormat::kAuto);

}  // namespace fastdml::io
