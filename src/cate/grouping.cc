// Groups for GATE: one per category value, or quantile bins of a continuous
// column (--cate-by col, col:quintiles).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "cate/ols/ols.h"
#include "cate/ols/row_sums.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

std::string FormatValue(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void CheckFinite(const std::string& name, const double* values, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      throw DataError("--cate-by " + name + ": row " + std::to_string(i + 1) +
                      " has a missing or infinite value; fill or drop such rows first");
    }
  }
}

void CheckFinite(const std::string& name, const std::vector<double>& values) {
  CheckFinite(name, values.data(), values.size());
}

}  // namespace

GroupSpec ParseGroupSpec(const std::string& spec) {
  GroupSpec g;
  const std::size_t colon = spec.rfind(':');
  g.column = spec.substr(0, colon);
  if (g.column.empty()) throw UsageError("--cate-by '" + spec + "': the column name is empty");
  if (colon == std::string::npos) return g;
  const std::string kind = spec.substr(colon + 1);
  if (kind == "quartiles") {
    g.bins = 4;
  } else if (kind == "quintiles") {
    g.bins = 5;
  } else if (kind == "deciles") {
    g.bins = 10;
  } else if (kind.rfind("q=", 0) == 0) {
    char* end = nullptr;
    const long k = std::strtol(kind.c_str() + 2, &end, 10);
    if (end == kind.c_str() + 2 || *end != '\0' || k < 2 || k > 100000) {
      throw UsageError("--cate-by '" + spec + "': q=K needs an integer K >= 2");
    }
    g.bins = static_cast<int>(k);
  } else {
    throw UsageError("--cate-by '" + spec + "': unknown binning '" + kind +
                     "' (expected quartiles, quintiles, deciles or q=K)");
  }
  return g;
}

Grouping GroupByCategory(const std::string& name, const std::vector<double>& values) {
  return GroupByCategory(name, values.data(), values.size());
}

Grouping GroupByCategory(const std::string& name, const double* values, std::size_t n) {
  // Few categories (the usual case): one pass finds each row's value among
  // the distinct values seen so far (first-seen order) without a branch that
  // depends on the data, then the ids are renumbered in sorted order. Same
  // labels and ids as the map below: equal values (0.0 and -0.0 too) share
  // the first one's label, ids follow the sorted values.
  constexpr std::size_t kFew = 64;
  std::vector<double> seen;  // first-seen order
  Grouping g;
  g.name = name;
  g.group.resize(n);
  bool finite = true, few = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[i];
    finite &= std::isfinite(v);
    std::int32_t id = -1;
    for (std::size_t k = 0; k < seen.size(); ++k) id = seen[k] == v ? static_cast<std::int32_t>(k) : id;
    if (id < 0) {
      if (!std::isfinite(v)) continue;  // reported below, by row
      if (seen.size() == kFew) {
        few = false;
        break;
      }
      id = static_cast<std::int32_t>(seen.size());
      seen.push_back(v);
    }
    g.group[i] = id;
  }
  if (!finite || !few) CheckFinite(name, values, n);  // the first missing row, as before any grouping
  if (few) {
    std::vector<std::int32_t> order(seen.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<std::int32_t>(k);
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return seen[a] < seen[b]; });
    std::vector<std::int32_t> rank(seen.size());
    for (std::size_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = static_cast<std::int32_t>(r);
      g.labels.push_back(FormatValue(seen[order[r]]));
    }
    bool sorted = true;
    for (std::size_t k = 0; k < rank.size(); ++k) sorted &= rank[k] == static_cast<std::int32_t>(k);
    if (!sorted) {
      for (std::size_t i = 0; i < n; ++i) g.group[i] = rank[g.group[i]];
    }
    return g;
  }
  std::map<double, std::int32_t> ids;
  for (std::size_t i = 0; i < n; ++i) ids.emplace(values[i], 0);
  std::int32_t next = 0;
  for (auto& [v, id] : ids) {
    id = next++;
    g.labels.push_back(FormatValue(v));
  }
  for (std::size_t i = 0; i < n; ++i) g.group[i] = ids[values[i]];
  return g;
}

Grouping GroupByQuantiles(const std::string& name, const std::vector<double>& values, int bins) {
  return cate::GroupByQuantiles(Device::Cpu(), name, values, bins);
}

Grouping cate::GroupByQuantiles(Device device, const std::string& name, const std::vector<double>& values, int bins) {
  CheckFinite(name, values);
  const std::size_t n = values.size();
  if (bins < 2) throw UsageError("--cate-by " + name + ": quantile bins need K >= 2");
  if (n < static_cast<std::size_t>(bins)) {
    throw DataError("--cate-by " + name + ": " + std::to_string(bins) + " quantile bins from " + std::to_string(n) +
                    " rows; use fewer bins");
  }
  QuantileCut cut = CutQuantiles(device, values, bins);
  Grouping g;
  g.name = name + ":q=" + std::to_string(bins);
  g.group = std::move(cut.group);
  for (int q = 0; q < bins; ++q) {
    if (cut.count[q] == 0) {
      throw DataError("--cate-by " + name + ":q=" + std::to_string(bins) + ": quantile bin " + std::to_string(q + 1) +
                      " is empty because of tied values (too few distinct values); use fewer bins or group by "
                      "the column as a category");
    }
    const double lo = q == 0 ? cut.min : cut.edge[q - 1];
    g.labels.push_back("Q" + std::to_string(q + 1) + (q == 0 ? " [" : " (") + FormatValue(lo) + ", " +
                       FormatValue(cut.edge[q]) + "]");
  }
  return g;
}

}  // namespace fastdml
