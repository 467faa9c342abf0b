// Thin, checked RAII layer over XGBoost's C API. Every call goes through
// XgbCheck, which throws LibraryError with XGBGetLastError()'s text.
#pragma once
#include <xgboost/c_api.h>

#include <cstddef>
#include <string>

namespace fastdml::xgb {

// Throws LibraryError("XGBoost <what> failed: <last error>") when rc != 0.
void XgbCheck(int rc, const char* what);

// Checks once that the loaded libxgboost is the 3.x series the headers come
// from; returns "major.minor.patch". Throws LibraryError with what to do.
std::string CheckLibraryVersion();

// True when the loaded libxgboost was built with CUDA (XGBuildInfo USE_CUDA).
bool LibraryHasCuda();

// JSON __array_interface__ for a host row-major float32 matrix / vector.
std::string DenseInterface(const float* data, std::size_t rows, std::size_t cols);

// JSON __cuda_array_interface__ (version 3) for a DEVICE row-major float32
// matrix, or a vector when cols == 0: {"data": [ptr, false], "shape": ...,
// "typestr": "<f4", "version": 3}. No "stream" key, so XGBoost does not
// synchronise a stream for it: the caller finishes writing the data first.
std::string CudaInterface(const float* device_data, std::size_t rows, std::size_t cols);

class DMatrix {
 public:
  DMatrix() = default;
  explicit DMatrix(DMatrixHandle h) : h_(h) {}
  DMatrix(DMatrix&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  DMatrix& operator=(DMatrix&& o) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix();
  DMatrixHandle get() const { return h_; }
  DMatrixHandle* out() { return &h_; }

  // Sets "label" or "weight" from host floats (one per row).
  void SetInfo(const char* field, const float* values, std::size_t n);
  // Sets "label" or "weight" from an array interface (host or CUDA).
  void SetInfoFromInterface(const char* field, const std::string& interface);

 private:
  DMatrixHandle h_ = nullptr;
};

class Booster {
 public:
  Booster() = default;
  Booster(Booster&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  Booster& operator=(Booster&& o) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();
  BoosterHandle get() const { return h_; }
  BoosterHandle* out() { return &h_; }
  void SetParam(const std::string& name, const std::string& value);

 private:
  BoosterHandle h_ = nullptr;
};

}  // namespace fastdml::xgb
