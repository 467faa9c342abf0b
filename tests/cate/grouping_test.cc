// GroupByCategory: the few-category path and the map path give the groups
// that the sorted distinct values define.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

// Reference: ids in the order of the sorted distinct values.
std::vector<std::int32_t> RankIds(const std::vector<double>& v) {
  std::map<double, std::int32_t> ids;
  for (double x : v) ids.emplace(x, 0);
  std::int32_t next = 0;
  for (auto& kv : ids) kv.second = next++;
  std::vector<std::int32_t> out;
  for (double x : v) out.push_back(ids[x]);
  return out;
}

TEST(GroupByCategory, IdsFollowTheSortedValuesForFewAndManyCategories) {
  for (int categories : {1, 2, 5, 64, 65, 300}) {
    std::vector<double> v;
    for (int i = 0; i < 2000; ++i) v.push_back(static_cast<double>((i * 7919) % categories) * 0.5 - 3.0);
    const Grouping g = GroupByCategory("c", v);
    ASSERT_EQ(static_cast<int>(g.labels.size()), categories);
    EXPECT_EQ(g.group, RankIds(v)) << categories << " categories";
    EXPECT_EQ(g.labels.front(), "-3");
  }
}

TEST(GroupByCategory, MinusZeroAndZeroAreOneGroupLabelledAsFirstSeen) {
  const Grouping a = GroupByCategory("c", {-0.0, 1.0, 0.0, 1.0});
  EXPECT_EQ(a.labels, (std::vector<std::string>{"-0", "1"}));
  EXPECT_EQ(a.group, (std::vector<std::int32_t>{0, 1, 0, 1}));
  const Grouping b = GroupByCategory("c", {2.0, 0.0, -0.0});
  EXPECT_EQ(b.labels, (std::vector<std::string>{"0", "2"}));
  EXPECT_EQ(b.group, (std::vector<std::int32_t>{1, 0, 0}));
}

TEST(GroupByCategory, MissingValuesAreDataErrorsNamingTheFirstRow) {
  for (double bad : {NAN, INFINITY, -INFINITY}) {
    std::vector<double> few = {1.0, 2.0, bad, 1.0, bad};
    try {
      GroupByCategory("c", few);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("row 3 "), std::string::npos) << e.what();
    }
    std::vector<double> many;  // past the few-category path, the bad value last
    for (int i = 0; i < 200; ++i) many.push_back(i);
    many.push_back(bad);
    EXPECT_THROW(GroupByCategory("c", many), DataError);
  }
}

}  // namespace
}  // namespace fastdml
