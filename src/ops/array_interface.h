// The JSON array-interface strings that hand float32 arrays to XGBoost
// without a copy (numpy's __array_interface__ and the CUDA Array Interface,
// version 3). Plain C++ and no XGBoost, so cuda/device_data.cu writes them
// for its device arrays without including nuisance/.
#pragma once
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace fastdml::ops {

// __array_interface__ for a host row-major float32 matrix.
inline std::string DenseInterface(const float* data, std::size_t rows, std::size_t cols) {
  std::ostringstream os;
  os << "{\"data\": [" << reinterpret_cast<std::uintptr_t>(data) << ", true], \"shape\": [" << rows
     << ", " << cols << "], \"typestr\": \"<f4\", \"version\": 3}";
  return os.str();
}

// __cuda_array_interface__ (version 3) for a DEVICE row-major float32
// matrix, or a vector when cols == 0: {"data": [ptr, false], "shape": ...,
// "typestr": "<f4", "version": 3}. No "stream" key, so XGBoost does not
// synchronise a stream for it: the caller finishes writing the data first.
inline std::string CudaInterface(const float* device_data, std::size_t rows, std::size_t cols) {
  std::ostringstream os;
  os << "{\"data\": [" << reinterpret_cast<std::uintptr_t>(device_data) << ", false], \"shape\": [" << rows;
  if (cols > 0) os << ", " << cols;
  os << "], \"typestr\": \"<f4\", \"version\": 3}";
  return os.str();
}

}  // namespace fastdml::ops
