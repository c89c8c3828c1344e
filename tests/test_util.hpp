// Paths and small helpers shared by the tests.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <string>
#include <vector>

namespace test_util {

inline std::string source_path(const std::string& rel) { return std::string(FACEKIT_SOURCE_DIR) + "/" + rel; }
inline std::string shared_path(const std::string& rel) { return std::string(FACEKIT_SHARED_DIR) + "/" + rel; }
inline std::string weights_path(const std::string& rel) { return std::string(FACEKIT_WEIGHTS_DIR) + "/" + rel; }

/// The MediaPipe golden files (../shared/golden/*.json), sorted; empty if the folder is missing.
inline std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  const std::string dir = shared_path("golden");
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace test_util
