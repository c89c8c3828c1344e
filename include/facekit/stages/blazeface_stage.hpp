// facekit/stages/blazeface_stage.hpp - BlazeFace detection as a pipeline stage: the whole image
// letterboxed into the model's square input with MediaPipe's exact CPU resampling, the network,
// SSD anchor decoding, weighted non-max suppression, and the letterbox removed (docs/pipeline.md
// 0.3 and 1; mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc).
//
//   auto stage = facekit::BlazeFaceStage::create(model, {0.5f, 0.3f, -1}, backend);
//   auto frame = backend.new_frame();          // the pipeline's frame, shared with its other stages
//   std::vector<facekit::Detection> faces;
//   frame->set(image);
//   if (auto st = stage->run(*frame, faces); !st) ...   // or stage->run(image, faces) on its own
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
#include "../runtime/backend.hpp"
#include "../runtime/cpu_backend.hpp"
#include "detection_result.hpp"
#include "../image/image_to_tensor.hpp"
#include "model_input.hpp"

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
  /// tensor or metadata. The network and the letterbox run on `backend`, its activations in
  /// `arena` when that is given (CPU; see ArenaMemory).
  static Expected<BlazeFaceStage> create(std::shared_ptr<const Model> model, const Settings& settings,
                                         const Backend& backend = *cpu_backend(), ArenaMemory arena = {});
  /// The checks create() makes of the model (kind, input, metadata values, outputs), without
  /// building its program; `facekit convert` runs them on every detector it writes.
  static Status check_model(const Model& model);

  /// Detects the faces of the frame's image into `out` (overwritten; its capacity reused).
  Status run(BackendFrame& frame, std::vector<Detection>& out);
  /// The same for an image outside any frame.
  Status run(const ImageView& image, std::vector<Detection>& out) {
    BackendFrame frame;
    frame.set(image);
    return run(frame, out);
  }

  const Settings& settings() const noexcept { return settings_; }
  int input_width() const noexcept { return input_w_; }
  int input_height() const noexcept { return input_h_; }
  /// The network's session, for tests and benchmarks that drive it directly.
  BackendSession& session() noexcept { return *session_; }

 private:
  BlazeFaceStage() = default;
  /// Reads and checks the model's input, anchors and decoding into this stage.
  Status configure(const Model& m);
  Settings settings_;
  std::unique_ptr<BackendSession> session_;
  int input_w_ = 0, input_h_ = 0;
  float range_min_ = -1, range_max_ = 1;
  DecodeOptions decode_;
  std::vector<Anchor> anchors_;
  std::vector<RawDetection> scratch_, merged_;
  NmsScratch nms_scratch_;
};

inline Status BlazeFaceStage::check_model(const Model& m) {
  BlazeFaceStage d;
  return d.configure(m);
}

inline Status BlazeFaceStage::configure(const Model& m) {
  if (m.kind() != "face_detector")
    return Status::error("model kind is '%s', expected 'face_detector' (convert the face detector "
                         "model, e.g. face_detector.tflite from face_landmarker.task)",
                         m.kind().c_str());
  if (m.inputs().size() != 1 || m.outputs().size() != 2)
    return Status::error("expected 1 input and 2 outputs, the model has %zu and %zu", m.inputs().size(),
                         m.outputs().size());
  ImageInput in;
  FACEKIT_RETURN_IF_ERROR(read_image_input(m, "detector", -1.0f, 1.0f, &in));
  input_w_ = in.width;
  input_h_ = in.height;
  range_min_ = in.range_min;
  range_max_ = in.range_max;
  // Decoding and anchor configuration travel in the model's metadata (written by the converter);
  // each value is range-checked as it is read.
  SsdAnchorOptions ao;
  FACEKIT_RETURN_IF_ERROR(read_anchor_options(m, &ao));
  FACEKIT_RETURN_IF_ERROR(generate_ssd_anchors(ao, &anchors_));
  FACEKIT_RETURN_IF_ERROR(read_decode_options(m, anchors_.size(), &decode_));
  const TensorInfo& boxes = m.tensor(m.outputs()[0]);
  const TensorInfo& scores = m.tensor(m.outputs()[1]);
  if (boxes.elements() != anchors_.size() * std::size_t(decode_.num_coords) || scores.elements() != anchors_.size())
    return Status::error("outputs '%s' (%zu values) and '%s' (%zu) do not fit %zu anchors x %d coords", boxes.name,
                         boxes.elements(), scores.name, scores.elements(), anchors_.size(), decode_.num_coords);
  return Status::ok();
}

inline Expected<BlazeFaceStage> BlazeFaceStage::create(std::shared_ptr<const Model> model, const Settings& settings,
                                                       const Backend& backend, ArenaMemory arena) {
  if (!model) return Status::error("model is null");
  if (!(settings.min_detection_confidence >= 0 && settings.min_detection_confidence <= 1))
    return Status::error("min_detection_confidence %g is outside [0, 1]", double(settings.min_detection_confidence));
  if (!(settings.min_suppression_threshold >= 0 && settings.min_suppression_threshold <= 1))
    return Status::error("min_suppression_threshold %g is outside [0, 1]", double(settings.min_suppression_threshold));
  BlazeFaceStage d;
  d.settings_ = settings;
  FACEKIT_RETURN_IF_ERROR(model->name_file(d.configure(*model)));
  auto session = make_session(backend, model, "detector", arena);
  if (!session) return session.status();
  d.session_ = std::move(*session);
  d.scratch_.reserve(d.anchors_.size());
  d.merged_.reserve(d.anchors_.size());
  nms_reserve(d.nms_scratch_, d.anchors_.size());
  return d;
}

inline Status BlazeFaceStage::run(BackendFrame& frame, std::vector<Detection>& out) {
  out.clear();
  const ImageView& image = frame.image();
  FACEKIT_RETURN_IF_ERROR(image.validate());
  Matrix4 crop_to_image{};
  ImageCrop crop;
  crop.border = BorderMode::zero;
  crop.range_min = range_min_;
  crop.range_max = range_max_;
  FACEKIT_RETURN_IF_ERROR(letterbox_roi(image, input_w_, input_h_, 0.0f, &crop.roi, &crop_to_image));
  FACEKIT_RETURN_IF_ERROR(session_->crop_input(0, frame, crop));
  FACEKIT_RETURN_IF_ERROR(session_->run());
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
