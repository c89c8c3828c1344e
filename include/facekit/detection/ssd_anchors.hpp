// facekit/detection/ssd_anchors.hpp - MediaPipe's SsdAnchorsCalculator (docs/pipeline.md 1.2, 1.7;
// mediapipe/calculators/tflite/ssd_anchors_calculator.cc).
//
//   std::vector<facekit::Anchor> anchors = facekit::generate_ssd_anchors(facekit::SsdAnchorOptions::short_range());
//   // 896 anchors; computed once per model, never per frame.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../status.hpp"

namespace facekit {

/// Centre and size normalised to the model input (0..1).
struct Anchor {
  float x_center = 0, y_center = 0, w = 1, h = 1;
};

/// SsdAnchorsCalculatorOptions (the non-multiscale generator). Defaults: BlazeFace short range.
struct SsdAnchorOptions {
  int input_width = 128, input_height = 128;
  float min_scale = 0.1484375f, max_scale = 0.75f;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  int num_layers = 4;
  std::vector<int> strides{8, 16, 16, 16};
  std::vector<float> aspect_ratios{1.0f};
  /// Explicit feature-map sizes per layer; empty means ceil(input / stride).
  std::vector<int> feature_map_width, feature_map_height;
  float interpolated_scale_aspect_ratio = 1.0f;
  bool fixed_anchor_size = true;
  bool reduce_boxes_in_lowest_layer = false;

  /// face_detector.tflite / face_detection_short_range.tflite: 896 anchors.
  static SsdAnchorOptions short_range() { return SsdAnchorOptions{}; }
  /// face_detection_full_range*.tflite: one 48 x 48 layer, 2304 anchors.
  static SsdAnchorOptions full_range() {
    SsdAnchorOptions o;
    o.input_width = o.input_height = 192;
    o.num_layers = 1;
    o.strides = {4};
    o.interpolated_scale_aspect_ratio = 0.0f;
    return o;
  }
};

/// Checks the options against the ranges MediaPipe's generator needs. Messages name the
/// metadata key each field is stored under (read_anchor_options), and its value.
inline Status validate_anchor_options(const SsdAnchorOptions& o) {
  if (o.num_layers <= 0 || o.num_layers > 64)
    return Status::error("'anchors.num_layers' is %d, expected 1..64", o.num_layers);
  const bool explicit_maps = !o.feature_map_height.empty() || !o.feature_map_width.empty();
  if (explicit_maps) {
    if (int(o.feature_map_height.size()) != o.num_layers || int(o.feature_map_width.size()) != o.num_layers)
      return Status::error("anchors: %zu feature map heights and %zu widths for %d layers", o.feature_map_height.size(),
                           o.feature_map_width.size(), o.num_layers);
    for (int i = 0; i < o.num_layers; ++i)
      if (o.feature_map_height[std::size_t(i)] <= 0 || o.feature_map_width[std::size_t(i)] <= 0 ||
          o.feature_map_height[std::size_t(i)] > 4096 || o.feature_map_width[std::size_t(i)] > 4096)
        return Status::error("anchors: feature map %d is %dx%d", i, o.feature_map_width[std::size_t(i)],
                             o.feature_map_height[std::size_t(i)]);
  } else {
    if (o.input_width <= 0 || o.input_width > 8192)
      return Status::error("'input.width' is %d, expected 1..8192", o.input_width);
    if (o.input_height <= 0 || o.input_height > 8192)
      return Status::error("'input.height' is %d, expected 1..8192", o.input_height);
  }
  // MediaPipe indexes strides by layer even with explicit feature maps (to group layers).
  if (int(o.strides.size()) != o.num_layers)
    return Status::error("'anchors.strides' has %zu strides for %d layers ('anchors.num_layers')", o.strides.size(),
                         o.num_layers);
  for (std::size_t i = 0; i < o.strides.size(); ++i)
    if (o.strides[i] <= 0 || o.strides[i] > 8192)
      return Status::error("'anchors.strides' element %zu is %d, expected 1..8192", i, o.strides[i]);
  for (std::size_t i = 0; i < o.aspect_ratios.size(); ++i)
    if (!(o.aspect_ratios[i] > 0) || !std::isfinite(o.aspect_ratios[i]))
      return Status::error("'anchors.aspect_ratios' element %zu is %g, expected a finite value > 0", i,
                           double(o.aspect_ratios[i]));
  struct Value {
    const char* key;
    float v;
    float lo;         // lowest allowed value
    bool lo_allowed;  // v == lo is allowed
  };
  // Scales are fractions of the input; offsets place the centre within a feature-map cell;
  // an interpolated aspect ratio <= 0 means none.
  const Value values[] = {{"anchors.min_scale", o.min_scale, 0.0f, false},
                          {"anchors.max_scale", o.max_scale, 0.0f, false},
                          {"anchors.offset_x", o.anchor_offset_x, 0.0f, true},
                          {"anchors.offset_y", o.anchor_offset_y, 0.0f, true},
                          {"anchors.interpolated_scale_aspect_ratio", o.interpolated_scale_aspect_ratio,
                           -std::numeric_limits<float>::infinity(), false}};
  for (const Value& v : values)
    if (!std::isfinite(v.v) || (v.lo_allowed ? !(v.v >= v.lo) : !(v.v > v.lo)))
      return Status::error("'%s' is %g, expected a finite value%s", v.key, double(v.v),
                           v.lo_allowed ? " >= 0" : (std::isfinite(v.lo) ? " > 0" : ""));
  if (o.anchor_offset_x > 1 || o.anchor_offset_y > 1)
    return Status::error("'%s' is %g, expected a value in [0, 1]",
                         o.anchor_offset_x > 1 ? "anchors.offset_x" : "anchors.offset_y",
                         double(o.anchor_offset_x > 1 ? o.anchor_offset_x : o.anchor_offset_y));
  return Status::ok();
}

namespace detail {

// CalculateScale: the interpolation is in double, the result float (MediaPipe's expression).
inline float anchor_scale(float min_scale, float max_scale, int stride_index, int num_strides) noexcept {
  if (num_strides == 1) return (min_scale + max_scale) * 0.5f;
  return float(min_scale + (max_scale - min_scale) * 1.0 * stride_index / (float(num_strides) - 1.0f));
}

}  // namespace detail

/// GenerateAnchors: layers with equal strides share one feature map; anchors in the order
/// row, column, anchor spec. Replaces `out`'s contents.
inline Status generate_ssd_anchors(const SsdAnchorOptions& o, std::vector<Anchor>* out) {
  FACEKIT_RETURN_IF_ERROR(validate_anchor_options(o));
  out->clear();
  const int num_strides = int(o.strides.size());
  int layer_id = 0;
  while (layer_id < o.num_layers) {
    std::vector<float> anchor_height, anchor_width, aspect_ratios, scales;
    int last = layer_id;
    while (last < num_strides && o.strides[std::size_t(last)] == o.strides[std::size_t(layer_id)]) {
      const float scale = detail::anchor_scale(o.min_scale, o.max_scale, last, num_strides);
      if (last == 0 && o.reduce_boxes_in_lowest_layer) {
        aspect_ratios.insert(aspect_ratios.end(), {1.0f, 2.0f, 0.5f});
        scales.insert(scales.end(), {0.1f, scale, scale});
      } else {
        for (float ar : o.aspect_ratios) {
          aspect_ratios.push_back(ar);
          scales.push_back(scale);
        }
        if (o.interpolated_scale_aspect_ratio > 0.0f) {
          const float next =
              last == num_strides - 1 ? 1.0f : detail::anchor_scale(o.min_scale, o.max_scale, last + 1, num_strides);
          scales.push_back(std::sqrt(scale * next));
          aspect_ratios.push_back(o.interpolated_scale_aspect_ratio);
        }
      }
      ++last;
    }
    for (std::size_t i = 0; i < aspect_ratios.size(); ++i) {
      const float r = std::sqrt(aspect_ratios[i]);
      anchor_height.push_back(scales[i] / r);
      anchor_width.push_back(scales[i] * r);
    }
    int fm_h, fm_w;
    if (!o.feature_map_height.empty()) {
      fm_h = o.feature_map_height[std::size_t(layer_id)];
      fm_w = o.feature_map_width[std::size_t(layer_id)];
    } else {
      const int stride = o.strides[std::size_t(layer_id)];
      fm_h = int(std::ceil(1.0f * float(o.input_height) / float(stride)));
      fm_w = int(std::ceil(1.0f * float(o.input_width) / float(stride)));
    }
    for (int y = 0; y < fm_h; ++y)
      for (int x = 0; x < fm_w; ++x)
        for (std::size_t k = 0; k < anchor_height.size(); ++k) {
          Anchor a;
          a.x_center = (float(x) + o.anchor_offset_x) * 1.0f / float(fm_w);
          a.y_center = (float(y) + o.anchor_offset_y) * 1.0f / float(fm_h);
          if (!o.fixed_anchor_size) {
            a.w = anchor_width[k];
            a.h = anchor_height[k];
          }
          out->push_back(a);
        }
    layer_id = last;
  }
  return Status::ok();
}

/// Convenience: the anchors, or an empty vector if the options are invalid.
inline std::vector<Anchor> generate_ssd_anchors(const SsdAnchorOptions& o) {
  std::vector<Anchor> a;
  if (!generate_ssd_anchors(o, &a)) a.clear();
  return a;
}

namespace detail {

template <class ModelT>
bool meta_number(const ModelT& m, const char* key, float* out) {
  if (m.meta_f32(key, out)) return true;
  int32_t i = 0;
  if (!m.meta_i32(key, &i)) return false;
  *out = float(i);
  return true;
}

}  // namespace detail

/// Anchor options from a converted detector's metadata (input.*, anchors.* records).
/// ModelT is facekit::Model (any type with meta_i32 / meta_f32 / meta_*_array works).
template <class ModelT>
Status read_anchor_options(const ModelT& m, SsdAnchorOptions* o) {
  SsdAnchorOptions r;
  int32_t v = 0;
  if (!m.meta_i32("input.width", &v)) return Status::error("detector metadata: missing i32 'input.width'");
  r.input_width = v;
  if (!m.meta_i32("input.height", &v)) return Status::error("detector metadata: missing i32 'input.height'");
  r.input_height = v;
  if (!m.meta_i32("anchors.num_layers", &v)) return Status::error("detector metadata: missing i32 'anchors.num_layers'");
  r.num_layers = v;
  const auto strides = m.meta_i32_array("anchors.strides");
  if (!strides.first || strides.second == 0)
    return Status::error("detector metadata: missing i32 array 'anchors.strides'");
  r.strides.assign(strides.first, strides.first + strides.second);
  struct F {
    const char* key;
    float* dst;
  };
  const F fs[] = {{"anchors.min_scale", &r.min_scale},
                  {"anchors.max_scale", &r.max_scale},
                  {"anchors.offset_x", &r.anchor_offset_x},
                  {"anchors.offset_y", &r.anchor_offset_y},
                  {"anchors.interpolated_scale_aspect_ratio", &r.interpolated_scale_aspect_ratio}};
  for (const F& f : fs)
    if (!detail::meta_number(m, f.key, f.dst)) return Status::error("detector metadata: missing number '%s'", f.key);
  const auto ratios = m.meta_f32_array("anchors.aspect_ratios");
  if (ratios.first && ratios.second) r.aspect_ratios.assign(ratios.first, ratios.first + ratios.second);
  if (m.meta_i32("anchors.fixed_anchor_size", &v)) r.fixed_anchor_size = v != 0;
  if (m.meta_i32("anchors.reduce_boxes_in_lowest_layer", &v)) r.reduce_boxes_in_lowest_layer = v != 0;
  Status s = validate_anchor_options(r);
  if (!s) return s.prefix("detector metadata");
  *o = std::move(r);
  return Status::ok();
}

}  // namespace facekit
