// tools/convert/model_info.cpp - model identification and metadata records.
#include "convert/model_info.hpp"

#include <cmath>

namespace facekit {
namespace convert {

namespace {

// SSD anchor options of MediaPipe's face detector graph (docs/pipeline.md 1.2 for the 128 input, 1.7 for
// the 192 input). fixed_anchor_size is true for both, so every anchor is 1 x 1.
struct AnchorConfig {
  int input_size;
  std::vector<int32_t> strides;
  float min_scale, max_scale;
  float offset_x, offset_y;
  std::vector<float> aspect_ratios;
  float interpolated_scale_aspect_ratio;
};

const AnchorConfig* anchor_config(int input_size) {
  static const AnchorConfig short_range{128, {8, 16, 16, 16}, 0.1484375f, 0.75f, 0.5f, 0.5f, {1.0f}, 1.0f};
  static const AnchorConfig full_range{192, {4}, 0.1484375f, 0.75f, 0.5f, 0.5f, {1.0f}, 0.0f};
  if (input_size == 128) return &short_range;
  if (input_size == 192) return &full_range;
  return nullptr;
}

const std::vector<int32_t>& shape_of(const SourceGraph& g, int t) { return g.tensors[std::size_t(t)].shape; }

bool is_image_input(const std::vector<int32_t>& s, int size) {
  return s == std::vector<int32_t>{1, size, size, 3};
}

bool has_custom_op(const SourceGraph& g, const char* code) {
  for (const SourceOp& op : g.ops)
    if (op.builtin == kTfCustom && op.custom_code == code) return true;
  return false;
}

// Which detector output is which: regressors are [1, N, 16], classificators [1, N, 1].
bool detector_outputs(const SourceGraph& g, int* regressors, int* classificators, int* boxes) {
  if (g.outputs.size() != 2) return false;
  *regressors = *classificators = -1;
  for (int i = 0; i < 2; ++i) {
    const auto& s = shape_of(g, g.outputs[std::size_t(i)]);
    if (s.size() != 3 || s[0] != 1) return false;
    if (s[2] == 16) *regressors = i;
    if (s[2] == 1) *classificators = i;
  }
  if (*regressors < 0 || *classificators < 0) return false;
  const int n0 = shape_of(g, g.outputs[0])[1], n1 = shape_of(g, g.outputs[1])[1];
  *boxes = n0;
  return n0 == n1;
}

}  // namespace

int detector_anchor_count(int input_size) {
  const AnchorConfig* c = anchor_config(input_size);
  if (!c) return 0;
  // Consecutive layers with the same stride share one feature map (SsdAnchorsCalculator).
  const int per_layer = int(c->aspect_ratios.size()) + (c->interpolated_scale_aspect_ratio > 0.0f ? 1 : 0);
  int count = 0;
  std::size_t l = 0;
  while (l < c->strides.size()) {
    std::size_t last = l;
    while (last < c->strides.size() && c->strides[last] == c->strides[l]) ++last;
    const int fm = (c->input_size + c->strides[l] - 1) / c->strides[l];
    count += fm * fm * per_layer * int(last - l);
    l = last;
  }
  return count;
}

std::string identify_model(const SourceGraph& g) {
  if (g.inputs.size() != 1 || g.outputs.empty()) return kKindGeneric;
  const auto& in = shape_of(g, g.inputs[0]);
  const std::size_t out0_n = g.tensors[std::size_t(g.outputs[0])].elements;
  int reg = -1, cls = -1, boxes = 0;
  for (int size : {128, 192})
    if (is_image_input(in, size) && detector_outputs(g, &reg, &cls, &boxes) &&
        boxes == detector_anchor_count(size))
      return kKindDetector;
  if (is_image_input(in, 256) && out0_n == 478 * 3 && (g.outputs.size() == 2 || g.outputs.size() == 3))
    return kKindLandmarksV2;
  if (is_image_input(in, 192) && out0_n == 468 * 3 && g.outputs.size() == 7 &&
      has_custom_op(g, "TransformTensorBilinear"))
    return kKindLandmarksAttention;
  if (in == std::vector<int32_t>{1, 146, 2} && g.outputs.size() == 1 && out0_n == 52) return kKindBlendshapes;
  return kKindGeneric;
}

void add_metadata(const SourceGraph& g, const std::string& kind, const std::string& source, OutModel* m) {
  m->meta_str("model.kind", kind);
  m->meta_str("model.source", source);
  const auto& in = shape_of(g, g.inputs[0]);
  if (in.size() == 4) {
    m->meta_i32("input.width", in[2]);
    m->meta_i32("input.height", in[1]);
  }
  auto output = [&](int i, const char* name, const char* meaning) {
    m->meta_str("output." + std::to_string(i) + ".name", name);
    m->meta_str("output." + std::to_string(i) + ".meaning", meaning);
  };

  if (kind == kKindDetector) {
    const int size = in[1];
    const AnchorConfig* c = anchor_config(size);
    int reg = 0, cls = 1, boxes = 0;
    detector_outputs(g, &reg, &cls, &boxes);
    m->meta_f32s("input.range", {-1.0f, 1.0f});
    output(reg, "regressors",
           "per anchor 16 values in input pixels: box centre offset x, y from the anchor, box width, height, then "
           "6 keypoints (x, y) as offsets from the anchor (right eye, left eye, nose tip, mouth, right ear, left "
           "ear); divide by detector.box_scale");
    output(cls, "classificators",
           "per anchor one face score logit: clip to +-detector.score_clipping, then sigmoid");
    m->meta_i32("detector.num_boxes", boxes);
    m->meta_i32("detector.num_coords", 16);
    m->meta_i32("detector.num_keypoints", 6);
    m->meta_f32("detector.box_scale", float(size));
    m->meta_f32("detector.score_clipping", 100.0f);
    m->meta_i32("anchors.num_layers", int32_t(c->strides.size()));
    m->meta_i32s("anchors.strides", c->strides);
    m->meta_f32("anchors.min_scale", c->min_scale);
    m->meta_f32("anchors.max_scale", c->max_scale);
    m->meta_f32("anchors.offset_x", c->offset_x);
    m->meta_f32("anchors.offset_y", c->offset_y);
    m->meta_f32s("anchors.aspect_ratios", c->aspect_ratios);
    m->meta_f32("anchors.interpolated_scale_aspect_ratio", c->interpolated_scale_aspect_ratio);
    m->meta_i32("anchors.fixed_anchor_size", 1);
  } else if (kind == kKindLandmarksV2) {
    m->meta_f32s("input.range", {0.0f, 1.0f});
    output(0, "landmarks", "478 landmarks (x, y, z) in pixels of the 256 x 256 input crop");
    output(1, "presence", "face presence logit: the face is present if sigmoid(logit) > threshold");
    if (g.outputs.size() > 2) output(2, "tongue_out", "tongue-out score (sigmoid already applied); unused by MediaPipe");
  } else if (kind == kKindLandmarksAttention) {
    m->meta_f32s("input.range", {0.0f, 1.0f});
    output(0, "mesh", "468 landmarks (x, y, z) in pixels of the 192 x 192 input crop");
    output(1, "lips", "80 refined lip points (x, y) in crop pixels");
    output(2, "left_eye", "71 refined eye points (x, y) in crop pixels, eye on the image's left");
    output(3, "right_eye", "71 refined eye points (x, y) in crop pixels, eye on the image's right");
    output(4, "left_iris", "5 iris points (x, y) in crop pixels, iris on the image's left");
    output(5, "right_iris", "5 iris points (x, y) in crop pixels, iris on the image's right");
    output(6, "face_flag", "face presence logit: the face is present if sigmoid(logit) > 0.5");
  } else if (kind == kKindBlendshapes) {
    m->meta_str("input.meaning", "146 selected landmarks (x, y) in image pixels");
    output(0, "blendshapes", "52 blendshape scores (sigmoid applied) in MediaPipe's category order");
  } else {
    for (std::size_t i = 0; i < g.outputs.size(); ++i)
      output(int(i), g.tensors[std::size_t(g.outputs[i])].name.c_str(), "");
  }
}

}  // namespace convert
}  // namespace facekit
