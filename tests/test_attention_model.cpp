// The Attention Mesh (face_landmark_with_attention.tflite) through the converter and the executor:
// op counts and custom-op parameters, errors on damaged custom options, and the whole model's
// tensors against a reference made of TFLite (builtin ops) and numpy (the three custom ops, from
// docs/pipeline.md 4): tests/gen/make_attention_golden.py, data in tests/data/attention/.
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <facekit/runtime/executor.hpp>

#include "convert/converter.hpp"
#include "convert/tflite_reader.hpp"
#include "npy.hpp"
#include "test_util.hpp"

namespace {

const char* kAttentionName = "face_landmark_with_attention.tflite";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Converts in memory and loads the result (the bytes are kept alive with the model).
struct Loaded {
  std::shared_ptr<std::vector<uint8_t>> storage;
  std::shared_ptr<const facekit::Model> model;
  facekit::convert::Converted converted;
};

void convert_and_load(Loaded* out) {
  const std::vector<uint8_t> tflite = test_util::read_original_model(kAttentionName);
  auto c = facekit::convert::convert_tflite(tflite, kAttentionName);
  REQUIRE_MESSAGE(c, c.status().message());
  auto m = facekit::Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  out->model = std::make_shared<const facekit::Model>(std::move(*m));
  out->converted = std::move(*c);
}

std::vector<const facekit::OpInfo*> ops_of(const facekit::Model& m, facekit::OpType t) {
  std::vector<const facekit::OpInfo*> r;
  for (const facekit::OpInfo& op : m.ops())
    if (op.type == t) r.push_back(&op);
  return r;
}

}  // namespace

TEST_CASE("attention model: converts with its MediaPipe custom ops lowered to library ops") {
  Loaded l;
  convert_and_load(&l);
  const auto& c = l.converted;
  CHECK(c.kind == "face_landmarks_attention");
  const std::map<std::string, int> want = {
      {"conv2d", 80}, {"dwconv2d", 66}, {"maxpool2d", 16}, {"mul", 3}, {"reshape", 14},
      {"landmarks_to_transform_matrix", 3}, {"transform_tensor_bilinear", 3}, {"transform_landmarks", 5}};
  CHECK(c.op_counts == want);
  CHECK(c.stats.custom_ops_lowered == 11);
  CHECK(c.stats.matrix_factors_fused == 5);  // the 3 MULs by the 4x4 constant, read by 5 ops
  CHECK(c.stats.channel_pads_absorbed == 9);
  std::string summary;
  for (const auto& kv : c.op_counts) summary += " " + kv.first + " " + std::to_string(kv.second);
  MESSAGE("attention mesh: " << l.model->op_count() << " ops:" << summary << "; " << c.stats.dequantize_folded
                             << " DEQUANTIZE folded, " << c.stats.activations_fused << " activations and "
                             << c.stats.residual_adds_fused << " residual ADDs fused");

  const facekit::Model& m = *l.model;
  CHECK(m.kind() == "face_landmarks_attention");
  CHECK(m.outputs().size() == 7);
  // Landmarks2TransformMatrix: lips, left eye, right eye (docs/pipeline.md 4.2).
  const auto l2t = ops_of(m, facekit::OpType::landmarks_to_transform_matrix);
  REQUIRE(l2t.size() == 3);
  const int left[] = {61, 33, 362}, right[] = {291, 133, 263}, count[] = {80, 71, 71}, first[] = {61, 33, 263};
  for (int k = 0; k < 3; ++k) {
    CAPTURE(k);
    const auto p = l2t[std::size_t(k)]->params.as<facekit::LandmarksToTransformMatrixParams>();
    CHECK(p.left_rotation_idx == left[k]);
    CHECK(p.right_rotation_idx == right[k]);
    CHECK(p.output_width == 16);
    CHECK(p.output_height == 16);
    CHECK(p.scale_x == 1.5f);
    CHECK(p.scale_y == 1.5f);
    CHECK(p.target_rotation_radians == 0.0f);
    const facekit::TensorInfo& subset = m.tensor(l2t[std::size_t(k)]->inputs[facekit::kL2tSubset]);
    CHECK(subset.is_constant());
    REQUIRE(int(subset.elements()) == count[k]);
    CHECK(subset.f32()[0] == float(first[k]));
  }
  for (const facekit::OpInfo* op : ops_of(m, facekit::OpType::transform_tensor_bilinear)) {
    CHECK(op->params.as<facekit::TransformTensorBilinearParams>().pixel_centers == 1);
    CHECK(m.tensor(op->outputs[0]).dims[1] == 16);
  }
  // Every TransformLandmarks carries the matrix factor [[1,1,4,4],[1,1,4,4],[.25,.25,1,1],[.25,.25,1,1]].
  const float factor[16] = {1, 1, 4, 4, 1, 1, 4, 4, 0.25f, 0.25f, 1, 1, 0.25f, 0.25f, 1, 1};
  for (const facekit::OpInfo* op : ops_of(m, facekit::OpType::transform_landmarks)) {
    CHECK(op->params.as<facekit::TransformLandmarksParams>().translation_scale == 1.0f);
    REQUIRE(op->input_count == 3);
    const facekit::TensorInfo& f = m.tensor(op->inputs[facekit::kTlFactor]);
    REQUIRE(f.elements() == 16);
    CHECK(std::equal(factor, factor + 16, f.f32()));
  }
  auto program = facekit::Program::create(l.model);
  CHECK_MESSAGE(program, program.status().message());
}

TEST_CASE("attention model: damaged custom options give an error naming the op") {
  const std::vector<uint8_t> tflite = test_util::read_original_model(kAttentionName);
  auto g = facekit::convert::read_tflite(tflite, kAttentionName);
  REQUIRE_MESSAGE(g, g.status().message());
  const facekit::convert::SourceOp& l2t = g->ops[192];
  const facekit::convert::SourceOp& ttb = g->ops[195];
  REQUIRE(l2t.custom_code == "Landmarks2TransformMatrix");
  REQUIRE(ttb.custom_code == "TransformTensorBilinear");
  REQUIRE(l2t.custom_options_size > 16);
  auto convert_damaged = [&](const facekit::convert::SourceOp& op, auto damage) {
    std::vector<uint8_t> bytes = tflite;
    damage(bytes.data() + op.custom_options_offset, op.custom_options_size);
    auto c = facekit::convert::convert_tflite(bytes, kAttentionName);
    REQUIRE_FALSE(c);
    return std::string(c.status().message());
  };
  // The root's byte width (the blob's last byte) made invalid: the FlexBuffers verifier refuses it.
  std::string msg = convert_damaged(l2t, [](uint8_t* p, std::size_t n) { p[n - 1] = 3; });
  CHECK_MESSAGE(contains(msg, "face_landmark_with_attention.tflite: operator #192 Landmarks2TransformMatrix: custom "
                              "options"), msg);
  CHECK_MESSAGE(contains(msg, "not a valid FlexBuffer"), msg);
  // The root's type made a string: valid FlexBuffer, not a map.
  msg = convert_damaged(ttb, [](uint8_t* p, std::size_t n) { p[n - 2] = uint8_t(5 << 2); });
  CHECK_MESSAGE(contains(msg, "operator #195 TransformTensorBilinear"), msg);
  // A key renamed ("scale_x" -> "scale_q", still sorted): the option is missing.
  msg = convert_damaged(l2t, [](uint8_t* p, std::size_t n) {
    const char key[] = "scale_x";
    uint8_t* hit = std::search(p, p + n, key, key + 7);
    REQUIRE(hit != p + n);
    hit[6] = 'q';
  });
  CHECK_MESSAGE(contains(msg, "operator #192 Landmarks2TransformMatrix: custom option 'scale_x' is missing"), msg);
  // Bytes of the blob flipped (every 5th, and the root at the end): an error naming the op (or,
  // where the damage keeps a valid map, a conversion), never a crash.
  for (std::size_t i = 0; i < l2t.custom_options_size; ++i) {
    if (i % 5 != 0 && i + 8 < l2t.custom_options_size) continue;
    std::vector<uint8_t> bytes = tflite;
    bytes[l2t.custom_options_offset + i] ^= 0xA5;
    auto c = facekit::convert::convert_tflite(bytes, kAttentionName);
    if (!c) CHECK_MESSAGE(contains(c.status().message(), "operator #192 Landmarks2TransformMatrix"), c.status().message());
  }
}

TEST_CASE("attention model: tensors match TFLite (builtin ops) + numpy (custom ops)") {
  Loaded l;
  convert_and_load(&l);
  auto program = facekit::Program::create(l.model);
  REQUIRE_MESSAGE(program, program.status().message());
  facekit::Session session(*program);
  const facekit::Model& m = *l.model;
  const auto l2t = ops_of(m, facekit::OpType::landmarks_to_transform_matrix);
  const auto ttb = ops_of(m, facekit::OpType::transform_tensor_bilinear);
  REQUIRE(l2t.size() == 3);
  REQUIRE(ttb.size() == 3);
  const std::string dir = test_util::source_path("tests/data/attention/");
  for (const std::string name : {"happy", "random"}) {
    CAPTURE(name);
    auto load = [&](const char* what) {
      auto a = npy::load<float>(dir + name + "." + what + ".npy");
      REQUIRE_MESSAGE(a, a.status().message());
      return a->data;
    };
    auto in = npy::load<uint8_t>(dir + name + ".input.npy");
    REQUIRE_MESSAGE(in, in.status().message());
    REQUIRE(in->size() == session.input_info(0).elements());
    float* x = session.input(0);
    for (std::size_t i = 0; i < in->size(); ++i) x[i] = float(in->data[i]) / 255.0f;
    session.run();

    // Largest |a - b| over the largest |b|.
    auto rel = [](const float* a, const std::vector<float>& b) {
      double e = 0, mx = 1e-12;
      for (std::size_t i = 0; i < b.size(); ++i) {
        e = std::max(e, std::fabs(double(a[i]) - double(b[i])));
        mx = std::max(mx, std::fabs(double(b[i])));
      }
      return e / mx;
    };
    const std::vector<float> mesh = load("mesh"), flag = load("face_flag"), mats = load("matrices"),
                             crops = load("crops"), refined = load("refined");
    REQUIRE(session.output_info(0).elements() == mesh.size());
    const double e_mesh = rel(session.output(0), mesh);
    const double e_flag = std::fabs(session.output(6)[0] - flag[0]) / std::max(1.0f, std::fabs(flag[0]));
    double e_mat = 0, e_crop = 0;
    for (int k = 0; k < 3; ++k) {
      const std::vector<float> mk(mats.begin() + 16 * k, mats.begin() + 16 * (k + 1));
      e_mat = std::max(e_mat, rel(session.tensor(l2t[std::size_t(k)]->outputs[0]), mk));
      const std::size_t n = 16 * 16 * 32;
      REQUIRE(m.tensor(ttb[std::size_t(k)]->outputs[0]).elements() == n);
      const std::vector<float> ck(crops.begin() + long(n) * k, crops.begin() + long(n) * (k + 1));
      e_crop = std::max(e_crop, rel(session.tensor(ttb[std::size_t(k)]->outputs[0]), ck));
    }
    std::vector<float> ours;
    for (int o = 1; o <= 5; ++o) ours.insert(ours.end(), session.output(o), session.output(o) + session.output_info(o).elements());
    REQUIRE(ours.size() == refined.size());
    const double e_ref = rel(ours.data(), refined);
    double e_px = 0;  // in pixels of the 192 crop
    for (std::size_t i = 0; i < refined.size(); ++i) e_px = std::max(e_px, double(std::fabs(ours[i] - refined[i])));
    MESSAGE(name << ": max error / max |ref|: mesh " << e_mesh << ", face flag " << e_flag << ", matrices " << e_mat
                 << ", crops " << e_crop << ", refined points " << e_ref << " (" << e_px << " px)");
    CHECK(e_mesh < 1e-4);
    CHECK(e_flag < 1e-4);
    CHECK(e_mat < 1e-4);
    CHECK(e_crop < 1e-3);
    CHECK(e_ref < 1e-4);
  }
}

#endif  // FACEKIT_HAVE_CONVERTER
