// facekit/stages/blazeface_stage.hpp - BlazeFace detection as a pipeline stage: the whole image
// letterboxed into the model's square input with MediaPipe's exact CPU resampling, the network,
// SSD anchor decoding, weighted non-max suppression, and the letterbox removed (docs/pipeline.md
// 0.3 and 1; mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc).
//
//   auto stage = facekit::BlazeFaceStage::create(model, {0.5f, 0.3f, -1});
//   std::vector<facekit::Detection> faces;
//   if (auto st = stage->run(image, faces); !st) ...
//
// FaceDetector (the public task) and the landmarker's detection stage both run it. Anchors and
// decoding come from the model's metadata, so the short- and full-range models are the same
// stage. After the first run for an image size, run() allocates nothing when `out` is reused.
#pragma once

#include <memory>
#include <vector>

#include "../detection/decode.hpp"
#include "../detection/nms.hpp"
#include "../detection/projection.hpp"
#include "../detection/ssd_anchors.hpp"
#include "../image/image.hpp"
#include "../runtime/executor.hpp"
#include "detection_result.hpp"
#include "image_to_tensor.hpp"

namespace facekit {

class BlazeFaceStage {
 public:
  /// MediaPipe's names for the settings.
  struct Settings {
    float min_detection_confidence = 0.5f;   ///< detections scoring below are dropped
    float min_suppression_threshold = 0.3f;  ///< weighted NMS merges boxes whose IoU exceeds this
    int max_faces = -1;                      ///< keep this many, best first; < 0 keeps all
  };

  /// `model` must be a face detector (model kind "face_detector"); errors name the bad setting,
  /// tensor or metadata.
  static Expected<BlazeFaceStage> create(std::shared_ptr<const Model> model, const Settings& settings);

  /// Detects the faces of `image` into `out` (overwritten; its capacity reused).
  Status run(const ImageView& image, std::vector<Detection>& out);

  const Settings& settings() const noexcept { return settings_; }
  int input_width() const noexcept { return input_w_; }
  int input_height() const noexcept { return input_h_; }
  /// The network's session, for tests and benchmarks that drive it directly.
  Session& session() noexcept { return *session_; }

 private:
  BlazeFaceStage() = default;
  Settings settings_;
  std::unique_ptr<Session> session_;
  int input_w_ = 0, input_h_ = 0;
  float range_min_ = -1, range_max_ = 1;
  DecodeOptions decode_;
  std::vector<Anchor> anchors_;
  std::vector<RawDetection> scratch_, merged_;
  NmsScratch nms_scratch_;
};

inline Expected<BlazeFaceStage> BlazeFaceStage::create(std::shared_ptr<const Model> model, const Settings& settings) {
  if (!model) return Status::error("model is null");
  const Model& m = *model;
  if (m.kind() != "face_detector")
    return Status::error("model kind is '%s', expected 'face_detector' (convert the face detector "
                         "model, e.g. face_detector.tflite from face_landmarker.task)",
                         m.kind().c_str());
  if (!(settings.min_detection_confidence >= 0 && settings.min_detection_confidence <= 1))
    return Status::error("min_detection_confidence %g is outside [0, 1]", double(settings.min_detection_confidence));
  if (!(settings.min_suppression_threshold >= 0 && settings.min_suppression_threshold <= 1))
    return Status::error("min_suppression_threshold %g is outside [0, 1]", double(settings.min_suppression_threshold));
  BlazeFaceStage d;
  d.settings_ = settings;
  if (m.inputs().size() != 1 || m.outputs().size() != 2)
    return Status::error("expected 1 input and 2 outputs, the model has %zu and %zu", m.inputs().size(),
                         m.outputs().size());
  const TensorInfo& in = m.tensor(m.inputs()[0]);
  if (in.rank != 4 || in.dims[0] != 1 || in.dims[3] != 3) return Status::error("input '%s' must be [1, H, W, 3]", in.name);
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
    return Status::error("outputs '%s' (%zu values) and '%s' (%zu) do not fit %zu anchors x %d coords", boxes.name,
                         boxes.elements(), scores.name, scores.elements(), d.anchors_.size(), d.decode_.num_coords);
  auto program = Program::create(model);
  if (!program) return program.status();
  d.session_ = std::make_unique<Session>(*program);
  d.scratch_.reserve(d.anchors_.size());
  d.merged_.reserve(d.anchors_.size());
  nms_reserve(d.nms_scratch_, d.anchors_.size());
  return d;
}

inline Status BlazeFaceStage::run(const ImageView& image, std::vector<Detection>& out) {
  out.clear();
  FACEKIT_RETURN_IF_ERROR(image.validate());
  Matrix4 crop_to_image;
  FACEKIT_RETURN_IF_ERROR(letterbox_whole_image(image, input_w_, input_h_, range_min_, range_max_,
                                                session_->input(0), &crop_to_image));
  session_->run();
  DecodeOptions dec = decode_;
  dec.min_score = settings_.min_detection_confidence;
  decode_detections(session_->output(0), session_->output(1), anchors_, dec, scratch_);
  weighted_nms(scratch_, settings_.min_suppression_threshold, nms_scratch_, merged_);
  std::size_t n = merged_.size();
  if (settings_.max_faces >= 0 && n > std::size_t(settings_.max_faces)) n = std::size_t(settings_.max_faces);
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const RawDetection p = project_detection(merged_[i], crop_to_image);
    Detection& d = out[i];
    d.relative_box = {p.xmin, p.ymin, p.width, p.height};
    const PixelBox pb = to_pixel_box(p, image.width, image.height);
    d.bounding_box = BoundingBox{pb.x, pb.y, pb.width, pb.height};
    for (std::size_t k = 0; k < 6; ++k) d.keypoints[k] = {p.keypoints[k][0], p.keypoints[k][1]};
    d.score = p.score;
  }
  return Status::ok();
}

}  // namespace facekit
