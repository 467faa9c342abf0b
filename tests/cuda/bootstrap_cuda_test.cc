// One test body per device for the multiplier bootstrap: each body checks a
// device's BootstrapT against the naive reference sum (tests/inference/
// bootstrap_reference.h); the CUDA twin is also checked against the CPU one
// (weights, t*, joint critical values, errors) and for run-to-run determinism.
// CUDA bodies skip with cuda::Available's reason where no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cuda/bootstrap.h"
#include "cuda/expect_built_without_cuda.h"
#include "cuda/device.h"
#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "cpu/bootstrap.h"
#include "inference/bootstrap_reference.h"
#include "ops/bootstrap_tile.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

using testing::ComputeReferenceT;
using testing::kAllLaws;
using testing::MakeScoreBlock;
using testing::ReferenceT;
using testing::StreamOf;
using testing::SumTolerance;

using BootFn = std::function<std::vector<double>(const ScoreBlock&, const BootstrapOptions&, int)>;

constexpr std::uint64_t kSeed = 424242;
constexpr int kRep = 1;
constexpr std::int64_t kReplicates = 40;
// Rows: two full tiles and a short one; clusters: more than one tile of them.
constexpr std::size_t kRows = 2 * ops::kBootstrapTileUnits + 777;
constexpr std::size_t kClusteredRows = 30000;
constexpr std::int32_t kClusters = static_cast<std::int32_t>(ops::kBootstrapTileUnits + 500);

BootstrapOptions LoopOptions(BootstrapMethod law) {
  BootstrapOptions o;
  o.replicates = kReplicates;
  o.method = law;
  o.sampler = BootstrapSampler::kLoop;
  o.seed = kSeed;
  return o;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ops::DoubleBits(a[i]) != ops::DoubleBits(b[i])) return false;
  return true;
}

// |t - reference| within the rounding bound of two summation orders, for
// every law, rows and clusters, k = 1 and 3.
void TestMatchesReferenceSum(const BootFn& boot) {
  for (std::int32_t clusters : {0, kClusters}) {
    for (int k : {1, 3}) {
      const ScoreBlock sc = MakeScoreBlock(clusters ? kClusteredRows : kRows, k, clusters, 31 + k);
      for (BootstrapMethod law : kAllLaws) {
        SCOPED_TRACE(std::string(ToString(law)) + ", k = " + std::to_string(k) +
                     (clusters ? ", clustered" : ", rows"));
        const std::vector<double> t = boot(sc, LoopOptions(law), kRep);
        const ReferenceT ref = ComputeReferenceT(sc, law, kSeed, kRep, kReplicates);
        ASSERT_EQ(t.size(), ref.t.size());
        for (std::size_t i = 0; i < t.size(); ++i) {
          ASSERT_LE(std::fabs(t[i] - ref.t[i]), SumTolerance(ref.units, ref.abs[i])) << "t index " << i;
        }
      }
    }
  }
}

// Dyadic scores: every partial sum is exact, so Rademacher t* are the
// reference's bits in any summation order.
void TestDyadicRademacherExact(const BootFn& boot) {
  for (std::int32_t clusters : {0, kClusters}) {
    SCOPED_TRACE(clusters ? "clustered" : "rows");
    const ScoreBlock sc = MakeScoreBlock(clusters ? kClusteredRows : kRows, 2, clusters, 9, true);
    const std::vector<double> t = boot(sc, LoopOptions(BootstrapMethod::kRademacher), kRep);
    EXPECT_TRUE(SameBits(t, ComputeReferenceT(sc, BootstrapMethod::kRademacher, kSeed, kRep,
                                              kReplicates).t));
  }
}

// The message of each bad input (empty when none was thrown).
std::vector<std::string> BadInputMessages(const BootFn& boot) {
  std::vector<std::function<void(ScoreBlock&, BootstrapOptions&, int&)>> breakers = {
      [](ScoreBlock&, BootstrapOptions& o, int&) { o.replicates = 0; },
      [](ScoreBlock&, BootstrapOptions& o, int&) { o.threads = -1; },
      [](ScoreBlock&, BootstrapOptions& o, int&) { o.sampler = BootstrapSampler::kExact; },
      [](ScoreBlock&, BootstrapOptions&, int& rep) { rep = -1; },
      [](ScoreBlock& sc, BootstrapOptions&, int&) { sc.psi.pop_back(); },
      [](ScoreBlock& sc, BootstrapOptions&, int&) { sc.j[1] = 0.0; },
      [](ScoreBlock& sc, BootstrapOptions&, int&) { sc.se[0] = -1.0; },
      [](ScoreBlock& sc, BootstrapOptions&, int&) { sc.psi[sc.n + 17] = std::nan(""); },
      [](ScoreBlock& sc, BootstrapOptions&, int&) {
        sc.cluster.assign(sc.n, 0);
        sc.n_clusters = 3;
        sc.cluster[5] = 3;
      },
      [](ScoreBlock& sc, BootstrapOptions&, int&) {
        sc.cluster.assign(sc.n - 1, 0);
        sc.n_clusters = 1;
      },
  };
  std::vector<std::string> messages;
  for (const auto& do_break : breakers) {
    ScoreBlock sc = MakeScoreBlock(300, 2, 0, 1);
    BootstrapOptions o = LoopOptions(BootstrapMethod::kMammen);
    int rep = 0;
    do_break(sc, o, rep);
    std::string msg;
    try {
      boot(sc, o, rep);
    } catch (const Error& e) {
      msg = e.what();
    }
    messages.push_back(msg);
  }
  return messages;
}

void TestBadInputsAreRejected(const BootFn& boot) {
  const std::vector<std::string> messages = BadInputMessages(boot);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_FALSE(messages[i].empty()) << "bad input " << i << " was accepted";
  }
}

std::vector<double> CpuBoot(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  return cpu::BootstrapT(sc, o, rep);
}
std::vector<double> CudaBoot(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  return cuda::BootstrapT(sc, o, rep);
}

#define FASTDML_SKIP_WITHOUT_CUDA()                          \
  do {                                                       \
    std::string why_not;                                     \
    if (!cuda::Available(&why_not)) GTEST_SKIP() << why_not; \
  } while (0)

TEST(BootstrapCpu, MatchesReferenceSum) { TestMatchesReferenceSum(CpuBoot); }
TEST(BootstrapCpu, DyadicRademacherIsExact) { TestDyadicRademacherExact(CpuBoot); }
TEST(BootstrapCpu, BadInputsAreRejected) { TestBadInputsAreRejected(CpuBoot); }

TEST(BootstrapCuda, MatchesReferenceSum) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestMatchesReferenceSum(CudaBoot);
}
TEST(BootstrapCuda, DyadicRademacherIsExact) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestDyadicRademacherExact(CudaBoot);
}
TEST(BootstrapCuda, BadInputsAreRejected) {
  FASTDML_SKIP_WITHOUT_CUDA();
  TestBadInputsAreRejected(CudaBoot);
}

TEST(BootstrapCuda, BadInputsGiveTheCpuErrors) {
  FASTDML_SKIP_WITHOUT_CUDA();
  EXPECT_EQ(BadInputMessages(CpuBoot), BadInputMessages(CudaBoot));
}

// The kernel's weights: Rademacher and Mammen bit-identical to the contract;
// the continuous laws within 4 ulp (the same operations compiled with
// --fmad=false should give the same bits; 4 ulp is what the contract promises
// should contraction creep in: Log, Sqrt and SinCos are each <= 2 ulp).
TEST(BootstrapCuda, WeightsAreTheCpuWeights) {
  FASTDML_SKIP_WITHOUT_CUDA();
  const std::int64_t b0 = 3, nb = 5;
  const std::uint64_t u0 = 256, nu = 1000;
  for (BootstrapMethod law : kAllLaws) {
    SCOPED_TRACE(ToString(law));
    const std::vector<double> w = cuda::BootstrapWeights(kSeed, kRep, law, b0, nb, u0, nu);
    ASSERT_EQ(w.size(), static_cast<std::size_t>(nb) * nu);
    const bool integer_derived = law == BootstrapMethod::kRademacher || law == BootstrapMethod::kMammen;
    for (std::int64_t b = 0; b < nb; ++b) {
      for (std::uint64_t u = 0; u < nu; ++u) {
        const double want = ops::BootstrapWeight(StreamOf(law), kSeed, kRep,
                                                 static_cast<std::uint32_t>(b0 + b), u0 + u);
        const double got = w[static_cast<std::size_t>(b) * nu + u];
        if (integer_derived) {
          ASSERT_EQ(ops::DoubleBits(want), ops::DoubleBits(got)) << "b " << b0 + b << ", unit " << u0 + u;
        } else {
          ASSERT_LE(std::fabs(got - want), 4.0 * std::ldexp(std::fabs(want) + 1e-300, -52))
              << "b " << b0 + b << ", unit " << u0 + u;
        }
      }
    }
  }
}

// CPU and GPU t* within the rounding bound, and so the joint critical values:
// a quantile of max_j |t*_bj| moves by at most the largest change of any t*.
TEST(BootstrapCuda, MatchesCpuAndJointCriticalValues) {
  FASTDML_SKIP_WITHOUT_CUDA();
  for (std::int32_t clusters : {0, kClusters}) {
    const ScoreBlock sc = MakeScoreBlock(clusters ? kClusteredRows : kRows, 2, clusters, 77);
    for (BootstrapMethod law : kAllLaws) {
      SCOPED_TRACE(std::string(ToString(law)) + (clusters ? ", clustered" : ", rows"));
      const std::vector<double> cpu = CpuBoot(sc, LoopOptions(law), kRep);
      const std::vector<double> gpu = CudaBoot(sc, LoopOptions(law), kRep);
      const ReferenceT ref = ComputeReferenceT(sc, law, kSeed, kRep, kReplicates);
      double max_tol = 0.0;
      for (std::size_t i = 0; i < cpu.size(); ++i) {
        const double tol = SumTolerance(ref.units, ref.abs[i]);
        max_tol = std::max(max_tol, tol);
        ASSERT_LE(std::fabs(cpu[i] - gpu[i]), tol) << "t index " << i;
      }
      EXPECT_LE(std::fabs(JointCriticalValue(cpu, 2, 0.95) - JointCriticalValue(gpu, 2, 0.95)), max_tol);
    }
  }
}

TEST(BootstrapCuda, SameBitsRunToRun) {
  FASTDML_SKIP_WITHOUT_CUDA();
  const ScoreBlock sc = MakeScoreBlock(kClusteredRows, 3, kClusters, 5);
  for (BootstrapMethod law : {BootstrapMethod::kMammen, BootstrapMethod::kBayes}) {
    SCOPED_TRACE(ToString(law));
    EXPECT_TRUE(SameBits(CudaBoot(sc, LoopOptions(law), kRep), CudaBoot(sc, LoopOptions(law), kRep)));
  }
}

// The exact sampler stays on the CPU: the CUDA entry gives its bits.
TEST(BootstrapCuda, ExactSamplerIsTheCpuOne) {
  FASTDML_SKIP_WITHOUT_CUDA();
  const ScoreBlock sc = MakeScoreBlock(5000, 3, 0, 8);
  BootstrapOptions o = LoopOptions(BootstrapMethod::kNormal);
  o.sampler = BootstrapSampler::kAuto;
  o.device = Device::Cuda();  // the dispatcher keeps the exact sampler on the host
  EXPECT_TRUE(SameBits(CpuBoot(sc, o, kRep), BootstrapT(sc, o, kRep)));
  EXPECT_THROW(CudaBoot(sc, o, kRep), Error);  // the CUDA twin runs the loop sampler only
}

// fastdml::BootstrapT routes on options.device.
TEST(BootstrapDispatch, DeviceChoosesTheTwin) {
  const ScoreBlock sc = MakeScoreBlock(3000, 2, 0, 4);
  BootstrapOptions o = LoopOptions(BootstrapMethod::kRademacher);
  const std::vector<double> cpu = CpuBoot(sc, o, kRep);
  o.device = Device::Cpu();
  EXPECT_TRUE(SameBits(cpu, BootstrapT(sc, o, kRep)));
  std::string why_not;
  const bool gpu = cuda::Available(&why_not);
  o.device = Device::Auto();  // the GPU when usable, else the CPU without an error
  EXPECT_TRUE(SameBits(gpu ? CudaBoot(sc, o, kRep) : cpu, BootstrapT(sc, o, kRep)));
  o.device = Device::Cuda();
  if (gpu) {
    EXPECT_TRUE(SameBits(CudaBoot(sc, o, kRep), BootstrapT(sc, o, kRep)));
  } else {
    try {
      BootstrapT(sc, o, kRep);
      ADD_FAILURE() << "expected fastdml::LibraryError";
    } catch (const LibraryError& e) {
      EXPECT_NE(std::string(e.what()).find("CUDA is not usable: " + why_not), std::string::npos)
          << e.what();
    }
  }
}

#ifndef FASTDML_WITH_CUDA
TEST(BootstrapCudaStubs, ThrowBuiltWithoutCuda) {
  const ScoreBlock sc = MakeScoreBlock(100, 1, 0, 2);
  test::ExpectBuiltWithoutCuda([&] { cuda::BootstrapT(sc, LoopOptions(BootstrapMethod::kMammen), 0); });
  test::ExpectBuiltWithoutCuda([] { cuda::BootstrapWeights(1, 0, BootstrapMethod::kMammen, 0, 1, 0, 1); });
}
#endif

}  // namespace
}  // namespace fastdml
