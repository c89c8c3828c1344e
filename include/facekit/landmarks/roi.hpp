// facekit/landmarks/roi.hpp - the region a landmark model sees, from a detection or from the
// previous frame's landmarks, as MediaPipe's rect calculators compute it (docs/pipeline.md 0.4,
// 2.1, 2.2, 5; mediapipe/calculators/util/detections_to_rects_calculator.cc,
// rect_transformation_calculator.cc).
//
//   facekit::NormalizedRect roi = facekit::face_landmarker_roi(detection, image.width, image.height);
//   facekit::RotatedRect px = facekit::to_pixel_rect(roi, image.width, image.height);
//
// All arithmetic is float32 in MediaPipe's order of operations; NormalizeRadians is the double
// formula of image/geometry.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "../image/geometry.hpp"
#include "face_mesh_v2.hpp"

namespace facekit {

/// DetectionsToRectsCalculator on a relative box (xmin, ymin, width, height) with the rotation
/// vector from point (x0, y0) to (x1, y1) (image-normalised): centre and size from the box,
/// rotation = NormalizeRadians(target - atan2(-(y1 - y0), x1 - x0)) measured in pixels.
inline NormalizedRect box_to_rect(float xmin, float ymin, float width, float height, float x0, float y0, float x1,
                                  float y1, int image_w, int image_h, float target_angle_rad = 0.0f) noexcept {
  NormalizedRect r;
  r.x_center = xmin + width / 2;
  r.y_center = ymin + height / 2;
  r.width = width;
  r.height = height;
  // The rotation is taken in pixels, so a non-square image does not skew the angle.
  const float px0 = x0 * float(image_w), py0 = y0 * float(image_h);
  const float px1 = x1 * float(image_w), py1 = y1 * float(image_h);
  r.rotation = normalize_radians(target_angle_rad - std::atan2(-(py1 - py0), px1 - px0));
  return r;
}

/// RectTransformationCalculator on a NormalizedRect without shift or extra rotation (the face
/// graphs set none): optionally square the rect on its longer pixel side, then scale each side.
inline NormalizedRect scale_rect(NormalizedRect r, int image_w, int image_h, float scale_x, float scale_y,
                                 bool square_long) noexcept {
  float width = r.width, height = r.height;
  if (square_long) {
    const float long_side = std::max(width * float(image_w), height * float(image_h));
    width = long_side / float(image_w);
    height = long_side / float(image_h);
  }
  r.width = width * scale_x;
  r.height = height * scale_y;
  return r;
}

/// The Tasks FaceLandmarker's ROI for one detection (docs/pipeline.md 2.1): rotation from
/// keypoint 0 (right eye) to keypoint 1 (left eye), target angle 0, box scaled 1.5 x 1.5 and NOT
/// squared (the ROI keeps the box's aspect and is stretched into the square model input).
/// `relative_box` is xmin, ymin, width, height; `right_eye`/`left_eye` are (x, y); all
/// image-normalised.
inline NormalizedRect face_landmarker_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                                          const float left_eye[2], int image_w, int image_h) noexcept {
  const NormalizedRect r = box_to_rect(relative_box[0], relative_box[1], relative_box[2], relative_box[3],
                                       right_eye[0], right_eye[1], left_eye[0], left_eye[1], image_w, image_h);
  return scale_rect(r, image_w, image_h, 1.5f, 1.5f, /*square_long=*/false);
}

/// The legacy Face Mesh's ROI for one detection (docs/pipeline.md 2.2): the same rotation, the
/// box squared on its longer side in pixels, then scaled 1.5 x 1.5.
inline NormalizedRect legacy_face_mesh_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                                           const float left_eye[2], int image_w, int image_h) noexcept {
  const NormalizedRect r = box_to_rect(relative_box[0], relative_box[1], relative_box[2], relative_box[3],
                                       right_eye[0], right_eye[1], left_eye[0], left_eye[1], image_w, image_h);
  return scale_rect(r, image_w, image_h, 1.5f, 1.5f, /*square_long=*/true);
}

/// The next frame's ROI of a tracked face (docs/pipeline.md 5.1 step 2, 5.2; both APIs): the
/// bounding box of all `n` landmarks (LandmarksToDetection, whose running maximum starts at
/// FLT_MIN, the smallest positive float), turned from landmark 33 to 263, squared and scaled
/// 1.5 x 1.5.
inline NormalizedRect tracking_roi(const NormalizedLandmark* lm, int n, int image_w, int image_h) noexcept {
  float x_min = std::numeric_limits<float>::max(), x_max = std::numeric_limits<float>::min();
  float y_min = std::numeric_limits<float>::max(), y_max = std::numeric_limits<float>::min();
  for (int i = 0; i < n; ++i) {
    x_min = std::min(x_min, lm[i].x);
    x_max = std::max(x_max, lm[i].x);
    y_min = std::min(y_min, lm[i].y);
    y_max = std::max(y_max, lm[i].y);
  }
  const NormalizedLandmark& a = lm[kLandmarkEyeOuterImageLeft];
  const NormalizedLandmark& b = lm[kLandmarkEyeOuterImageRight];
  const NormalizedRect r =
      box_to_rect(x_min, y_min, x_max - x_min, y_max - y_min, a.x, a.y, b.x, b.y, image_w, image_h);
  return scale_rect(r, image_w, image_h, 1.5f, 1.5f, /*square_long=*/true);
}

/// CalculateIou of MediaPipe's rect association: axis-aligned boxes (rotation ignored) in
/// normalised coordinates; 0 when they do not touch or the union is empty.
inline float rect_iou(const NormalizedRect& p, const NormalizedRect& q) noexcept {
  const float px0 = p.x_center - float(double(p.width) / 2.0), py0 = p.y_center - float(double(p.height) / 2.0);
  const float qx0 = q.x_center - float(double(q.width) / 2.0), qy0 = q.y_center - float(double(q.height) / 2.0);
  const float px1 = px0 + p.width, py1 = py0 + p.height, qx1 = qx0 + q.width, qy1 = qy0 + q.height;
  if (!(p.width >= 0 && p.height >= 0 && q.width >= 0 && q.height >= 0)) return 0.0f;
  if (qx1 < px0 || px1 < qx0 || qy1 < py0 || py1 < qy0) return 0.0f;
  const float iw = std::min(px1, qx1) - std::max(px0, qx0), ih = std::min(py1, qy1) - std::max(py0, qy0);
  const float inter = iw * ih;
  const float norm = (px1 - px0) * (py1 - py0) + (qx1 - qx0) * (qy1 - qy0) - inter;
  return norm > 0.0f ? inter / norm : 0.0f;
}

}  // namespace facekit
