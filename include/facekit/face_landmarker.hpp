// facekit/face_landmarker.hpp - 478 face landmarks per face, as MediaPipe computes them: the Tasks
// FaceLandmarker (Face Mesh V2, the default) or the legacy Face Mesh's Attention Mesh, on still
// images or on video with tracking.
//
//   auto lm = facekit::FaceLandmarker::create_from_dir("weights");   // face_landmarker.task's models
//   if (!lm) { std::fprintf(stderr, "%s\n", lm.status().message()); return 1; }
//   facekit::FaceLandmarkerResult result;
//   if (auto st = lm->detect(image.view(), result); !st) { ... }
//   for (const facekit::FaceLandmarks& face : result.faces)
//     std::printf("nose tip at %.1f, %.1f px\n", face.landmarks[4].x * W, face.landmarks[4].y * H);
//
// Video (MediaPipe's VIDEO running mode): faces are tracked from frame to frame and the detector
// runs only when fewer than num_faces faces are tracked:
//
//   facekit::FaceLandmarkerOptions opt;
//   opt.running_mode = facekit::RunningMode::video;
//   auto lm = facekit::FaceLandmarker::create_from_dir("weights", opt);
//   for (...each frame...) lm->detect_for_video(frame.view(), timestamp_ms, result);
//
// opt.landmark_model = facekit::FaceMeshModel::attention runs the legacy Face Mesh instead (its
// short-range detector and face_landmark_with_attention; same result type, 478 points).
// With options.output_face_blendshapes and options.output_facial_transformation_matrixes (both
// off by default, as in MediaPipe) each face also gets MediaPipe's 52 blendshape scores and its
// 4x4 facial transformation matrix; those need the blendshape model (face_blendshapes.fkm) and the
// canonical geometry (face_geometry.fkm):
//
//   opt.output_face_blendshapes = opt.output_facial_transformation_matrixes = true;
//   ... face.blendshapes[9].score (eyeBlinkLeft), face.facial_transformation_matrix[3] (x, cm)
//
// Steps, Face Mesh V2 (docs/pipeline.md 1, 2.1, 2.3, 3.1, 5.1, 6, 7; MediaPipe:
// mediapipe/tasks/cc/vision/face_landmarker/face_landmarker_graph.cc): BlazeFace on the
// whole image with the landmarker's internal NMS threshold 0.5, cut to num_faces; per face a ROI
// 1.5x the box, turned from the right eye to the left eye and NOT squared; that ROI cropped into
// the model's 256 x 256 input with MediaPipe's exact CPU resampling (BORDER_REPLICATE, values
// v/255); Face Mesh V2; the face kept iff sigmoid(presence logit) > min_face_presence_confidence;
// the landmarks mapped back into the image. Blendshapes: the 146 landmarks of section 6 in pixels
// through the blendshape network. Matrix: MediaPipe's geometry pipeline (landmarks/face_geometry.hpp).
// Attention Mesh (docs/pipeline.md 2.2, 3.2, 5.2): the detector merges at IoU 0.3, the ROI is
// squared on its long side, the crop is 192 x 192, the refined lips/eyes/irises are merged into
// 478 points. Video: each present face's next ROI comes from its landmarks (section 5); tracked
// and fresh ROIs are associated by IoU > min_tracking_confidence (Tasks: the fresh one wins;
// legacy: the tracked one); with Face Mesh V2 and num_faces == 1 the landmarks are one-euro
// smoothed as MediaPipe does.
//
// A FaceLandmarker owns its execution sessions and tracking state: use one per thread (the models
// inside may be shared, read-only). After the first call, detect() and detect_for_video()
// allocate nothing when `result` is reused and no more faces than before are found.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "face_detector.hpp"
#include "landmarks/attention_mesh.hpp"
#include "landmarks/blendshape_tables.hpp"
#include "landmarks/face_geometry.hpp"
#include "landmarks/face_mesh_v2.hpp"
#include "landmarks/roi.hpp"
#include "landmarks/smoothing.hpp"

namespace facekit {

/// How frames arrive, as MediaPipe's running modes: `image` for unrelated still images (detect()),
/// `video` for the frames of one video in time order (detect_for_video()).
enum class RunningMode { image, video };

/// Which landmark model runs: MediaPipe Tasks' Face Mesh V2 (face_landmarker.task), or the legacy
/// Face Mesh's Attention Mesh (face_landmark_with_attention.tflite) with the legacy graph's
/// detector settings and ROI rules.
enum class FaceMeshModel { v2, attention };

struct FaceLandmarkerOptions {
  RunningMode running_mode = RunningMode::image;
  FaceMeshModel landmark_model = FaceMeshModel::v2;
  /// Most faces to return (the detector's best num_faces survive). MediaPipe default 1.
  int num_faces = 1;
  /// Detector score threshold (detections scoring below are dropped).
  float min_face_detection_confidence = 0.5f;
  /// A face is kept iff sigmoid(presence logit) is strictly greater than this.
  float min_face_presence_confidence = 0.5f;
  /// Video mode only: IoU above which a tracked face and a fresh detection are taken to be the
  /// same face (MediaPipe Tasks: the detection replaces the tracked face; the legacy graph keeps
  /// the tracked one and fixes this at 0.5).
  float min_tracking_confidence = 0.5f;
  /// Also compute the 52 blendshape scores of every face (needs the blendshape model).
  bool output_face_blendshapes = false;
  /// Also compute every face's facial transformation matrix (needs the face geometry model).
  bool output_facial_transformation_matrixes = false;
};

/// One blendshape score, as MediaPipe's Category: `index` into kBlendshapeNames, `score` in
/// [0, 1], `category_name` points at the static name (no allocation).
struct Category {
  int index = 0;
  float score = 0;
  const char* category_name = "";
};

/// The models a FaceLandmarker runs. `detector` has kind "face_detector", `landmarks`
/// "face_landmarks_v2" or "face_landmarks_attention" (as options.landmark_model says);
/// `blendshapes` (kind "face_blendshapes") and `geometry` (kind "face_geometry") are needed only
/// when the matching option is on, and ignored otherwise.
struct FaceLandmarkerModels {
  std::shared_ptr<const Model> detector, landmarks, blendshapes, geometry;
};

/// Model file paths; an empty path is not loaded.
struct FaceLandmarkerModelPaths {
  std::string detector, landmarks, blendshapes, geometry;
};

/// One face: where it was found and its landmarks.
struct FaceLandmarks {
  /// The detection that seeded the ROI (image-normalised, MediaPipe FaceDetector conventions); in
  /// video mode, the detection that started tracking this face.
  Detection detection;
  /// The region the landmark model saw (normalised centre/size, rotation in radians).
  NormalizedRect roi;
  /// sigmoid of the model's presence logit (> min_face_presence_confidence).
  float presence = 0;
  /// 478 points: 0..467 face mesh, 468..472 iris on the image's left, 473..477 on the right (the
  /// Attention Mesh's refined lips, eyes and irises already merged in).
  std::array<NormalizedLandmark, kFaceMeshV2Landmarks> landmarks{};
  /// output_face_blendshapes: true, and `blendshapes` holds the 52 scores in MediaPipe's order
  /// (blendshapes[k].index == k, name kBlendshapeNames[k]).
  bool has_blendshapes = false;
  std::array<Category, kBlendshapeCount> blendshapes{};
  /// output_facial_transformation_matrixes: true unless MediaPipe gives no matrix for this face
  /// (landmarks too compact). Row-major 4x4 [s*R | t; 0 0 0 1], element (r, c) at [4 * r + c],
  /// mapping the canonical face model (cm) into the camera frame (the face at negative z).
  /// MediaPipe's MatrixData is column-major: its element i is this array's [4 * (i % 4) + i / 4].
  bool has_facial_transformation_matrix = false;
  std::array<float, 16> facial_transformation_matrix{};
};

struct FaceLandmarkerResult {
  std::vector<FaceLandmarks> faces;
};

class FaceLandmarker {
 public:
  /// `detector_model`: kind "face_detector"; `landmark_model`: see FaceLandmarkerModels.
  static Expected<FaceLandmarker> create(std::shared_ptr<const Model> detector_model,
                                         std::shared_ptr<const Model> landmark_model,
                                         const FaceLandmarkerOptions& options = {}) {
    return create(FaceLandmarkerModels{std::move(detector_model), std::move(landmark_model), nullptr, nullptr},
                  options);
  }
  /// All four models; see FaceLandmarkerModels for which are required.
  static Expected<FaceLandmarker> create(FaceLandmarkerModels models, const FaceLandmarkerOptions& options = {});
#ifndef FACEKIT_NO_STDIO
  static Expected<FaceLandmarker> create_from_files(const std::string& detector_path,
                                                    const std::string& landmark_path,
                                                    const FaceLandmarkerOptions& options = {}) {
    auto d = Model::load_file(detector_path);
    if (!d) return d.status();
    auto l = Model::load_file(landmark_path);
    if (!l) return l.status();
    return create(std::make_shared<const Model>(std::move(*d)), std::make_shared<const Model>(std::move(*l)),
                  options);
  }
  static Expected<FaceLandmarker> create_from_files(const FaceLandmarkerModelPaths& paths,
                                                    const FaceLandmarkerOptions& options = {}) {
    FaceLandmarkerModels models;
    const std::string* path[4] = {&paths.detector, &paths.landmarks, &paths.blendshapes, &paths.geometry};
    std::shared_ptr<const Model>* model[4] = {&models.detector, &models.landmarks, &models.blendshapes,
                                              &models.geometry};
    for (int i = 0; i < 4; ++i) {
      if (path[i]->empty()) continue;
      auto m = Model::load_file(*path[i]);
      if (!m) return m.status();
      *model[i] = std::make_shared<const Model>(std::move(*m));
    }
    return create(std::move(models), options);
  }
  /// DIR/face_detector.fkm and DIR/face_landmarks_detector.fkm (what `facekit convert` writes for
  /// face_landmarker.task), or with the Attention Mesh DIR/face_detection_short_range.fkm and
  /// DIR/face_landmark_with_attention.fkm; plus DIR/face_blendshapes.fkm and DIR/face_geometry.fkm
  /// when the options ask for them.
  static Expected<FaceLandmarker> create_from_dir(const std::string& dir, const FaceLandmarkerOptions& options = {}) {
    FaceLandmarkerModelPaths p;
    const bool attention = options.landmark_model == FaceMeshModel::attention;
    p.detector = dir + (attention ? "/face_detection_short_range.fkm" : "/face_detector.fkm");
    p.landmarks = dir + (attention ? "/face_landmark_with_attention.fkm" : "/face_landmarks_detector.fkm");
    if (options.output_face_blendshapes) p.blendshapes = dir + "/face_blendshapes.fkm";
    if (options.output_facial_transformation_matrixes) p.geometry = dir + "/face_geometry.fkm";
    return create_from_files(p, options);
  }
#endif

  /// Image mode: finds faces and their landmarks; `result` is overwritten (its capacity reused).
  Status detect(const ImageView& image, FaceLandmarkerResult& result);
  /// Video mode: the next frame of a video, `timestamp_ms` strictly greater than the previous
  /// frame's. Faces present in the previous frame are tracked; the detector runs only when fewer
  /// than num_faces were. Frames may change size (the tracked ROIs are normalised).
  Status detect_for_video(const ImageView& image, int64_t timestamp_ms, FaceLandmarkerResult& result);
  /// Whether the last detect() / detect_for_video() call ran the face detector.
  bool detector_ran() const noexcept { return detector_ran_; }
  /// Forgets the tracked faces and the smoothing state (the next video frame starts afresh).
  void reset_tracking() noexcept {
    tracks_.clear();
    if (smoother_) smoother_->reset();
    last_timestamp_ms_ = -1;
    has_timestamp_ = false;
  }
  /// Convenience overload that allocates a result.
  Expected<FaceLandmarkerResult> detect(const ImageView& image) {
    FaceLandmarkerResult r;
    Status s = detect(image, r);
    if (!s) return s;
    return r;
  }

  const FaceLandmarkerOptions& options() const noexcept { return options_; }
  /// The landmark model's input size (256 x 256 for Face Mesh V2, 192 x 192 for the Attention Mesh).
  int input_width() const noexcept { return input_w_; }
  int input_height() const noexcept { return input_h_; }
  /// The inner detector and the landmark network's session, for tests and benchmarks.
  FaceDetector& detector() noexcept { return *detector_; }
  Session& landmark_session() noexcept { return *session_; }
  /// The blendshape network's session and the pose solver; null when their option is off.
  Session* blendshape_session() noexcept { return blendshape_session_.get(); }
  FaceGeometry* geometry() noexcept { return geometry_.get(); }

 private:
  /// A face to run the landmark model on: its ROI and the detection it came from.
  struct Candidate {
    NormalizedRect roi;
    Detection detection;
  };

  FaceLandmarker() = default;
  /// Runs the detector and appends one candidate per detection (at most num_faces).
  Status detect_candidates(const ImageView& image);
  /// Runs the landmark model (and the optional stages) on every candidate; faces that pass the
  /// presence test go to `result` and, with `next` non-null, their next-frame ROI to *next.
  Status run_candidates(const ImageView& image, FaceLandmarkerResult& result, std::vector<Candidate>* next);
  /// Runs the landmark model on one ROI; false in *present when the face fails the presence test
  /// or the ROI cannot be cropped (degenerate size).
  Status run_roi(const ImageView& image, const NormalizedRect& roi, FaceLandmarks* face, bool* present);
  /// Blendshapes and matrix of one face, as options ask.
  void run_face_stages(const ImageView& image, FaceLandmarks* face);

  FaceLandmarkerOptions options_;
  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Session> blendshape_session_;
  std::unique_ptr<FaceGeometry> geometry_;
  int input_w_ = 0, input_h_ = 0;
  float range_min_ = 0, range_max_ = 1;
  FaceDetectorResult detections_;
  // Video mode: the faces carried from the previous frame, this frame's candidates, the detector's
  // candidates before association, and the V2 smoothing filter (num_faces == 1 only).
  std::vector<Candidate> tracks_, candidates_, fresh_;
  std::unique_ptr<LandmarkSmoother> smoother_;
  int64_t last_timestamp_ms_ = -1;
  bool has_timestamp_ = false;
  bool detector_ran_ = false;
};

inline Expected<FaceLandmarker> FaceLandmarker::create(FaceLandmarkerModels models,
                                                       const FaceLandmarkerOptions& options) {
  std::shared_ptr<const Model> detector_model = std::move(models.detector);
  std::shared_ptr<const Model> landmark_model = std::move(models.landmarks);
  if (options.num_faces < 1) return Status::error("FaceLandmarker: num_faces %d must be at least 1", options.num_faces);
  const float* conf[3] = {&options.min_face_detection_confidence, &options.min_face_presence_confidence,
                          &options.min_tracking_confidence};
  const char* conf_name[3] = {"min_face_detection_confidence", "min_face_presence_confidence",
                              "min_tracking_confidence"};
  for (int i = 0; i < 3; ++i)
    if (!(*conf[i] >= 0 && *conf[i] <= 1))
      return Status::error("FaceLandmarker: %s %g is outside [0, 1]", conf_name[i], double(*conf[i]));
  if (!detector_model) return Status::error("FaceLandmarker: detector model is null");
  if (!landmark_model) return Status::error("FaceLandmarker: landmark model is null");

  if (options.running_mode != RunningMode::image && options.running_mode != RunningMode::video)
    return Status::error("FaceLandmarker: running_mode %d is not image or video", int(options.running_mode));
  const bool attention = options.landmark_model == FaceMeshModel::attention;
  if (!attention && options.landmark_model != FaceMeshModel::v2)
    return Status::error("FaceLandmarker: landmark_model %d is not v2 or attention", int(options.landmark_model));

  const Model& m = *landmark_model;
  const char* want_kind = attention ? "face_landmarks_attention" : "face_landmarks_v2";
  if (m.kind() != want_kind)
    return Status::error("FaceLandmarker: landmark model kind is '%s', expected '%s' (convert %s)", m.kind().c_str(),
                         want_kind,
                         attention ? "face_landmark_with_attention.tflite, or set landmark_model = v2"
                                   : "face_landmarks_detector.tflite from face_landmarker.task, or set "
                                     "landmark_model = attention");
  // Outputs the decoder reads: V2 = landmarks (478 x 3), presence; attention = six landmark
  // tensors, presence.
  const std::size_t n_out = attention ? std::size_t(kAttentionMeshOutputs) : 2;
  if (m.inputs().size() != 1 || m.outputs().size() < n_out)
    return Status::error("FaceLandmarker: landmark model has %zu inputs and %zu outputs, expected 1 and at least %zu",
                         m.inputs().size(), m.outputs().size(), n_out);
  const TensorInfo& in = m.tensor(m.inputs()[0]);
  if (in.rank != 4 || in.dims[0] != 1 || in.dims[3] != 3 || in.dims[1] <= 0 || in.dims[2] <= 0)
    return Status::error("FaceLandmarker: landmark model input '%s' must be [1, H, W, 3]", in.name);
  for (std::size_t k = 0; k + 1 < n_out; ++k) {
    const TensorInfo& t = m.tensor(m.outputs()[k]);
    const std::size_t want = attention ? std::size_t(kAttentionOutputValues[k]) : std::size_t(kFaceMeshV2Landmarks) * 3;
    if (t.elements() != want)
      return Status::error("FaceLandmarker: landmark model output %zu '%s' has %zu values, expected %zu", k, t.name,
                           t.elements(), want);
  }
  const TensorInfo& presence = m.tensor(m.outputs()[n_out - 1]);
  if (presence.elements() != 1)
    return Status::error("FaceLandmarker: landmark model output '%s' has %zu values, expected 1 (presence logit)",
                         presence.name, presence.elements());

  FaceLandmarker lm;
  lm.options_ = options;
  lm.input_h_ = in.dims[1];
  lm.input_w_ = in.dims[2];
  auto range = m.meta_f32_array("input.range");
  if (range.second == 2) {
    lm.range_min_ = range.first[0];
    lm.range_max_ = range.first[1];
  }
  // Inside MediaPipe's FaceLandmarker the detector merges at IoU 0.5 (the proto default, not the
  // FaceDetector API's 0.3); the legacy graph merges at 0.3. Both cut to num_faces.
  FaceDetectorOptions dopt;
  dopt.min_detection_confidence = options.min_face_detection_confidence;
  dopt.min_suppression_threshold = attention ? 0.3f : 0.5f;
  dopt.max_faces = options.num_faces;
  auto det = FaceDetector::create(std::move(detector_model), dopt);
  if (!det) {
    Status s = det.status();
    s.prefix("FaceLandmarker: detector model");
    return s;
  }
  lm.detector_ = std::make_unique<FaceDetector>(std::move(*det));
  auto program = Program::create(std::move(landmark_model));
  if (!program) {
    Status s = program.status();
    s.prefix("FaceLandmarker: landmark model");
    return s;
  }
  lm.session_ = std::make_unique<Session>(*program);

  // The optional stages exist only when asked for, so that switched off they cost nothing.
  if (options.output_face_blendshapes) {
    if (!models.blendshapes)
      return Status::error("FaceLandmarker: output_face_blendshapes needs the blendshape model (face_blendshapes.fkm)");
    const Model& b = *models.blendshapes;
    if (b.kind() != "face_blendshapes")
      return Status::error("FaceLandmarker: blendshape model kind is '%s', expected 'face_blendshapes'", b.kind().c_str());
    if (b.inputs().size() != 1 || b.outputs().size() != 1 ||
        b.tensor(b.inputs()[0]).elements() != std::size_t(kBlendshapeLandmarkCount) * 2 ||
        b.tensor(b.outputs()[0]).elements() != std::size_t(kBlendshapeCount))
      return Status::error("FaceLandmarker: blendshape model must map 146 x 2 landmarks to 52 scores");
    auto bp = Program::create(std::move(models.blendshapes));
    if (!bp) {
      Status s = bp.status();
      s.prefix("FaceLandmarker: blendshape model");
      return s;
    }
    lm.blendshape_session_ = std::make_unique<Session>(*bp);
  }
  if (options.output_facial_transformation_matrixes) {
    if (!models.geometry)
      return Status::error(
          "FaceLandmarker: output_facial_transformation_matrixes needs the face geometry model (face_geometry.fkm)");
    auto g = FaceGeometry::create(std::move(models.geometry));
    if (!g) {
      Status s = g.status();
      s.prefix("FaceLandmarker: geometry model");
      return s;
    }
    lm.geometry_ = std::make_unique<FaceGeometry>(std::move(*g));
  }
  // Candidate lists, sized once: at most num_faces fresh detections and num_faces tracked faces.
  const std::size_t n = std::size_t(options.num_faces);
  lm.fresh_.reserve(n);
  lm.candidates_.reserve(2 * n);
  if (options.running_mode == RunningMode::video) {
    lm.tracks_.reserve(n);
    // MediaPipe Tasks smooths only a single face, and the legacy graph never does.
    if (!attention && options.num_faces == 1) lm.smoother_ = std::make_unique<LandmarkSmoother>();
  }
  return lm;
}

inline Status FaceLandmarker::run_roi(const ImageView& image, const NormalizedRect& roi, FaceLandmarks* face,
                                      bool* present) {
  *present = false;
  const RotatedRect px = to_pixel_rect(roi, image.width, image.height);
  // A zero-size or non-finite ROI (possible only from a degenerate detection) has no crop; MediaPipe
  // has no defined result for it either, so the face is dropped rather than failing the call.
  if (!(px.w > 0) || !(px.h > 0) || !std::isfinite(px.w) || !std::isfinite(px.h) || !std::isfinite(px.cx) ||
      !std::isfinite(px.cy) || !std::isfinite(px.angle_rad))
    return Status::ok();
  // The session's input buffer is reused by the network's activations, so it is refilled for
  // every run.
  FACEKIT_RETURN_IF_ERROR(crop_to_tensor(image, px, input_w_, input_h_, BorderMode::replicate, range_min_,
                                         range_max_, session_->input(0)));
  session_->run();
  const bool attention = options_.landmark_model == FaceMeshModel::attention;
  const float p = face_presence(session_->output(attention ? kAttentionMeshOutputs - 1 : 1)[0]);
  // ThresholdingCalculator: the float score, widened to double, strictly above the threshold.
  if (!(double(p) > double(options_.min_face_presence_confidence))) return Status::ok();
  face->roi = roi;
  face->presence = p;
  if (attention) {
    const float* outs[6];
    for (int k = 0; k < 6; ++k) outs[k] = session_->output(std::size_t(k));
    decode_attention_mesh(outs, input_w_, input_h_, roi, face->landmarks.data());
  } else {
    decode_face_mesh_v2(session_->output(0), input_w_, input_h_, px, image.width, image.height,
                        face->landmarks.data());
  }
  *present = true;
  return Status::ok();
}

inline Status FaceLandmarker::detect_candidates(const ImageView& image) {
  detector_ran_ = true;
  FACEKIT_RETURN_IF_ERROR(detector_->detect(image, detections_));
  const bool attention = options_.landmark_model == FaceMeshModel::attention;
  for (const Detection& d : detections_.detections) {
    const float right_eye[2] = {d.keypoints[0].x, d.keypoints[0].y};
    const float left_eye[2] = {d.keypoints[1].x, d.keypoints[1].y};
    const int W = image.width, H = image.height;
    const NormalizedRect roi = attention ? legacy_face_mesh_roi(d.relative_box, right_eye, left_eye, W, H)
                                         : face_landmarker_roi(d.relative_box, right_eye, left_eye, W, H);
    fresh_.push_back(Candidate{roi, d});
  }
  return Status::ok();
}

inline void FaceLandmarker::run_face_stages(const ImageView& image, FaceLandmarks* face) {
  face->has_blendshapes = false;
  face->has_facial_transformation_matrix = false;
  if (blendshape_session_) {
    static_assert(sizeof(NormalizedLandmark) == 3 * sizeof(float), "landmarks are packed x, y, z");
    blendshape_input(&face->landmarks[0].x, 3, image.width, image.height, blendshape_session_->input(0));
    blendshape_session_->run();
    const float* scores = blendshape_session_->output(0);
    for (int k = 0; k < kBlendshapeCount; ++k)
      face->blendshapes[std::size_t(k)] = Category{k, scores[k], kBlendshapeNames[k]};
    face->has_blendshapes = true;
  }
  if (geometry_)
    face->has_facial_transformation_matrix = geometry_->estimate_pose(face->landmarks.data(), image.width, image.height,
                                                                      face->facial_transformation_matrix.data());
}

inline Status FaceLandmarker::run_candidates(const ImageView& image, FaceLandmarkerResult& result,
                                             std::vector<Candidate>* next) {
  const std::size_t n = candidates_.size();
  // Grows only when more faces than ever before are found; the first call reserves a few.
  if (result.faces.capacity() < n) result.faces.reserve(std::max<std::size_t>(n, 4));
  for (const Candidate& c : candidates_) {
    result.faces.emplace_back();
    FaceLandmarks& face = result.faces.back();
    bool present = false;
    Status st = run_roi(image, c.roi, &face, &present);
    if (!st) {
      result.faces.clear();
      return st;
    }
    if (!present) {
      result.faces.pop_back();
      continue;
    }
    face.detection = c.detection;
    // The next frame's ROI comes from the unsmoothed landmarks (MediaPipe smooths only the output).
    if (next) next->push_back(Candidate{tracking_roi(face.landmarks.data(), kFaceMeshV2Landmarks, image.width,
                                                     image.height),
                                        c.detection});
  }
  if (smoother_) {
    if (result.faces.empty())
      smoother_->reset();
    else
      smoother_->apply(result.faces[0].landmarks.data(), kFaceMeshV2Landmarks, image.width, image.height,
                       last_timestamp_ms_ * 1000);
  }
  for (FaceLandmarks& face : result.faces) run_face_stages(image, &face);
  return Status::ok();
}

inline Status FaceLandmarker::detect(const ImageView& image, FaceLandmarkerResult& result) {
  result.faces.clear();
  if (options_.running_mode != RunningMode::image)
    return Status::error("FaceLandmarker: detect() needs running_mode image; this landmarker is in video mode "
                         "(use detect_for_video())");
  FACEKIT_RETURN_IF_ERROR(image.validate());
  fresh_.clear();
  FACEKIT_RETURN_IF_ERROR(detect_candidates(image));
  candidates_.assign(fresh_.begin(), fresh_.end());
  return run_candidates(image, result, nullptr);
}

inline Status FaceLandmarker::detect_for_video(const ImageView& image, int64_t timestamp_ms,
                                               FaceLandmarkerResult& result) {
  result.faces.clear();
  detector_ran_ = false;
  if (options_.running_mode != RunningMode::video)
    return Status::error("FaceLandmarker: detect_for_video() needs running_mode video; this landmarker is in image "
                         "mode (use detect())");
  if (has_timestamp_ && timestamp_ms <= last_timestamp_ms_)
    return Status::error("FaceLandmarker: timestamp %lld ms is not greater than the previous frame's %lld ms",
                         static_cast<long long>(timestamp_ms), static_cast<long long>(last_timestamp_ms_));
  // Microseconds and nanoseconds of it must not overflow (MediaPipe's timestamps are int64 us).
  if (timestamp_ms < 0 || timestamp_ms > INT64_MAX / 1000000)
    return Status::error("FaceLandmarker: timestamp %lld ms is outside [0, %lld]", static_cast<long long>(timestamp_ms),
                         static_cast<long long>(INT64_MAX / 1000000));
  FACEKIT_RETURN_IF_ERROR(image.validate());
  last_timestamp_ms_ = timestamp_ms;
  has_timestamp_ = true;

  fresh_.clear();
  if (tracks_.size() < std::size_t(options_.num_faces)) {
    Status st = detect_candidates(image);
    if (!st) {
      reset_tracking();
      return st;
    }
  }
  // AssociationNormRectCalculator: each incoming ROI removes the listed ones it overlaps by IoU >
  // min_tracking_confidence, then joins the list. The later input wins: Tasks lists tracked faces
  // first (fresh detections win), the legacy graph lists detections first (tracked faces win).
  const bool tracked_win = options_.landmark_model == FaceMeshModel::attention;
  const std::vector<Candidate>& first = tracked_win ? fresh_ : tracks_;
  const std::vector<Candidate>& second = tracked_win ? tracks_ : fresh_;
  candidates_.clear();
  for (const std::vector<Candidate>* list : {&first, &second})
    for (const Candidate& in : *list) {
      candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                       [&](const Candidate& c) {
                                         return rect_iou(in.roi, c.roi) > options_.min_tracking_confidence;
                                       }),
                        candidates_.end());
      candidates_.push_back(in);
    }
  if (candidates_.size() > std::size_t(options_.num_faces)) candidates_.resize(std::size_t(options_.num_faces));
  tracks_.clear();
  Status st = run_candidates(image, result, &tracks_);
  if (!st) reset_tracking();
  return st;
}

}  // namespace facekit
