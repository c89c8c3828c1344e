// Paths and small helpers shared by the tests. Everything a test reads is in the repository
// (tests/data) or is put in place by tools/fetch-models.sh (weights/, weights/originals/); a
// missing input fails the test with the command that brings it.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace test_util {

/// What brings the models (weights/*.fkm and the originals in weights/originals/).
constexpr const char* kFetchModels = "run tools/fetch-models.sh (or tools/setup.sh)";

inline std::string source_path(const std::string& rel) { return std::string(FACEKIT_SOURCE_DIR) + "/" + rel; }
/// tests/data/<rel>: images, MediaPipe's goldens, golden tensors (all committed).
inline std::string data_path(const std::string& rel) { return source_path("tests/data/" + rel); }
inline std::string image_path(const std::string& name) { return data_path("images/" + name); }
inline std::string weights_path(const std::string& rel) { return std::string(FACEKIT_WEIGHTS_DIR) + "/" + rel; }
/// An original MediaPipe model file (.tflite/.task) as tools/fetch-models.sh keeps it.
inline std::string original_model_path(const std::string& name) { return weights_path("originals/" + name); }

/// The bytes of an original model file; fails the test, naming the command, when it is missing.
inline std::vector<uint8_t> read_original_model(const std::string& name) {
  const std::string path = original_model_path(name);
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), path << " is missing: " << kFetchModels);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// The MediaPipe golden files (tests/data/golden/*.json, made by tests/gen/make_mediapipe_golden.py),
/// sorted. Fails the test if the folder holds none.
inline std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  const std::string dir = data_path("golden");
  // Not readdir(): a 32-bit program under qemu-user gets EOVERFLOW from it on ext4 (64-bit
  // directory cookies) unless built with _FILE_OFFSET_BITS=64; libstdc++'s iterator is.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") out.push_back(dir + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  REQUIRE_MESSAGE(!out.empty(), dir << " holds no golden files: python3 tests/gen/make_mediapipe_golden.py makes them");
  return out;
}

/// Runs the shell command `cmd`, appends its standard output to *out and returns its exit
/// status as pclose gives it (0: success). Add " 2>&1" to `cmd` to read its errors too.
inline int run_command(const std::string& cmd, std::string* out) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "cannot run: " << cmd);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out->append(buf, n);
  return pclose(p);
}

/// `o` (FaceDetectorOptions, FaceLandmarkerOptions) running on `delegate`; for OpenCL the device
/// is FACEKIT_TEST_OPENCL_DEVICE=P:D (default 0:0).
template <class Options, class Delegate>
Options on_delegate(Options o, Delegate delegate) {
  o.delegate = delegate;
  o.opencl_platform = 0;
  o.opencl_device = 0;
  if (const char* e = std::getenv("FACEKIT_TEST_OPENCL_DEVICE")) std::sscanf(e, "%d:%d", &o.opencl_platform, &o.opencl_device);
  return o;
}

}  // namespace test_util
