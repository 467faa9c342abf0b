// CUDA twin of cpu/scores.cc and Estimate's GPU session (cuda/scores.h). The
// algorithms are ops/score_solve_thrust.h run with thrust::cuda::par: per-row
// maths from ops/scores.h, sums as CUB device reductions (through Thrust).
#include "cuda/scores.h"

#include <cuda_runtime_api.h>
#include <thrust/execution_policy.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/device_data.h"
#include "cuda/thrust_check.h"
#include "fastdml/error.h"
#include "ops/score_solve_thrust.h"

namespace fastdml::cuda {
namespace {

// Thrust on raw device pointers, on the legacy default stream (XGBoost's and
// the rest of cuda/'s); reductions return their sum to the host.
auto Policy() { return thrust::cuda::par; }

void RequireInputs(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (p == nullptr) throw Error(std::string("fastdml::cuda::") + fn + ": null input or output array");
}

}  // namespace

void IrmScores(const IrmScoreArgs& a, double* psi_a, double* psi_b) {
  const std::size_t n = a.n;
  if (n == 0) return;
  RequireInputs("IrmScores", {a.y, a.d, a.m, a.g0, a.g1, psi_a, psi_b});
  auto y = CopyToDevice(a.y, n), d = CopyToDevice(a.d, n), m = CopyToDevice(a.m, n);
  auto g0 = CopyToDevice(a.g0, n), g1 = CopyToDevice(a.g1, n);
  auto uw = CopyToDevice(a.uw, n);  // null when unweighted
  auto dev_a = AllocateDevice<double>(n), dev_b = AllocateDevice<double>(n), m_work = AllocateDevice<double>(n);
  IrmScoreArgs dev = a;
  dev.y = y.get();
  dev.d = d.get();
  dev.m = m.get();
  dev.g0 = g0.get();
  dev.g1 = g1.get();
  dev.uw = uw.get();
  RunThrust("the IRM scores", [&] { ops::ComputeIrmScores(Policy(), dev, m_work.get(), dev_a.get(), dev_b.get()); });
  CopyToHost(dev_a, n, psi_a);
  CopyToHost(dev_b, n, psi_b);
}

void PlrScores(const PlrScoreArgs& a, double* psi_a, double* psi_b) {
  const std::size_t n = a.n;
  if (n == 0) return;
  RequireInputs("PlrScores", {a.y, a.d, a.m, a.l, psi_a, psi_b});
  auto y = CopyToDevice(a.y, n), d = CopyToDevice(a.d, n), m = CopyToDevice(a.m, n);
  auto l = CopyToDevice(a.l, n);
  auto dev_a = AllocateDevice<double>(n), dev_b = AllocateDevice<double>(n);
  PlrScoreArgs dev = a;
  dev.y = y.get();
  dev.d = d.get();
  dev.m = m.get();
  dev.l = l.get();
  RunThrust("the PLR scores", [&] { ops::ComputePlrScores(Policy(), dev, dev_a.get(), dev_b.get()); });
  CopyToHost(dev_a, n, psi_a);
  CopyToHost(dev_b, n, psi_b);
}

// --- DeviceScores -------------------------------------------------------------

struct DeviceScores::Impl {
  std::size_t n = 0;
  int k = 0;
  int ordinal = 0;
  DeviceBuffer<double> psi;
};

DeviceScores::DeviceScores(std::size_t n, int k) : impl_(std::make_unique<Impl>()) {
  impl_->n = n;
  impl_->k = k;
  impl_->ordinal = CurrentDevice();
  impl_->psi = AllocateDevice<double>(n * static_cast<std::size_t>(k));
}
DeviceScores::~DeviceScores() = default;
std::size_t DeviceScores::n() const { return impl_->n; }
int DeviceScores::k() const { return impl_->k; }
int DeviceScores::ordinal() const { return impl_->ordinal; }
double* DeviceScores::psi() const { return impl_->psi.get(); }

// --- ScoreSession -------------------------------------------------------------

struct ScoreSession::Impl {
  std::size_t n = 0;
  int k = 0;
  const Predictions* host = nullptr;
  std::shared_ptr<const ResidentPredictions> resident;  // null: upload from `host`
  DeviceBuffer<double> y, d, uw;
  // Uploaded predictions of repetition `uploaded_rep` (no resident copy).
  int uploaded_rep = -1;
  DeviceBuffer<double> m, g0, g1, l;
  DeviceBuffer<double> m_work, psi_a, psi_b;
  std::vector<std::shared_ptr<DeviceScores>> scores;  // per repetition

  // Device pointer to block `rep` of `array`, uploading the repetition first
  // when there is no resident copy.
  const double* Array(PredictionArray array, int rep) {
    if (resident) return resident->Array(array, rep);
    if (uploaded_rep != rep) {
      const std::size_t off = static_cast<std::size_t>(rep) * n;
      auto upload = [&](const std::vector<double>& v, DeviceBuffer<double>* dev) {
        if (v.empty()) return;
        if (!*dev) *dev = AllocateDevice<double>(n);
        FASTDML_CUDA_CHECK(cudaMemcpy(dev->get(), v.data() + off, n * sizeof(double), cudaMemcpyHostToDevice));
      };
      upload(host->m, &m);
      upload(host->g0, &g0);
      upload(host->g1, &g1);
      upload(host->l, &l);
      uploaded_rep = rep;
    }
    const DeviceBuffer<double>& a = array == PredictionArray::kM    ? m
                                    : array == PredictionArray::kG0 ? g0
                                    : array == PredictionArray::kG1 ? g1
                                                                    : l;
    return a.get();
  }
};

ScoreSession::ScoreSession(std::size_t n, int k, const double* y, const double* d, const double* uw,
                           const Predictions& pred, std::shared_ptr<const ResidentPredictions> resident)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (pred.n != n) throw Error("internal: ScoreSession rows differ from the predictions'");
  s.n = n;
  s.k = k;
  s.host = &pred;
  // The fit's device copy serves when it is on this GPU and of this shape.
  if (resident && resident->ordinal() == CurrentDevice() && resident->n() == n && resident->reps() == pred.reps) {
    s.resident = std::move(resident);
  }
  s.y = CopyToDevice(y, n);
  s.d = CopyToDevice(d, n);
  s.uw = CopyToDevice(uw, n);
  s.m_work = AllocateDevice<double>(n);
  s.psi_a = AllocateDevice<double>(n);
  s.psi_b = AllocateDevice<double>(n);
  s.scores.resize(static_cast<std::size_t>(pred.reps));
}

ScoreSession::~ScoreSession() = default;

ops::ScoreSolution ScoreSession::Solve(int rep, int e_index, const ScoreSpec& spec, double* psi, double* psi_a,
                                       double* psi_b) {
  Impl& s = *impl_;
  if (rep < 0 || static_cast<std::size_t>(rep) >= s.scores.size() || e_index < 0 || e_index >= s.k) {
    throw Error("internal: ScoreSession::Solve outside its repetitions or estimands");
  }
  const std::size_t n = s.n;
  if (!s.scores[rep]) s.scores[rep] = std::make_shared<DeviceScores>(n, s.k);
  double* dev_psi = s.scores[rep]->psi() + static_cast<std::size_t>(e_index) * n;
  ops::ScoreSolution solution{};
  if (spec.model == Model::kIrm) {
    IrmScoreArgs a;
    a.n = n;
    a.y = s.y.get();
    a.d = s.d.get();
    a.m = s.Array(PredictionArray::kM, rep);
    a.g0 = s.Array(PredictionArray::kG0, rep);
    a.g1 = s.Array(PredictionArray::kG1, rep);
    a.uw = s.uw.get();
    a.spec = spec;
    RequireInputs("ScoreSession::Solve (IRM predictions)", {a.m, a.g0, a.g1});
    solution = RunThrust("the IRM scores", [&] {
      ops::ComputeIrmScores(Policy(), a, s.m_work.get(), s.psi_a.get(), s.psi_b.get());
      return ops::SolveDml2(Policy(), n, s.psi_a.get(), s.psi_b.get(), dev_psi);
    });
  } else {
    PlrScoreArgs a;
    a.n = n;
    a.y = s.y.get();
    a.d = s.d.get();
    a.m = s.Array(PredictionArray::kM, rep);
    a.l = s.Array(PredictionArray::kL, rep);
    RequireInputs("ScoreSession::Solve (PLR predictions)", {a.m, a.l});
    solution = RunThrust("the PLR scores", [&] {
      ops::ComputePlrScores(Policy(), a, s.psi_a.get(), s.psi_b.get());
      return ops::SolveDml2(Policy(), n, s.psi_a.get(), s.psi_b.get(), dev_psi);
    });
  }
  FASTDML_CUDA_CHECK(cudaMemcpy(psi, dev_psi, n * sizeof(double), cudaMemcpyDeviceToHost));
  if (psi_a != nullptr) CopyToHost(s.psi_a, n, psi_a);
  if (psi_b != nullptr) CopyToHost(s.psi_b, n, psi_b);
  return solution;
}

std::shared_ptr<const DeviceScores> ScoreSession::Scores(int rep) const {
  if (rep < 0 || static_cast<std::size_t>(rep) >= impl_->scores.size()) {
    throw Error("internal: ScoreSession::Scores outside its repetitions");
  }
  return impl_->scores[rep];
}

bool ScoreSession::used_resident_predictions() const { return impl_->resident != nullptr; }

}  // namespace fastdml::cuda
