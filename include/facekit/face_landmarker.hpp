// facekit/face_landmarker.hpp - 478 face landmarks per face, as MediaPipe computes them: the Tasks
// FaceLandmarker (Face Mesh V2, the default) or another mesh model (stages/mesh_models.hpp), on still
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
// opt.landmark_model picks another mesh model (FaceMeshModel, stages/mesh_models.hpp: the legacy
// Face Mesh's, with its own detector; same result type, 478 points).
// With options.output_face_blendshapes and options.output_facial_transformation_matrixes (both
// off by default, as in MediaPipe) each face also gets MediaPipe's 52 blendshape scores and its
// 4x4 facial transformation matrix; those need the blendshape model (face_blendshapes.fkm) and the
// canonical geometry (face_geometry.fkm):
//
//   opt.output_face_blendshapes = opt.output_facial_transformation_matrixes = true;
//   ... face.blendshapes[9].score (eyeBlinkLeft), face.facial_transformation_matrix[3] (x, cm)
//
// A FaceLandmarker is a list of stages (include/facekit/stages/; docs/pipeline.md 1-7;
// MediaPipe: mediapipe/tasks/cc/vision/face_landmarker/face_landmarker_graph.cc): the detection
// stage runs BlazeFace on the whole image, cut to num_faces, and turns each detection into a ROI
// by the mesh model's rule; in video mode the tracking stage carries the faces found in one frame
// into the next (the detector runs only when fewer than num_faces are tracked) and smooths them as
// the mesh model's graph does; the mesh stage crops each ROI into the landmark model's input, runs
// it, keeps the face iff sigmoid(presence logit) > min_face_presence_confidence and decodes its
// 478 landmarks into the image; the blendshape and geometry stages, when asked for, follow. What
// differs between mesh models (crop size, input range, decoding, ROI rule, detector and tracking
// settings) lives in each model's mesh stage.
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
#include "stages/blendshape_stage.hpp"
#include "stages/detection_stage.hpp"
#include "stages/geometry_stage.hpp"
#include "stages/mesh_models.hpp"
#include "stages/mesh_stage.hpp"
#include "stages/tracking_stage.hpp"

namespace facekit {

/// How frames arrive, as MediaPipe's running modes: `image` for unrelated still images (detect()),
/// `video` for the frames of one video in time order (detect_for_video()).
enum class RunningMode { image, video };

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
  /// Where the networks run (MediaPipe's BaseOptions.delegate): Delegate::cpu, or Delegate::opencl
  /// on OpenCL platform `opencl_platform`, device `opencl_device` (`facekit devices` lists them;
  /// the program must be built with FACEKIT_WITH_OPENCL). With `cpu_fallback`, an OpenCL device
  /// that cannot be used gives the CPU instead of an error; backend_name() tells which runs.
  Delegate delegate = Delegate::cpu;
  int opencl_platform = 0;
  int opencl_device = 0;
  bool cpu_fallback = false;
  /// Threads that run the networks' ops on the CPU (MediaPipe's and TFLite's num_threads): 1 is
  /// the calling thread only; N > 1 starts a pool of N - 1 workers that this object owns. Each op
  /// is split into independent parts of its output, so the results are bit-identical for any
  /// count. Ignored when `thread_pool` is set, and by the OpenCL delegate.
  int num_threads = 1;
  /// Your own pool in place of num_threads (runtime/thread_pool.hpp: implement
  /// ThreadPoolInterface::parallel_for). It must outlive this object.
  ThreadPoolInterface* thread_pool = nullptr;
};

/// One blendshape score, as MediaPipe's Category: `index` into kBlendshapeNames, `score` in
/// [0, 1], `category_name` points at the static name (no allocation).
struct Category {
  int index = 0;
  float score = 0;
  const char* category_name = "";
};

/// The models a FaceLandmarker runs. `detector` has kind "face_detector", `landmarks` the kind of
/// options.landmark_model's mesh model ("face_landmarks_v2" for v2; MeshModelInfo::kind);
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
  /// 478 points: 0..467 face mesh, 468..472 iris on the image's left, 473..477 on the right (a
  /// mesh model's separately refined parts already merged in).
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
  /// All four models; see FaceLandmarkerModels for which are required. With `arena` (CPU only),
  /// the networks' activations live in that caller memory (firmware: a static buffer), at least
  /// arena_size(models, options) bytes, 64-byte aligned; nothing else is allocated per frame.
  static Expected<FaceLandmarker> create(FaceLandmarkerModels models, const FaceLandmarkerOptions& options = {},
                                         ArenaMemory arena = {});
  /// Bytes of activation memory the networks `options` runs need on the CPU (the detector's, the
  /// mesh model's and, with blendshapes, the blendshape network's, each rounded up to 64): the
  /// least ArenaMemory create() accepts.
  static std::size_t arena_size(const FaceLandmarkerModels& models, const FaceLandmarkerOptions& options) {
    std::size_t total = 0;
    for (const Model* m : {models.detector.get(), models.landmarks.get(),
                           options.output_face_blendshapes ? models.blendshapes.get() : nullptr})
      if (m) total += arena_part(*m);
    return total;
  }
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
  /// face_landmarker.task), or the files of another options.landmark_model (MeshModelInfo's
  /// detector_file and landmark_file); plus DIR/face_blendshapes.fkm and DIR/face_geometry.fkm
  /// when the options ask for them.
  static Expected<FaceLandmarker> create_from_dir(const std::string& dir, const FaceLandmarkerOptions& options = {}) {
    FACEKIT_RETURN_IF_ERROR(check_options(options));
    const MeshModelInfo& mesh = *find_mesh_model(options.landmark_model)->info;
    FaceLandmarkerModelPaths p;
    p.detector = dir + "/" + mesh.detector_file;
    p.landmarks = dir + "/" + mesh.landmark_file;
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
    if (tracking_) tracking_->reset();
  }
  /// Convenience overload that allocates a result.
  Expected<FaceLandmarkerResult> detect(const ImageView& image) {
    FaceLandmarkerResult r;
    Status s = detect(image, r);
    if (!s) return s;
    return r;
  }

  const FaceLandmarkerOptions& options() const noexcept { return options_; }
  /// The landmark model's input size (its crop: 256 x 256 for Face Mesh V2).
  int input_width() const noexcept { return mesh_->input_width(); }
  int input_height() const noexcept { return mesh_->input_height(); }
  /// The frame the stages crop: the last image, on the networks' device (uploaded once per frame).
  const BackendFrame& frame() const noexcept { return *frame_; }
  /// The inner detector and the landmark network's session, for tests and benchmarks.
  BlazeFaceStage& detector() noexcept { return detection_->detector(); }
  BackendSession& landmark_session() noexcept { return mesh_->session(); }
  MeshStage& mesh() noexcept { return *mesh_; }
  /// The blendshape network's session and the pose solver; null when their option is off.
  BackendSession* blendshape_session() noexcept { return blendshapes_ ? &blendshapes_->session() : nullptr; }
  /// The device the networks run on ("cpu (avx512bw)", "opencl: ...").
  const char* backend_name() const noexcept { return backend_->name(); }
  FaceGeometry* geometry() noexcept { return geometry_ ? &geometry_->solver() : nullptr; }

 private:
  using Candidate = FaceCandidate;

  FaceLandmarker() = default;
  static std::size_t arena_part(const Model& m) {
    const std::size_t a = kTensorAlignment;
    return (plan_activations(m).arena_size + a - 1) / a * a;
  }
  /// The options' values, before any model is loaded.
  static Status check_options(const FaceLandmarkerOptions& options);
  /// The mesh stage on every candidate, then the optional stages; faces that pass the presence
  /// test go to `result` and, in video mode, to the tracking stage.
  Status run_faces(const std::vector<Candidate>& candidates, FaceLandmarkerResult& result);

  FaceLandmarkerOptions options_;
  std::shared_ptr<const Backend> backend_;
  std::unique_ptr<BackendFrame> frame_;  // the image every stage crops, set once per frame
  std::unique_ptr<ThreadPool> pool_;  // num_threads > 1 without a pool of the caller's
  std::unique_ptr<MeshStage> mesh_;
  std::unique_ptr<DetectionStage> detection_;
  std::unique_ptr<TrackingStage> tracking_;  // video mode only
  std::unique_ptr<BlendshapeStage> blendshapes_;        // output_face_blendshapes only
  std::unique_ptr<GeometryStage> geometry_;             // output_facial_transformation_matrixes only
  bool detector_ran_ = false;
};

inline Status FaceLandmarker::check_options(const FaceLandmarkerOptions& options) {
  if (options.num_faces < 1) return Status::error("FaceLandmarker: num_faces %d must be at least 1", options.num_faces);
  const float* conf[3] = {&options.min_face_detection_confidence, &options.min_face_presence_confidence,
                          &options.min_tracking_confidence};
  const char* conf_name[3] = {"min_face_detection_confidence", "min_face_presence_confidence",
                              "min_tracking_confidence"};
  for (int i = 0; i < 3; ++i)
    if (!(*conf[i] >= 0 && *conf[i] <= 1))
      return Status::error("FaceLandmarker: %s %g is outside [0, 1]", conf_name[i], double(*conf[i]));
  if (options.running_mode != RunningMode::image && options.running_mode != RunningMode::video)
    return Status::error("FaceLandmarker: running_mode %d is not image or video", int(options.running_mode));
  if (!find_mesh_model(options.landmark_model))
    return Status::error("FaceLandmarker: landmark_model %d is not %s", int(options.landmark_model),
                         mesh_model_names().c_str());
  return Status::ok();
}

inline Expected<FaceLandmarker> FaceLandmarker::create(FaceLandmarkerModels models,
                                                       const FaceLandmarkerOptions& options, ArenaMemory arena) {
  FACEKIT_RETURN_IF_ERROR(check_options(options));
  if (!models.detector) return Status::error("FaceLandmarker: detector model is null");
  if (!models.landmarks) return Status::error("FaceLandmarker: landmark model is null");
  if (options.output_face_blendshapes && !models.blendshapes)
    return Status::error("FaceLandmarker: output_face_blendshapes needs the blendshape model (face_blendshapes.fkm)");
  if (options.output_facial_transformation_matrixes && !models.geometry)
    return Status::error(
        "FaceLandmarker: output_facial_transformation_matrixes needs the face geometry model (face_geometry.fkm)");
  auto failed = [](Status s, const char* context) -> Status { return s.prefix(context); };
  const std::size_t n = std::size_t(options.num_faces);
  // The caller's arena, cut into the networks' parts (each a multiple of 64 bytes, so every part
  // keeps the base's alignment).
  ArenaMemory detector_arena, mesh_arena, blendshape_arena;
  if (!arena.empty()) {
    const std::size_t need = arena_size(models, options);
    if (!arena.data || arena.size < need)
      return Status::error("FaceLandmarker: arena memory is %zu bytes%s, the models need %zu (FaceLandmarker::arena_size)",
                           arena.size, arena.data ? "" : " at null", need);
    unsigned char* at = static_cast<unsigned char*>(arena.data);
    auto take = [&](const Model& m) {
      const ArenaMemory part{at, arena_part(m)};
      at += part.size;
      return part;
    };
    detector_arena = take(*models.detector);
    mesh_arena = take(*models.landmarks);
    if (options.output_face_blendshapes) blendshape_arena = take(*models.blendshapes);
  }
  FaceLandmarker lm;
  lm.options_ = options;
  auto pool = thread_pool_of(options, &lm.pool_);
  if (!pool) return failed(pool.status(), "FaceLandmarker");
  auto backend = open_backend(device_options_of(options));
  if (!backend) return failed(backend.status(), "FaceLandmarker");
  lm.backend_ = std::move(*backend);
  const Backend& device = *lm.backend_;
  // One frame for the detector's and the mesh model's crops: on a device, one upload per frame.
  lm.frame_ = device.new_frame();

  // The mesh stage: its model decides the detector's settings and the tracking rules.
  auto mesh = create_mesh_stage(options.landmark_model, std::move(models.landmarks), device, mesh_arena);
  if (!mesh) return failed(mesh.status(), "FaceLandmarker");
  lm.mesh_ = std::move(*mesh);
  const MeshModelInfo& graph = lm.mesh_->info();

  // The detection stage: the detector as the mesh model's graph configures it, cut to num_faces.
  auto detector = BlazeFaceStage::create(
      std::move(models.detector),
      {options.min_face_detection_confidence, graph.detector_suppression_threshold, options.num_faces}, device,
      detector_arena);
  if (!detector) return failed(detector.status(), "FaceLandmarker: detector model");
  lm.detection_ = std::make_unique<DetectionStage>(std::move(*detector), n);

  // The tracking stage, in video mode, with the graph's association and smoothing rules.
  if (options.running_mode == RunningMode::video)
    lm.tracking_ = std::make_unique<TrackingStage>(
        n, options.min_tracking_confidence, graph.tracked_faces_win, graph.smooths_single_face && n == 1);

  // The optional stages exist only when asked for, so that switched off they cost nothing.
  if (options.output_face_blendshapes) {
    auto b = BlendshapeStage::create(std::move(models.blendshapes), device, blendshape_arena);
    if (!b) return failed(b.status(), "FaceLandmarker");
    lm.blendshapes_ = std::make_unique<BlendshapeStage>(std::move(*b));
  }
  if (options.output_facial_transformation_matrixes) {
    auto g = GeometryStage::create(std::move(models.geometry));
    if (!g) return failed(g.status(), "FaceLandmarker");
    lm.geometry_ = std::make_unique<GeometryStage>(std::move(*g));
  }
  // Every network of the pipeline shares the pool (they run one after another).
  lm.mesh_->session().set_thread_pool(*pool);
  lm.detection_->detector().session().set_thread_pool(*pool);
  if (lm.blendshapes_) lm.blendshapes_->session().set_thread_pool(*pool);
  return lm;
}

inline Status FaceLandmarker::run_faces(const std::vector<Candidate>& candidates, FaceLandmarkerResult& result) {
  const int W = frame_->image().width, H = frame_->image().height;
  // Grows only when more faces than ever before are found; the first call reserves a few.
  if (result.faces.capacity() < candidates.size()) result.faces.reserve(std::max<std::size_t>(candidates.size(), 4));
  for (const Candidate& c : candidates) {
    result.faces.emplace_back();
    FaceLandmarks& face = result.faces.back();
    bool present = false;
    Status st = mesh_->run(*frame_, c.roi, options_.min_face_presence_confidence, &face.presence, face.landmarks.data(),
                           &present);
    if (!st) {
      result.faces.clear();
      return st;
    }
    if (!present) {
      result.faces.pop_back();
      continue;
    }
    face.roi = c.roi;
    face.detection = c.detection;
    if (tracking_) tracking_->track(face.landmarks.data(), c.detection, W, H);
  }
  if (tracking_) tracking_->smooth(result.faces.empty() ? nullptr : result.faces[0].landmarks.data(), W, H);
  for (FaceLandmarks& face : result.faces) {
    face.has_blendshapes = blendshapes_ != nullptr;
    if (blendshapes_) {
      const float* scores = nullptr;
      if (Status st = blendshapes_->run(face.landmarks.data(), W, H, &scores); !st) {
        result.faces.clear();
        return st;
      }
      for (int k = 0; k < kBlendshapeCount; ++k)
        face.blendshapes[std::size_t(k)] = Category{k, scores[k], kBlendshapeNames[k]};
    }
    face.has_facial_transformation_matrix =
        geometry_ && geometry_->run(face.landmarks.data(), W, H, face.facial_transformation_matrix.data());
  }
  return Status::ok();
}

inline Status FaceLandmarker::detect(const ImageView& image, FaceLandmarkerResult& result) {
  result.faces.clear();
  if (options_.running_mode != RunningMode::image)
    return Status::error("FaceLandmarker: detect() needs running_mode image; this landmarker is in video mode "
                         "(use detect_for_video())");
  FACEKIT_RETURN_IF_ERROR(image.validate());
  detector_ran_ = true;
  frame_->set(image);
  FACEKIT_RETURN_IF_ERROR(detection_->run(*frame_, *mesh_));
  return run_faces(detection_->candidates(), result);
}

inline Status FaceLandmarker::detect_for_video(const ImageView& image, int64_t timestamp_ms,
                                               FaceLandmarkerResult& result) {
  result.faces.clear();
  detector_ran_ = false;
  if (options_.running_mode != RunningMode::video)
    return Status::error("FaceLandmarker: detect_for_video() needs running_mode video; this landmarker is in image "
                         "mode (use detect())");
  if (Status st = tracking_->check_timestamp(timestamp_ms); !st) {
    st.prefix("FaceLandmarker");
    return st;
  }
  FACEKIT_RETURN_IF_ERROR(image.validate());
  tracking_->start_frame(timestamp_ms);

  detection_->clear();
  detector_ran_ = tracking_->needs_detection();
  frame_->set(image);
  Status st = detector_ran_ ? detection_->run(*frame_, *mesh_) : Status::ok();
  if (st) st = run_faces(tracking_->associate(detection_->candidates()), result);
  if (!st) reset_tracking();
  return st;
}

}  // namespace facekit
