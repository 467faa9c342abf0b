#include "nuisance/xgboost_api.h"

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "fastdml/error.h"

namespace fastdml::xgb {

void XgbCheck(int rc, const char* what) {
  if (rc != 0) {
    const char* err = XGBGetLastError();
    throw LibraryError(std::string("XGBoost ") + what + " failed: " + (err ? err : "(no message)"));
  }
}

std::string CheckLibraryVersion() {
  static std::once_flag once;
  static std::string version;
  std::call_once(once, [] {
    int major = 0, minor = 0, patch = 0;
    XGBoostVersion(&major, &minor, &patch);
    version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    // Silence XGBoost's own warnings on stderr; errors still come back through
    // XGBGetLastError.
    XGBSetGlobalConfig("{\"verbosity\": 0}");
  });
  if (version.rfind("3.", 0) != 0) {
    throw LibraryError("fastdml needs XGBoost 3.x but loaded libxgboost " + version +
                       " (built against " FASTDML_XGBOOST_VERSION
                       "); run scripts/setup, or point LD_LIBRARY_PATH at a 3.x libxgboost.so");
  }
  return version;
}

bool LibraryHasCuda() {
  const char* info = nullptr;
  XgbCheck(XGBuildInfo(&info), "XGBuildInfo");
  const std::string s = info ? info : "";
  return s.find("\"USE_CUDA\":true") != std::string::npos ||
         s.find("\"USE_CUDA\": true") != std::string::npos;
}

DMatrix& DMatrix::operator=(DMatrix&& o) noexcept {
  if (this != &o) {
    if (h_) XGDMatrixFree(h_);
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

DMatrix::~DMatrix() {
  if (h_) XGDMatrixFree(h_);  // no-throw: a failed free is not recoverable here
}

void DMatrix::SetInfo(const char* field, const float* values, std::size_t n) {
  std::ostringstream os;
  os << "{\"data\": [" << reinterpret_cast<std::uintptr_t>(values) << ", true], \"shape\": [" << n
     << "], \"typestr\": \"<f4\", \"version\": 3}";
  XgbCheck(XGDMatrixSetInfoFromInterface(h_, field, os.str().c_str()), "XGDMatrixSetInfoFromInterface");
}

void DMatrix::SetInfoFromInterface(const char* field, const std::string& interface) {
  XgbCheck(XGDMatrixSetInfoFromInterface(h_, field, interface.c_str()), "XGDMatrixSetInfoFromInterface");
}

Booster& Booster::operator=(Booster&& o) noexcept {
  if (this != &o) {
    if (h_) XGBoosterFree(h_);
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

Booster::~Booster() {
  if (h_) XGBoosterFree(h_);
}

void Booster::SetParam(const std::string& name, const std::string& value) {
  XgbCheck(XGBoosterSetParam(h_, name.c_str(), value.c_str()),
           ("XGBoosterSetParam(" + name + "=" + value + ")").c_str());
}

}  // namespace fastdml::xgb
