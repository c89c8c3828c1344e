// facekit/stages/attention_mesh_stage.hpp - the Attention Mesh, the mesh of MediaPipe's legacy
// Face Mesh (face_landmark_with_attention.tflite; docs/pipeline.md 2.2, 3.2, 5.2;
// mediapipe/modules/face_landmark/face_landmark_front_cpu.pbtxt).
//
// The ROI is the detection box squared on its long side, then scaled 1.5x and turned from the
// right eye to the left eye; the 192 x 192 crop holds values v/255 (BORDER_REPLICATE); the model
// gives the mesh, the refined lips, eyes and irises (six outputs), merged into 478 points and
// projected back through the ROI alone (landmarks/attention_mesh.hpp), and the presence logit. The
// graph's short-range detector merges at IoU 0.3, a tracked face wins over a fresh detection of
// it, and nothing is smoothed.
#pragma once

#include "../landmarks/attention_mesh.hpp"
#include "../landmarks/roi.hpp"
#include "mesh_stage.hpp"

namespace facekit {

class AttentionMeshStage final : public MeshStage {
 public:
  static constexpr MeshModelInfo kInfo = {
      "face_landmarks_attention", "face_landmark_with_attention.tflite",
      "face_detection_short_range.fkm", "face_landmark_with_attention.fkm",
      0.0f, 1.0f, BorderMode::replicate,
      kAttentionOutputValues.data(), kAttentionOutputValues.size(),
      /*detector_suppression_threshold=*/0.3f, /*tracked_faces_win=*/true, /*smooths_single_face=*/false};

  NormalizedRect detection_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                               const float left_eye[2], int image_w, int image_h) const noexcept override {
    return legacy_face_mesh_roi(relative_box, right_eye, left_eye, image_w, image_h);
  }

 private:
  void decode(const float* const* outputs, const MeshCrop& crop, NormalizedLandmark* out) const noexcept override {
    decode_attention_mesh(outputs, crop.input_w, crop.input_h, crop.roi, out);
  }
};

}  // namespace facekit
