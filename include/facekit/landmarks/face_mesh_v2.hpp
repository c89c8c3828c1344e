// facekit/landmarks/face_mesh_v2.hpp - Face Mesh V2 outputs -> image landmarks, as MediaPipe
// Tasks' FaceLandmarksDetectorGraph computes them (docs/pipeline.md 3.1;
// mediapipe/tasks/cc/vision/face_landmarker/face_landmarks_detector_graph.cc).
//
//   float presence = facekit::face_presence(session.output(1)[0]);
//   if (double(presence) > double(threshold))
//     facekit::decode_face_mesh_v2(session.output(0), 256, 256, roi_px, W, H, landmarks.data());
//
// The tensor holds 478 x (x, y, z) in pixels of the model's input crop. MediaPipe divides x and z
// by the crop width and y by its height (TensorsToLandmarksCalculator), then maps x, y through the
// crop-to-image matrix of the ROI and scales z by the length of the crop's unit x-segment in the
// image (LandmarkProjectionCalculator). Every product is rounded on its own (fp::mul).
#pragma once

#include <cmath>
#include <cstddef>

#include "../kernels/fp.hpp"
#include "../image/geometry.hpp"

namespace facekit {

/// Number of landmarks of Face Mesh V2: 468 mesh points, then 5 + 5 iris points.
constexpr int kFaceMeshV2Landmarks = 478;

/// A landmark as MediaPipe defines NormalizedLandmark: x, y divided by the image width and height
/// (origin top-left, may fall outside [0, 1]); z is depth relative to the head centre in roughly
/// the units of x (smaller = closer to the camera).
struct NormalizedLandmark {
  float x = 0, y = 0, z = 0;
};

/// The outer eye corners, on the image's left and right in an unmirrored frontal photo (the
/// subject's right and left eye). MediaPipe's tracking rect turns from 33 to 263; their distance
/// is the usual inter-ocular normaliser.
constexpr int kLandmarkEyeOuterImageLeft = 33;
constexpr int kLandmarkEyeOuterImageRight = 263;

/// TensorsToFloatsCalculator's SIGMOID: 1 / (1 + exp(-logit)) in float32.
inline float face_presence(float logit) noexcept { return 1.0f / (1.0f + std::exp(-logit)); }

/// LandmarkProjectionCalculator's z scale: the length of the projected (0,0)-(1,0) segment, with
/// the projected end points' differences in float and the root in double (std::pow promotes).
inline float landmark_z_scale(const Matrix4& m) noexcept {
  const auto a = transform_point(m, 0.0f, 0.0f);
  const auto b = transform_point(m, 1.0f, 0.0f);
  const double dx = double(b[0] - a[0]), dy = double(b[1] - a[1]);
  return float(std::sqrt(dx * dx + dy * dy));
}

/// Decodes `tensor` (kFaceMeshV2Landmarks x 3 floats) of a model whose input is
/// input_w x input_h, cropped from `roi` (pixels) of an image_w x image_h image, into `out`
/// (kFaceMeshV2Landmarks entries, image-normalised).
inline void decode_face_mesh_v2(const float* tensor, int input_w, int input_h, const RotatedRect& roi, int image_w,
                                int image_h, NormalizedLandmark* out) noexcept {
  const Matrix4 m = crop_to_image_matrix(roi, image_w, image_h);
  const float z_scale = landmark_z_scale(m);
  const float iw = float(input_w), ih = float(input_h);
  for (int i = 0; i < kFaceMeshV2Landmarks; ++i) {
    const float* t = tensor + std::size_t(i) * 3;
    const float xn = t[0] / iw, yn = t[1] / ih;
    const float zn = t[2] / iw / 1.0f;  // normalize_z = 1 (proto default)
    const auto p = transform_point(m, xn, yn);
    out[i] = {p[0], p[1], fp::mul(z_scale, zn)};
  }
}

}  // namespace facekit
