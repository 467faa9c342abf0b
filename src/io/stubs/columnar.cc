// fastdml_columnar for builds without Arrow C++ (FASTDML_ARROW=OFF, or
// pyarrow not found when building only the Python extension): the same
// symbols as src/io/columnar.cc, refusing Parquet and Arrow input by name.
#include <string>

#include "fastdml/error.h"
#include "io/columnar.h"

namespace fastdml::io {
namespace {

[[noreturn]] void Unsupported(const std::string& path, const char* format) {
  throw DataError(path + ": this fastdml was built without " + format +
                  " input (Apache Arrow C++, from the pyarrow wheel, was not found): run scripts/setup and "
                  "rebuild, or convert the file to CSV");
}

}  // namespace

CsvTable ReadParquet(const std::string& path, const CsvPlan&) { Unsupported(path, "Parquet"); }
CsvTable ReadArrowIpc(const std::string& path, const CsvPlan&) { Unsupported(path, "Arrow IPC / Feather"); }

}  // namespace fastdml::io
