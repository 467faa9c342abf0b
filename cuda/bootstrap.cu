// CUDA twin of the multiplier bootstrap's loop sampler: psi read where
// Estimate left it on the GPU (ScoreBlock::device_scores) or uploaded once,
// unit scores (cluster sums included) built on the device, one fused kernel
// that draws the Philox weights and sums them against s without storing them,
// a fixed-order reduction over tiles, and only t (B x k) copied back.
//
// Compiled with --fmad=false (CMakeLists.txt): the weights' Box-Muller/log
// arithmetic and the tile sums then round exactly like the host build, so the
// weights are the CPU's bits for every law and t* is the bits that
// tests/thrust computes with the same code on the CPU.
//
// Cost model (B = 10,000 replicates, n = 1e7 rows, k = 2, Rademacher or Mammen,
// one H100 SXM: ~17e12 FP64 add/mul per s, ~3 TB/s HBM, 132 SMs):
// - weights: one Philox4x32-10 call (~40 integer instructions) per 128 units
//   (Rademacher) or 4 units (Mammen): 7.8e8 / 2.5e10 calls, < 10 / ~60 ms;
// - sums: B n k = 2e11 multiply-adds, as separate mul + add (no FMA) = 4e11
//   FP64 instructions, ~25 ms, and as many shared-memory broadcast reads
//   (one LDS per warp per unit and estimand: 6e9 warp loads, ~25 ms);
// - bytes: each block of 128 replicates reads its tile's s once from global
//   memory (8 k bytes per unit), so B / 128 x 160 MB = 12.5 GB over the
//   run, mostly from L2 (~5 ms at HBM speed); partials B x 1221 tiles x k x 8 B
//   = 195 MB written and read once (< 1 ms); the psi upload, when psi is not
//   already on the device (160 MB over PCIe, ~15 ms), dominates the transfers;
// - occupancy: grid = 1221 tiles x 79 replicate blocks = 96k blocks of 128
//   threads, 16 KiB shared memory per block, ~40-64 registers per thread:
//   several blocks per SM, enough warps to hide the shared-memory latency.
// Expected ~0.1 s in all, within the 1 s target (not yet measured on a GPU).
// Continuous laws cost more per weight: Wild needs a Box-Muller pair per
// unit (~100 FP64 instructions, ~0.6 s for the same sizes), Normal one per two
// units, Bayes a log per unit. kAuto sends Normal to the exact sampler.
#include "cuda/bootstrap.h"
#include "cuda/device.h"
#include "cuda/scores.h"  // DeviceScores

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>
#include <thrust/execution_policy.h>
#include <vector>

#include "cuda/bootstrap_steps.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/thrust_check.h"
#include "fastdml/error.h"
#include "ops/bootstrap_checks.h"
#include "ops/bootstrap_tile.h"
#include "ops/philox_weights.h"

namespace fastdml::cuda {
namespace {

constexpr int kReplicatesPerBlock = 128;   // threads per block: one replicate each
constexpr std::uint64_t kStageUnits = 512;  // units of s per shared-memory stage
static_assert(kStageUnits % ops::kUnitsPerBlockRademacher == 0 &&
                  ops::kBootstrapTileUnits % kStageUnits == 0,
              "a stage never splits a Philox block and tiles are whole stages");
constexpr std::size_t kMaxPartialBytes = std::size_t{256} << 20;  // per launch
constexpr std::int64_t kMaxGridY = 65535;

// partials of replicates [b0, b0 + nb) and estimands [j0, j0 + kj): block
// (tile, group) runs replicates group * 128 + threadIdx.x over tile `tile`.
// The tile's s are staged through shared memory so that the 128 threads read
// each value as one broadcast; each thread then adds its own weights in
// increasing u (ops::AccumulateUnits), the order ops::TilePartialFn uses.
template <std::uint32_t kStream>
__global__ void __launch_bounds__(kReplicatesPerBlock)
    TilePartialKernel(const double* s, std::uint64_t units, std::uint64_t tiles, int k, int j0,
                      int kj, std::uint64_t seed, std::uint32_t rep, std::uint64_t b0,
                      std::uint64_t nb, double* partials) {
  __shared__ double stage[ops::kMaxTileEstimands * kStageUnits];
  const std::uint64_t tile = blockIdx.x;
  const std::uint64_t bl = static_cast<std::uint64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  const bool active = bl < nb;
  const std::uint64_t t0 = ops::TileFirstUnit(tile), t1 = ops::TileEndUnit(tile, units);
  double acc[ops::kMaxTileEstimands] = {};
  for (std::uint64_t c0 = t0; c0 < t1; c0 += kStageUnits) {
    const std::uint64_t c1 = c0 + kStageUnits < t1 ? c0 + kStageUnits : t1;
    __syncthreads();  // the previous stage is no longer read
    for (std::uint64_t i = threadIdx.x; i < static_cast<std::uint64_t>(kj) * kStageUnits;
         i += blockDim.x) {
      const std::uint64_t j = i / kStageUnits, u = c0 + i % kStageUnits;
      stage[i] = u < c1 ? s[(j0 + j) * units + u] : 0.0;
    }
    __syncthreads();
    if (active) {
      ops::AccumulateUnits<kStream>(seed, rep, static_cast<std::uint32_t>(b0 + bl), c0, c1, stage,
                                    kStageUnits, kj, acc);
    }
  }
  if (active) {
#pragma unroll
    for (int j = 0; j < ops::kMaxTileEstimands; ++j) {  // static indices keep acc in registers
      if (j < kj) partials[ops::PartialIndex(bl, tile, tiles, k, j0 + j)] = acc[j];
    }
  }
}

template <std::uint32_t kStream>
__global__ void WeightsKernel(std::uint64_t seed, std::uint32_t rep, std::uint64_t b0,
                              std::uint64_t nb, std::uint64_t u0, std::uint64_t nu, double* w) {
  const std::uint64_t count = nb * nu;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
       i < count; i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    w[i] = ops::TileWeight<kStream>(seed, rep, static_cast<std::uint32_t>(b0 + i / nu), u0 + i % nu);
  }
}

void CheckLaunch() { FASTDML_CUDA_CHECK(cudaGetLastError()); }

// Replicates per launch: partials stay under kMaxPartialBytes (at least one
// block of replicates) and the grid's y dimension under its limit.
std::uint64_t ReplicatesPerLaunch(std::uint64_t replicates, std::uint64_t tiles, int k) {
  const std::uint64_t per_replicate = tiles * static_cast<std::uint64_t>(k) * sizeof(double);
  std::uint64_t chunk = kMaxPartialBytes / per_replicate / kReplicatesPerBlock * kReplicatesPerBlock;
  chunk = std::max<std::uint64_t>(chunk, kReplicatesPerBlock);
  chunk = std::min<std::uint64_t>(chunk, static_cast<std::uint64_t>(kMaxGridY) * kReplicatesPerBlock);
  return std::min(chunk, replicates);
}

template <std::uint32_t kStream>
void LaunchTilePartials(const double* s, std::uint64_t units, std::uint64_t tiles, int k,
                        std::uint64_t seed, std::uint32_t rep, std::uint64_t b0, std::uint64_t nb,
                        double* partials) {
  const dim3 grid(static_cast<unsigned>(tiles),
                  static_cast<unsigned>((nb + kReplicatesPerBlock - 1) / kReplicatesPerBlock));
  for (int j0 = 0; j0 < k; j0 += ops::kMaxTileEstimands) {
    const int kj = std::min(k - j0, ops::kMaxTileEstimands);
    TilePartialKernel<kStream><<<grid, kReplicatesPerBlock>>>(s, units, tiles, k, j0, kj, seed,
                                                              rep, b0, nb, partials);
    CheckLaunch();
  }
}

template <std::uint32_t kStream>
void LaunchWeights(std::uint64_t seed, std::uint32_t rep, std::uint64_t b0, std::uint64_t nb,
                   std::uint64_t u0, std::uint64_t nu, double* w) {
  constexpr int kThreads = 256;
  const std::uint64_t blocks = std::min<std::uint64_t>((nb * nu + kThreads - 1) / kThreads, 65535);
  WeightsKernel<kStream><<<static_cast<unsigned>(blocks), kThreads>>>(seed, rep, b0, nb, u0, nu, w);
  CheckLaunch();
}

// The law's Philox stream as a template argument.
#define FASTDML_FOR_LAW(law, CALL)                                            \
  switch (law) {                                                              \
    case BootstrapMethod::kRademacher: CALL(ops::kStreamRademacher); break;    \
    case BootstrapMethod::kMammen: CALL(ops::kStreamMammen); break;            \
    case BootstrapMethod::kNormal: CALL(ops::kStreamNormal); break;            \
    case BootstrapMethod::kWild: CALL(ops::kStreamWild); break;                \
    case BootstrapMethod::kBayes: CALL(ops::kStreamBayes); break;              \
    default: throw UsageError("--bootstrap-method: unknown method");          \
  }

}  // namespace

std::vector<double> BootstrapT(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  ops::ValidateBootstrap(sc, o, rep);
  // The exact sampler needs only the k x k Gram of s and B k normal draws: it
  // is host code, and fastdml::BootstrapT sends it to the CPU twin.
  if (ops::UsesExactBootstrap(o)) {
    throw Error("internal: cuda::BootstrapT runs the loop sampler; the exact sampler runs on the host "
                "(call fastdml::BootstrapT)");
  }
  const DeviceScope on_device(o.device);  // "cuda:N": that GPU for this call

  const std::uint64_t n = sc.n;
  const int k = sc.k;
  const bool clustered = !sc.cluster.empty();
  const std::uint64_t units = clustered ? static_cast<std::uint64_t>(sc.n_clusters) : n;
  const std::uint64_t count = n * static_cast<std::uint64_t>(k);
  std::vector<double> divisors(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) divisors[static_cast<std::size_t>(j)] = ops::UnitScoreDivisor(sc, j);

  // psi as Estimate left it on this GPU, or uploaded.
  const bool resident = sc.device_scores && sc.device_scores->n() == sc.n && sc.device_scores->k() == k &&
                        sc.device_scores->ordinal() == CurrentDevice();
  DeviceBuffer<double> psi_upload;
  if (!resident) psi_upload = CopyToDevice(sc.psi.data(), count);
  const double* psi = resident ? sc.device_scores->psi() : psi_upload.get();
  auto divisors_dev = CopyToDevice(divisors.data(), divisors.size());
  std::uint64_t first_bad = count;
  RunThrust("the bootstrap's finite check", [&] {
    first_bad = bootstrap_steps::FirstNonFinite(thrust::device, psi, count);
  });
  if (first_bad < count) ops::ThrowNonFinitePsi(sc, static_cast<std::size_t>(first_bad / n));

  auto s = AllocateDevice<double>(units * static_cast<std::uint64_t>(k));
  if (clustered) {
    auto keys = CopyToDevice(sc.cluster.data(), n);
    auto rows = AllocateDevice<std::int64_t>(n);
    auto offsets = AllocateDevice<std::int64_t>(units + 1);
    RunThrust("the bootstrap's cluster sort", [&] {
      bootstrap_steps::SortRowsByCluster(thrust::device, keys.get(), n, sc.n_clusters, rows.get(),
                                         offsets.get());
      bootstrap_steps::ClusterUnitScores(thrust::device, psi, n, k, rows.get(),
                                         offsets.get(), sc.n_clusters, divisors_dev.get(),
                                         s.get());
    });
  } else {
    RunThrust("the bootstrap's unit scores", [&] {
      bootstrap_steps::RowUnitScores(thrust::device, psi, n, k, divisors_dev.get(), s.get());
    });
  }
  psi_upload.reset();  // s is all the replicates read

  const std::uint64_t replicates = static_cast<std::uint64_t>(o.replicates);
  const std::uint64_t tiles = ops::TileCount(units);
  const std::uint64_t chunk = ReplicatesPerLaunch(replicates, tiles, k);
  auto partials = AllocateDevice<double>(chunk * tiles * static_cast<std::uint64_t>(k));
  auto t_dev = AllocateDevice<double>(replicates * static_cast<std::uint64_t>(k));
  const std::uint32_t r = static_cast<std::uint32_t>(rep);
  for (std::uint64_t b0 = 0; b0 < replicates; b0 += chunk) {
    const std::uint64_t nb = std::min(chunk, replicates - b0);
#define FASTDML_LAUNCH(stream) \
  LaunchTilePartials<stream>(s.get(), units, tiles, k, o.seed, r, b0, nb, partials.get())
    FASTDML_FOR_LAW(o.method, FASTDML_LAUNCH)
#undef FASTDML_LAUNCH
    RunThrust("the bootstrap's tile reduction", [&] {
      bootstrap_steps::ReduceTiles(thrust::device, partials.get(), tiles, k, nb,
                                   t_dev.get() + b0 * static_cast<std::uint64_t>(k));
    });
  }
  std::vector<double> t(static_cast<std::size_t>(replicates) * static_cast<std::size_t>(k));
  CopyToHost(t_dev, t.size(), t.data());
  return t;
}

std::vector<double> BootstrapWeights(std::uint64_t seed, int rep, BootstrapMethod law,
                                     std::int64_t b0, std::int64_t nb, std::uint64_t u0,
                                     std::uint64_t nu) {
  if (rep < 0 || b0 < 0 || nb < 0 || b0 + nb > (std::int64_t{1} << 32)) {
    throw Error("cuda::BootstrapWeights: need rep >= 0 and 0 <= b0 <= b0 + nb <= 2^32");
  }
  if (u0 + nu > (std::uint64_t{1} << 32)) {
    throw Error("cuda::BootstrapWeights: units beyond 2^32 are outside the counter contract");
  }
  const std::uint64_t count = static_cast<std::uint64_t>(nb) * nu;
  std::vector<double> w(static_cast<std::size_t>(count));
  if (count == 0) return w;
  auto w_dev = AllocateDevice<double>(count);
#define FASTDML_LAUNCH(stream)                                                                 \
  LaunchWeights<stream>(seed, static_cast<std::uint32_t>(rep), static_cast<std::uint64_t>(b0), \
                        static_cast<std::uint64_t>(nb), u0, nu, w_dev.get())
  FASTDML_FOR_LAW(law, FASTDML_LAUNCH)
#undef FASTDML_LAUNCH
  CopyToHost(w_dev, count, w.data());
  return w;
}

#undef FASTDML_FOR_LAW

}  // namespace fastdml::cuda
