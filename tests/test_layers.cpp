// Every include in include/facekit runs downward (docs/architecture.md): a header may include
// its own layer and the layers below, never one above. A new directory must be given a layer here.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

// The layer of a header, by its path under include/facekit; -1 for a path no layer holds.
int layer_of(const std::string& rel) {
  static const std::map<std::string, int> kTop = {
      {"config.hpp", 0},      {"status.hpp", 0},         {"op_types.hpp", 0},
      {"face_detector.hpp", 7}, {"face_landmarker.hpp", 7}, {"facekit.hpp", 7},
  };
  static const std::map<std::string, int> kDirs = {
      {"kernels", 1}, {"image", 2},      {"model", 3},     {"ops", 4},
      {"runtime", 5}, {"opencl", 5},  {"detection", 6}, {"landmarks", 6}, {"stages", 6},
  };
  const auto slash = rel.find('/');
  if (slash == std::string::npos) {
    const auto it = kTop.find(rel);
    return it == kTop.end() ? -1 : it->second;
  }
  const auto it = kDirs.find(rel.substr(0, slash));
  return it == kDirs.end() ? -1 : it->second;
}

struct Include {
  std::string from, to;  // paths under include/facekit
  int line;
};

// The quoted includes of every header, resolved against the including file's directory.
std::vector<Include> quoted_includes(const fs::path& root) {
  std::vector<Include> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".hpp") continue;
    const std::string from = e.path().lexically_relative(root).generic_string();
    std::ifstream f(e.path());
    std::string text;
    int n = 0;
    while (std::getline(f, text)) {
      ++n;
      const auto hash = text.find_first_not_of(" \t");
      if (hash == std::string::npos || text.compare(hash, 8, "#include") != 0) continue;
      const auto q = text.find('"');
      if (q == std::string::npos) continue;  // <system> headers
      const auto q2 = text.find('"', q + 1);
      const fs::path target = (e.path().parent_path() / text.substr(q + 1, q2 - q - 1)).lexically_normal();
      out.push_back({from, target.lexically_relative(root).generic_string(), n});
    }
  }
  return out;
}

// Each include that breaks the layer order, as "from:line includes to (why)".
std::vector<std::string> violations(const fs::path& root) {
  std::vector<std::string> out;
  for (const Include& inc : quoted_includes(root)) {
    const int lf = layer_of(inc.from), lt = layer_of(inc.to);
    const std::string at = inc.from + ":" + std::to_string(inc.line) + " includes " + inc.to;
    if (lf < 0) out.push_back(at + " (no layer holds " + inc.from + ": give its directory one in tests/test_layers.cpp)");
    else if (inc.to.rfind("..", 0) == 0) out.push_back(at + " (outside include/facekit)");
    else if (!fs::exists(root / inc.to)) out.push_back(at + " (missing file)");
    else if (lt < 0 || lt > lf) out.push_back(at + " (layer " + std::to_string(lf) + " includes layer " + std::to_string(lt) + ")");
  }
  return out;
}

}  // namespace

TEST_CASE("layers: every include in include/facekit runs downward") {
  const fs::path root = fs::path(test_util::source_path("include/facekit")).lexically_normal();
  REQUIRE(fs::is_directory(root));
  CHECK(quoted_includes(root).size() > 100);  // the walk found the headers
  for (const std::string& v : violations(root)) FAIL_CHECK(v);
}

TEST_CASE("layers: the check reports an upward include and an unknown directory") {
  const fs::path root = fs::temp_directory_path() / "facekit_test_layers";
  fs::remove_all(root);
  fs::create_directories(root / "kernels");
  fs::create_directories(root / "ops");
  fs::create_directories(root / "misc");
  std::ofstream(root / "op_types.hpp") << "#pragma once\n";
  std::ofstream(root / "ops" / "b.hpp") << "#include \"../op_types.hpp\"\n#include \"../kernels/a.hpp\"\n";
  std::ofstream(root / "kernels" / "a.hpp") << "#include <vector>\n  #include \"../ops/b.hpp\"\n";
  std::ofstream(root / "misc" / "c.hpp") << "#include \"../op_types.hpp\"\n";
  const std::vector<std::string> v = violations(root);
  fs::remove_all(root);
  const auto has = [&](const std::string& s) {
    for (const std::string& x : v)
      if (x.find(s) != std::string::npos) return true;
    return false;
  };
  CHECK(v.size() == 2);
  CHECK(has("kernels/a.hpp:2 includes ops/b.hpp (layer 1 includes layer 4)"));
  CHECK(has("misc/c.hpp:1 includes op_types.hpp (no layer holds misc/c.hpp"));
}
