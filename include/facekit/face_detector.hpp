// facekit/face_detector.hpp - BlazeFace face detection, as MediaPipe Tasks' FaceDetector.
//
//   auto detector = facekit::FaceDetector::create_from_file("weights/face_detector.fkm");
//   if (!detector) { std::fprintf(stderr, "%s\n", detector.status().message()); return 1; }
//   auto image = facekit::load_image("photo.jpg");
//   facekit::FaceDetectorResult result;
//   if (auto st = detector->detect(image->view(), result); !st) { ... }
//   for (const facekit::Detection& d : result.detections)
//     std::printf("face at %d,%d size %dx%d score %.3f\n", d.bounding_box.origin_x,
//                 d.bounding_box.origin_y, d.bounding_box.width, d.bounding_box.height, d.score);
//
// Steps (docs/pipeline.md 0.3 and 1; mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc):
// the whole image letterboxed into the model's square input with MediaPipe's exact CPU
// resampling, the network, SSD anchor decoding, weighted non-max suppression, and the letterbox
// removed. A FaceDetector owns one execution session: use one per thread (the model inside may be
// shared). After the first call for a given image size, detect() allocates nothing when `result`
// is reused.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "detection/decode.hpp"
#include "detection/nms.hpp"
#include "detection/projection.hpp"
#include "detection/ssd_anchors.hpp"
#include "image/image.hpp"
#include "stages/image_to_tensor.hpp"
#include "runtime/executor.hpp"

namespace facekit {

struct FaceDetectorOptions {
  /// Detections scoring below this are dropped (MediaPipe: min_detection_confidence).
  float min_detection_confidence = 0.5f;
  /// Weighted NMS merges boxes whose IoU exceeds this (MediaPipe: min_suppression_threshold).
  float min_suppression_threshold = 0.3f;
  /// Keep at most this many faces, highest score first; < 0 keeps all (MediaPipe's default).
  int max_faces = -1;
};

/// Pixel box as MediaPipe Tasks reports it: each of xmin*W, ymin*H, width*W, height*H truncated
/// toward zero and clamped to the image.
struct BoundingBox {
  int origin_x = 0, origin_y = 0, width = 0, height = 0;
};

/// A point normalised by the image width and height, origin top-left.
struct NormalizedKeypoint {
  float x = 0, y = 0;
};

/// Keypoint order, as MediaPipe documents it (the person's right/left).
enum class FaceKeypoint : int { right_eye = 0, left_eye = 1, nose_tip = 2, mouth_center = 3, right_ear_tragion = 4,
                                left_ear_tragion = 5 };

struct Detection {
  BoundingBox bounding_box;
  /// The same box, normalised and unrounded: xmin, ymin, width, height.
  std::array<float, 4> relative_box{};
  std::array<NormalizedKeypoint, 6> keypoints{};
  float score = 0;
};

struct FaceDetectorResult {
  std::vector<Detection> detections;
};

class FaceDetector {
 public:
  /// `model` must be a face detector model file (model.kind "face_detector").
  static Expected<FaceDetector> create(std::shared_ptr<const Model> model, const FaceDetectorOptions& options = {});
#ifndef FACEKIT_NO_STDIO
  static Expected<FaceDetector> create_from_file(const std::string& path, const FaceDetectorOptions& options = {}) {
    auto m = Model::load_file(path);
    if (!m) return m.status();
    return create(std::make_shared<const Model>(std::move(*m)), options);
  }
#endif
  /// Uses the bytes in place (aligned to 64; kept alive by the caller).
  static Expected<FaceDetector> create_from_bytes(const void* data, std::size_t size,
                                                  const FaceDetectorOptions& options = {}) {
    auto m = Model::from_bytes(data, size);
    if (!m) return m.status();
    return create(std::make_shared<const Model>(std::move(*m)), options);
  }

  /// Detects faces; `result` is overwritten (its capacity reused).
  Status detect(const ImageView& image, FaceDetectorResult& result);
  /// Convenience overload that allocates a result.
  Expected<FaceDetectorResult> detect(const ImageView& image) {
    FaceDetectorResult r;
    Status s = detect(image, r);
    if (!s) return s;
    return r;
  }

  const FaceDetectorOptions& options() const noexcept { return options_; }
  int input_width() const noexcept { return input_w_; }
  int input_height() const noexcept { return input_h_; }
  /// The execution session, for benchmarks and tests that drive the network directly.
  Session& session() noexcept { return *session_; }

 private:
  FaceDetector() = default;
  FaceDetectorOptions options_;
  std::unique_ptr<Session> session_;
  int input_w_ = 0, input_h_ = 0;
  float range_min_ = -1, range_max_ = 1;
  DecodeOptions decode_;
  std::vector<Anchor> anchors_;
  std::vector<RawDetection> scratch_, merged_;
  NmsScratch nms_scratch_;
};

inline Expected<FaceDetector> FaceDetector::create(std::shared_ptr<const Model> model,
                                                   const FaceDetectorOptions& options) {
  if (!model) return Status::error("FaceDetector: model is null");
  const Model& m = *model;
  if (m.kind() != "face_detector")
    return Status::error("FaceDetector: model kind is '%s', expected 'face_detector' (convert the face detector "
                         "model, e.g. face_detector.tflite from face_landmarker.task)",
                         m.kind().c_str());
  if (!(options.min_detection_confidence >= 0 && options.min_detection_confidence <= 1))
    return Status::error("FaceDetector: min_detection_confidence %g is outside [0, 1]",
                         double(options.min_detection_confidence));
  if (!(options.min_suppression_threshold >= 0 && options.min_suppression_threshold <= 1))
    return Status::error("FaceDetector: min_suppression_threshold %g is outside [0, 1]",
                         double(options.min_suppression_threshold));
  FaceDetector d;
  d.options_ = options;
  if (m.inputs().size() != 1 || m.outputs().size() != 2)
    return Status::error("FaceDetector: expected 1 input and 2 outputs, the model has %zu and %zu", m.inputs().size(),
                         m.outputs().size());
  const TensorInfo& in = m.tensor(m.inputs()[0]);
  if (in.rank != 4 || in.dims[0] != 1 || in.dims[3] != 3)
    return Status::error("FaceDetector: input '%s' must be [1, H, W, 3]", in.name);
  d.input_h_ = in.dims[1];
  d.input_w_ = in.dims[2];
  auto range = m.meta_f32_array("input.range");
  if (range.second == 2) {
    d.range_min_ = range.first[0];
    d.range_max_ = range.first[1];
  }
  // Decoding and anchor configuration travel in the model's metadata (written by the converter).
  SsdAnchorOptions ao;
  FACEKIT_RETURN_IF_ERROR(read_anchor_options(m, &ao));
  FACEKIT_RETURN_IF_ERROR(read_decode_options(m, &d.decode_));
  d.anchors_ = generate_ssd_anchors(ao);
  const TensorInfo& boxes = m.tensor(m.outputs()[0]);
  const TensorInfo& scores = m.tensor(m.outputs()[1]);
  if (boxes.elements() != d.anchors_.size() * std::size_t(d.decode_.num_coords) ||
      scores.elements() != d.anchors_.size())
    return Status::error("FaceDetector: outputs '%s' (%zu values) and '%s' (%zu) do not fit %zu anchors x %d coords",
                         boxes.name, boxes.elements(), scores.name, scores.elements(), d.anchors_.size(),
                         d.decode_.num_coords);
  auto program = Program::create(model);
  if (!program) return program.status();
  d.session_ = std::make_unique<Session>(*program);
  d.scratch_.reserve(d.anchors_.size());
  d.merged_.reserve(d.anchors_.size());
  nms_reserve(d.nms_scratch_, d.anchors_.size());
  return d;
}

inline Status FaceDetector::detect(const ImageView& image, FaceDetectorResult& result) {
  result.detections.clear();
  FACEKIT_RETURN_IF_ERROR(image.validate());
  Matrix4 crop_to_image;
  FACEKIT_RETURN_IF_ERROR(letterbox_whole_image(image, input_w_, input_h_, range_min_, range_max_,
                                                session_->input(0), &crop_to_image));
  session_->run();
  DecodeOptions dec = decode_;
  dec.min_score = options_.min_detection_confidence;
  decode_detections(session_->output(0), session_->output(1), anchors_, dec, scratch_);
  weighted_nms(scratch_, options_.min_suppression_threshold, nms_scratch_, merged_);
  std::size_t n = merged_.size();
  if (options_.max_faces >= 0 && n > std::size_t(options_.max_faces)) n = std::size_t(options_.max_faces);
  result.detections.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    RawDetection p = project_detection(merged_[i], crop_to_image);
    Detection& out = result.detections[i];
    out.relative_box = {p.xmin, p.ymin, p.width, p.height};
    const PixelBox pb = to_pixel_box(p, image.width, image.height);
    out.bounding_box = BoundingBox{pb.x, pb.y, pb.width, pb.height};
    for (int k = 0; k < 6; ++k) out.keypoints[std::size_t(k)] = {p.keypoints[std::size_t(k)][0], p.keypoints[std::size_t(k)][1]};
    out.score = p.score;
  }
  return Status::ok();
}

}  // namespace facekit
