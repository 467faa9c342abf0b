// One score specification (include/fastdml/options.h): one clipping default,
// and every option struct that names a score holds a ScoreSpec built from it.
#include <gtest/gtest.h>

#include "fastdml/cate.h"
#include "fastdml/cate_model.h"
#include "fastdml/options.h"
#include "ops/score_args.h"

namespace fastdml {
namespace {

TEST(ScoreSpec, EveryDefaultIsTheOneDeclaration) {
  EXPECT_EQ(kDefaultClip, 0.01);  // DoubleML's clipping_threshold
  EXPECT_EQ(ScoreSpec().clip, kDefaultClip);
  EXPECT_EQ(Options().clip, kDefaultClip);
  EXPECT_EQ(GateOptions().score.clip, kDefaultClip);
  EXPECT_EQ(BlpOptions().score.clip, kDefaultClip);
  EXPECT_EQ(SortedGatesOptions().score.clip, kDefaultClip);
  EXPECT_EQ(IrmScoreArgs().spec.clip, kDefaultClip);
  EXPECT_FALSE(ScoreSpec().normalize_ipw);
  EXPECT_EQ(ScoreSpec().estimand, Estimand::kAte);
  EXPECT_EQ(ScoreSpec().model, Model::kIrm);
}

TEST(ScoreSpec, OptionsScoreCarriesModelClipAndNormalisation) {
  Options o;
  o.model = Model::kPlr;
  o.clip = 0.03;
  o.normalize_ipw = true;
  const ScoreSpec s = o.Score(Estimand::kAtt);
  EXPECT_EQ(s.model, Model::kPlr);
  EXPECT_EQ(s.estimand, Estimand::kAtt);
  EXPECT_EQ(s.clip, 0.03);
  EXPECT_TRUE(s.normalize_ipw);
}

}  // namespace
}  // namespace fastdml
