// Groups for GATE: one per category value, or quantile bins of a continuous
// column (--cate-by col, col:quintiles).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "cate/ols.h"
#include "cate/row_sums.h"
#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

std::string FormatValue(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void CheckFinite(const std::string& name, const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw DataError("--cate-by " + name + ": row " + std::to_string(i + 1) +
                      " has a missing or infinite value; fill or drop such rows first");
    }
  }
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
  CheckFinite(name, values);
  // Few categories (the usual case): the distinct values kept sorted, each
  // row's id the count of distinct values below it, both without a branch per
  // row that depends on the data; no tree node per row. Same labels and ids as
  // the map below: equal values (0.0 and -0.0 too) share the first one's
  // label, ids follow the sorted values.
  constexpr std::size_t kFew = 64;
  std::vector<double> distinct;
  bool few = true;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    bool seen = false;
    for (double u : distinct) seen |= u == v;
    if (seen) continue;
    if (distinct.size() == kFew) {
      few = false;
      break;
    }
    distinct.insert(std::upper_bound(distinct.begin(), distinct.end(), v), v);
  }
  if (few) {
    Grouping g;
    g.name = name;
    for (double v : distinct) g.labels.push_back(FormatValue(v));
    g.group.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::int32_t below = 0;
      for (double u : distinct) below += u < values[i];
      g.group[i] = below;
    }
    return g;
  }
  std::map<double, std::int32_t> ids;
  for (double v : values) ids.emplace(v, 0);
  Grouping g;
  g.name = name;
  std::int32_t next = 0;
  for (auto& [v, id] : ids) {
    id = next++;
    g.labels.push_back(FormatValue(v));
  }
  g.group.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) g.group[i] = ids[values[i]];
  return g;
}

Grouping GroupByQuantiles(const std::string& name, const std::vector<double>& values, int bins) {
  return cate::GroupByQuantiles(cate::Device::kCpu, name, values, bins);
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
