// facekit/stages/blendshape_stage.hpp - MediaPipe's 52 blendshape scores of one face
// (docs/pipeline.md 6): 146 of its landmarks in pixels through the blendshape network
// (face_blendshapes.fkm, kind "face_blendshapes").
//
//   auto stage = facekit::BlendshapeStage::create(model);
//   const float* scores;
//   stage->run(landmarks.data(), W, H, &scores);  // kBlendshapeCount, kBlendshapeNames' order
//
// run() allocates nothing.
#pragma once

#include <memory>

#include "../landmarks/blendshape_tables.hpp"
#include "../landmarks/face_mesh_v2.hpp"
#include "../model/model.hpp"
#include "../runtime/backend.hpp"
#include "../runtime/cpu_backend.hpp"
#include "../status.hpp"

namespace facekit {

class BlendshapeStage {
 public:
  /// With `arena` (CPU), the network's activations live in that caller memory (ArenaMemory).
  static Expected<BlendshapeStage> create(std::shared_ptr<const Model> model, const Backend& backend = *cpu_backend(),
                                          ArenaMemory arena = {}) {
    if (!model) return Status::error("blendshape model is null");
    const Model& b = *model;
    if (b.kind() != "face_blendshapes")
      return Status::error("blendshape model kind is '%s', expected 'face_blendshapes'", b.kind().c_str());
    if (b.inputs().size() != 1 || b.outputs().size() != 1 ||
        b.tensor(b.inputs()[0]).elements() != std::size_t(kBlendshapeLandmarkCount) * 2 ||
        b.tensor(b.outputs()[0]).elements() != std::size_t(kBlendshapeCount))
      return Status::error("blendshape model must map 146 x 2 landmarks to 52 scores");
    auto session = make_session(backend, std::move(model), "blendshape model", arena);
    if (!session) return session.status();
    BlendshapeStage stage;
    stage.session_ = std::move(*session);
    return stage;
  }

  /// The kBlendshapeCount scores of the face whose kFaceLandmarkCount image-normalised
  /// `landmarks` are given, into *scores (valid until the next run).
  Status run(const NormalizedLandmark* landmarks, int image_w, int image_h, const float** scores) noexcept {
    static_assert(sizeof(NormalizedLandmark) == 3 * sizeof(float), "landmarks are packed x, y, z");
    blendshape_input(&landmarks[0].x, 3, image_w, image_h, session_->input(0));
    FACEKIT_RETURN_IF_ERROR(session_->run());
    *scores = session_->output(0);
    return Status::ok();
  }

  BackendSession& session() noexcept { return *session_; }

 private:
  BlendshapeStage() = default;
  std::unique_ptr<BackendSession> session_;
};

}  // namespace facekit
