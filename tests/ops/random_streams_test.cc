// The registry of random streams (src/ops/philox_weights.h): DeriveSeed gives
// the fold plans and XGBoost seeds the values they had before it existed
// (users' fits must not move), and no two consumers share a stream.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <set>

#include "ops/philox_weights.h"

namespace fastdml {
namespace {

// The salts as fold_plan.cc, fit.cc and dr_learner.cc wrote them before
// DeriveSeed, with values pinned from an independent splitmix64 (Python).
TEST(RandomStreams, DeriveSeedKeepsTheLegacySeeds) {
  using ops::SeedStream;
  using ops::SplitMix64;
  const std::uint64_t seed = 42;
  EXPECT_EQ(ops::DeriveSeed(seed, SeedStream::kRowFolds, 1), 0x86c9e79199bbf938ull);
  EXPECT_EQ(ops::DeriveSeed(seed, SeedStream::kClusterFolds, 2), 0x2af8e9869c11b65full);
  EXPECT_EQ(ops::DeriveSeed(seed, SeedStream::kNuisance, (3ull << 32) | (4ull << 8) | 2), 0x61428ceb36c3e897ull);
  EXPECT_EQ(ops::DeriveSeed(seed, SeedStream::kCateLearner, (5ull << 16) | 6), 0x43ee18a9fdabcec7ull);
  for (std::uint64_t s : {0ull, 7ull, 0xffffffffffffffffull}) {
    for (std::uint64_t r = 0; r < 40; ++r) {
      EXPECT_EQ(ops::DeriveSeed(s, SeedStream::kRowFolds, r), SplitMix64(s ^ SplitMix64(0xf01d ^ r)));
      EXPECT_EQ(ops::DeriveSeed(s, SeedStream::kClusterFolds, r),
                SplitMix64(s ^ SplitMix64((0xc105ULL << 32) ^ r)));
      const std::uint64_t fold = r % 10, target = r % 5;
      EXPECT_EQ(ops::DeriveSeed(s, SeedStream::kNuisance, (r << 32) | (fold << 8) | target),
                SplitMix64(s ^ SplitMix64((r << 32) | (fold << 8) | target)));
      EXPECT_EQ(ops::DeriveSeed(s, SeedStream::kCateLearner, r << 16 | fold),
                SplitMix64(s ^ SplitMix64(0xCA7EULL << 40 | r << 16 | fold)));
    }
  }
}

TEST(RandomStreams, SplitMix64IsTheReferenceHash) {
  // splitmix64 of 0 (the first output of Vigna's reference generator seeded with 0).
  EXPECT_EQ(ops::SplitMix64(0), 0xe220a8397b1dcdafull);
}

// No two consumers share a stream: the registry's tags are distinct, and the
// exact Gaussian consumers (ATE/ATT bootstrap, GATE, BLP, sorted GATES) see
// different z for one seed.
TEST(RandomStreams, EveryConsumerHasItsOwnTag) {
  std::set<std::uint32_t> philox;
  for (ops::PhiloxStream s : ops::kAllPhiloxStreams) philox.insert(s);
  EXPECT_EQ(philox.size(), std::size(ops::kAllPhiloxStreams));
  EXPECT_EQ(philox.size(), 9u);
  std::set<std::uint64_t> seeds;
  for (ops::SeedStream s : ops::kAllSeedStreams) seeds.insert(static_cast<std::uint64_t>(s));
  EXPECT_EQ(seeds.size(), std::size(ops::kAllSeedStreams));

  const std::uint32_t exact[] = {ops::kStreamExactNormal, ops::kStreamGateBand, ops::kStreamBlpBand,
                                 ops::kStreamSortedGatesBand};
  for (std::uint64_t seed : {0ull, 1ull, 12345ull}) {
    for (std::size_t a = 0; a < std::size(exact); ++a)
      for (std::size_t b = a + 1; b < std::size(exact); ++b)
        EXPECT_NE(ops::ExactNormalDraw(seed, 0, 0, 0, exact[a]), ops::ExactNormalDraw(seed, 0, 0, 0, exact[b]))
            << "streams " << exact[a] << " and " << exact[b] << ", seed " << seed;
  }
}

}  // namespace
}  // namespace fastdml
