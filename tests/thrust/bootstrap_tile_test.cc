// The CUDA bootstrap's device logic (ops/bootstrap_tile.h, cuda/bootstrap_steps.h)
// run on Thrust's OpenMP backend: unit scores, the (replicate, tile) pass and
// the fixed-order tile reduction, checked against the CPU loop sampler
// (fastdml::cpu::BootstrapT) and a naive reference sum.
//
// No FMA contraction here, as in cuda/bootstrap.cu (--fmad=false): these are
// then the bits the GPU computes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thrust/execution_policy.h>
#include <type_traits>
#include <vector>

#include "cuda/bootstrap_steps.h"
#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "cpu/bootstrap.h"
#include "ops/bootstrap_checks.h"
#include "inference/bootstrap_reference.h"
#include "ops/bootstrap_tile.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

using testing::ComputeReferenceT;
using testing::kAllLaws;
using testing::MakeScoreBlock;
using testing::ReferenceT;
using testing::ReferenceUnitScores;
using testing::StreamOf;
using testing::SumTolerance;

static_assert(THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP,
              "tests/thrust runs the device code on Thrust's OpenMP backend");

constexpr std::uint64_t kSeed = 0x5EEDF00Dull;
constexpr int kRep = 2;

// Unit scores through the device steps (thrust::device = OpenMP here).
std::vector<double> DeviceUnitScores(const ScoreBlock& sc) {
  const int k = sc.k;
  std::vector<double> divisors(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) divisors[static_cast<std::size_t>(j)] = ops::UnitScoreDivisor(sc, j);
  const std::size_t count = sc.n * static_cast<std::size_t>(k);
  const std::uint64_t bad = bootstrap_steps::FirstNonFinite(thrust::device, sc.psi.data(), count);
  if (bad < count) ops::ThrowNonFinitePsi(sc, static_cast<std::size_t>(bad / sc.n));
  if (sc.cluster.empty()) {
    std::vector<double> s(count);
    bootstrap_steps::RowUnitScores(thrust::device, sc.psi.data(), sc.n, k, divisors.data(), s.data());
    return s;
  }
  const std::size_t units = static_cast<std::size_t>(sc.n_clusters);
  std::vector<std::int32_t> keys = sc.cluster;
  std::vector<std::int64_t> rows(sc.n), offsets(units + 1);
  bootstrap_steps::SortRowsByCluster(thrust::device, keys.data(), sc.n, sc.n_clusters, rows.data(),
                                     offsets.data());
  std::vector<double> s(units * static_cast<std::size_t>(k));
  bootstrap_steps::ClusterUnitScores(thrust::device, sc.psi.data(), sc.n, k, rows.data(),
                                     offsets.data(), sc.n_clusters, divisors.data(), s.data());
  return s;
}

// Calls fn(std::integral_constant<std::uint32_t, stream>) for the law's Philox stream.
template <class Fn>
void WithStream(BootstrapMethod law, const Fn& fn) {
  using S = std::uint32_t;
  switch (law) {
    case BootstrapMethod::kRademacher: return fn(std::integral_constant<S, ops::kStreamRademacher>());
    case BootstrapMethod::kMammen: return fn(std::integral_constant<S, ops::kStreamMammen>());
    case BootstrapMethod::kNormal: return fn(std::integral_constant<S, ops::kStreamNormal>());
    case BootstrapMethod::kWild: return fn(std::integral_constant<S, ops::kStreamWild>());
    case BootstrapMethod::kBayes: return fn(std::integral_constant<S, ops::kStreamBayes>());
  }
}

// t* of the tiled path, launched `per_launch` replicates at a time (the GPU
// chunks replicates the same way when partials would not fit).
std::vector<double> TiledT(const ScoreBlock& sc, BootstrapMethod law, std::int64_t replicates,
                           std::int64_t per_launch) {
  const std::vector<double> s = DeviceUnitScores(sc);
  const int k = sc.k;
  const std::uint64_t units = s.size() / static_cast<std::size_t>(k);
  const std::uint64_t tiles = ops::TileCount(units);
  std::vector<double> t(static_cast<std::size_t>(replicates) * k);
  std::vector<double> partials(static_cast<std::size_t>(per_launch) * tiles * k);
  for (std::int64_t b0 = 0; b0 < replicates; b0 += per_launch) {
    const std::uint64_t nb = static_cast<std::uint64_t>(std::min(per_launch, replicates - b0));
    const std::uint64_t ub0 = static_cast<std::uint64_t>(b0);
    WithStream(law, [&](auto stream) {
      bootstrap_steps::TilePartials<decltype(stream)::value>(thrust::device, s.data(), units, k,
                                                             kSeed, kRep, ub0, nb, partials.data());
    });
    bootstrap_steps::ReduceTiles(thrust::device, partials.data(), tiles, k, nb,
                                 t.data() + b0 * k);
  }
  return t;
}

std::vector<double> CpuLoopT(const ScoreBlock& sc, BootstrapMethod law, std::int64_t replicates) {
  BootstrapOptions o;
  o.replicates = replicates;
  o.method = law;
  o.sampler = BootstrapSampler::kLoop;
  o.seed = kSeed;
  return cpu::BootstrapT(sc, o, kRep);
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ops::DoubleBits(a[i]) != ops::DoubleBits(b[i])) return false;
  return true;
}

std::string Describe(BootstrapMethod law, int k, bool clustered) {
  return std::string(ToString(law)) + ", k = " + std::to_string(k) +
         (clustered ? ", clustered" : ", rows");
}

// Two tiles and a short third (n not a multiple of kBootstrapTileUnits).
constexpr std::size_t kRows = 2 * ops::kBootstrapTileUnits + 1000;
constexpr std::int32_t kClusters = static_cast<std::int32_t>(2 * ops::kBootstrapTileUnits + 333);
constexpr std::size_t kClusteredRows = 40000;
constexpr std::int64_t kReplicates = 24;

TEST(BootstrapTileOmp, TileWeightsAreTheContractWeights) {
  // Integer-derived laws: bit-identical. The continuous ones evaluate the same
  // ops/ code in the same order, so the host gives the same bits as well.
  for (BootstrapMethod law : kAllLaws) {
    SCOPED_TRACE(ToString(law));
    for (std::uint32_t b : {0u, 1u, 77u, 4000000000u}) {
      for (std::uint64_t u = 0; u < 1000; u += 1) {
        double tile_w = 0.0;
        WithStream(law, [&](auto stream) {
          tile_w = ops::TileWeight<decltype(stream)::value>(kSeed, kRep, b, u);
        });
        const double want = ops::BootstrapWeight(StreamOf(law), kSeed, kRep, b, u);
        ASSERT_EQ(ops::DoubleBits(want), ops::DoubleBits(tile_w)) << "b " << b << ", unit " << u;
      }
    }
  }
}

TEST(BootstrapTileOmp, UnitScoresAreTheCpuBits) {
  for (std::int32_t clusters : {0, kClusters}) {
    SCOPED_TRACE(clusters ? "clustered" : "rows");
    const ScoreBlock sc = MakeScoreBlock(clusters ? kClusteredRows : kRows, 3, clusters, 11);
    EXPECT_TRUE(SameBits(ReferenceUnitScores(sc), DeviceUnitScores(sc)));
  }
}

// Every law, rows and clusters, k = 1, 3 and 5 (two estimand passes): the
// tiled t* against the CPU loop sampler and the naive reference within the
// rounding bound of testing::SumTolerance.
TEST(BootstrapTileOmp, MatchesCpuLoopSamplerWithinRounding) {
  for (std::int32_t clusters : {0, kClusters}) {
    for (int k : {1, 3, 5}) {
      const ScoreBlock sc =
          MakeScoreBlock(clusters ? kClusteredRows : kRows, k, clusters, 100 + k + clusters);
      for (BootstrapMethod law : kAllLaws) {
        SCOPED_TRACE(Describe(law, k, clusters > 0));
        const std::vector<double> tiled = TiledT(sc, law, kReplicates, kReplicates);
        const std::vector<double> cpu = CpuLoopT(sc, law, kReplicates);
        const ReferenceT ref = ComputeReferenceT(sc, law, kSeed, kRep, kReplicates);
        ASSERT_EQ(tiled.size(), cpu.size());
        double worst = 0.0;  // largest error as a fraction of its bound
        for (std::size_t i = 0; i < tiled.size(); ++i) {
          const double tol = SumTolerance(ref.units, ref.abs[i]);
          worst = std::max({worst, std::fabs(tiled[i] - cpu[i]) / tol,
                            std::fabs(tiled[i] - ref.t[i]) / tol});
          ASSERT_LE(std::fabs(tiled[i] - cpu[i]), tol) << "t index " << i;
          ASSERT_LE(std::fabs(tiled[i] - ref.t[i]), tol) << "t index " << i;
        }
        EXPECT_GT(worst, 0.0);  // the orders do differ somewhere: the check is not vacuous
      }
    }
  }
}

// Dyadic scores make every partial sum exact: Rademacher t* are then the
// same bits on the tiled path, the CPU loop sampler and the naive sum.
TEST(BootstrapTileOmp, DyadicRademacherIsExact) {
  for (std::int32_t clusters : {0, kClusters}) {
    for (int k : {1, 3}) {
      SCOPED_TRACE(Describe(BootstrapMethod::kRademacher, k, clusters > 0));
      const ScoreBlock sc =
          MakeScoreBlock(clusters ? kClusteredRows : kRows, k, clusters, 7 + k, /*dyadic=*/true);
      const std::vector<double> tiled = TiledT(sc, BootstrapMethod::kRademacher, kReplicates, kReplicates);
      EXPECT_TRUE(SameBits(tiled, CpuLoopT(sc, BootstrapMethod::kRademacher, kReplicates)));
      EXPECT_TRUE(SameBits(tiled, ComputeReferenceT(sc, BootstrapMethod::kRademacher, kSeed, kRep,
                                                     kReplicates).t));
    }
  }
}

// The determinism contract: the same bits for 1 or 2 OpenMP threads and
// whatever number of replicates one launch covers.
TEST(BootstrapTileOmp, BitsDoNotDependOnThreadsOrLaunchChunks) {
  const int saved = omp_get_max_threads();
  for (std::int32_t clusters : {0, kClusters}) {
    const ScoreBlock sc = MakeScoreBlock(clusters ? kClusteredRows : kRows, 3, clusters, 5);
    for (BootstrapMethod law : {BootstrapMethod::kMammen, BootstrapMethod::kWild}) {
      SCOPED_TRACE(Describe(law, 3, clusters > 0));
      omp_set_num_threads(1);
      const std::vector<double> one = TiledT(sc, law, kReplicates, kReplicates);
      omp_set_num_threads(2);
      const std::vector<double> two = TiledT(sc, law, kReplicates, kReplicates);
      const std::vector<double> chunked = TiledT(sc, law, kReplicates, 7);
      EXPECT_TRUE(SameBits(one, two));
      EXPECT_TRUE(SameBits(one, chunked));
    }
  }
  omp_set_num_threads(saved);
}

TEST(BootstrapTileOmp, NonFinitePsiIsReportedLikeTheCpu) {
  ScoreBlock sc = MakeScoreBlock(1000, 2, 0, 3);
  sc.psi[1000 + 417] = std::nan("");
  sc.psi[1000 + 900] = INFINITY;
  std::string cpu_msg, device_msg;
  try {
    CpuLoopT(sc, BootstrapMethod::kRademacher, 4);
  } catch (const Error& e) {
    cpu_msg = e.what();
  }
  try {
    DeviceUnitScores(sc);
  } catch (const Error& e) {
    device_msg = e.what();
  }
  EXPECT_NE(cpu_msg.find("estimand 1 is not finite at row 417"), std::string::npos) << cpu_msg;
  EXPECT_EQ(cpu_msg, device_msg);
}

}  // namespace
}  // namespace fastdml
