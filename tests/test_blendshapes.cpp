// The blendshape network (face_blendshapes.tflite converted to weights/face_blendshapes.fkm):
//  * tensor level: against the TFLite interpreter's reference kernels on real and random inputs
//    (tests/data/blendshapes, made by tests/gen/make_blendshapes_golden.py); issue 4's bound,
//    max abs error <= 1e-5, for the SIMD build and for the scalar kernels;
//  * pipeline level: fed MediaPipe's own landmarks through the input rule of docs/pipeline.md 6 (C++,
//    landmarks/blendshape_tables.hpp), the scores match MediaPipe's golden blendshapes within 0.01;
//  * what the converter made of it (ops, metadata).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "facekit/landmarks/blendshape_tables.hpp"
#include "facekit/runtime/executor.hpp"
#include "npy.hpp"
#include "test_util.hpp"

using nlohmann::json;

namespace {

std::shared_ptr<const facekit::Model> load_blendshape_model() {
  static std::shared_ptr<const facekit::Model> model = []() -> std::shared_ptr<const facekit::Model> {
    auto m = facekit::Model::load_file(test_util::weights_path("face_blendshapes.fkm"));
    if (!m) {
      MESSAGE(m.status().message() << " (run tools/fetch-models.sh)");
      return nullptr;
    }
    return std::make_shared<const facekit::Model>(std::move(*m));
  }();
  return model;
}

json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot read " << path);
  return json::parse(f);
}

template <class Arch>
std::unique_ptr<facekit::Session> make_session(const std::shared_ptr<const facekit::Model>& model) {
  auto prog = facekit::Program::create<Arch>(model);
  REQUIRE_MESSAGE(prog, prog.status().message());
  return std::make_unique<facekit::Session>(*prog);
}

double max_abs_diff(const float* a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < b.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

}  // namespace

TEST_CASE("blendshape tables: 146 distinct landmarks of 478, 52 names as MediaPipe labels them") {
  std::vector<int> idx(facekit::kBlendshapeLandmarks, facekit::kBlendshapeLandmarks + facekit::kBlendshapeLandmarkCount);
  CHECK(std::is_sorted(idx.begin(), idx.end()));
  CHECK(std::adjacent_find(idx.begin(), idx.end()) == idx.end());
  CHECK(idx.front() == 0);
  CHECK(idx.back() == facekit::kFaceLandmarkCount - 1);
  CHECK(std::string(facekit::kBlendshapeNames[0]) == "_neutral");
  CHECK(std::string(facekit::kBlendshapeNames[9]) == "eyeBlinkLeft");
  CHECK(std::string(facekit::kBlendshapeNames[51]) == "noseSneerRight");
  // The same order as MediaPipe's compiled table (tests/gen/make_mediapipe_tables.py) and as the
  // golden category names.
  const json tables = read_json(test_util::data_path("mediapipe_tables.json")).at("blendshape_landmark_indices");
  REQUIRE(tables.size() == std::size_t(facekit::kBlendshapeLandmarkCount));
  for (int k = 0; k < facekit::kBlendshapeLandmarkCount; ++k)
    CHECK(tables[std::size_t(k)].get<int>() == idx[std::size_t(k)]);
  const json golden = read_json(test_util::data_path("golden/skimage_astronaut.json"));
  const json& shapes = golden.at("landmarker").at("faces").at(0).at("blendshapes");
  REQUIRE(shapes.size() == std::size_t(facekit::kBlendshapeCount));
  for (int k = 0; k < facekit::kBlendshapeCount; ++k) {
    CHECK(shapes[std::size_t(k)].at("index").get<int>() == k);
    CHECK(shapes[std::size_t(k)].at("categoryName").get<std::string>() == facekit::kBlendshapeNames[k]);
  }
}

TEST_CASE("blendshape network matches the TFLite interpreter (max abs error <= 1e-5)") {
  auto model = load_blendshape_model();
  REQUIRE_MESSAGE(model, "weights/face_blendshapes.fkm is missing");
  CHECK(model->kind() == "face_blendshapes");
  auto simd = make_session<facekit::default_arch>(model);
  auto scalar = make_session<facekit::scalar_arch>(model);
  REQUIRE(simd->input_info(0).elements() == 146 * 2);
  REQUIRE(simd->output_info(0).elements() == 52);
  const std::string dir = test_util::source_path("tests/data/blendshapes/");
  const json manifest = read_json(dir + "manifest.json");
  REQUIRE(manifest.at("cases").size() >= 6);
  double worst_simd = 0, worst_scalar = 0;
  for (const json& c : manifest.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    auto in = npy::load<float>(dir + c.at("input").get<std::string>());
    auto ref = npy::load<float>(dir + c.at("output").get<std::string>());
    REQUIRE_MESSAGE(in, in.status().message());
    REQUIRE_MESSAGE(ref, ref.status().message());
    REQUIRE(in->data.size() == 146 * 2);
    REQUIRE(ref->data.size() == 52);
    for (auto* s : {simd.get(), scalar.get()}) {
      std::copy(in->data.begin(), in->data.end(), s->input(0));
      s->run();
    }
    const double ds = max_abs_diff(simd->output(0), ref->data), dr = max_abs_diff(scalar->output(0), ref->data);
    CHECK(ds <= 1e-5);
    CHECK(dr <= 1e-5);
    worst_simd = std::max(worst_simd, ds);
    worst_scalar = std::max(worst_scalar, dr);
  }
  MESSAGE("blendshapes vs TFLite (BUILTIN_REF): max abs error " << worst_simd << " (" << facekit::default_arch::name()
                                                              << "), " << worst_scalar << " (scalar)");
}

TEST_CASE("blendshapes from MediaPipe's own landmarks match MediaPipe's scores (<= 0.01)") {
  auto model = load_blendshape_model();
  REQUIRE_MESSAGE(model, "weights/face_blendshapes.fkm is missing");
  auto s = make_session<facekit::default_arch>(model);
  const std::string data_dir = test_util::source_path("tests/data/blendshapes/");
  const json manifest = read_json(data_dir + "manifest.json");
  int faces = 0;
  double worst = 0;
  for (const json& c : manifest.at("cases")) {
    if (c.at("kind") != "golden_landmarks") continue;
    const json g = read_json(test_util::data_path("golden/" + c.at("golden").get<std::string>()));
    const json& face = g.at("landmarker").at("faces").at(c.at("face").get<std::size_t>());
    const std::string name = c.at("name");
    CAPTURE(name);
    const json& lm = face.at("landmarks");
    REQUIRE(lm.size() == std::size_t(facekit::kFaceLandmarkCount));
    std::vector<float> xyz;
    for (const json& p : lm)
      for (int k = 0; k < 3; ++k) xyz.push_back(float(p.at(std::size_t(k)).get<double>()));
    facekit::blendshape_input(xyz.data(), 3, g.at("width").get<int>(), g.at("height").get<int>(), s->input(0));
    // The C++ input rule gives exactly the tensor the golden script fed the interpreter.
    auto stored = npy::load<float>(data_dir + c.at("input").get<std::string>());
    REQUIRE_MESSAGE(stored, stored.status().message());
    CHECK(std::equal(stored->data.begin(), stored->data.end(), s->input(0)));
    s->run();
    const json& want = face.at("blendshapes");
    REQUIRE(want.size() == 52);
    double d = 0;
    for (std::size_t k = 0; k < 52; ++k)
      d = std::max(d, std::fabs(double(s->output(0)[k]) - want[k].at("score").get<double>()));
    CHECK(d <= 0.01);
    worst = std::max(worst, d);
    ++faces;
  }
  CHECK(faces >= 8);
  MESSAGE("blendshapes vs MediaPipe on " << faces << " faces: max abs difference " << worst);
}

TEST_CASE("the converted blendshape model: ops and metadata") {
  auto model = load_blendshape_model();
  REQUIRE_MESSAGE(model, "weights/face_blendshapes.fkm is missing");
  const facekit::Model& m = *model;
  CHECK(m.kind() == "face_blendshapes");
  CHECK_FALSE(m.meta_string("input.meaning").empty());
  CHECK(m.meta_string("output.0.name") == "blendshapes");
  int counts[32] = {};
  for (const facekit::OpInfo& op : m.ops()) ++counts[int(op.type)];
  using facekit::OpType;
  // 4 mixer blocks: 2 layer norms, 2 token_dense (token MLP) and 2 conv2d (channel MLP) each,
  // plus the stem (point_normalize, mul, token_dense, conv2d, copy + concat of the extra token)
  // and the head (2 slices, conv2d, logistic); the last block computes token 0 only, through one
  // more slice (of its token_dense residual).
  CHECK(counts[int(OpType::layer_norm)] == 8);
  CHECK(counts[int(OpType::token_dense)] == 9);
  CHECK(counts[int(OpType::conv2d)] == 10);
  CHECK(counts[int(OpType::point_normalize)] == 1);
  CHECK(counts[int(OpType::mul)] == 1);
  CHECK(counts[int(OpType::copy)] == 1);
  CHECK(counts[int(OpType::concat)] == 1);
  CHECK(counts[int(OpType::slice)] == 3);
  CHECK(counts[int(OpType::logistic)] == 1);
  // Every residual ADD is fused: 4 into token_dense, 4 into conv2d.
  int token_res = 0, conv_res = 0;
  for (const facekit::OpInfo& op : m.ops()) {
    if (op.type == OpType::token_dense && op.input(facekit::kTokenDenseResidual) != facekit::kNoTensor) ++token_res;
    if (op.type == OpType::conv2d && op.input(facekit::kConvResidual) != facekit::kNoTensor) ++conv_res;
  }
  CHECK(token_res == 4);
  CHECK(conv_res == 4);
  float eps = 0;
  for (const facekit::OpInfo& op : m.ops())
    if (op.type == OpType::layer_norm) eps = op.params.as<facekit::LayerNormParams>().epsilon;
  // The model stores 1e-6 as a float16 constant, which dequantizes to 1.0132789611816406e-6.
  CHECK(eps == 1.0132789611816406e-6f);
}
