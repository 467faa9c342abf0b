// cuda/ API for builds without CUDA (FASTDML_CUDA=OFF): same symbols, so the
// driver, CLI, bindings and tests compile unchanged; every call says why not.
#include "cuda/device.h"
#include "cuda/scores.h"
#include "cuda/stubs/built_without_cuda.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
bool Available(std::string* why_not) {
  if (why_not != nullptr) *why_not = "fastdml was built without CUDA (FASTDML_CUDA=OFF)";
  return false;
}

DeviceInfo Query(int) { ThrowBuiltWithoutCuda(); }

DeviceScope::DeviceScope(const Device& device) {
  if (device.is_cuda()) ThrowBuiltWithoutCuda();
}
DeviceScope::~DeviceScope() = default;

int CurrentDevice() { ThrowBuiltWithoutCuda(); }

void CopyFromDevice(std::uintptr_t, std::size_t, void*) { ThrowBuiltWithoutCuda(); }

void IrmScores(const IrmScoreArgs&, double*, double*) { ThrowBuiltWithoutCuda(); }

void PlrScores(const PlrScoreArgs&, double*, double*) { ThrowBuiltWithoutCuda(); }

struct DeviceScores::Impl {};
DeviceScores::DeviceScores(std::size_t, int) { ThrowBuiltWithoutCuda(); }
DeviceScores::~DeviceScores() = default;
std::size_t DeviceScores::n() const { ThrowBuiltWithoutCuda(); }
int DeviceScores::k() const { ThrowBuiltWithoutCuda(); }
int DeviceScores::ordinal() const { ThrowBuiltWithoutCuda(); }
double* DeviceScores::psi() const { ThrowBuiltWithoutCuda(); }

struct ScoreSession::Impl {};
ScoreSession::ScoreSession(std::size_t, int, const double*, const double*, const double*, const Predictions&,
                           std::shared_ptr<const ResidentPredictions>) {
  ThrowBuiltWithoutCuda();
}
ScoreSession::~ScoreSession() = default;
ops::ScoreSolution ScoreSession::Solve(int, int, const ScoreSpec&, double*, double*, double*) {
  ThrowBuiltWithoutCuda();
}
std::shared_ptr<const DeviceScores> ScoreSession::Scores(int) const { ThrowBuiltWithoutCuda(); }
bool ScoreSession::used_resident_predictions() const { ThrowBuiltWithoutCuda(); }

}  // namespace fastdml::cuda
