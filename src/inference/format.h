// How the inference layer quotes a number in a message or warning: printf's
// "%g" (0.01, 1, 1.5e-05), short and without trailing zeros.
#pragma once
#include <cstdio>
#include <string>

namespace fastdml::inference {

inline std::string FormatNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace fastdml::inference
