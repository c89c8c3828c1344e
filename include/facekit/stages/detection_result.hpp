// facekit/stages/detection_result.hpp - a detected face as MediaPipe Tasks' FaceDetector reports
// it: what every detection stage produces and the landmarker's stages consume.
#pragma once

#include <array>

namespace facekit {

/// Pixel box as MediaPipe Tasks reports it: each of xmin*W, ymin*H, width*W, height*H truncated
/// toward zero and clamped to the image.
struct BoundingBox {
  int origin_x = 0, origin_y = 0, width = 0, height = 0;
};

/// A point normalised by the image width and height, origin top-left.
struct NormalizedKeypoint {
  float x = 0, y = 0;
};

/// Keypoint order, as MediaPipe documents it (the person's right/left).
enum class FaceKeypoint : int { right_eye = 0, left_eye = 1, nose_tip = 2, mouth_center = 3, right_ear_tragion = 4,
                                left_ear_tragion = 5 };

struct Detection {
  BoundingBox bounding_box;
  /// The same box, normalised and unrounded: xmin, ymin, width, height.
  std::array<float, 4> relative_box{};
  std::array<NormalizedKeypoint, 6> keypoints{};
  float score = 0;
};

}  // namespace facekit
