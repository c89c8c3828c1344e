// facekit/stages/face_mesh_v2_stage.hpp - Face Mesh V2, the mesh of MediaPipe Tasks'
// FaceLandmarker (face_landmarker.task; docs/pipeline.md 2.1, 3.1, 5.1;
// mediapipe/tasks/cc/vision/face_landmarker/face_landmarker_graph.cc).
//
// The ROI is the detection box scaled 1.5x, turned from the right eye to the left eye and NOT
// squared; the 256 x 256 crop holds values v/255 (BORDER_REPLICATE); the model gives 478 x 3
// landmarks in crop pixels and the presence logit. The graph's detector merges at IoU 0.5 (the
// proto default, not the FaceDetector API's 0.3), fresh detections replace the tracked faces
// they overlap, and a single tracked face is one-euro smoothed.
#pragma once

#include "../landmarks/face_mesh_v2.hpp"
#include "../landmarks/roi.hpp"
#include "mesh_stage.hpp"

namespace facekit {

constexpr int kFaceMeshV2OutputValues[] = {kFaceMeshV2Landmarks * 3};

class FaceMeshV2Stage final : public MeshStage {
 public:
  static constexpr MeshModelInfo kInfo = {
      "face_landmarks_v2", "face_landmarks_detector.tflite from face_landmarker.task",
      "face_detector.fkm", "face_landmarks_detector.fkm",
      0.0f, 1.0f, BorderMode::replicate,
      kFaceMeshV2OutputValues, 1,
      /*detector_suppression_threshold=*/0.5f, /*tracked_faces_win=*/false, /*smooths_single_face=*/true};

  NormalizedRect detection_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                               const float left_eye[2], int image_w, int image_h) const noexcept override {
    return face_landmarker_roi(relative_box, right_eye, left_eye, image_w, image_h);
  }

 private:
  void decode(const float* const* outputs, const MeshCrop& crop, NormalizedLandmark* out) const noexcept override {
    // The pixel rect is recomputed here rather than passed in: with FMA the compiler fuses its
    // products into the crop matrix's translation (image/geometry.hpp), and the landmarks' last
    // bits follow what it sees.
    const RotatedRect px = to_pixel_rect(crop.roi, crop.image_w, crop.image_h);
    decode_face_mesh_v2(outputs[0], crop.input_w, crop.input_h, px, crop.image_w, crop.image_h, out);
  }
};

}  // namespace facekit
