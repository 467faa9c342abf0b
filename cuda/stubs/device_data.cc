// cuda/device_data.h for builds without CUDA (FASTDML_CUDA=OFF): the driver
// resolves --device cuda to an error before it gets here, so these only say why.
#include "cuda/device_data.h"

#include "cuda/stubs/built_without_cuda.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
struct DeviceData::Impl {};
struct ResidentPredictions::Impl {};

// Never constructed without CUDA (only DeviceData::KeepPredictions makes one).
ResidentPredictions::~ResidentPredictions() = default;
std::size_t ResidentPredictions::n() const { ThrowBuiltWithoutCuda(); }
int ResidentPredictions::reps() const { ThrowBuiltWithoutCuda(); }
int ResidentPredictions::ordinal() const { ThrowBuiltWithoutCuda(); }
const double* ResidentPredictions::Array(PredictionArray, int) const { ThrowBuiltWithoutCuda(); }

DeviceData::DeviceData(int, const FitDataView&) { ThrowBuiltWithoutCuda(); }
DeviceData::~DeviceData() = default;
DeviceData::DeviceData(DeviceData&&) noexcept = default;
DeviceData& DeviceData::operator=(DeviceData&&) noexcept = default;
std::size_t DeviceData::rows() const { ThrowBuiltWithoutCuda(); }
std::size_t DeviceData::cols(bool) const { ThrowBuiltWithoutCuda(); }
std::size_t DeviceData::bytes() const { ThrowBuiltWithoutCuda(); }
std::string DeviceData::FeaturesInterface(bool) const { ThrowBuiltWithoutCuda(); }
void DeviceData::SelectRows(int, int, ops::RowArm) { ThrowBuiltWithoutCuda(); }
void DeviceData::UseTrainingRows(const std::vector<std::uint32_t>&) { ThrowBuiltWithoutCuda(); }
std::size_t DeviceData::training_count() const { ThrowBuiltWithoutCuda(); }
std::size_t DeviceData::held_out_count() const { ThrowBuiltWithoutCuda(); }
std::string DeviceData::GatherTraining(bool) { ThrowBuiltWithoutCuda(); }
std::string DeviceData::GatherTrainingLabels(bool) { ThrowBuiltWithoutCuda(); }
std::string DeviceData::GatherHeldOut(bool, std::optional<float>) { ThrowBuiltWithoutCuda(); }
void DeviceData::ScatterHeldOut(const float*, int, PredictionArray) { ThrowBuiltWithoutCuda(); }
void DeviceData::Download(Predictions*) const { ThrowBuiltWithoutCuda(); }
std::shared_ptr<const ResidentPredictions> DeviceData::KeepPredictions() { ThrowBuiltWithoutCuda(); }
std::vector<std::uint32_t> DeviceData::TrainingRows() const { ThrowBuiltWithoutCuda(); }
std::vector<std::uint32_t> DeviceData::HeldOutRows() const { ThrowBuiltWithoutCuda(); }

}  // namespace fastdml::cuda
