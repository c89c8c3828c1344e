// facekit/landmarks/roi.hpp - the region a landmark model sees, from a detection (or, later, from
// the previous frame's landmarks), as MediaPipe's rect calculators compute it
// (../shared face-pipeline-spec 0.4, 2.1).
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

#include "../image/geometry.hpp"

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

/// The Tasks FaceLandmarker's ROI for one detection (spec 2.1): rotation from keypoint 0 (right
/// eye) to keypoint 1 (left eye), target angle 0, box scaled 1.5 x 1.5 and NOT squared (the ROI
/// keeps the box's aspect and is stretched into the square model input).
/// `relative_box` is xmin, ymin, width, height; `right_eye`/`left_eye` are (x, y); all
/// image-normalised.
inline NormalizedRect face_landmarker_roi(const std::array<float, 4>& relative_box, const float right_eye[2],
                                          const float left_eye[2], int image_w, int image_h) noexcept {
  const NormalizedRect r = box_to_rect(relative_box[0], relative_box[1], relative_box[2], relative_box[3],
                                       right_eye[0], right_eye[1], left_eye[0], left_eye[1], image_w, image_h);
  return scale_rect(r, image_w, image_h, 1.5f, 1.5f, /*square_long=*/false);
}

}  // namespace facekit
