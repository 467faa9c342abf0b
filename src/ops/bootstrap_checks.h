// The checks and small definitions that the two multiplier-bootstrap twins
// (src/cpu/bootstrap.cc and cuda/bootstrap.cu) share, so that both reject bad
// input with the same words and scale the unit scores alike. Header-only, so
// that cuda/ depends only downward (docs/design.md section 4).
#pragma once
#include <cmath>
#include <cstddef>
#include <string>

#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "fastdml/options.h"
#include "ops/philox_weights.h"

namespace fastdml::ops {

// Units are padded with zero scores to a multiple of this (the Rademacher
// block): the loop sampler's block counters run up to (units + 128) / U.
constexpr std::size_t kBootstrapPadUnits = 128;

// True when the exact N(0, Sigma) sampler runs (kExact, or kAuto with normal weights).
inline bool UsesExactBootstrap(const BootstrapOptions& o) {
  return o.sampler == BootstrapSampler::kExact ||
         (o.sampler == BootstrapSampler::kAuto && o.method == BootstrapMethod::kNormal);
}

// n J_j se_j, the divisor of estimand j's unit scores, as both twins compute it.
inline double UnitScoreDivisor(const ScoreBlock& sc, int j) {
  return static_cast<double>(sc.n) * sc.j[static_cast<std::size_t>(j)] *
         sc.se[static_cast<std::size_t>(j)];
}

// The error for a non-finite psi of estimand j (names its first bad row).
[[noreturn]] inline void ThrowNonFinitePsi(const ScoreBlock& sc, std::size_t j) {
  const double* p = sc.psi.data() + j * sc.n;
  std::size_t i = 0;
  while (i < sc.n && std::isfinite(p[i])) ++i;
  throw Error("bootstrap: psi of estimand " + std::to_string(j) + " is not finite at row " +
              std::to_string(i));
}

// Every check of BootstrapT that needs no pass over psi's values (options,
// shapes, J, se, cluster ids, 32-bit Philox block counters); throws UsageError
// or Error.
inline void ValidateBootstrap(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  if (o.replicates < 1 || o.replicates > kMaxBootstrapReplicates) {
    throw UsageError("--bootstrap: the number of bootstrap replicates must be between 1 and " +
                     std::to_string(kMaxBootstrapReplicates) + " (got " + std::to_string(o.replicates) +
                     ")");
  }
  if (o.threads < 0 || o.threads > kMaxThreads) {
    throw UsageError("--threads: must be in 0.." + std::to_string(kMaxThreads) + " (0 = all cores)");
  }
  switch (o.method) {
    case BootstrapMethod::kNormal:
    case BootstrapMethod::kRademacher:
    case BootstrapMethod::kMammen:
    case BootstrapMethod::kWild:
    case BootstrapMethod::kBayes: break;
    default: throw UsageError("--bootstrap-method: unknown method");
  }
  if (o.sampler != BootstrapSampler::kAuto && o.sampler != BootstrapSampler::kExact &&
      o.sampler != BootstrapSampler::kLoop) {
    throw UsageError("--bootstrap-sampler: unknown sampler (choose auto, exact or loop)");
  }
  if (o.sampler == BootstrapSampler::kExact && o.method != BootstrapMethod::kNormal) {
    throw UsageError(std::string("--bootstrap-sampler exact needs --bootstrap-method normal (got ") +
                     fastdml::ToString(o.method) + ")");
  }
  if (rep < 0) throw Error("bootstrap: repetition index must be >= 0, got " + std::to_string(rep));
  if (sc.k < 1) throw Error("bootstrap: the score block has no estimand (k = " + std::to_string(sc.k) + ")");
  if (sc.n == 0) throw Error("bootstrap: the score block has no rows");
  const std::size_t k = static_cast<std::size_t>(sc.k);
  if (sc.psi.size() != k * sc.n) {
    throw Error("bootstrap: psi has " + std::to_string(sc.psi.size()) + " values, expected k * n = " +
                std::to_string(k * sc.n));
  }
  if (sc.j.size() != k || sc.se.size() != k) {
    throw Error("bootstrap: J and se need one value per estimand (k = " + std::to_string(k) +
                "), got " + std::to_string(sc.j.size()) + " and " + std::to_string(sc.se.size()));
  }
  for (std::size_t j = 0; j < k; ++j) {
    if (!std::isfinite(sc.j[j]) || sc.j[j] == 0.0) {
      throw Error("bootstrap: estimand " + std::to_string(j) + " has J = " + std::to_string(sc.j[j]) +
                  " (must be finite and non-zero)");
    }
    if (!std::isfinite(sc.se[j]) || !(sc.se[j] > 0.0)) {
      throw Error("bootstrap: estimand " + std::to_string(j) + " has se = " +
                  std::to_string(sc.se[j]) + " (must be finite and > 0)");
    }
    const double denom = UnitScoreDivisor(sc, static_cast<int>(j));
    if (!std::isfinite(denom) || denom == 0.0) {
      throw Error("bootstrap: estimand " + std::to_string(j) + ": n J se is not a finite non-zero number");
    }
  }
  if (!sc.cluster.empty()) {
    if (sc.cluster.size() != sc.n) {
      throw Error("bootstrap: " + std::to_string(sc.cluster.size()) + " cluster ids for " +
                  std::to_string(sc.n) + " rows");
    }
    if (sc.n_clusters < 1) throw Error("bootstrap: cluster ids given but n_clusters < 1");
    for (std::size_t i = 0; i < sc.n; ++i) {
      if (sc.cluster[i] < 0 || sc.cluster[i] >= sc.n_clusters) {
        throw Error("bootstrap: cluster id " + std::to_string(sc.cluster[i]) + " of row " +
                    std::to_string(i) + " is outside 0.." + std::to_string(sc.n_clusters - 1));
      }
    }
  }
  if (!UsesExactBootstrap(o)) {
    // Block indices of the contract are 32-bit.
    const std::size_t units = sc.cluster.empty() ? sc.n : static_cast<std::size_t>(sc.n_clusters);
    std::size_t per = 1;
    switch (o.method) {
      case BootstrapMethod::kRademacher: per = kUnitsPerBlockRademacher; break;
      case BootstrapMethod::kMammen: per = kUnitsPerBlockMammen; break;
      case BootstrapMethod::kNormal: per = kUnitsPerBlockNormal; break;
      case BootstrapMethod::kWild: per = kUnitsPerBlockWild; break;
      case BootstrapMethod::kBayes: per = kUnitsPerBlockBayes; break;
    }
    if ((units + kBootstrapPadUnits) / per >= (static_cast<std::size_t>(1) << 32)) {
      throw Error("bootstrap: too many units (" + std::to_string(units) +
                  ") for the 32-bit block counter of the " + fastdml::ToString(o.method) + " weights");
    }
  }
}

}  // namespace fastdml::ops
