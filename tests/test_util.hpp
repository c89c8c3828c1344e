// Paths and small helpers shared by the tests.
#pragma once

#include <string>

namespace test_util {

inline std::string source_path(const std::string& rel) { return std::string(FACEKIT_SOURCE_DIR) + "/" + rel; }
inline std::string shared_path(const std::string& rel) { return std::string(FACEKIT_SHARED_DIR) + "/" + rel; }
inline std::string weights_path(const std::string& rel) { return std::string(FACEKIT_WEIGHTS_DIR) + "/" + rel; }

}  // namespace test_util
