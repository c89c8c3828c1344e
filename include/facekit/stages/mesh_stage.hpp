// facekit/stages/mesh_stage.hpp - the landmark network as a pipeline stage: one interface, one
// implementation per mesh model (stages/mesh_models.hpp lists them).
//
//   auto mesh = facekit::create_mesh_stage(facekit::FaceMeshModel::v2, model);   // mesh_models.hpp
//   NormalizedRect roi = (*mesh)->detection_roi(box, right_eye, left_eye, W, H);
//   bool present;
//   frame->set(image);                          // the pipeline's BackendFrame (Backend::new_frame)
//   (*mesh)->run(*frame, roi, 0.5f, &presence, landmarks.data(), &present);
//
// What every mesh model shares lives here: the model's checks, the crop of the ROI into the
// network's input, the run and the presence test (docs/pipeline.md 2, 3). What differs between
// them lives in the implementation: its MeshModelInfo (model kind, files, input range, the
// outputs it reads and the settings of the MediaPipe graph it comes from), its ROI rule and its
// decoding of the outputs into 478 image landmarks.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

#include "../image/geometry.hpp"
#include "../landmarks/face_mesh_v2.hpp"
#include "../model/model.hpp"
#include "../image/image_to_tensor.hpp"
#include "../runtime/backend.hpp"
#include "../runtime/cpu_backend.hpp"
#include "../status.hpp"
#include "model_input.hpp"

namespace facekit {

/// Most outputs a mesh model's decoder reads (its landmark outputs, then the presence logit).
constexpr std::size_t kMeshMaxOutputs = 8;

/// What is known of a mesh model before it is loaded: its model kind and files, how its input is
/// cropped, the outputs its decoder reads, and the settings of the MediaPipe graph it runs in.
struct MeshModelInfo {
  /// The model kind `facekit convert` writes, and what to convert to get it (for errors).
  const char* kind;
  const char* source;
  /// The files FaceLandmarker::create_from_dir loads: the graph's detector and this model.
  const char* detector_file;
  const char* landmark_file;
  /// The crop's values when the model's metadata gives no "input.range", and its border.
  float input_range_min, input_range_max;
  BorderMode crop_border;
  /// Value counts of the landmark outputs, in model order; the presence logit follows them.
  const int* landmark_output_values;
  std::size_t landmark_outputs;
  /// The graph's detector merges detections whose IoU exceeds this.
  float detector_suppression_threshold;
  /// Video: a tracked face and a fresh detection of it are associated keeping the tracked one
  /// (true) or the fresh one (false).
  bool tracked_faces_win;
  /// Video: the graph one-euro smooths the landmarks when it tracks a single face.
  bool smooths_single_face;
};

/// The ROI a landmark crop was taken from, as decoders need it.
struct MeshCrop {
  NormalizedRect roi;  // image-normalised
  int image_w, image_h;
  int input_w, input_h;  // the model's input
};

class MeshStage {
 public:
  virtual ~MeshStage() = default;
  MeshStage(const MeshStage&) = delete;
  MeshStage& operator=(const MeshStage&) = delete;

  /// Checks `model` against Impl's MeshModelInfo (Impl::kInfo) and builds its session on `backend`.
  template <class Impl>
  /// With `arena` (CPU), the network's activations live in that caller memory (ArenaMemory).
  static Expected<std::unique_ptr<MeshStage>> create(std::shared_ptr<const Model> model, const Backend& backend,
                                                     ArenaMemory arena = {});
  /// The checks create() makes of `model` (inputs, outputs, input size and range metadata; the
  /// kind is create_mesh_stage's), without building its program. `input`, if not null, gets the
  /// checked input. `facekit convert` runs them on every landmark model it writes.
  static Status check_model(const MeshModelInfo& info, const Model& model, ImageInput* input = nullptr);

  /// The region the model sees for a detection: `relative_box` is xmin, ymin, width, height,
  /// `right_eye` / `left_eye` are (x, y), all image-normalised (the detector's keypoints 0, 1).
  virtual NormalizedRect detection_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                                       const float left_eye[2], int image_w, int image_h) const noexcept = 0;

  /// Runs the model on `roi` of the frame's image. *present is false when the face fails the
  /// presence test (sigmoid of the logit, as double, not above `min_presence`) or the ROI cannot be
  /// cropped (degenerate size); otherwise *presence and the kFaceMeshV2Landmarks `landmarks` are set.
  Status run(BackendFrame& frame, const NormalizedRect& roi, float min_presence, float* presence,
             NormalizedLandmark* landmarks, bool* present);
  /// The same for an image outside any frame.
  Status run(const ImageView& image, const NormalizedRect& roi, float min_presence, float* presence,
             NormalizedLandmark* landmarks, bool* present) {
    BackendFrame frame;
    frame.set(image);
    return run(frame, roi, min_presence, presence, landmarks, present);
  }

  const MeshModelInfo& info() const noexcept { return *info_; }
  int input_width() const noexcept { return input_w_; }
  int input_height() const noexcept { return input_h_; }
  BackendSession& session() noexcept { return *session_; }

 protected:
  MeshStage() = default;
  /// The landmark outputs (info().landmark_outputs of them, in model order) of a crop -> image
  /// landmarks.
  virtual void decode(const float* const* outputs, const MeshCrop& crop, NormalizedLandmark* out) const noexcept = 0;

 private:
  Status load(const MeshModelInfo& info, std::shared_ptr<const Model> model, const Backend& backend, ArenaMemory arena);

  const MeshModelInfo* info_ = nullptr;
  std::unique_ptr<BackendSession> session_;
  int input_w_ = 0, input_h_ = 0;
  float range_min_ = 0, range_max_ = 1;
};

template <class Impl>
Expected<std::unique_ptr<MeshStage>> MeshStage::create(std::shared_ptr<const Model> model, const Backend& backend,
                                                      ArenaMemory arena) {
  static_assert(Impl::kInfo.landmark_outputs < kMeshMaxOutputs, "raise kMeshMaxOutputs");
  std::unique_ptr<MeshStage> stage = std::make_unique<Impl>();
  FACEKIT_RETURN_IF_ERROR(stage->load(Impl::kInfo, std::move(model), backend, arena));
  return Expected<std::unique_ptr<MeshStage>>(std::move(stage));
}

inline Status MeshStage::check_model(const MeshModelInfo& info, const Model& m, ImageInput* input) {
  const std::size_t n_out = info.landmark_outputs + 1;
  if (m.inputs().size() != 1 || m.outputs().size() < n_out)
    return Status::error("landmark model has %zu inputs and %zu outputs, expected 1 and at least %zu",
                         m.inputs().size(), m.outputs().size(), n_out);
  ImageInput in;
  FACEKIT_RETURN_IF_ERROR(read_image_input(m, "landmark model", info.input_range_min, info.input_range_max, &in));
  for (std::size_t k = 0; k < info.landmark_outputs; ++k) {
    const TensorInfo& t = m.tensor(m.outputs()[k]);
    const std::size_t want = std::size_t(info.landmark_output_values[k]);
    if (t.elements() != want)
      return Status::error("landmark model output %zu '%s' has %zu values, expected %zu", k, t.name, t.elements(),
                           want);
  }
  const TensorInfo& presence = m.tensor(m.outputs()[n_out - 1]);
  if (presence.elements() != 1)
    return Status::error("landmark model output '%s' has %zu values, expected 1 (presence logit)", presence.name,
                         presence.elements());
  if (input) *input = in;
  return Status::ok();
}

inline Status MeshStage::load(const MeshModelInfo& info, std::shared_ptr<const Model> model, const Backend& backend,
                              ArenaMemory arena) {
  ImageInput in;
  FACEKIT_RETURN_IF_ERROR(model->name_file(check_model(info, *model, &in)));
  info_ = &info;
  input_h_ = in.height;
  input_w_ = in.width;
  range_min_ = in.range_min;
  range_max_ = in.range_max;
  auto session = make_session(backend, std::move(model), "landmark model", arena);
  if (!session) return session.status();
  session_ = std::move(*session);
  return Status::ok();
}

inline Status MeshStage::run(BackendFrame& frame, const NormalizedRect& roi, float min_presence, float* presence,
                             NormalizedLandmark* landmarks, bool* present) {
  *present = false;
  const ImageView& image = frame.image();
  const RotatedRect px = to_pixel_rect(roi, image.width, image.height);
  // A zero-size or non-finite ROI (possible only from a degenerate detection) has no crop; MediaPipe
  // has no defined result for it either, so the face is dropped rather than failing the call.
  if (!(px.w > 0) || !(px.h > 0) || !std::isfinite(px.w) || !std::isfinite(px.h) || !std::isfinite(px.cx) ||
      !std::isfinite(px.cy) || !std::isfinite(px.angle_rad))
    return Status::ok();
  // The session's input buffer is reused by the network's activations, so it is refilled for
  // every run.
  ImageCrop crop;
  crop.roi = px;
  crop.border = info_->crop_border;
  crop.range_min = range_min_;
  crop.range_max = range_max_;
  FACEKIT_RETURN_IF_ERROR(session_->crop_input(0, frame, crop));
  FACEKIT_RETURN_IF_ERROR(session_->run());
  const float* outputs[kMeshMaxOutputs];
  const std::size_t n = info_->landmark_outputs;
  for (std::size_t k = 0; k <= n; ++k) outputs[k] = session_->output(int(k));
  *presence = face_presence(outputs[n][0]);
  // ThresholdingCalculator: the float score, widened to double, strictly above the threshold.
  if (!(double(*presence) > double(min_presence))) return Status::ok();
  decode(outputs, MeshCrop{roi, image.width, image.height, input_w_, input_h_}, landmarks);
  *present = true;
  return Status::ok();
}

}  // namespace facekit
