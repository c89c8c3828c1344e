// facekit/detection/projection.hpp - undo the letterbox (DetectionProjectionCalculator,
// docs/pipeline.md 1.5) and MediaPipe Tasks' integer pixel box (DetectionTransformationCalculator,
// docs/pipeline.md 1.6).
#pragma once

#include <algorithm>
#include <array>
#include <cfloat>
#include <climits>
#include <cmath>

#include "../image/geometry.hpp"
#include "decode.hpp"

namespace facekit {

/// Maps a detection through the crop-to-image matrix: keypoints directly, the box as the
/// axis-aligned bounding box of its four mapped corners. The score is kept.
inline RawDetection project_detection(const RawDetection& d, const Matrix4& m) noexcept {
  RawDetection p = d;
  for (auto& k : p.keypoints) k = transform_point(m, k[0], k[1]);
  const float x0 = d.xmin, y0 = d.ymin, x1 = d.xmin + d.width, y1 = d.ymin + d.height;
  const std::array<float, 2> c[4] = {transform_point(m, x0, y0), transform_point(m, x1, y0),
                                     transform_point(m, x1, y1), transform_point(m, x0, y1)};
  float lx = FLT_MAX, ly = FLT_MAX, rx = -FLT_MAX, ry = -FLT_MAX;
  for (const auto& q : c) {
    lx = std::min(lx, q[0]);
    ly = std::min(ly, q[1]);
    rx = std::max(rx, q[0]);
    ry = std::max(ry, q[1]);
  }
  p.xmin = lx;
  p.ymin = ly;
  p.width = rx - lx;
  p.height = ry - ly;
  return p;
}

/// A box in whole pixels: left, top, width, height.
struct PixelBox {
  int x = 0, y = 0, width = 0, height = 0;
};

namespace detail {

// BoundedValue<int>(v, bound): v converted to int (truncation toward zero), then
// min(v, bound), then negatives become 0. NaN gives 0; out-of-range values saturate.
inline int bounded_pixel(float v, int bound) noexcept {
  int i;
  if (std::isnan(v))
    i = 0;
  else if (v >= 2147483648.0f)
    i = INT_MAX;
  else if (v < -2147483648.0f)
    i = INT_MIN;
  else
    i = int(v);
  i = std::min(i, bound);
  return i < 0 ? 0 : i;
}

}  // namespace detail

/// MediaPipe Tasks' pixel box of a relative (image-normalised) detection: each of xmin*W,
/// ymin*H, width*W, height*H truncated toward zero and clamped to [0, W] or [0, H].
inline PixelBox to_pixel_box(const RawDetection& d, int image_w, int image_h) noexcept {
  return {detail::bounded_pixel(d.xmin * float(image_w), image_w),
          detail::bounded_pixel(d.ymin * float(image_h), image_h),
          detail::bounded_pixel(d.width * float(image_w), image_w),
          detail::bounded_pixel(d.height * float(image_h), image_h)};
}

}  // namespace facekit
