// facekit/image/geometry.hpp - regions of interest and the crop-to-image matrix, as MediaPipe's
// ImageToTensorCalculator defines them (docs/pipeline.md 0.1-0.3;
// mediapipe/calculators/tensor/image_to_tensor_utils.cc).
//
// Image coordinates: x right, y down, pixel (p, q) centred on the integer point (p, q).
// A RotatedRect is in pixels; positive angles turn it clockwise on screen. All arithmetic is
// float32 in MediaPipe's order of operations.
#pragma once

#include <array>
#include <cmath>

#include "../status.hpp"
#include "../kernels/fp.hpp"

namespace facekit {

/// Centre, size (pixels) and rotation (radians) of a crop region.
struct RotatedRect {
  float cx = 0, cy = 0, w = 0, h = 0, angle_rad = 0;
};

/// MediaPipe's NormalizedRect: centre and size divided by the image width/height.
struct NormalizedRect {
  float x_center = 0.5f, y_center = 0.5f, width = 1.0f, height = 1.0f, rotation = 0.0f;
};

/// Row-major 4x4 float matrix.
using Matrix4 = std::array<float, 16>;

/// a - 2*pi*floor((a + pi) / (2*pi)), in double as MediaPipe computes it: result in [-pi, pi).
inline float normalize_radians(float a) noexcept {
  const double pi = 3.14159265358979323846;
  return float(double(a) - 2 * pi * std::floor((double(a) - (-pi)) / (2 * pi)));
}

/// MediaPipe GetRoi: a normalised rect in pixels of a W x H image.
inline RotatedRect to_pixel_rect(const NormalizedRect& r, int image_w, int image_h) noexcept {
  return {r.x_center * float(image_w), r.y_center * float(image_h), r.width * float(image_w),
          r.height * float(image_h), r.rotation};
}

/// The ROI MediaPipe uses without a rect: the whole image, unrotated.
inline RotatedRect whole_image_rect(int image_w, int image_h) noexcept {
  return {0.5f * float(image_w), 0.5f * float(image_h), float(image_w), float(image_h), 0.0f};
}

/// A ROI enlarged to the tensor's aspect ratio and the letterbox padding it implies, as fractions
/// of the tensor: [left, top, right, bottom].
struct PaddedRoi {
  RotatedRect roi;
  std::array<float, 4> padding{};
};

/// MediaPipe PadRoi. With keep_aspect_ratio false the ROI is returned unchanged (it is stretched
/// to fill the tensor) and the padding is zero.
inline Expected<PaddedRoi> pad_roi(const RotatedRect& roi, int tensor_w, int tensor_h, bool keep_aspect_ratio = true) {
  PaddedRoi out;
  out.roi = roi;
  if (!keep_aspect_ratio) return out;
  if (tensor_w <= 0 || tensor_h <= 0)
    return Status::error("pad_roi: tensor size %dx%d must be positive", tensor_w, tensor_h);
  if (!(roi.w > 0) || !(roi.h > 0))
    return Status::error("pad_roi: ROI size %gx%g must be positive", double(roi.w), double(roi.h));
  const float tensor_aspect = float(tensor_h) / float(tensor_w);
  const float roi_aspect = roi.h / roi.w;
  float hp = 0.0f, vp = 0.0f;
  if (tensor_aspect > roi_aspect) {
    out.roi.h = roi.w * tensor_aspect;
    vp = (1.0f - roi_aspect / tensor_aspect) / 2.0f;
  } else {
    out.roi.w = roi.h / tensor_aspect;
    hp = (1.0f - tensor_aspect / roi_aspect) / 2.0f;
  }
  out.padding = {hp, vp, hp, vp};
  return out;
}

/// GetRotatedSubRectToRectTransformMatrix: maps crop-normalised (u, v, z) (0..1 across the crop)
/// to image-normalised coordinates. Build it from the padded ROI.
inline Matrix4 crop_to_image_matrix(const RotatedRect& roi, int image_w, int image_h,
                                    bool flip_horizontally = false) noexcept {
  const float a = roi.w, b = roi.h;
  const float flip = flip_horizontally ? -1.0f : 1.0f;
  const float c = std::cos(roi.angle_rad), d = std::sin(roi.angle_rad);
  const float e = roi.cx, f = roi.cy;
  const float g = 1.0f / float(image_w), h = 1.0f / float(image_h);
  Matrix4 m{};
  m[0] = a * c * flip * g;
  m[1] = -b * d * g;
  m[3] = (fp::mul(-0.5f * a * c, flip) + fp::mul(0.5f * b, d) + e) * g;
  m[4] = a * d * flip * h;
  m[5] = b * c * h;
  m[7] = (fp::mul(-0.5f * b, c) - fp::mul(0.5f * a * d, flip) + f) * h;
  m[10] = a * g;
  m[15] = 1.0f;
  return m;
}

/// (M0 u + M1 v + M3, M4 u + M5 v + M7): a 2-D point through a row-major 4x4 (z ignored).
inline std::array<float, 2> transform_point(const Matrix4& m, float u, float v) noexcept {
  return {fp::mul(u, m[0]) + fp::mul(v, m[1]) + m[3], fp::mul(u, m[4]) + fp::mul(v, m[5]) + m[7]};
}

}  // namespace facekit
