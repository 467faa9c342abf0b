#include "io/fit_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fastdml/error.h"
#include "io/atomic_file.h"
#include "io/report.h"

namespace fastdml::io {
namespace {

// Columns are written as the host stores them; the documented layout is
// little-endian, so a big-endian build would have to swap bytes here.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fit files are little-endian (docs/fit-file.md)");
static_assert(sizeof(int) == 4 && sizeof(double) == 8, "fit file columns are int32 and float64");

constexpr std::size_t Align8(std::size_t k) { return (k + 7) / 8 * 8; }

void PutU32(std::string* s, std::uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* s, std::uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }

std::string Hex64(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// One column of the data section: bytes from the start of that section.
struct ColumnRef {
  const char* name;
  const char* type;  // "int32" or "float64"
  const void* data;
  std::size_t count;
  std::size_t width;
};

// Reads fields of the header with errors that name the file and the field.
class HeaderReader {
 public:
  HeaderReader(const std::string& path, const nlohmann::json& root) : path_(path), root_(root) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw DataError(path_ + ": not a valid fastdml fit file: " + what);
  }
  const nlohmann::json& At(const nlohmann::json& obj, const char* key, const std::string& where) const {
    if (!obj.is_object() || !obj.contains(key)) Fail("the header lacks '" + where + key + "'");
    return obj.at(key);
  }
  template <typename T>
  T Get(const nlohmann::json& obj, const char* key, const std::string& where = "") const {
    const nlohmann::json& v = At(obj, key, where);
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      Fail("header field '" + where + key + "' has the wrong type (" + v.dump() + ")");
    }
  }
  const nlohmann::json& root() const { return root_; }

 private:
  const std::string& path_;
  const nlohmann::json& root_;
};

LearnerParams ParseLearner(const HeaderReader& h, const nlohmann::json& j, const std::string& where) {
  LearnerParams p;
  const nlohmann::json& rounds = h.At(j, "rounds", where);
  if (rounds.is_string() && rounds.get<std::string>() == "auto") {
    p.rounds = kAutoRounds;
    p.max_rounds = h.Get<int>(j, "max_rounds", where);
    p.early_stopping_rounds = h.Get<int>(j, "early_stopping_rounds", where);
  } else {
    p.rounds = h.Get<int>(j, "rounds", where);
  }
  p.max_depth = h.Get<int>(j, "max_depth", where);
  p.eta = h.Get<double>(j, "eta", where);
  p.subsample = h.Get<double>(j, "subsample", where);
  p.colsample_bytree = h.Get<double>(j, "colsample_bytree", where);
  p.min_child_weight = h.Get<double>(j, "min_child_weight", where);
  p.lambda = h.Get<double>(j, "lambda", where);
  p.max_bin = h.Get<int>(j, "max_bin", where);
  p.nthread = h.Get<int>(j, "nthread", where);
  p.seed = h.Get<std::int64_t>(j, "seed", where);
  return p;
}

template <typename Enum, std::size_t N>
Enum ParseEnum(const HeaderReader& h, const nlohmann::json& j, const char* key, const Enum (&values)[N]) {
  const std::string text = h.Get<std::string>(j, key, "options.");
  for (Enum v : values) {
    if (text == ToString(v)) return v;
  }
  h.Fail("header field 'options." + std::string(key) + "' has the unknown value '" + text + "'");
}

Options ParseOptions(const HeaderReader& h, const nlohmann::json& j) {
  Options o;
  o.model = ParseEnum(h, j, "model", {Model::kIrm, Model::kPlr});
  o.outcome_design = ParseEnum(h, j, "outcome_design", {OutcomeDesign::kPooled, OutcomeDesign::kSeparate});
  o.matrix_strategy = ParseEnum(h, j, "matrix_strategy",
                                {MatrixStrategy::kSharedCuts, MatrixStrategy::kPerFold, MatrixStrategy::kZeroWeight});
  o.estimands.clear();
  for (const auto& e : h.Get<std::vector<std::string>>(j, "estimands", "options.")) {
    Estimand parsed;
    // ToString spellings only (never "atte"): the file records ToString(e).
    if (e == "atte" || !ParseEstimand(e, &parsed)) {
      h.Fail("header field 'options.estimands' has the unknown value '" + e + "'");
    }
    o.estimands.push_back(parsed);
  }
  o.folds = h.Get<int>(j, "folds", "options.");
  o.reps = h.Get<int>(j, "reps", "options.");
  o.seed = h.Get<std::uint64_t>(j, "seed", "options.");
  o.clip = h.Get<double>(j, "clip", "options.");
  o.normalize_ipw = h.Get<bool>(j, "normalize_ipw", "options.");
  o.level = h.Get<double>(j, "level", "options.");
  try {
    o.device = ParseDevice(h.Get<std::string>(j, "device", "options."));
  } catch (const UsageError& e) {
    h.Fail(std::string("header field 'options.device': ") + e.what());
  }
  o.propensity = ParseLearner(h, h.At(j, "propensity_learner", "options."), "options.propensity_learner.");
  o.outcome = ParseLearner(h, h.At(j, "outcome_learner", "options."), "options.outcome_learner.");
  if (j.contains("validation_fraction")) {
    o.validation_fraction = h.Get<double>(j, "validation_fraction", "options.");
    o.early_stopping_model =
        ParseEnum(h, j, "early_stopping_model", {EarlyStopModel::kKeep, EarlyStopModel::kRefit});
  }
  if (j.contains("tune")) {
    const nlohmann::json& t = h.At(j, "tune", "options.");
    o.tune.enabled = true;
    o.tune.per_fold = h.Get<bool>(t, "per_fold", "options.tune.");
    o.tune.params.clear();
    for (const auto& name : h.Get<std::vector<std::string>>(t, "params", "options.tune.")) {
      bool known = false;
      for (TuneParam p : {TuneParam::kMaxDepth, TuneParam::kEta, TuneParam::kMinChildWeight}) {
        if (name == ToString(p)) {
          o.tune.params.push_back(p);
          known = true;
        }
      }
      if (!known) h.Fail("header field 'options.tune.params' has the unknown value '" + name + "'");
    }
  }
  return o;
}

std::uint64_t ParseHash(const HeaderReader& h, const nlohmann::json& j, const char* key) {
  const std::string text = h.Get<std::string>(j, key, "data.");
  if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    h.Fail("header field 'data." + std::string(key) + "' is not 16 lower-case hex digits");
  }
  return std::stoull(text, nullptr, 16);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::uint64_t ColumnHash(const std::vector<double>& values) {
  std::uint64_t h = 14695981039346656037ULL;
  for (double v : values) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    h = (h ^ bits) * 1099511628211ULL;
  }
  return h;
}

void WriteFitFile(const std::string& path, const Fit& fit, const Dataset& data, const FitFileSource& source) {
  const Predictions& p = fit.predictions;
  const std::size_t total = p.n * static_cast<std::size_t>(p.reps);
  std::vector<ColumnRef> columns = {{"fold", "int32", p.fold.data(), p.fold.size(), 4}};
  const std::pair<const char*, const std::vector<double>*> values[] = {
      {"m", &p.m}, {"g0", &p.g0}, {"g1", &p.g1}, {"l", &p.l}};
  for (const auto& [name, v] : values) {
    if (!v->empty()) columns.push_back({name, "float64", v->data(), v->size(), 8});
  }
  nlohmann::json cols = nlohmann::json::array();
  std::size_t offset = 0;
  for (const ColumnRef& c : columns) {
    if (c.count != total) {
      throw Error("WriteFitFile: column " + std::string(c.name) + " holds " + std::to_string(c.count) +
                  " values, expected " + std::to_string(total));
    }
    cols.push_back({{"name", c.name}, {"type", c.type}, {"offset", offset}, {"count", c.count}});
    offset = Align8(offset + c.count * c.width);
  }
  const Options& o = fit.options;
  nlohmann::json header = {
      {"format", "fastdml-fit"},
      {"version", kFitFileVersion},
      {"fastdml_version", FASTDML_VERSION},
      {"xgboost_version", fit.xgboost_version},
      {"n", p.n},
      {"reps", p.reps},
      {"folds", o.folds},
      {"options", FitOptionsJson(o)},
      {"data",
       {{"file", source.data_path},
        {"outcome", data.outcome_name},
        {"treatment", data.treatment_name},
        {"features", data.feature_names},
        {"weights", source.weights},
        {"fold_column", source.fold_col},
        {"cluster", data.cluster_name},
        {"y_hash", Hex64(ColumnHash(data.y))},
        {"d_hash", Hex64(ColumnHash(data.d))}}},
      {"columns", cols},
      {"data_bytes", offset}};
  // Early stopping and --tune: how each model was sized (absent otherwise, so
  // fixed-round fits write the same header as before).
  if (UsesValidationSplit(o)) header["nuisance_tuning"] = TuningJson(fit.tuning);
  const std::string json = header.dump();

  std::string head(kFitFileMagic, sizeof kFitFileMagic);
  PutU32(&head, kFitFileVersion);
  PutU32(&head, 0);
  PutU64(&head, json.size());
  head += json;
  head.resize(Align8(head.size()), '\0');

  AtomicFile out(path);
  out.Write(head);
  static const char kZeros[8] = {};
  for (const ColumnRef& c : columns) {
    const std::size_t bytes = c.count * c.width;
    out.Write(std::string_view(static_cast<const char*>(c.data), bytes));
    out.Write(std::string_view(kZeros, Align8(bytes) - bytes));
  }
  out.Commit();
}

FitFile ReadFitFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw DataError(path + ": cannot open the fit file: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(::fileno(f.get()), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw DataError(path + ": the fit file is not a regular file");
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  auto read_at = [&](std::size_t pos, void* dst, std::size_t bytes, const char* what) {
    if (pos > size || bytes > size - pos) {
      throw DataError(path + ": the fit file is truncated: " + what + " needs bytes " + std::to_string(pos) + ".." +
                      std::to_string(pos + bytes) + " but the file has " + std::to_string(size) + " bytes");
    }
    if (bytes == 0) return;
    if (std::fseek(f.get(), static_cast<long>(pos), SEEK_SET) != 0 || std::fread(dst, 1, bytes, f.get()) != bytes) {
      throw DataError(path + ": cannot read the fit file (" + what + "): " + std::strerror(errno));
    }
  };

  char pre[kFitFilePreambleBytes] = {};
  const std::size_t got = std::min(size, kFitFilePreambleBytes);
  read_at(0, pre, got, "the preamble");
  if (got >= sizeof kFitFileMagic && std::memcmp(pre, kFitFileMagic, sizeof kFitFileMagic) != 0) {
    throw DataError(path + ": not a fastdml fit file (bad magic: its first 8 bytes are not \"FDMLFIT\\0\"; "
                           "--load-fit reads files written by --save-fit, --load-predictions reads CSV)");
  }
  if (got < kFitFilePreambleBytes) {
    throw DataError(path + ": the fit file is truncated: " + std::to_string(size) +
                    " bytes, shorter than the 24-byte preamble");
  }
  std::uint32_t version;
  std::uint64_t header_bytes;
  std::memcpy(&version, pre + 8, 4);
  std::memcpy(&header_bytes, pre + 16, 8);
  if (version != kFitFileVersion) {
    throw DataError(path + ": fit file layout version " + std::to_string(version) + "; this fastdml (" +
                    FASTDML_VERSION + ") reads version " + std::to_string(kFitFileVersion) +
                    " only (re-save the fit with this version)");
  }
  if (header_bytes > size) {
    throw DataError(path + ": the fit file is truncated: its header alone is " + std::to_string(header_bytes) +
                    " bytes but the file has " + std::to_string(size));
  }
  std::string text(header_bytes, '\0');
  read_at(kFitFilePreambleBytes, text.data(), text.size(), "the header");
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": not a valid fastdml fit file: the header is not JSON (" + e.what() + ")");
  }
  const HeaderReader h(path, root);
  if (h.Get<std::string>(root, "format") != "fastdml-fit") h.Fail("header field 'format' is not \"fastdml-fit\"");
  if (h.Get<std::uint32_t>(root, "version") != version) h.Fail("the header's version differs from the preamble's");

  FitFile out;
  out.version = version;
  out.fastdml_version = h.Get<std::string>(root, "fastdml_version");
  out.xgboost_version = h.Get<std::string>(root, "xgboost_version");
  out.options = ParseOptions(h, h.At(root, "options", ""));
  if (root.contains("nuisance_tuning")) {
    try {
      out.tuning = ParseTuningJson(root.at("nuisance_tuning"));
    } catch (const nlohmann::json::exception& e) {
      h.Fail(std::string("header field 'nuisance_tuning' is malformed (") + e.what() + ")");
    }
  }
  const nlohmann::json& d = h.At(root, "data", "");
  out.source.data_path = h.Get<std::string>(d, "file", "data.");
  out.source.weights = h.Get<std::string>(d, "weights", "data.");
  out.source.fold_col = h.Get<std::string>(d, "fold_column", "data.");
  out.outcome = h.Get<std::string>(d, "outcome", "data.");
  out.treatment = h.Get<std::string>(d, "treatment", "data.");
  out.cluster = h.Get<std::string>(d, "cluster", "data.");
  out.features = h.Get<std::vector<std::string>>(d, "features", "data.");
  out.y_hash = ParseHash(h, d, "y_hash");
  out.d_hash = ParseHash(h, d, "d_hash");

  Predictions& p = out.predictions;
  p.n = h.Get<std::size_t>(root, "n");
  p.reps = h.Get<int>(root, "reps");
  if (p.n == 0 || p.reps < 1 || p.reps > 1000000 || p.n > (std::size_t{1} << 40)) {
    h.Fail("n = " + std::to_string(p.n) + ", reps = " + std::to_string(p.reps) + " are out of range");
  }
  const std::size_t total = p.n * static_cast<std::size_t>(p.reps);
  const std::size_t data_start = Align8(kFitFilePreambleBytes + header_bytes);
  const std::size_t data_bytes = h.Get<std::size_t>(root, "data_bytes");
  if (data_start > size || data_bytes > size - data_start) {
    throw DataError(path + ": the fit file is truncated: the header announces " +
                    std::to_string(data_start + data_bytes) + " bytes but the file has " + std::to_string(size) +
                    " (an interrupted copy?)");
  }
  if (size != data_start + data_bytes) {
    h.Fail(std::to_string(size - data_start - data_bytes) + " bytes after the last column");
  }
  const nlohmann::json& cols = h.At(root, "columns", "");
  if (!cols.is_array()) h.Fail("header field 'columns' is not an array");
  for (const nlohmann::json& c : cols) {
    const std::string name = h.Get<std::string>(c, "name", "columns[].");
    const bool is_fold = name == "fold";
    std::vector<double>* values = name == "m"    ? &p.m
                                  : name == "g0" ? &p.g0
                                  : name == "g1" ? &p.g1
                                  : name == "l"  ? &p.l
                                                 : nullptr;
    if (!is_fold && !values) continue;  // a column a later minor addition might carry: ignorable
    const std::string type = h.Get<std::string>(c, "type", "columns[].");
    const std::size_t offset = h.Get<std::size_t>(c, "offset", "columns[].");
    const std::size_t count = h.Get<std::size_t>(c, "count", "columns[].");
    const std::size_t width = is_fold ? 4 : 8;
    const char* want_type = is_fold ? "int32" : "float64";
    if (type != want_type) h.Fail("column '" + name + "' has type " + type + ", expected " + want_type);
    if (count != total) {
      h.Fail("column '" + name + "' holds " + std::to_string(count) + " values, expected n x reps = " +
             std::to_string(total));
    }
    // Checked before allocating, so that a damaged header cannot ask for more
    // memory than the file could fill.
    if (offset % 8 != 0 || offset > data_bytes || count > (data_bytes - offset) / width) {
      h.Fail("column '" + name + "' lies outside the data section (offset " + std::to_string(offset) + ")");
    }
    if (is_fold ? !p.fold.empty() : !values->empty()) h.Fail("column '" + name + "' appears twice");
    void* dst;
    if (is_fold) {
      p.fold.resize(total);
      dst = p.fold.data();
    } else {
      values->resize(total);
      dst = values->data();
    }
    read_at(data_start + offset, dst, count * width, "a column");
  }
  const bool irm = out.options.model == Model::kIrm;
  if (p.fold.empty()) h.Fail("the column 'fold' is missing");
  for (const char* name : irm ? std::vector<const char*>{"m", "g0", "g1"} : std::vector<const char*>{"m", "l"}) {
    const std::vector<double>& v = name[0] == 'm' ? p.m : name[0] == 'l' ? p.l : name[1] == '0' ? p.g0 : p.g1;
    if (v.empty()) {
      h.Fail("the column '" + std::string(name) + "' is missing (needed by model " + ToString(out.options.model) +
             ")");
    }
  }
  return out;
}

FitFile ReadFitFileForModel(const std::string& path, std::string* model, bool model_given) {
  FitFile file = ReadFitFile(path);
  const std::string saved = ToString(file.options.model);
  if (model_given && *model != saved) {
    throw UsageError(path + ": the fit was made with --model " + saved + ", this run asks for --model " + *model +
                     " (leave --model out to take the fit's)");
  }
  *model = saved;
  return file;
}

Fit FitFromFitFile(FitFile file, const std::string& path, const Dataset& data, const Options& options) {
  if (options.model != file.options.model) {
    throw UsageError(path + ": the fit was made with --model " + ToString(file.options.model) +
                     ", this run asks for --model " + ToString(options.model) +
                     " (leave --model out to take the fit's)");
  }
  if (file.predictions.n != data.n) {
    throw DataError(path + ": the fit covers " + std::to_string(file.predictions.n) + " rows but the data has " +
                    std::to_string(data.n) + " (was it saved from another --data file than " +
                    (file.source.data_path.empty() ? std::string("this one") : file.source.data_path) + "?)");
  }
  auto same_column = [&](const char* role, const std::string& saved, const std::string& now, std::uint64_t hash,
                         const std::vector<double>& values) {
    if (saved != now) {
      throw DataError(path + ": the fit was made with --" + role + " '" + saved + "', this run has '" + now + "'");
    }
    if (hash != ColumnHash(values)) {
      throw DataError(path + ": the " + role + " column '" + now +
                      "' of the data differs from the one the fit was made from (same rows, other values: "
                      "another or an edited data file)");
    }
  };
  same_column("outcome", file.outcome, data.outcome_name, file.y_hash, data.y);
  same_column("treatment", file.treatment, data.treatment_name, file.d_hash, data.d);

  // What shaped the predictions comes from the file; what the re-estimation
  // may change (estimands, clip, normalize_ipw, level, threads, device) from
  // this run.
  Options merged = options;
  merged.outcome_design = file.options.outcome_design;
  merged.matrix_strategy = file.options.matrix_strategy;
  merged.seed = file.options.seed;
  merged.propensity = file.options.propensity;
  merged.outcome = file.options.outcome;
  merged.validation_fraction = file.options.validation_fraction;
  merged.early_stopping_model = file.options.early_stopping_model;
  merged.tune = file.options.tune;
  Fit fit = FitFromPredictions(data, merged, std::move(file.predictions));
  fit.xgboost_version = file.xgboost_version;
  fit.tuning = std::move(file.tuning);
  return fit;
}

}  // namespace fastdml::io
