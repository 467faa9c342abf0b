// The fit file of `fastdml estimate --save-fit / --load-fit`: a fit's
// out-of-fold predictions, fold ids and settings in one little-endian binary
// columnar file, so that re-estimating from it costs a few reads of raw
// columns instead of parsing a predictions CSV. The layout is documented in
// docs/fit-file.md; keep the two in step (and bump kFitFileVersion when the
// layout changes).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/options.h"

namespace fastdml::io {

// The first 8 bytes of every fit file.
inline constexpr char kFitFileMagic[8] = {'F', 'D', 'M', 'L', 'F', 'I', 'T', '\0'};
// The layout version this build writes and the only one it reads.
inline constexpr std::uint32_t kFitFileVersion = 1;
// Magic (8), version (uint32), reserved (uint32, 0), header length (uint64).
inline constexpr std::size_t kFitFilePreambleBytes = 24;

// Where the fit's data came from, as far as the CLI knows it.
struct FitFileSource {
  std::string data_path;  // --data
  std::string weights;    // --weights column, or empty
  std::string fold_col;   // --fold-col column, or empty
};

// What a fit file holds, decoded.
struct FitFile {
  std::uint32_t version = kFitFileVersion;
  std::string fastdml_version, xgboost_version;
  // The settings of the run that saved the fit. Those that shaped the
  // predictions (model, outcome design, matrix strategy, seed, learners) are
  // restored by FitFromFitFile; estimands, clip, normalize_ipw and level are
  // only a record of that run.
  Options options;
  FitFileSource source;
  std::string outcome, treatment, cluster;
  std::vector<std::string> features;
  std::uint64_t y_hash = 0, d_hash = 0;  // ColumnHash of the data's y and d
  Predictions predictions;
  std::vector<NuisanceTuning> tuning;  // empty unless the fit early-stopped or tuned
};

// FNV-1a over the 64-bit patterns of the values:
// h = 14695981039346656037; for each v: h = (h ^ bits(v)) * 1099511628211 (mod 2^64).
// Same column read from the same file -> same hash; any changed value -> another.
std::uint64_t ColumnHash(const std::vector<double>& values);

// Writes `fit` (made from `data`) to `path` through an AtomicFile. UsageError
// when the path cannot be written.
void WriteFitFile(const std::string& path, const Fit& fit, const Dataset& data, const FitFileSource& source);

// Reads a fit file whole. DataError naming `path` and what is wrong: not
// readable, bad magic, another layout version, truncated or overlong, a
// header that is not the documented JSON, a column missing, misplaced or of
// the wrong size.
FitFile ReadFitFile(const std::string& path);

// For the CLI, before its options are resolved: reads `path` and settles
// the model, which decides how the data are read. *model (the --model value)
// becomes the fit's; UsageError when model_given and it names another model.
FitFile ReadFitFileForModel(const std::string& path, std::string* model, bool model_given);

// Checks that `file` (read from `path`) was made from `data` (same rows,
// outcome and treatment columns, same y and d values; DataError otherwise)
// and turns it into a fit: the saved predictions and folds, the saved
// settings that shaped them, and `options`' re-estimation settings
// (estimands, clip, normalize_ipw, level, threads, device). UsageError when
// options.model is not the fit's model.
Fit FitFromFitFile(FitFile file, const std::string& path, const Dataset& data, const Options& options);

}  // namespace fastdml::io
