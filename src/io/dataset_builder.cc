#include "io/dataset_builder.h"

#include "fastdml/levels.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "fastdml/error.h"

namespace fastdml::io {
namespace {

constexpr std::size_t kMaxListedColumns = 50;  // keep messages readable

std::string FormatValue(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  return text;
}

// A cell as quoted in a message: long text is cut (it may be a whole
// paragraph from a quoted field).
std::string Quote(const std::string& text) {
  constexpr std::size_t kMaxChars = 60;
  if (text.size() <= kMaxChars) return "'" + text + "'";
  return "'" + text.substr(0, kMaxChars) + "...' (" + std::to_string(text.size()) + " bytes)";
}

std::string DataRow(std::size_t index) { return "data row " + std::to_string(index + 1); }

std::string UnsupportedTypeHint() {
  return ", which is not numeric (columns may be integer, floating point, boolean, decimal, "
         "dictionary-encoded, or text holding numbers)";
}

class ColumnIndex {
 public:
  explicit ColumnIndex(const CsvTable& table) : table_(table) {
    by_name_.reserve(table.columns.size());
    for (std::size_t j = 0; j < table.columns.size(); ++j) {
      by_name_.emplace(table.columns[j].name, j);
    }
  }

  // The column `name` in role `role` ("outcome", "feature", ...), numeric.
  const CsvColumn& Require(const std::string& name, const std::string& role) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      throw DataError(role + " column '" + name + "' not found; available columns: " +
                      Available());
    }
    const CsvColumn& column = table_.columns[it->second];
    if (!column.unsupported_type.empty()) {
      throw DataError(role + " column '" + name + "' (column " + std::to_string(it->second + 1) + ") has type " +
                      column.unsupported_type + UnsupportedTypeHint());
    }
    if (!column.numeric) {
      throw DataError(role + " column '" + name + "' (column " + std::to_string(it->second + 1) +
                      ") is not numeric: data row " + std::to_string(column.first_bad_row) +
                      " has " + Quote(column.first_bad_text));
    }
    return column;
  }

 private:
  std::string Available() const {
    std::string list;
    const std::size_t shown = std::min(table_.columns.size(), kMaxListedColumns);
    for (std::size_t j = 0; j < shown; ++j) {
      if (j > 0) list += ", ";
      list += table_.columns[j].name;
    }
    if (shown < table_.columns.size()) {
      list += ", ... (" + std::to_string(table_.columns.size() - shown) + " more)";
    }
    return list;
  }

  const CsvTable& table_;
  std::unordered_map<std::string, std::size_t> by_name_;
};

// Outcome, treatment, weights, fold and cluster must be distinct columns; returns the
// role of each named one.
std::unordered_map<std::string, std::string> RoleColumns(const ColumnSpec& spec) {
  if (spec.outcome.empty()) throw UsageError("no outcome column given");
  if (spec.treatment.empty()) throw UsageError("no treatment column given");
  std::unordered_map<std::string, std::string> roles;
  auto add = [&](const std::string& name, const std::string& role) {
    if (name.empty()) return;
    const auto [it, inserted] = roles.emplace(name, role);
    if (!inserted) {
      if (it->second == role) throw UsageError("column '" + name + "' is named twice as an " + role);
      throw UsageError("column '" + name + "' is given as both the " + it->second + " and the " + role +
                       " column");
    }
  };
  if (spec.outcomes.empty()) add(spec.outcome, "outcome");
  for (const std::string& name : spec.outcomes) add(name, "outcome");
  if (spec.treatments.empty()) add(spec.treatment, "treatment");
  for (const std::string& name : spec.treatments) add(name, "treatment");
  add(spec.weights, "weights");
  add(spec.fold, "fold");
  add(spec.cluster, "cluster");
  return roles;
}

// The outcome (or treatment) columns of `spec`, in order.
std::vector<std::string> OutcomeColumns(const ColumnSpec& spec) {
  return spec.outcomes.empty() ? std::vector<std::string>{spec.outcome} : spec.outcomes;
}
std::vector<std::string> TreatmentColumns(const ColumnSpec& spec) {
  return spec.treatments.empty() ? std::vector<std::string>{spec.treatment} : spec.treatments;
}

// User fold ids: integers 0..K-1 or 1..K, every id used; stored 0-based.
std::vector<int> ConvertFolds(const CsvColumn& column, std::size_t n) {
  const std::string where = "fold column '" + column.name + "': ";
  const std::string rule = "; fold ids must be integers 0..K-1 or 1..K";
  double lowest = std::numeric_limits<double>::infinity();
  double highest = -lowest;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = column.values[i];
    if (std::isnan(v)) throw DataError(where + "missing fold id at " + DataRow(i) + rule);
    if (!std::isfinite(v) || v != std::floor(v) || v < 0 ||
        v > double(std::numeric_limits<int>::max())) {
      throw DataError(where + DataRow(i) + " has " + FormatValue(v) + rule);
    }
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  if (lowest != 0 && lowest != 1) {
    throw DataError(where + "smallest fold id is " + FormatValue(lowest) + rule);
  }
  const int base = int(lowest);
  const double num_folds = highest - lowest + 1;
  if (num_folds < 2) {
    throw DataError(where + "every row has fold id " + FormatValue(lowest) +
                    "; cross-fitting needs at least 2 folds");
  }
  if (num_folds > double(n)) {  // some id cannot have a row
    throw DataError(where + "ids run from " + FormatValue(lowest) + " to " +
                    FormatValue(highest) + " but there are only " + std::to_string(n) +
                    " rows; fold ids must be consecutive");
  }
  std::vector<int> fold(n);
  std::vector<std::size_t> counts(std::size_t(num_folds), 0);
  for (std::size_t i = 0; i < n; ++i) {
    fold[i] = int(column.values[i]) - base;
    ++counts[std::size_t(fold[i])];
  }
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] == 0) {
      throw DataError(where + "fold id " + std::to_string(int(k) + base) +
                      " has no rows; fold ids must be consecutive (" + std::to_string(base) +
                      ".." + FormatValue(highest) + ")");
    }
  }
  return fold;
}

// Cluster ids: finite integers, mapped to 0..C-1 in increasing id order.
void ConvertClusters(const CsvColumn& column, std::size_t n, Dataset* data) {
  const std::string where = "cluster column '" + column.name + "': ";
  const std::string rule = "; cluster ids must be integers";
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53: larger ids may have been rounded
  for (std::size_t i = 0; i < n; ++i) {
    const double v = column.values[i];
    if (std::isnan(v)) throw DataError(where + "missing cluster id at " + DataRow(i) + rule);
    if (!std::isfinite(v) || v != std::floor(v)) {
      throw DataError(where + DataRow(i) + " has " + FormatValue(v) + rule);
    }
    if (std::fabs(v) > kMaxExact) {
      throw DataError(where + DataRow(i) + " has " + FormatValue(v) +
                      ", beyond 2^53 where ids are no longer exact; renumber the clusters");
    }
  }
  std::vector<double> ids(column.values.begin(), column.values.begin() + std::ptrdiff_t(n));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) {
    throw DataError(where + "every row has cluster id " + (ids.empty() ? std::string("(none)") : FormatValue(ids[0])) +
                    "; cluster-robust inference needs at least 2 clusters");
  }
  if (ids.size() > std::size_t(std::numeric_limits<std::int32_t>::max())) {
    throw DataError(where + std::to_string(ids.size()) + " distinct ids are too many");
  }
  data->cluster.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), column.values[i]);
    data->cluster[i] = std::int32_t(it - ids.begin());
  }
  data->n_clusters = std::int32_t(ids.size());
  data->cluster_name = column.name;
}

// The cluster invariants ValidateDataset does not check: n dense ids 0..C-1,
// each used, C >= 2.
void ValidateClusters(const Dataset& data) {
  if (data.cluster.empty()) return;
  if (data.cluster.size() != data.n) {
    throw DataError("cluster ids: " + std::to_string(data.cluster.size()) + " values for " +
                    std::to_string(data.n) + " rows");
  }
  if (data.n_clusters < 2) throw DataError("cluster-robust inference needs at least 2 clusters");
  std::vector<char> used(std::size_t(data.n_clusters), 0);
  for (std::size_t i = 0; i < data.n; ++i) {
    const std::int32_t c = data.cluster[i];
    if (c < 0 || c >= data.n_clusters) {
      throw DataError("cluster index " + std::to_string(c) + " at " + DataRow(i) + " outside 0.." +
                      std::to_string(data.n_clusters - 1));
    }
    used[std::size_t(c)] = 1;
  }
  for (std::int32_t c = 0; c < data.n_clusters; ++c) {
    if (!used[std::size_t(c)]) throw DataError("cluster index " + std::to_string(c) + " has no rows");
  }
}

// A user fold column must hold every cluster whole in one fold.
void CheckFoldsKeepClustersWhole(const Dataset& data, const std::string& fold_name,
                                 const std::string& cluster_name) {
  std::vector<int> cluster_fold(std::size_t(data.n_clusters), -1);
  std::vector<std::size_t> first_row(std::size_t(data.n_clusters), 0);
  for (std::size_t i = 0; i < data.n; ++i) {
    const std::size_t c = std::size_t(data.cluster[i]);
    if (cluster_fold[c] < 0) {
      cluster_fold[c] = data.fold[i];
      first_row[c] = i;
    } else if (cluster_fold[c] != data.fold[i]) {
      throw DataError("fold column '" + fold_name + "' splits a cluster of '" + cluster_name + "': " +
                      DataRow(first_row[c]) + " and " + DataRow(i) +
                      " share a cluster id but are in different folds; every cluster must lie in one fold");
    }
  }
}

// The first beyond-float32 value among the features, in row-major order (as
// the double path finds it): DataError naming feature, row and value.
void CheckFloatRange(const std::vector<const CsvColumn*>& features) {
  const CsvColumn* worst = nullptr;
  for (const CsvColumn* column : features) {
    if (column->first_beyond_float_row == 0) continue;
    if (worst == nullptr || column->first_beyond_float_row < worst->first_beyond_float_row) worst = column;
  }
  if (worst != nullptr) {
    throw DataError("feature '" + worst->name + "': " + DataRow(worst->first_beyond_float_row - 1) + " has " +
                    FormatValue(worst->first_beyond_float_value) + ", beyond the float32 range of features");
  }
}

// Moves the streamed matrix (kFeature columns in file order) into data->x with
// the chosen features in their order: one in-place pass over the rows, each
// copied through a small buffer, so no second matrix is allocated.
void FinishStreamedMatrix(const CsvTable& table, const std::vector<const CsvColumn*>& features,
                          std::vector<float>* streamed, Dataset* data) {
  CheckFloatRange(features);
  std::vector<std::size_t> slot_of(table.columns.size(), 0);
  std::size_t width = 0;
  for (std::size_t j = 0; j < table.columns.size(); ++j) {
    if (table.columns[j].storage == CsvStorage::kFeature) slot_of[j] = width++;
  }
  const std::size_t n = data->n;
  const std::size_t p = features.size();
  if (width == 0 || streamed->size() != n * width) throw Error("internal: streamed matrix has the wrong size");
  std::vector<std::size_t> source(p);
  bool identity = p == width;
  for (std::size_t j = 0; j < p; ++j) {
    source[j] = slot_of[std::size_t(features[j] - table.columns.data())];
    identity = identity && source[j] == j;
  }
  if (!identity) {
    float* x = streamed->data();
    std::vector<float> row(width);
    for (std::size_t i = 0; i < n; ++i) {  // write offset i*p <= read offset i*width
      std::copy(x + i * width, x + (i + 1) * width, row.begin());
      for (std::size_t j = 0; j < p; ++j) x[i * p + j] = row[source[j]];
    }
    streamed->resize(n * p);
  }
  data->x = std::move(*streamed);
}

// The storage plan of ReadDataset: role columns as double, features (listed,
// or every other column) as float32 into the matrix, the rest skipped.
// Missing columns are reported here, before any data row is parsed.
std::vector<CsvStorage> ChooseStorage(const std::vector<std::string>& names, const ColumnSpec& spec,
                                      const std::unordered_map<std::string, std::string>& roles,
                                      const std::string& path) {
  std::unordered_map<std::string, std::size_t> by_name;
  for (std::size_t j = 0; j < names.size(); ++j) by_name.emplace(names[j], j);
  auto available = [&] {
    std::string list;
    const std::size_t shown = std::min(names.size(), kMaxListedColumns);
    for (std::size_t j = 0; j < shown; ++j) list += (j > 0 ? ", " : "") + names[j];
    if (shown < names.size()) list += ", ... (" + std::to_string(names.size() - shown) + " more)";
    return list;
  };
  auto require = [&](const std::string& name, const std::string& role) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      throw DataError(path + ": " + role + " column '" + name + "' not found; available columns: " + available());
    }
    return it->second;
  };
  const bool all_features = spec.features.empty();
  std::vector<CsvStorage> storage(names.size(), all_features ? CsvStorage::kFeature : CsvStorage::kSkip);
  for (const std::string& name : OutcomeColumns(spec)) storage[require(name, "outcome")] = CsvStorage::kDouble;
  for (const std::string& name : TreatmentColumns(spec)) storage[require(name, "treatment")] = CsvStorage::kDouble;
  const std::pair<const std::string*, const char*> named[] = {
      {&spec.weights, "weights"}, {&spec.fold, "fold"}, {&spec.cluster, "cluster"}};
  for (const auto& [name, role] : named) {
    if (!name->empty()) storage[require(*name, role)] = CsvStorage::kDouble;
  }
  std::unordered_set<std::string> listed;
  for (const std::string& name : spec.features) {
    const auto role = roles.find(name);
    if (role != roles.end()) {
      throw UsageError(path + ": feature '" + name + "' is also the " + role->second + " column");
    }
    if (!listed.insert(name).second) throw UsageError(path + ": feature '" + name + "' is listed twice");
    storage[require(name, "feature")] = CsvStorage::kFeature;
  }
  return storage;
}

}  // namespace

namespace {

// BuildDataset's body. With `streamed_x` the kFeature columns' values are
// already in *streamed_x (row-major, file column order; see CsvPlan) and are
// moved into the Dataset after dropping and reordering columns in place; with
// `movable` the role columns are moved rather than copied. Both keep peak
// memory near the size of the Dataset for large files.
Dataset Build(const CsvTable& table, const ColumnSpec& spec, std::vector<std::string>* skipped_columns,
              std::vector<float>* streamed_x, CsvTable* movable) {
  const ColumnIndex index(table);
  const auto roles = RoleColumns(spec);
  std::vector<const CsvColumn*> outcomes, treatments;
  for (const std::string& name : OutcomeColumns(spec)) outcomes.push_back(&index.Require(name, "outcome"));
  for (const std::string& name : TreatmentColumns(spec)) treatments.push_back(&index.Require(name, "treatment"));
  const bool grid = outcomes.size() > 1 || treatments.size() > 1;
  const CsvColumn* weights =
      spec.weights.empty() ? nullptr : &index.Require(spec.weights, "weights");
  const CsvColumn* fold = spec.fold.empty() ? nullptr : &index.Require(spec.fold, "fold");
  const CsvColumn* cluster =
      spec.cluster.empty() ? nullptr : &index.Require(spec.cluster, "cluster");

  std::vector<const CsvColumn*> features;
  if (skipped_columns != nullptr) skipped_columns->clear();
  if (spec.features.empty()) {
    for (const CsvColumn& column : table.columns) {
      if (roles.count(column.name) != 0) continue;
      if (!column.numeric) {
        // The typing rule (docs/cli.md): a column with no number at all is
        // text and left out; numbers with a stray non-number are an error.
        if (column.any_number) {
          throw DataError("column '" + column.name + "' (column " +
                          std::to_string(std::size_t(&column - table.columns.data()) + 1) +
                          ") holds numbers but data row " + std::to_string(column.first_bad_row) + " has " +
                          Quote(column.first_bad_text) +
                          ", which is not a number; fix or blank that cell (missing: empty, NA, NaN, null), "
                          "or leave the column out by listing the features");
        }
        if (skipped_columns != nullptr) skipped_columns->push_back(column.name);
        continue;
      }
      features.push_back(&column);
    }
    if (features.empty()) {
      throw DataError(grid ? std::string("no numeric feature columns left besides the outcomes and treatments")
                           : "no numeric feature columns left besides the outcome '" + spec.outcome +
                                 "' and treatment '" + spec.treatment + "'");
    }
  } else {
    std::unordered_set<std::string> listed;
    for (const std::string& name : spec.features) {
      const auto role = roles.find(name);
      if (role != roles.end()) {
        throw UsageError("feature '" + name + "' is also the " + role->second + " column");
      }
      if (!listed.insert(name).second) {
        throw UsageError("feature '" + name + "' is listed twice");
      }
      features.push_back(&index.Require(name, "feature"));
    }
  }

  Dataset data;
  data.n = table.rows;
  data.p = features.size();
  data.outcome_name = outcomes[0]->name;
  data.treatment_name = treatments[0]->name;
  auto take = [&](const CsvColumn& column) {
    if (movable == nullptr) return column.values;
    return std::move(movable->columns[std::size_t(&column - table.columns.data())].values);
  };
  if (grid) {
    for (const CsvColumn* column : outcomes) {
      data.outcomes.push_back(take(*column));
      data.outcome_names.push_back(column->name);
    }
    for (const CsvColumn* column : treatments) {
      data.treatments.push_back(take(*column));
      data.treatment_names.push_back(column->name);
    }
    data.SelectCell(0, 0);
  } else {
    data.y = take(*outcomes[0]);
    data.d = take(*treatments[0]);
  }
  if (weights != nullptr) data.weights = take(*weights);
  data.feature_names.reserve(data.p);
  for (const CsvColumn* column : features) data.feature_names.push_back(column->name);

  const std::size_t n = data.n;
  const std::size_t p = data.p;
  if (streamed_x != nullptr) {
    FinishStreamedMatrix(table, features, streamed_x, &data);
  } else {
    // Row-major fill, one row at a time: reads stay sequential in every column
    // and writes sequential in X.
    const double float_max = double(std::numeric_limits<float>::max());
    data.x.resize(n * p);
    float* out = data.x.data();
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < p; ++j) {
        const double v = features[j]->values[i];
        if (std::isfinite(v) && std::fabs(v) > float_max) {
          throw DataError("feature '" + features[j]->name + "': " + DataRow(i) + " has " +
                          FormatValue(v) + ", beyond the float32 range of features");
        }
        *out++ = float(v);
      }
    }
  }
  if (fold != nullptr) data.fold = ConvertFolds(*fold, n);
  if (cluster != nullptr) {
    ConvertClusters(*cluster, n, &data);
    if (fold != nullptr) CheckFoldsKeepClustersWhole(data, spec.fold, spec.cluster);
  }

  const bool levels =
      !grid && (spec.treatment_levels || (spec.binary_treatment && spec.auto_levels && LooksMultiValued(data.d)));
  ValidateDataset(data, /*min_rows=*/2, spec.binary_treatment && !levels);
  ValidateClusters(data);
  return data;
}

}  // namespace

Dataset BuildDataset(const CsvTable& table, const ColumnSpec& spec,
                     std::vector<std::string>* skipped_columns) {
  return Build(table, spec, skipped_columns, nullptr, nullptr);
}

Dataset ReadDataset(const std::string& path, const ColumnSpec& spec, char sep,
                    std::vector<std::string>* skipped_columns, DataFormat format) {
  const auto roles = RoleColumns(spec);
  std::vector<float> x;
  CsvPlan plan;
  plan.x = &x;
  plan.choose = [&](const std::vector<std::string>& names) {
    return ChooseStorage(names, spec, roles, path);
  };
  // Every format fills the same CsvTable, so Build applies one set of rules.
  CsvTable table = ReadTable(path, format, sep, plan);
  try {
    return Build(table, spec, skipped_columns, &x, &table);
  } catch (const DataError& e) {
    throw DataError(path + ": " + e.what());
  }
}

void GridColumns(ColumnSpec* spec, const std::vector<std::string>& outcomes,
                 const std::vector<std::string>& treatments) {
  spec->outcome = outcomes.empty() ? std::string() : outcomes[0];
  spec->treatment = treatments.empty() ? std::string() : treatments[0];
  const bool grid = outcomes.size() > 1 || treatments.size() > 1;
  spec->outcomes = grid ? outcomes : std::vector<std::string>{};
  spec->treatments = grid ? treatments : std::vector<std::string>{};
}

}  // namespace fastdml::io
