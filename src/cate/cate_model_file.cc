// CATE model files: the booster as XGBoost UBJ (XGBoosterSaveModelToBuffer)
// and a JSON sidecar (PATH.meta.json) with the feature names the booster
// expects, in order, and the parameters it was trained with.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cate/cate_booster.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"
#include "io/report.h"

namespace fastdml {
namespace {

constexpr const char* kFormat = "fastdml-cate-model";
constexpr int kFormatVersion = 1;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UsageError("cannot read the CATE model file '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

void SaveCateModel(const CateModel& model, const std::string& path) {
  if (!model.booster) throw UsageError("the CATE model holds no trained booster; nothing to save");
  const char* config = "{\"format\": \"ubj\"}";
  bst_ulong len = 0;
  const char* bytes = nullptr;
  xgb::XgbCheck(XGBoosterSaveModelToBuffer(model.booster->handle.get(), config, &len, &bytes),
                "XGBoosterSaveModelToBuffer");
  const std::string blob(bytes, bytes + len);
  const LearnerParams& p = model.learner;
  const nlohmann::json meta = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"fastdml_version", FASTDML_VERSION},
      {"feature_names", model.feature_names},
      {"learner",
       {{"rounds", p.rounds}, {"max_depth", p.max_depth}, {"eta", p.eta}, {"subsample", p.subsample},
        {"colsample_bytree", p.colsample_bytree}, {"min_child_weight", p.min_child_weight},
        {"lambda", p.lambda}, {"max_bin", p.max_bin}, {"nthread", p.nthread}, {"seed", p.seed}}},
      {"repetition", model.repetition},
      {"folds", model.folds},
      {"rows", model.in_sample.size()},
      {"pseudo_outcome_mse", model.pseudo_outcome_mse},
      {"constant_mse", model.constant_mse},
  };
  io::WriteFileAtomic(path, blob);
  io::WriteFileAtomic(path + ".meta.json", meta.dump(2) + "\n");
}

CateModel LoadCateModel(const std::string& path) {
  const std::string meta_path = path + ".meta.json";
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(ReadAll(meta_path));
  } catch (const nlohmann::json::exception& e) {
    throw UsageError("'" + meta_path + "' is not valid JSON (" + e.what() + ")");
  }
  if (!meta.is_object() || !meta.contains("format") || meta["format"] != kFormat) {
    throw UsageError("'" + meta_path + "' is not a fastdml CATE model sidecar (written by --save-cate-model)");
  }
  if (!meta.contains("format_version") || meta["format_version"] != kFormatVersion) {
    throw UsageError("'" + meta_path + "': format_version " + meta.value("format_version", nlohmann::json()).dump() +
                     " is not supported (expected " + std::to_string(kFormatVersion) + ")");
  }
  CateModel model;
  try {
    model.feature_names = meta.at("feature_names").get<std::vector<std::string>>();
    const auto& l = meta.at("learner");
    LearnerParams& p = model.learner;
    p.rounds = l.at("rounds");
    p.max_depth = l.at("max_depth");
    p.eta = l.at("eta");
    p.subsample = l.at("subsample");
    p.colsample_bytree = l.at("colsample_bytree");
    p.min_child_weight = l.at("min_child_weight");
    p.lambda = l.at("lambda");
    p.max_bin = l.at("max_bin");
    p.nthread = l.at("nthread");
    p.seed = l.at("seed");
    model.repetition = meta.at("repetition");
    model.folds = meta.at("folds");
    model.pseudo_outcome_mse = meta.at("pseudo_outcome_mse");
    model.constant_mse = meta.at("constant_mse");
  } catch (const nlohmann::json::exception& e) {
    throw UsageError("'" + meta_path + "' lacks a field or has a wrong type (" + e.what() + ")");
  }
  if (model.feature_names.empty()) throw UsageError("'" + meta_path + "' lists no feature_names");
  const std::string blob = ReadAll(path);
  auto booster = std::make_shared<CateBooster>();
  xgb::XgbCheck(XGBoosterCreate(nullptr, 0, booster->handle.out()), "XGBoosterCreate");
  if (XGBoosterLoadModelFromBuffer(booster->handle.get(), blob.data(), blob.size()) != 0) {
    throw UsageError("'" + path + "' is not an XGBoost model (" + XGBGetLastError() + ")");
  }
  bst_ulong features = 0;
  xgb::XgbCheck(XGBoosterGetNumFeature(booster->handle.get(), &features), "XGBoosterGetNumFeature");
  if (features != model.feature_names.size()) {
    throw UsageError("'" + path + "' expects " + std::to_string(features) + " features but '" + meta_path +
                     "' names " + std::to_string(model.feature_names.size()) + "; the two files do not belong together");
  }
  model.booster = std::move(booster);
  return model;
}

}  // namespace fastdml
