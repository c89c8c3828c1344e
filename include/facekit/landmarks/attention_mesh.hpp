// facekit/landmarks/attention_mesh.hpp - the Attention Mesh's seven outputs -> 478 image landmarks,
// as MediaPipe's legacy Face Mesh computes them (docs/pipeline.md 3.2; the index tables come from
// mediapipe/modules/face_landmark/tensors_to_face_landmarks_with_attention.pbtxt).
//
//   const float* outs[6] = {session.output(0), ..., session.output(5)};  // mesh, lips, eyes, irises
//   if (double(facekit::face_presence(session.output(6)[0])) > 0.5)
//     facekit::decode_attention_mesh(outs, 192, 192, roi, landmarks.data());
//
// The model gives the 468-point mesh (x, y, z) and, refined through its spatial transformer, the
// lips (80), both eyes (71 each) and both irises (5 each) as (x, y) in pixels of the 192 x 192
// crop. MediaPipe's LandmarksRefinementCalculator merges them into 478 points: each part
// overwrites x, y of the mesh indices it maps to; z stays the mesh z except for the irises, whose
// z is the mean mesh z of the 16 points around their eye. LandmarkProjectionCalculator then maps
// the crop-normalised points back with the rect-only formula (the legacy graph passes no image
// size), which scales z by the ROI's normalised width.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../kernels/fp.hpp"
#include "../image/geometry.hpp"
#include "face_mesh_v2.hpp"

namespace facekit {

/// Points of the Attention Mesh's face mesh output (the irises come from their own outputs).
constexpr int kAttentionMeshPoints = 468;
/// Output tensors in model order: mesh (468 x 3), lips (80 x 2), left eye (71 x 2), right eye,
/// left iris (5 x 2), right iris, then the face flag (presence logit).
constexpr int kAttentionMeshOutputs = 7;
constexpr std::array<int, 6> kAttentionOutputValues = {kAttentionMeshPoints * 3, 80 * 2, 71 * 2, 71 * 2, 5 * 2, 5 * 2};

// Where each refined point goes in the 478-point list (MediaPipe's indexes_mapping; "left" and
// "right" follow the viewer of an unmirrored photo, as in the model's tensor names).
constexpr std::array<int16_t, 80> kAttentionLipsToMesh = {
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409, 78, 95, 88, 178,
    87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415, 76, 77, 90, 180, 85, 16, 315,
    404, 320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408, 62, 96, 89, 179, 86, 15, 316, 403, 319, 325,
    292, 183, 42, 41, 38, 12, 268, 271, 272, 407};

constexpr std::array<int16_t, 71> kAttentionLeftEyeToMesh = {
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110, 24, 23, 22, 26,
    112, 243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223,
    222, 221, 189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245, 156, 70, 63, 105, 66,
    107, 55, 193};

constexpr std::array<int16_t, 71> kAttentionRightEyeToMesh = {
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255, 339, 254, 253,
    252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449, 450, 451, 452, 453, 464, 342,
    445, 444, 443, 442, 441, 413, 265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465,
    383, 300, 293, 334, 296, 336, 285, 417};

// The eye-contour points whose mean z becomes each iris point's z (assign_average).
constexpr std::array<int16_t, 16> kAttentionLeftIrisDepthFrom = {
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173};

constexpr std::array<int16_t, 16> kAttentionRightIrisDepthFrom = {
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398};


constexpr int kAttentionLeftIrisFirst = 468, kAttentionRightIrisFirst = 473;

/// LandmarkProjectionCalculator without image size: crop-normalised (x, y, z) -> image-normalised
/// through the ROI alone, in float32 with each product rounded on its own as MediaPipe's code does.
inline void project_landmarks_rect_only(const NormalizedRect& roi, NormalizedLandmark* lm, int n) noexcept {
  const float c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  for (int i = 0; i < n; ++i) {
    const float x = lm[i].x - 0.5f, y = lm[i].y - 0.5f;
    const float rx = fp::mul(c, x) - fp::mul(s, y);
    const float ry = fp::mul(s, x) + fp::mul(c, y);
    lm[i].x = fp::mul(rx, roi.width) + roi.x_center;
    lm[i].y = fp::mul(ry, roi.height) + roi.y_center;
    lm[i].z = lm[i].z * roi.width;
  }
}

/// TensorsToLandmarks on the six landmark outputs (x / input_w, y / input_h, mesh z / input_w)
/// and the refinement into 478 crop-normalised points.
inline void refine_attention_mesh(const float* const outputs[6], int input_w, int input_h,
                                  NormalizedLandmark* out) noexcept {
  const float iw = float(input_w), ih = float(input_h);
  for (int i = 0; i < kAttentionMeshPoints; ++i) {
    const float* t = outputs[0] + std::size_t(i) * 3;
    out[i] = {t[0] / iw, t[1] / ih, t[2] / iw / 1.0f};  // normalize_z = 1 (proto default)
  }
  // Lips and eyes: x, y only; z stays the mesh z ("none").
  auto refine_xy = [&](const float* t, const int16_t* map, std::size_t n) {
    for (std::size_t j = 0; j < n; ++j) {
      out[map[j]].x = t[2 * j] / iw;
      out[map[j]].y = t[2 * j + 1] / ih;
    }
  };
  refine_xy(outputs[1], kAttentionLipsToMesh.data(), kAttentionLipsToMesh.size());
  refine_xy(outputs[2], kAttentionLeftEyeToMesh.data(), kAttentionLeftEyeToMesh.size());
  refine_xy(outputs[3], kAttentionRightEyeToMesh.data(), kAttentionRightEyeToMesh.size());
  // Irises: x, y from their outputs, z = the mean z of their eye contour ("assign_average": the
  // sum in double, divided as double, stored as float), taken after the eyes are refined.
  auto refine_iris = [&](const float* t, int first, const std::array<int16_t, 16>& depth_from) {
    double z_sum = 0;
    for (int16_t k : depth_from) z_sum += double(out[k].z);
    const float z = float(z_sum / double(depth_from.size()));
    for (int j = 0; j < 5; ++j) out[first + j] = {t[2 * j] / iw, t[2 * j + 1] / ih, z};
  };
  refine_iris(outputs[4], kAttentionLeftIrisFirst, kAttentionLeftIrisDepthFrom);
  refine_iris(outputs[5], kAttentionRightIrisFirst, kAttentionRightIrisDepthFrom);
}

/// The whole decoding: `outputs` are the model's first six outputs, `roi` the normalised rect the
/// crop was taken from; `out` receives kFaceMeshV2Landmarks image-normalised points.
inline void decode_attention_mesh(const float* const outputs[6], int input_w, int input_h, const NormalizedRect& roi,
                                  NormalizedLandmark* out) noexcept {
  refine_attention_mesh(outputs, input_w, input_h, out);
  project_landmarks_rect_only(roi, out, kFaceMeshV2Landmarks);
}

}  // namespace facekit
