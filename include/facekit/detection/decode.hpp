// facekit/detection/decode.hpp - detector tensors -> scored boxes (TensorsToDetectionsCalculator,
// docs/pipeline.md 1.3; mediapipe/calculators/tensor/tensors_to_detections_calculator.cc), and the
// RawDetection record shared by NMS and projection.
//
//   std::vector<facekit::RawDetection> dets;
//   dets.reserve(anchors.size());                         // once; decoding never allocates then
//   facekit::decode_detections(regressors, classificators, anchors, opts, dets);
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../kernels/fp.hpp"
#include "../status.hpp"
#include "ssd_anchors.hpp"

namespace facekit {

/// Keypoints per detection (BlazeFace: eyes, nose tip, mouth, ear tragions).
constexpr int kDetectionKeypoints = 6;

/// A detection in relative coordinates (of the model input until projected, then of the image).
struct RawDetection {
  float xmin = 0, ymin = 0, width = 0, height = 0;
  std::array<std::array<float, 2>, kDetectionKeypoints> keypoints{};  ///< (x, y)
  float score = 0;
};

/// TensorsToDetectionsCalculatorOptions for one-class SSD detectors with reverse_output_order
/// (box x, y, w, h then keypoints x, y). Defaults: BlazeFace short range.
struct DecodeOptions {
  int num_boxes = 896;
  int num_coords = 16;
  int box_coord_offset = 0;
  int keypoint_coord_offset = 4;
  int num_keypoints = 6;  ///< 1..kDetectionKeypoints
  float x_scale = 128, y_scale = 128, w_scale = 128, h_scale = 128;
  bool apply_exponential_on_box_size = false;
  bool sigmoid_score = true;
  float score_clipping_thresh = 100.0f;  ///< <= 0: no clipping
  float min_score = 0.5f;                ///< detections scoring below are dropped (== is kept)

  static DecodeOptions short_range() { return DecodeOptions{}; }
  static DecodeOptions full_range() {
    DecodeOptions o;
    o.num_boxes = 2304;
    o.x_scale = o.y_scale = o.w_scale = o.h_scale = 192;
    return o;
  }
};

/// Checks the options against `num_anchors`. Messages name the metadata key each field is
/// stored under (read_decode_options; the four scales are 'detector.box_scale'), and its value.
inline Status validate_decode_options(const DecodeOptions& o, std::size_t num_anchors) {
  if (o.num_boxes <= 0 || std::size_t(o.num_boxes) != num_anchors)
    return Status::error("'detector.num_boxes' is %d, expected the anchor count %zu", o.num_boxes, num_anchors);
  if (o.num_keypoints < 1 || o.num_keypoints > kDetectionKeypoints)
    return Status::error("'detector.num_keypoints' is %d, expected 1..%d", o.num_keypoints, kDetectionKeypoints);
  if (o.box_coord_offset < 0 || o.keypoint_coord_offset < 0 || o.box_coord_offset + 4 > o.num_coords ||
      o.keypoint_coord_offset + 2 * o.num_keypoints > o.num_coords)
    return Status::error("'detector.num_coords' is %d, which cannot hold the box at %d and %d keypoints at %d",
                         o.num_coords, o.box_coord_offset, o.num_keypoints, o.keypoint_coord_offset);
  for (float scale : {o.x_scale, o.y_scale, o.w_scale, o.h_scale})
    if (!(scale > 0) || !std::isfinite(scale))
      return Status::error("'detector.box_scale' is %g, expected a finite value > 0", double(scale));
  // <= 0 turns clipping off (the struct's contract); the converted detectors all clip.
  if (!std::isfinite(o.score_clipping_thresh))
    return Status::error("'detector.score_clipping' is %g, expected a finite value", double(o.score_clipping_thresh));
  return Status::ok();
}

/// Scores every anchor and keeps those with score >= min_score and a non-negative, non-NaN box,
/// in anchor order. `out` is cleared; reserve it to the anchor count once and nothing allocates.
/// raw_boxes: num_boxes x num_coords floats; raw_scores: num_boxes floats (one class).
/// Call validate_decode_options once beforehand: the loop trusts the options.
inline void decode_detections(const float* raw_boxes, const float* raw_scores, const std::vector<Anchor>& anchors,
                              const DecodeOptions& o, std::vector<RawDetection>& out) {
  out.clear();
  const std::size_t n = std::min(anchors.size(), std::size_t(o.num_boxes > 0 ? o.num_boxes : 0));
  const float clip = o.score_clipping_thresh;
  for (std::size_t i = 0; i < n; ++i) {
    float score = raw_scores[i];
    if (o.sigmoid_score) {
      if (clip > 0) {
        score = score < -clip ? -clip : score;
        score = score > clip ? clip : score;
      }
      score = 1.0f / (1.0f + std::exp(-score));
    }
    // MediaPipe starts from -FLT_MAX and keeps the class only if it beats it: a NaN score
    // leaves -FLT_MAX, which any threshold drops.
    if (!(score > -3.402823466e+38f)) score = -3.402823466e+38f;
    if (score < o.min_score) continue;

    const Anchor& a = anchors[i];
    const float* r = raw_boxes + i * std::size_t(o.num_coords);
    const float* box = r + o.box_coord_offset;
    const float x_center = fp::mul(box[0] / o.x_scale, a.w) + a.x_center;
    const float y_center = fp::mul(box[1] / o.y_scale, a.h) + a.y_center;
    float w, h;
    if (o.apply_exponential_on_box_size) {
      w = std::exp(box[2] / o.w_scale) * a.w;
      h = std::exp(box[3] / o.h_scale) * a.h;
    } else {
      w = box[2] / o.w_scale * a.w;
      h = box[3] / o.h_scale * a.h;
    }
    const float ymin = y_center - h / 2.f, xmin = x_center - w / 2.f;
    const float ymax = y_center + h / 2.f, xmax = x_center + w / 2.f;
    RawDetection d;
    d.xmin = xmin;
    d.ymin = ymin;
    d.width = xmax - xmin;
    d.height = ymax - ymin;
    if (d.width < 0 || d.height < 0 || std::isnan(d.width) || std::isnan(d.height)) continue;
    const float* kp = r + o.keypoint_coord_offset;
    for (int k = 0; k < o.num_keypoints; ++k) {
      d.keypoints[std::size_t(k)][0] = fp::mul(kp[2 * k] / o.x_scale, a.w) + a.x_center;
      d.keypoints[std::size_t(k)][1] = fp::mul(kp[2 * k + 1] / o.y_scale, a.h) + a.y_center;
    }
    d.score = score;
    out.push_back(d);
  }
}

/// Decoding options from a converted detector's metadata (detector.* records), checked against
/// `num_anchors`, the anchor count of the metadata's anchor options (generate_ssd_anchors).
template <class ModelT>
Status read_decode_options(const ModelT& m, std::size_t num_anchors, DecodeOptions* o) {
  DecodeOptions r;
  int32_t v = 0;
  if (!m.meta_i32("detector.num_boxes", &v)) return Status::error("detector metadata: missing i32 'detector.num_boxes'");
  r.num_boxes = v;
  if (!m.meta_i32("detector.num_coords", &v)) return Status::error("detector metadata: missing i32 'detector.num_coords'");
  r.num_coords = v;
  if (!m.meta_i32("detector.num_keypoints", &v))
    return Status::error("detector metadata: missing i32 'detector.num_keypoints'");
  r.num_keypoints = v;
  float scale = 0;
  if (!detail::meta_number(m, "detector.box_scale", &scale))
    return Status::error("detector metadata: missing number 'detector.box_scale'");
  r.x_scale = r.y_scale = r.w_scale = r.h_scale = scale;
  if (!detail::meta_number(m, "detector.score_clipping", &r.score_clipping_thresh))
    return Status::error("detector metadata: missing number 'detector.score_clipping'");
  // A converted detector states its clipping: 0 or less there is a fault, not "no clipping".
  if (!(r.score_clipping_thresh > 0))
    return Status::error("detector metadata: 'detector.score_clipping' is %g, expected a finite value > 0",
                         double(r.score_clipping_thresh));
  Status s = validate_decode_options(r, num_anchors);
  if (!s) return s.prefix("detector metadata");
  *o = r;
  return Status::ok();
}

}  // namespace facekit
