// Deterministic group sums as Thrust algorithms, for the CUDA twins of
// cate/ols/row_sums.h. One source, two compilers: cuda/row_sums.cu builds it with
// nvcc for Thrust's CUDA backend, tests/thrust/cate_sums_test.cc with g++ for
// the OpenMP backend, so CI runs this device logic without a GPU. Needs the
// Thrust headers, so src/ never includes it.
//
// Sums are never floating atomics or scans (whose association varies run to
// run): rows are stably sorted by an integer key, each run of equal keys is
// cut into chunks of kChunkRows sorted positions summed in order by one
// thread, then each run's chunk sums are added in order. The shape depends on
// the run lengths only, so results are bit-identical across runs, thread
// counts and launch shapes; across the two backends they agree to rounding
// (cuda/row_sums.cu is compiled with FMA contraction, the OpenMP test without).
#pragma once
#include <thrust/binary_search.h>
#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/gather.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/scan.h>
#include <thrust/sequence.h>
#include <thrust/find.h>
#include <thrust/sort.h>
#include <thrust/transform.h>
#include <thrust/transform_scan.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ops/row_sums.h"
#include "fastdml/error.h"
#include "ops/hd.h"

// The same names compiled for two backends must not meet at link time
// (fastdml_thrust_tests also links the CUDA objects of fastdml_core).
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#define FASTDML_THRUST_BACKEND cuda_backend
#else
#define FASTDML_THRUST_BACKEND host_backend
#endif

namespace fastdml::cuda {
inline namespace FASTDML_THRUST_BACKEND {

inline constexpr std::size_t kChunkRows = 1024;

template <class T>
using DeviceVector = thrust::device_vector<T>;

template <class T>
T* Raw(DeviceVector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}
template <class T>
const T* Raw(const DeviceVector<T>& v) {
  return thrust::raw_pointer_cast(v.data());
}
template <class T>
std::vector<T> ToHost(const DeviceVector<T>& v) {
  std::vector<T> out(v.size());
  thrust::copy(v.begin(), v.end(), out.begin());
  return out;
}

inline thrust::counting_iterator<std::size_t> Count(std::size_t i) { return thrust::counting_iterator<std::size_t>(i); }

// ---------------------------------------------------------------------------
// Functors (FASTDML_HD: run by either backend)

struct Plus {
  template <class T>
  FASTDML_HD T operator()(const T& x, const T& y) const {
    return x + y;
  }
};

// Run starts of sorted keys: position 0 and every p whose key differs from p-1.
struct IsRunStart {
  const std::int64_t* key;
  FASTDML_HD bool operator()(std::size_t p) const { return p == 0 || key[p] != key[p - 1]; }
};

// Chunks of kChunkRows positions in run r (at least 1: runs are never empty).
struct ChunksOfRun {
  const std::size_t* begin;
  FASTDML_HD std::size_t operator()(std::size_t r) const {
    return (begin[r + 1] - begin[r] + kChunkRows - 1) / kChunkRows;
  }
};

// Sum of value_at(p) over chunk t's positions, in order.
template <class T, class ValueAt, class Combine>
struct ChunkSum {
  const std::size_t* begin;        // runs + 1
  const std::size_t* chunk_begin;  // runs + 1
  std::size_t runs;
  ValueAt value_at;
  Combine combine;
  T init;
  FASTDML_HD T operator()(std::size_t t) const {
    std::size_t lo = 0, hi = runs;  // the run r with chunk_begin[r] <= t < chunk_begin[r + 1]
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (chunk_begin[mid] <= t) lo = mid; else hi = mid;
    }
    const std::size_t first = begin[lo] + (t - chunk_begin[lo]) * kChunkRows;
    const std::size_t last = first + kChunkRows < begin[lo + 1] ? first + kChunkRows : begin[lo + 1];
    T acc = init;
    for (std::size_t p = first; p < last; ++p) acc = combine(acc, value_at(p));
    return acc;
  }
};

// Sum of run r's chunk sums, in order.
template <class T, class Combine>
struct RunSum {
  const std::size_t* chunk_begin;
  const T* partial;
  Combine combine;
  T init;
  FASTDML_HD T operator()(std::size_t r) const {
    T acc = init;
    for (std::size_t t = chunk_begin[r]; t < chunk_begin[r + 1]; ++t) acc = combine(acc, partial[t]);
    return acc;
  }
};

// Pass 1 of the group ratio: sum a, sum b, max a.
struct RatioTotals {
  double sum_a, sum_b, max_a;
};
struct CombineTotals {
  FASTDML_HD RatioTotals operator()(const RatioTotals& x, const RatioTotals& y) const {
    return {x.sum_a + y.sum_a, x.sum_b + y.sum_b, x.max_a > y.max_a ? x.max_a : y.max_a};
  }
};
struct TotalsAt {
  const double *a, *b;
  const std::size_t* order;
  FASTDML_HD RatioTotals operator()(std::size_t p) const {
    const std::size_t i = order[p];
    return {a[i], b[i], a[i]};
  }
};

// u_i = (b_i - theta_g a_i) / (1 - h_i), h_i = a_i / sum_a_g (HC3) or 0; squared.
struct SquaredResidualAt {
  const double *a, *b, *theta, *sum_a;
  const std::int32_t* group;
  const std::size_t* order;
  bool hc3;
  FASTDML_HD double operator()(std::size_t p) const {
    const std::size_t i = order[p];
    const std::int32_t g = group[i];
    double u = b[i] - theta[g] * a[i];
    if (hc3) u /= 1 - a[i] / sum_a[g];
    return u * u;
  }
};

// u_i = b_i - theta_g a_i (cluster covariance).
struct ResidualAt {
  const double *a, *b, *theta;
  const std::int32_t* group;
  const std::size_t* order;
  FASTDML_HD double operator()(std::size_t p) const {
    const std::size_t i = order[p];
    return b[i] - theta[group[i]] * a[i];
  }
};

struct TreatedAt {
  const double* d;
  const std::size_t* order;
  FASTDML_HD std::size_t operator()(std::size_t p) const { return d[order[p]] == 1.0 ? 1 : 0; }
};

// (cluster, group) -> one integer key ordered by cluster then group.
struct ClusterGroupKey {
  const std::int32_t *cluster, *group;
  std::int64_t n_groups;
  FASTDML_HD std::int64_t operator()(std::size_t i) const { return cluster[i] * n_groups + group[i]; }
};

// e_i x_ij of row order[p] (cluster meat of the general OLS, column j).
struct ScaledEntryAt {
  const double *x, *resid;
  const std::size_t* order;
  std::size_t k, j;
  FASTDML_HD double operator()(std::size_t p) const {
    const std::size_t i = order[p];
    return x[i * k + j] * resid[i];
  }
};

// HC3 leverage h_i = x_i' inv x_i from column i of x (k x n column-major =
// the row-major design) and of m = inv x.
struct LeverageAt {
  const double *x, *m;
  std::size_t k;
  FASTDML_HD double operator()(std::size_t i) const {
    double h = 0;
    for (std::size_t j = 0; j < k; ++j) h += x[i * k + j] * m[i * k + j];
    return h;
  }
};

struct AboveLevel {
  double level;
  FASTDML_HD bool operator()(double v) const { return v > level; }
};

// HC3 weight e_i / (1 - h_i).
struct Hc3Weight {
  FASTDML_HD double operator()(double e, double h) const { return e / (1 - h); }
};

struct EdgeAt {
  const double* sorted;
  std::size_t n;
  int bins;
  FASTDML_HD double operator()(std::size_t q) const {
    return sorted[cate::QuantileEdgePosition(static_cast<int>(q), n, bins)];
  }
};

// ---------------------------------------------------------------------------
// Algorithms

// Rows stably sorted by an integer key, as runs of equal keys.
struct SortedRows {
  DeviceVector<std::size_t> order;  // n: the row at each sorted position
  DeviceVector<std::size_t> begin;  // runs + 1: first sorted position of each run, then n
  DeviceVector<std::int64_t> key;   // runs: the key of each run, ascending
  std::size_t runs() const { return key.size(); }
};

inline SortedRows SortRowsByKey(DeviceVector<std::int64_t> keys) {
  const std::size_t n = keys.size();
  SortedRows s;
  s.order.resize(n);
  thrust::sequence(thrust::device, s.order.begin(), s.order.end());
  thrust::stable_sort_by_key(thrust::device, keys.begin(), keys.end(), s.order.begin());
  s.begin.resize(n + 1);
  const auto end = thrust::copy_if(thrust::device, Count(0), Count(n), s.begin.begin(), IsRunStart{Raw(keys)});
  const std::size_t runs = static_cast<std::size_t>(end - s.begin.begin());
  s.begin.resize(runs + 1);
  s.begin[runs] = n;
  s.key.resize(runs);
  thrust::gather(thrust::device, s.begin.begin(), s.begin.begin() + runs, keys.begin(), s.key.begin());
  return s;
}

// Per run r: combine over its sorted positions p of value_at(p), in the fixed
// chunked order described at the top.
template <class T, class ValueAt, class Combine>
DeviceVector<T> SegmentedReduce(const DeviceVector<std::size_t>& begin, ValueAt value_at, Combine combine, T init) {
  const std::size_t runs = begin.size() - 1;
  DeviceVector<std::size_t> chunk_begin(runs + 1, 0);
  thrust::transform_inclusive_scan(thrust::device, Count(0), Count(runs), chunk_begin.begin() + 1,
                                   ChunksOfRun{Raw(begin)}, Plus());
  const std::size_t chunks = chunk_begin[runs];
  DeviceVector<T> partial(chunks);
  thrust::transform(thrust::device, Count(0), Count(chunks), partial.begin(),
                    ChunkSum<T, ValueAt, Combine>{Raw(begin), Raw(chunk_begin), runs, value_at, combine, init});
  DeviceVector<T> out(runs);
  thrust::transform(thrust::device, Count(0), Count(runs), out.begin(),
                    RunSum<T, Combine>{Raw(chunk_begin), Raw(partial), combine, init});
  return out;
}

// Group ids of a sorted-by-group run list must lie in 0..n_groups-1.
inline void CheckGroupRange(const SortedRows& s, int n_groups) {
  if (s.runs() == 0) return;
  const std::int64_t lo = s.key[0], hi = s.key[s.runs() - 1];
  if (lo < 0 || hi >= n_groups) throw Error("internal: group id out of range");
}

inline SortedRows SortByGroup(const DeviceVector<std::int32_t>& group, int n_groups) {
  DeviceVector<std::int64_t> keys(group.size());
  thrust::copy(thrust::device, group.begin(), group.end(), keys.begin());
  SortedRows s = SortRowsByKey(std::move(keys));
  CheckGroupRange(s, n_groups);
  return s;
}

// cate::GroupRows on Thrust's device backend.
class GroupRowsOnDevice final : public cate::GroupRows {
 public:
  GroupRowsOnDevice(const std::vector<double>& a, const std::vector<double>& b,
                    const std::vector<std::int32_t>& group, int n_groups, const std::vector<std::int32_t>& cluster)
      : a_(a.begin(), a.end()), b_(b.begin(), b.end()), group_(group.begin(), group.end()), n_groups_(n_groups),
        cluster_(cluster) {
    by_group_ = SortByGroup(group_, n_groups_);
  }

  cate::GroupTotals Totals() override {
    const DeviceVector<RatioTotals> sums = SegmentedReduce(
        by_group_.begin, TotalsAt{Raw(a_), Raw(b_), Raw(by_group_.order)}, CombineTotals(), RatioTotals{0, 0, 0});
    const std::vector<RatioTotals> host = ToHost(sums);
    const std::vector<std::int64_t> key = ToHost(by_group_.key);
    cate::GroupTotals t;
    t.sum_a.assign(n_groups_, 0.0);
    t.sum_b.assign(n_groups_, 0.0);
    t.max_a.assign(n_groups_, 0.0);
    for (std::size_t r = 0; r < key.size(); ++r) {
      t.sum_a[key[r]] = host[r].sum_a;
      t.sum_b[key[r]] = host[r].sum_b;
      t.max_a[key[r]] = host[r].max_a;
    }
    return t;
  }

  std::vector<double> SquaredResiduals(const std::vector<double>& theta, const std::vector<double>& sum_a,
                                       bool hc3) override {
    const DeviceVector<double> dev_theta(theta.begin(), theta.end()), dev_sum_a(sum_a.begin(), sum_a.end());
    const DeviceVector<double> sums = SegmentedReduce(
        by_group_.begin,
        SquaredResidualAt{Raw(a_), Raw(b_), Raw(dev_theta), Raw(dev_sum_a), Raw(group_), Raw(by_group_.order), hc3},
        Plus(), 0.0);
    return PerGroup(ToHost(sums), ToHost(by_group_.key));
  }

  std::vector<cate::ClusterGroupSum> ClusterResiduals(const std::vector<double>& theta) override {
    const std::size_t n = group_.size();
    if (cluster_.size() != n) throw Error("internal: cluster ids and rows differ in length");
    const DeviceVector<std::int32_t> cluster(cluster_.begin(), cluster_.end());
    DeviceVector<std::int64_t> keys(n);
    thrust::transform(thrust::device, Count(0), Count(n), keys.begin(),
                      ClusterGroupKey{Raw(cluster), Raw(group_), n_groups_});
    const SortedRows pairs = SortRowsByKey(std::move(keys));
    const DeviceVector<double> dev_theta(theta.begin(), theta.end());
    const DeviceVector<double> sums = SegmentedReduce(
        pairs.begin, ResidualAt{Raw(a_), Raw(b_), Raw(dev_theta), Raw(group_), Raw(pairs.order)}, Plus(), 0.0);
    const std::vector<double> host = ToHost(sums);
    const std::vector<std::int64_t> key = ToHost(pairs.key);
    std::vector<cate::ClusterGroupSum> out(key.size());
    for (std::size_t r = 0; r < key.size(); ++r) {
      out[r].cluster = static_cast<std::int32_t>(key[r] / n_groups_);
      out[r].group = static_cast<std::int32_t>(key[r] % n_groups_);
      out[r].sum = host[r];
    }
    return out;
  }

 private:
  std::vector<double> PerGroup(const std::vector<double>& run_values, const std::vector<std::int64_t>& key) const {
    std::vector<double> out(n_groups_, 0.0);
    for (std::size_t r = 0; r < key.size(); ++r) out[key[r]] = run_values[r];
    return out;
  }

  DeviceVector<double> a_, b_;
  DeviceVector<std::int32_t> group_;
  std::int64_t n_groups_;
  const std::vector<std::int32_t>& cluster_;  // host; uploaded by ClusterResiduals
  SortedRows by_group_;
};

inline cate::GroupCounts CountByGroupOnDevice(const std::vector<std::int32_t>& group, int n_groups,
                                              const std::vector<double>* d) {
  const DeviceVector<std::int32_t> dev_group(group.begin(), group.end());
  const SortedRows s = SortByGroup(dev_group, n_groups);
  const std::vector<std::size_t> begin = ToHost(s.begin);
  const std::vector<std::int64_t> key = ToHost(s.key);
  cate::GroupCounts c;
  c.rows.assign(n_groups, 0);
  c.treated.assign(n_groups, 0);
  for (std::size_t r = 0; r < key.size(); ++r) c.rows[key[r]] = begin[r + 1] - begin[r];
  if (d != nullptr) {
    const DeviceVector<double> dev_d(d->begin(), d->end());
    const std::vector<std::size_t> treated =
        ToHost(SegmentedReduce(s.begin, TreatedAt{Raw(dev_d), Raw(s.order)}, Plus(), std::size_t{0}));
    for (std::size_t r = 0; r < key.size(); ++r) c.treated[key[r]] = treated[r];
  }
  return c;
}

inline cate::QuantileCut CutQuantilesOnDevice(const std::vector<double>& values, int bins) {
  const std::size_t n = values.size();
  const DeviceVector<double> v(values.begin(), values.end());
  DeviceVector<double> sorted = v;
  thrust::sort(thrust::device, sorted.begin(), sorted.end());
  DeviceVector<double> edge(bins);
  thrust::transform(thrust::device, Count(0), Count(bins), edge.begin(), EdgeAt{Raw(sorted), n, bins});
  // bin(x) = the first q with x <= edge_q; rows per bin from the sorted values.
  DeviceVector<std::int32_t> group(n);
  thrust::lower_bound(thrust::device, edge.begin(), edge.end(), v.begin(), v.end(), group.begin());
  DeviceVector<std::size_t> up_to(bins);
  thrust::upper_bound(thrust::device, sorted.begin(), sorted.end(), edge.begin(), edge.end(), up_to.begin());
  cate::QuantileCut cut;
  cut.min = sorted[0];
  cut.edge = ToHost(edge);
  cut.group = ToHost(group);
  const std::vector<std::size_t> upto = ToHost(up_to);
  cut.count.resize(bins);
  for (int q = 0; q < bins; ++q) cut.count[q] = upto[q] - (q == 0 ? 0 : upto[q - 1]);
  return cut;
}

}  // namespace FASTDML_THRUST_BACKEND
}  // namespace fastdml::cuda
