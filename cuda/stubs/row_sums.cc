// cuda/row_sums.h for builds without CUDA (FASTDML_CUDA=OFF): the same symbols,
// each saying why it cannot run.
#include "cuda/row_sums.h"

#include "cuda/stubs/built_without_cuda.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
std::unique_ptr<cate::GroupRows> UploadGroupRows(const std::vector<double>&, const std::vector<double>&,
                                                 const std::vector<std::int32_t>&, int,
                                                 const std::vector<std::int32_t>&) {
  ThrowBuiltWithoutCuda();
}

std::unique_ptr<cate::OlsRows> UploadOlsRows(const std::vector<double>&, const std::vector<double>&, std::size_t,
                                             int, const std::vector<std::int32_t>&, std::int32_t) {
  ThrowBuiltWithoutCuda();
}

cate::GroupCounts CountByGroup(const std::vector<std::int32_t>&, int, const std::vector<double>*) {
  ThrowBuiltWithoutCuda();
}

cate::QuantileCut CutQuantiles(const std::vector<double>&, int) { ThrowBuiltWithoutCuda(); }

}  // namespace fastdml::cuda
