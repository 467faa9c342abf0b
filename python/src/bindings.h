// Shared by the fastdml._ext sources (python/src): nanobind aliases, the
// array helpers, and one Bind* function per area; fastdml_ext.cc defines the
// module and calls them in registration order.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
// Every area sees the same type casters as when this was one file (a caster
// missing in one .cc would fail at call time, not at compile time).
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <cstring>
#include <vector>

namespace nb = nanobind;
using namespace nb::literals;

namespace fastdml {

template <typename T>
using View1 = nb::ndarray<nb::numpy, T, nb::ndim<1>>;
template <typename T>
using In1 = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using In2 = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

// (reps, n) copy of one prediction vector; empty (0, n) where it does not apply.
template <typename T>
nb::ndarray<nb::numpy, T, nb::ndim<2>> RepMatrix(const std::vector<T>& v, std::size_t n, int reps) {
  const std::size_t rows = v.empty() ? 0 : static_cast<std::size_t>(reps);
  T* buf = new T[rows * n];
  if (!v.empty()) std::memcpy(buf, v.data(), rows * n * sizeof(T));
  nb::capsule owner(buf, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::ndarray<nb::numpy, T, nb::ndim<2>>(buf, {rows, n}, owner);
}

template <typename T>
std::vector<T> ToVector(const nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>& a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

void BindDataset(nb::module_& m);    // bind_dataset.cc: the engine's input buffers
void BindFit(nb::module_& m);        // bind_fit.cc: nuisance fit, from-predictions, estimate
void BindInference(nb::module_& m);  // bind_inference.cc: report, bootstrap, p-value adjustment
void BindCate(nb::module_& m);       // bind_cate.cc: GATE, BLP, bases
void BindSim(nb::module_& m);        // bind_sim.cc: simulated designs
void BindSensitivity(nb::module_& m);  // bind_sensitivity.cc: omitted-variable-bias bounds
void BindTrim(nb::module_& m);         // bind_trim.cc: trimming to comparable propensities

// The fields every inferred quantity shares (EstimateResult, GroupEffect):
// the aggregated estimate and its inference, the per-repetition values and
// the joint band (src/inference/aggregate.h fills them all alike).
template <typename Result>
nb::dict InferenceDict(const Result& e) {
  nb::dict d;
  d["estimate"] = e.estimate;
  d["se"] = e.se;
  d["t"] = e.t;
  d["p_value"] = e.p_value;
  d["ci_lower"] = e.ci_lower;
  d["ci_upper"] = e.ci_upper;
  d["theta_reps"] = e.theta_reps;
  d["se_reps"] = e.se_reps;
  d["has_joint"] = e.has_joint;
  d["joint_ci_lower"] = e.joint_ci_lower;
  d["joint_ci_upper"] = e.joint_ci_upper;
  return d;
}

}  // namespace fastdml
