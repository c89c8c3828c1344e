// Values checked at load (issue 18, item 1): the real converted models with one value made bad
// and the CRC sealed again, so that only the value checks stand between the file and a stage.
// Each must be refused, by the loader (constants) or by the stage that reads the metadata, with
// a message naming the tensor or key; the CLI exits non-zero and prints it with the file.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "facekit/landmarks/face_geometry.hpp"
#include "facekit/model/model.hpp"
#include "facekit/stages/blazeface_stage.hpp"
#include "facekit/stages/blendshape_stage.hpp"
#include "facekit/stages/mesh_models.hpp"
#include "test_util.hpp"

namespace {

using facekit::format::FileHeader;
using facekit::format::MetaRecord;
using facekit::format::MetaType;
using facekit::format::TensorRecord;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
/// Patch every element of the array or tensor, not one.
constexpr int kAll = -1;

std::vector<uint8_t> read_weights(const std::string& name) {
  const std::string path = test_util::weights_path(name);
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), path << " is missing: " << test_util::kFetchModels);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

FileHeader header_of(const std::vector<uint8_t>& b) {
  FileHeader h;
  std::memcpy(&h, b.data(), sizeof h);
  return h;
}

const char* string_at(const std::vector<uint8_t>& b, uint32_t off) {
  return reinterpret_cast<const char*>(b.data() + header_of(b).strings_offset + off);
}

/// docs/model-format.md section 9: the CRC-32 of everything after the header.
void reseal(std::vector<uint8_t>& b) {
  FileHeader h = header_of(b);
  h.checksum = facekit::format::crc32(b.data() + sizeof(FileHeader), b.size() - sizeof(FileHeader));
  std::memcpy(b.data(), &h, sizeof h);
}

/// Writes `value` as the record's element type (i32 or f32) at `at`.
void put(std::vector<uint8_t>& b, std::size_t at, bool is_float, double value) {
  if (is_float) {
    const float f = float(value);
    std::memcpy(b.data() + at, &f, 4);
  } else {
    const int32_t i = int32_t(value);
    std::memcpy(b.data() + at, &i, 4);
  }
}

/// Sets element `index` (kAll: every one) of metadata `key` or of the constant tensor `key` to
/// `value`, then seals the CRC again.
void patch(std::vector<uint8_t>& b, const std::string& key, int index, double value) {
  const FileHeader h = header_of(b);
  for (uint32_t i = 0; i < h.meta_count; ++i) {
    const std::size_t at = std::size_t(h.meta_offset) + i * sizeof(MetaRecord);
    MetaRecord r;
    std::memcpy(&r, b.data() + at, sizeof r);
    if (key != string_at(b, r.key)) continue;
    if (r.type == MetaType::i32 || r.type == MetaType::f32) {
      REQUIRE(index == 0);
      put(b, at + offsetof(MetaRecord, value), r.type == MetaType::f32, value);
    } else {
      REQUIRE((r.type == MetaType::i32_array || r.type == MetaType::f32_array));
      REQUIRE(index < int(r.count));
      for (uint32_t e = 0; e < r.count; ++e)
        if (index == kAll || int(e) == index)
          put(b, std::size_t(h.data_offset + r.value) + 4 * e, r.type == MetaType::f32_array, value);
    }
    return reseal(b);
  }
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    TensorRecord r;
    std::memcpy(&r, b.data() + h.tensors_offset + i * sizeof(TensorRecord), sizeof r);
    if (r.kind != facekit::format::TensorKind::constant || key != string_at(b, r.name)) continue;
    const std::size_t n = std::size_t(r.data_size / 4);
    REQUIRE(index < int(n));
    for (std::size_t e = 0; e < n; ++e)
      if (index == kAll || int(e) == index) put(b, std::size_t(h.data_offset + r.data_offset) + 4 * e, true, value);
    return reseal(b);
  }
  FAIL("no metadata key or constant tensor '" << key << "'");
}

/// Loads `bytes` and creates the stage that reads a model of its kind; the first error.
facekit::Status load_and_create(const std::vector<uint8_t>& bytes) {
  auto m = facekit::Model::copy_from_bytes(bytes.data(), bytes.size());
  if (!m) return m.status();
  auto model = std::make_shared<const facekit::Model>(std::move(*m));
  const std::string kind = model->kind();
  if (kind == "face_detector") {
    auto s = facekit::BlazeFaceStage::create(model, {});
    return s ? facekit::Status::ok() : s.status();
  }
  if (kind == "face_geometry") {
    auto g = facekit::FaceGeometry::create(model);
    return g ? facekit::Status::ok() : g.status();
  }
  if (kind == "face_blendshapes") {
    auto b = facekit::BlendshapeStage::create(model);
    return b ? facekit::Status::ok() : b.status();
  }
  std::size_t count = 0;
  const facekit::MeshModelEntry* meshes = facekit::mesh_models(&count);
  for (std::size_t i = 0; i < count; ++i)
    if (kind == meshes[i].info->kind) {
      auto mesh = meshes[i].create(model, *facekit::cpu_backend(), facekit::ArenaMemory{});
      return mesh ? facekit::Status::ok() : mesh.status();
    }
  return facekit::Status::error("no stage reads model kind '%s'", kind.c_str());
}

struct BadValue {
  const char* file;
  const char* key;  // metadata key or constant tensor name
  int index;        // array or tensor element; kAll: every one
  double value;
  std::vector<std::string> words;  // the message must contain each
};

constexpr const char* kDetector = "face_detector.fkm";
constexpr const char* kMesh = "face_landmarks_detector.fkm";
constexpr const char* kGeometry = "face_geometry.fkm";
constexpr const char* kAttention = "face_landmark_with_attention.fkm";
constexpr const char* kBlendshapes = "face_blendshapes.fkm";
constexpr const char* kFullRange = "face_detection_full_range_sparse.fkm";
constexpr const char* kBlendshapeWeight = "model_1/GhumMarkerPoserMlpMixerGeneral/conv2d/Conv2D_dequantize";
constexpr const char* kDetectorWeight = "conv2d/Kernel_dequantize";
constexpr const char* kMeshWeight = "model_5/model_4/model_3/conv2d_81/Conv2D_dequantize";

const std::vector<BadValue>& bad_values() {
  static const std::vector<BadValue> table = {
      // Constants: the loader, naming the tensor, the element and the value.
      {kDetector, kDetectorWeight, 5, kNaN, {kDetectorWeight, "value 5", "nan"}},
      {kDetector, kDetectorWeight, 0, kInf, {kDetectorWeight, "value 0", "inf"}},
      {kMesh, kMeshWeight, 17, -kInf, {kMeshWeight, "value 17", "inf"}},
      {kMesh, kMeshWeight, 3, kNaN, {kMeshWeight, "nan"}},
      {kGeometry, "canonical_vertices", 7, kNaN, {"canonical_vertices", "nan"}},
      {kGeometry, "procrustes_weights", 1, kInf, {"procrustes_weights", "inf"}},
      // The detector's input.
      {kDetector, "input.width", 0, 0, {"'input.width'", "0"}},
      {kDetector, "input.width", 0, 64, {"'input.width'", "64", "128"}},
      {kDetector, "input.height", 0, -1, {"'input.height'", "-1"}},
      {kDetector, "input.range", 0, kNaN, {"'input.range'", "nan"}},
      {kDetector, "input.range", 1, kInf, {"'input.range'", "inf"}},
      {kDetector, "input.range", 0, 5, {"'input.range'", "[5, 1]"}},
      // Decoding.
      {kDetector, "detector.box_scale", 0, kNaN, {"'detector.box_scale'", "nan", "> 0"}},
      {kDetector, "detector.box_scale", 0, 0, {"'detector.box_scale'", "is 0"}},
      {kDetector, "detector.box_scale", 0, -128, {"'detector.box_scale'", "-128"}},
      {kDetector, "detector.box_scale", 0, kInf, {"'detector.box_scale'", "inf"}},
      {kDetector, "detector.score_clipping", 0, kNaN, {"'detector.score_clipping'", "nan"}},
      {kDetector, "detector.score_clipping", 0, 0, {"'detector.score_clipping'", "is 0"}},
      {kDetector, "detector.score_clipping", 0, -100, {"'detector.score_clipping'", "-100"}},
      {kDetector, "detector.num_keypoints", 0, 0, {"'detector.num_keypoints'", "is 0"}},
      {kDetector, "detector.num_keypoints", 0, 7, {"'detector.num_keypoints'", "is 7"}},
      {kDetector, "detector.num_coords", 0, 8, {"'detector.num_coords'", "is 8"}},
      {kDetector, "detector.num_boxes", 0, 100, {"'detector.num_boxes'", "100", "896"}},
      {kDetector, "detector.num_boxes", 0, 0, {"'detector.num_boxes'", "is 0"}},
      // Anchors.
      {kDetector, "anchors.num_layers", 0, 0, {"'anchors.num_layers'", "is 0"}},
      {kDetector, "anchors.num_layers", 0, 3, {"'anchors.strides'", "3 layers"}},
      {kDetector, "anchors.strides", 1, 0, {"'anchors.strides'", "element 1", "is 0"}},
      {kDetector, "anchors.strides", 3, -16, {"'anchors.strides'", "-16"}},
      {kDetector, "anchors.min_scale", 0, kNaN, {"'anchors.min_scale'", "nan"}},
      {kDetector, "anchors.min_scale", 0, 0, {"'anchors.min_scale'", "is 0"}},
      {kDetector, "anchors.min_scale", 0, -0.5, {"'anchors.min_scale'", "-0.5"}},
      {kDetector, "anchors.max_scale", 0, kInf, {"'anchors.max_scale'", "inf"}},
      {kDetector, "anchors.max_scale", 0, 0, {"'anchors.max_scale'", "is 0"}},
      {kDetector, "anchors.offset_x", 0, kNaN, {"'anchors.offset_x'", "nan"}},
      {kDetector, "anchors.offset_x", 0, -0.5, {"'anchors.offset_x'", "-0.5"}},
      {kDetector, "anchors.offset_y", 0, 2, {"'anchors.offset_y'", "is 2"}},
      {kDetector, "anchors.aspect_ratios", 0, kNaN, {"'anchors.aspect_ratios'", "nan"}},
      {kDetector, "anchors.aspect_ratios", 0, 0, {"'anchors.aspect_ratios'", "is 0"}},
      {kDetector, "anchors.aspect_ratios", 0, -1, {"'anchors.aspect_ratios'", "-1"}},
      {kDetector, "anchors.aspect_ratios", 0, kInf, {"'anchors.aspect_ratios'", "inf"}},
      {kDetector, "anchors.interpolated_scale_aspect_ratio", 0, kNaN,
       {"'anchors.interpolated_scale_aspect_ratio'", "nan"}},
      // The landmark model's input.
      {kMesh, "input.width", 0, 0, {"'input.width'", "is 0"}},
      {kMesh, "input.height", 0, 192, {"'input.height'", "192", "256"}},
      {kMesh, "input.range", 0, kNaN, {"'input.range'", "nan"}},
      {kMesh, "input.range", 1, -1, {"'input.range'", "[0, -1]"}},
      {kMesh, "input.range", 1, 0, {"'input.range'", "[0, 0]"}},
      // The camera and the canonical mesh.
      {kGeometry, "camera.vertical_fov_degrees", 0, kNaN, {"'camera.vertical_fov_degrees'", "nan"}},
      {kGeometry, "camera.vertical_fov_degrees", 0, 0, {"'camera.vertical_fov_degrees'", "is 0"}},
      {kGeometry, "camera.vertical_fov_degrees", 0, 180, {"'camera.vertical_fov_degrees'", "180"}},
      {kGeometry, "camera.vertical_fov_degrees", 0, -63, {"'camera.vertical_fov_degrees'", "-63"}},
      {kGeometry, "camera.near", 0, kNaN, {"'camera.near'", "nan"}},
      {kGeometry, "camera.near", 0, 0, {"'camera.near'", "is 0"}},
      {kGeometry, "camera.near", 0, -1, {"'camera.near'", "-1"}},
      {kGeometry, "camera.far", 0, kInf, {"'camera.far'", "inf"}},
      {kGeometry, "camera.far", 0, 0.5, {"'camera.far'", "0.5"}},
      {kGeometry, "procrustes_weights", 4, -1, {"'procrustes_weights'", "value 4", "-1"}},
      {kGeometry, "procrustes_weights", kAll, 0, {"'procrustes_weights'", "sum to 0"}},
      {kGeometry, "canonical_vertices", kAll, 1.5, {"'canonical_vertices'", "degenerate"}},
      // The other converted models: the attention mesh, the blendshapes, the full-range detector.
      {kAttention, "conv2d/Kernel_dequantize", 2, kNaN, {"conv2d/Kernel_dequantize", "nan"}},
      {kAttention, "input.range", 1, kNaN, {"'input.range'", "nan"}},
      {kAttention, "input.width", 0, 0, {"'input.width'", "is 0"}},
      {kBlendshapes, kBlendshapeWeight, 100, kInf, {kBlendshapeWeight, "value 100", "inf"}},
      {kFullRange, "detector.box_scale", 0, 0, {"'detector.box_scale'", "is 0"}},
      {kFullRange, "detector.num_boxes", 0, 896, {"'detector.num_boxes'", "896", "2304"}},
      {kFullRange, "anchors.strides", 0, 0, {"'anchors.strides'", "is 0"}},
  };
  return table;
}

std::string describe(const BadValue& v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v.value);
  return std::string(v.file) + " " + v.key + "[" + (v.index == kAll ? "all" : std::to_string(v.index)) + "] = " + buf;
}

/// A fresh directory under the temporary directory, removed with its files at the end.
struct TempDir {
  std::string path;
  std::vector<std::string> files;
  TempDir() {
    char tmpl[] = "/tmp/facekit_load_values_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string p = path + "/" + name;
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    REQUIRE(f.good());
    files.push_back(p);
    return p;
  }
  ~TempDir() {
    for (const std::string& f : files) std::remove(f.c_str());
    rmdir(path.c_str());
  }
};

}  // namespace

TEST_CASE("load values: the real models, resealed unchanged, load and create their stages") {
  for (const char* file : {kDetector, kMesh, kGeometry, kAttention, kBlendshapes, kFullRange}) {
    std::vector<uint8_t> b = read_weights(file);
    reseal(b);
    const facekit::Status s = load_and_create(b);
    CHECK_MESSAGE(s.is_ok(), file << ": " << s.message());
  }
}

TEST_CASE("load values: each bad value, CRC sealed again, is refused naming the tensor or key") {
  std::string last_file;
  std::vector<uint8_t> original;
  for (const BadValue& v : bad_values()) {
    if (last_file != v.file) {
      original = read_weights(v.file);
      last_file = v.file;
    }
    std::vector<uint8_t> b = original;
    patch(b, v.key, v.index, v.value);
    const facekit::Status s = load_and_create(b);
    INFO(describe(v) << " -> " << s.message());
    REQUIRE_FALSE(s.is_ok());
    for (const std::string& w : v.words) CHECK(std::string(s.message()).find(w) != std::string::npos);
  }
}

#ifdef FACEKIT_CLI
namespace {

/// Runs `cmd` with stderr folded into stdout; its exit status and output.
int run(const std::string& cmd, std::string* out) { return test_util::run_command(cmd + " 2>&1", out); }

}  // namespace

TEST_CASE("load values: facekit detect and facekit landmarks exit non-zero and print the key") {
  TempDir dir;
  const std::string image = test_util::image_path("reaction_close_eyes.jpeg");
  std::vector<uint8_t> detector = read_weights(kDetector);
  patch(detector, "detector.box_scale", 0, kNaN);
  const std::string bad_detector = dir.write(kDetector, detector);
  std::string out;
  CHECK(run(std::string(FACEKIT_CLI) + " detect " + image + " --model-file " + bad_detector, &out) != 0);
  CHECK_MESSAGE(out.find("'detector.box_scale'") != std::string::npos, out);
  CHECK_MESSAGE(out.find(bad_detector) != std::string::npos, out);

  // A good detector beside a landmark model whose input range is NaN.
  dir.write(kDetector, read_weights(kDetector));
  std::vector<uint8_t> mesh = read_weights(kMesh);
  patch(mesh, "input.range", 0, kNaN);
  const std::string bad_mesh = dir.write(kMesh, mesh);
  out.clear();
  CHECK(run(std::string(FACEKIT_CLI) + " landmarks " + image + " --models " + dir.path, &out) != 0);
  CHECK_MESSAGE(out.find("'input.range'") != std::string::npos, out);
  CHECK_MESSAGE(out.find(bad_mesh) != std::string::npos, out);
}
#endif
