// The XGBoost handle behind CateModel::booster, kept out of the public header
// so that include/fastdml compiles without XGBoost's headers.
#pragma once
#include "fastdml/cate_model.h"
#include "nuisance/xgboost_api.h"

namespace fastdml {

class CateBooster {
 public:
  xgb::Booster handle;
};

}  // namespace fastdml
