// Multiplier bootstrap timings: BootstrapT per law and sampler, against a
// "machine limit" baseline that does the Rademacher loop's (replicate, unit)
// work with no Philox: one random bit -> one masked add per (replicate, unit,
// estimand) (AVX-512: one instruction per 8 units), same tiling and threads;
// bits from 8 independent xorshift64 streams (one draw per 64 pairs), or
// drawn once and reused ("fixed-bits": the add kernel alone).
//
// BootstrapT picks its instruction-set path at run time; set
// FASTDML_BOOTSTRAP_ISA=avx2 or =portable to time the others.
//
//   build-boot/bench/bootstrap_bench --benchmark_min_time=0.05 --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true --benchmark_filter='n:1000000/B:1000/'
//
// items_per_second = B * n (replicate, row) pairs per second, k = 2 estimands.
#if __has_include(<benchmark/benchmark.h>)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fastdml/inference.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BENCH_AVX512 1
#define BENCH_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#else
#define BENCH_AVX512 0
#endif

namespace {

using fastdml::BootstrapMethod;
using fastdml::BootstrapSampler;

constexpr int kK = 2;

fastdml::ScoreBlock MakeScores(std::size_t n) {
  fastdml::ScoreBlock sc;
  sc.n = n;
  sc.k = kK;
  sc.psi.resize(n * kK);
  std::mt19937_64 gen(1);
  std::normal_distribution<double> nd;
  for (double& v : sc.psi) v = nd(gen);
  for (int j = 0; j < kK; ++j) {
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) ss += sc.psi[j * n + i] * sc.psi[j * n + i];
    sc.j.push_back(-1.0);
    sc.se.push_back(std::sqrt(ss / n / n));
    sc.theta.push_back(0.0);
  }
  return sc;
}

const fastdml::ScoreBlock& Scores(std::size_t n) {
  static fastdml::ScoreBlock small = MakeScores(100000), large = MakeScores(1000000);
  return n == 100000 ? small : large;
}

void BM_BootstrapT(benchmark::State& state, BootstrapMethod method, BootstrapSampler sampler) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::int64_t B = state.range(1);
  const fastdml::ScoreBlock& sc = Scores(n);
  fastdml::BootstrapOptions o;
  o.replicates = B;
  o.method = method;
  o.sampler = sampler;
  o.seed = 7;
  for (auto _ : state) {
    std::vector<double> t = fastdml::BootstrapT(sc, o, 0);
    benchmark::DoNotOptimize(t.data());
  }
  state.SetItemsProcessed(state.iterations() * B * static_cast<std::int64_t>(n));
}

// ---- machine-limit baseline -------------------------------------------------

constexpr int kRb = 8;
constexpr std::size_t kTile = 2048;

inline std::uint64_t XorShift(std::uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

#if BENCH_AVX512
// A_bj += s_ju over the units whose bit is 1, 8 replicates x 2 estimands in
// registers, one masked add per (replicate, 8 units, estimand).
BENCH_TARGET_AVX512 __attribute__((noinline)) void MaskedAddsAvx512(const double* s0,
                                                                   const double* s1,
                                                                   std::size_t nchunks,
                                                                   const std::uint8_t* bits,
                                                                   double* acc) {
  __m512d a0[kRb], a1[kRb];
  for (int b = 0; b < kRb; ++b) {
    a0[b] = _mm512_loadu_pd(acc + b * 16);
    a1[b] = _mm512_loadu_pd(acc + b * 16 + 8);
  }
  for (std::size_t c = 0; c < nchunks; ++c) {
    const __m512d v0 = _mm512_loadu_pd(s0 + 8 * c), v1 = _mm512_loadu_pd(s1 + 8 * c);
    for (int b = 0; b < kRb; ++b) {
      const __mmask8 m = bits[b * (kTile / 8) + c];
      a0[b] = _mm512_mask_add_pd(a0[b], m, a0[b], v0);
      a1[b] = _mm512_mask_add_pd(a1[b], m, a1[b], v1);
    }
  }
  for (int b = 0; b < kRb; ++b) {
    _mm512_storeu_pd(acc + b * 16, a0[b]);
    _mm512_storeu_pd(acc + b * 16 + 8, a1[b]);
  }
}
#endif
void MaskedAddsPortable(const double* s0, const double* s1, std::size_t nchunks,
                        const std::uint8_t* bits, double* acc) {
  for (int b = 0; b < kRb; ++b)
    for (std::size_t c = 0; c < nchunks; ++c) {
      const unsigned m = bits[b * (kTile / 8) + c];
      for (int l = 0; l < 8; ++l) {
        if ((m >> l) & 1u) {
          acc[b * 16 + l] += s0[8 * c + l];
          acc[b * 16 + 8 + l] += s1[8 * c + l];
        }
      }
    }
}

bool HaveAvx512() {
#if BENCH_AVX512
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

void MaskedAdds(const double* s0, const double* s1, std::size_t nchunks, const std::uint8_t* bits,
                double* acc) {
#if BENCH_AVX512
  static const bool avx512 = HaveAvx512();
  if (avx512) return MaskedAddsAvx512(s0, s1, nchunks, bits, acc);
#endif
  MaskedAddsPortable(s0, s1, nchunks, bits, acc);
}

// Replicates [b0, b1) over all n units: groups of 128 replicates, unit tiles
// of 2048 kept in L1, 8 replicates x 2 estimands per kernel call (the layout
// of BootstrapT's Rademacher loop). Bits: fresh from 8 independent xorshift64
// streams (one 64-bit draw per 64 pairs), or, with fixed_bits, one random
// buffer drawn once and reused (the add kernel alone: no RNG at all).
void BaselineRange(const double* s, std::size_t n, std::int64_t b0, std::int64_t b1, double* t,
                   bool fixed_bits) {
  std::vector<std::uint8_t> bits(kRb * kTile / 8);
  std::uint64_t x[kRb];
  for (int b = 0; b < kRb; ++b) x[b] = 0x9E3779B97F4A7C15ull * (b + 1) ^ static_cast<std::uint64_t>(b0);
  for (std::size_t i = 0; i < bits.size(); i += 8) {
    const std::uint64_t r = XorShift(x[0]);
    std::memcpy(&bits[i], &r, 8);
  }
  const std::int64_t group = 128;
  std::vector<double> gacc(group * 16);
  for (std::int64_t g0 = b0; g0 < b1; g0 += group) {
    const std::int64_t g1 = std::min(b1, g0 + group);
    std::fill(gacc.begin(), gacc.end(), 0.0);
    for (std::size_t u0 = 0; u0 < n; u0 += kTile) {
      const std::size_t nu = std::min(kTile, n - u0);
      for (std::int64_t sub = g0; sub < g1; sub += kRb) {
        if (!fixed_bits) {
          for (std::size_t w = 0; w < (nu + 63) / 64; ++w) {
            for (int b = 0; b < kRb; ++b) {  // 8 independent streams: no serial chain
              const std::uint64_t r = XorShift(x[b]);
              std::memcpy(&bits[b * (kTile / 8) + 8 * w], &r, 8);
            }
          }
        }
        MaskedAdds(s + u0, s + n + u0, nu / 8, bits.data(), &gacc[(sub - g0) * 16]);
      }
    }
    for (std::int64_t b = g0; b < g1; ++b) {
      for (int j = 0; j < 2; ++j) {
        double a = 0;
        for (int l = 0; l < 8; ++l) a += gacc[(b - g0) * 16 + j * 8 + l];
        t[b * 2 + j] = a;
      }
    }
  }
}

void BM_MachineLimit(benchmark::State& state, bool fixed_bits) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::int64_t B = state.range(1);
  const fastdml::ScoreBlock& sc = Scores(n);
  std::vector<double> s(sc.psi);
  std::vector<double> t(static_cast<std::size_t>(B) * 2);
  const int threads = std::max(1u, std::thread::hardware_concurrency());
  for (auto _ : state) {
    std::vector<std::thread> pool;
    const std::int64_t per = (B + threads - 1) / threads;
    for (int i = 0; i < threads; ++i) {
      const std::int64_t b0 = i * per, b1 = std::min(B, b0 + per);
      if (b0 < b1) pool.emplace_back(BaselineRange, s.data(), n, b0, b1, t.data(), fixed_bits);
    }
    for (std::thread& th : pool) th.join();
    benchmark::DoNotOptimize(t.data());
  }
  state.SetItemsProcessed(state.iterations() * B * static_cast<std::int64_t>(n));
}

void Register() {
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes = {
      {100000, 1000}, {100000, 10000}, {1000000, 1000}, {1000000, 10000}};
  auto args = [&](benchmark::internal::Benchmark* b) {
    for (const auto& nb : sizes) b->Args({nb.first, nb.second});
    b->ArgNames({"n", "B"})->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  args(benchmark::RegisterBenchmark("MachineLimit/fixed-bits-masked-add", BM_MachineLimit, true));
  args(benchmark::RegisterBenchmark("MachineLimit/xorshift-bits-masked-add", BM_MachineLimit, false));
  struct Case {
    BootstrapMethod m;
    BootstrapSampler s;
  };
  const Case cases[] = {{BootstrapMethod::kRademacher, BootstrapSampler::kLoop},
                        {BootstrapMethod::kMammen, BootstrapSampler::kLoop},
                        {BootstrapMethod::kNormal, BootstrapSampler::kExact},
                        {BootstrapMethod::kNormal, BootstrapSampler::kLoop},
                        {BootstrapMethod::kWild, BootstrapSampler::kLoop},
                        {BootstrapMethod::kBayes, BootstrapSampler::kLoop}};
  for (const Case& c : cases) {
    const std::string name = std::string("BootstrapT/") + fastdml::ToString(c.m) + "/" +
                             (c.s == BootstrapSampler::kExact ? "exact" : "loop");
    args(benchmark::RegisterBenchmark(name.c_str(), BM_BootstrapT, c.m, c.s));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#else
#include <cstdio>
int main() {
  std::puts("bootstrap_bench: built without Google Benchmark (install libbenchmark-dev)");
  return 0;
}
#endif
