// Thin, checked RAII layer over XGBoost's C API. Every call goes through
// XgbCheck, which throws LibraryError with XGBGetLastError()'s text.
#pragma once
#include <xgboost/c_api.h>

#include <cstddef>
#include <string>

#include "ops/array_interface.h"

namespace fastdml::xgb {

// Throws LibraryError("XGBoost <what> failed: <last error>") when rc != 0.
void XgbCheck(int rc, const char* what);

// Checks once that the loaded libxgboost is the 3.x series the headers come
// from; returns "major.minor.patch". Throws LibraryError with what to do.
std::string CheckLibraryVersion();

// True when the loaded libxgboost was built with CUDA (XGBuildInfo USE_CUDA).
bool LibraryHasCuda();

// The array interfaces XGBoost reads (host and CUDA), ops/array_interface.h.
using ops::CudaInterface;
using ops::DenseInterface;

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
