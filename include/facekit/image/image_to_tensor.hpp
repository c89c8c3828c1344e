// facekit/image/image_to_tensor.hpp - MediaPipe's ImageToTensorCalculator on the CPU: a rotated
// ROI of an image -> an out_w x out_h RGB tensor, bit-exact.
//
//   float tensor[256 * 256 * 3];
//   facekit::RotatedRect roi{cx, cy, w, h, angle};
//   auto st = facekit::crop_to_tensor(img.view(), roi, 256, 256, facekit::BorderMode::replicate,
//                                     0.0f, 1.0f, tensor);
//
// The calculator's OpenCV converter (docs/pipeline.md 0.3 step 4;
// mediapipe/calculators/tensor/image_to_tensor_converter_opencv.cc) makes an 8-bit crop with
// OpenCV's fixed-point warpPerspective and maps each byte v to v * scale + offset. In OpenCV's
// order of operations:
//   1. the ROI's corners as cv::RotatedRect::points computes them (float32), here;
//   2. getPerspectiveTransform and the 3x3 inverse: kernels/f64_perspective_transform.hpp;
//   3. the warp and the value conversion: kernels/u8_warp_perspective.hpp, kernels/u8_to_f32.hpp.
// This file checks the arguments (bad input returns a Status) and picks the kernel variant for
// the image's pixel format and the border mode. No heap allocation. Arch only selects the SIMD
// width: every architecture gives the same bytes (scalar_arch is the reference).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include "../config.hpp"
#include "geometry.hpp"
#include "image.hpp"
#include "../kernels/f64_perspective_transform.hpp"
#include "../kernels/fp.hpp"
#include "../kernels/u8_to_f32.hpp"
#include "../kernels/u8_warp_perspective.hpp"
#include "../status.hpp"

namespace facekit {

/// What a sample outside the image reads: BorderMode::zero (MediaPipe's BORDER_ZERO, the
/// detector) or BorderMode::replicate (landmark crops; MediaPipe's default).
using BorderMode = kernels::BorderMode;

/// The homographies of one crop as OpenCV computes them (row-major 3x3, double).
struct CropTransform {
  std::array<double, 9> forward{};  ///< image pixel -> output pixel (getPerspectiveTransform)
  std::array<double, 9> inverse{};  ///< output pixel -> image position (what is sampled)
};

/// cv::RotatedRect::points: bottom-left, top-left, top-right, bottom-right corners (float32).
inline std::array<std::array<float, 2>, 4> rect_corners(const RotatedRect& roi) noexcept {
  // MediaPipe passes the angle in degrees as float: (rotation * 180.f) / M_PI.
  const float angle_deg = float(double(roi.angle_rad * 180.0f) / 3.14159265358979323846);
  const double rad = double(angle_deg) * 3.14159265358979323846 / 180.0;
  const float b = float(std::cos(rad)) * 0.5f;
  const float a = float(std::sin(rad)) * 0.5f;
  const float cx = roi.cx, cy = roi.cy, w = roi.w, h = roi.h;
  std::array<std::array<float, 2>, 4> p;
  p[0] = {cx - fp::mul(a, h) - fp::mul(b, w), cy + fp::mul(b, h) - fp::mul(a, w)};
  p[1] = {cx + fp::mul(a, h) - fp::mul(b, w), cy - fp::mul(b, h) - fp::mul(a, w)};
  p[2] = {fp::mul(2.0f, cx) - p[0][0], fp::mul(2.0f, cy) - p[0][1]};
  p[3] = {fp::mul(2.0f, cx) - p[1][0], fp::mul(2.0f, cy) - p[1][1]};
  return p;
}

/// getPerspectiveTransform(corners of roi -> output corners) and its inverse, as OpenCV computes
/// them. Fails only for a degenerate ROI (zero or non-finite size).
inline Status crop_transform(const RotatedRect& roi, int out_w, int out_h, CropTransform* out) {
  const auto corners = rect_corners(roi);
  float src[4][2];
  for (int i = 0; i < 4; ++i) {
    src[i][0] = corners[std::size_t(i)][0];
    src[i][1] = corners[std::size_t(i)][1];
  }
  const float dst[4][2] = {{0.0f, float(out_h)}, {0.0f, 0.0f}, {float(out_w), 0.0f}, {float(out_w), float(out_h)}};
  if (!kernels::f64_perspective_transform(src, dst, out->forward.data()))
    return Status::error("crop: ROI (%g, %g, %gx%g, %g rad) gives a singular perspective system", double(roi.cx),
                         double(roi.cy), double(roi.w), double(roi.h), double(roi.angle_rad));
  if (!kernels::f64_invert3x3(out->forward.data(), out->inverse.data()))
    return Status::error("crop: ROI (%g, %g, %gx%g, %g rad) gives a singular homography", double(roi.cx),
                         double(roi.cy), double(roi.w), double(roi.h), double(roi.angle_rad));
  return Status::ok();
}

/// MediaPipe's value conversion of the 8-bit crop: v * scale + offset in float32, two roundings,
/// scale = (max - min) / 255, offset = min.
inline Status value_scale_offset(float range_min, float range_max, float* scale, float* offset) {
  if (!(range_min < range_max) || !std::isfinite(range_min) || !std::isfinite(range_max))
    return Status::error("crop: value range [%g, %g] must be finite with min < max", double(range_min),
                         double(range_max));
  *scale = (range_max - range_min) / (255.0f - 0.0f);
  *offset = range_min - fp::mul(0.0f, *scale);
  return Status::ok();
}

/// The same conversion as a table: lut[v] for v = 0..255.
inline Status value_lut(float range_min, float range_max, float lut[256]) {
  float scale = 0, offset = 0;
  FACEKIT_RETURN_IF_ERROR(value_scale_offset(range_min, range_max, &scale, &offset));
  kernels::u8_to_f32_table(scale, offset, lut);
  return Status::ok();
}

namespace detail {

inline Status check_crop_args(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, const void* out) {
  FACEKIT_RETURN_IF_ERROR(image.validate());
  if (out_w <= 0 || out_h <= 0 || out_w > FACEKIT_MAX_IMAGE_DIM || out_h > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("crop: output size %dx%d is outside 1..%d per side", out_w, out_h, FACEKIT_MAX_IMAGE_DIM);
  if (out == nullptr) return Status::error("crop: output buffer is null");
  if (!std::isfinite(roi.cx) || !std::isfinite(roi.cy) || !std::isfinite(roi.angle_rad))
    return Status::error("crop: ROI centre (%g, %g) or angle %g is not finite", double(roi.cx), double(roi.cy),
                         double(roi.angle_rad));
  if (!(roi.w > 0) || !(roi.h > 0) || !std::isfinite(roi.w) || !std::isfinite(roi.h))
    return Status::error("crop: ROI size %gx%g must be positive and finite", double(roi.w), double(roi.h));
  return Status::ok();
}

/// Calls f(layout, border) with the kernel's compile-time pixel layout for image.format and the
/// border mode as a std::integral_constant.
template <class F>
void with_warp_variant(const ImageView& image, BorderMode border, F&& f) {
  auto with_border = [&](auto layout) {
    if (border == BorderMode::zero)
      f(layout, std::integral_constant<BorderMode, BorderMode::zero>{});
    else
      f(layout, std::integral_constant<BorderMode, BorderMode::replicate>{});
  };
  switch (image.format) {
    case PixelFormat::rgb8: with_border(kernels::U8Rgb{}); break;
    case PixelFormat::bgr8: with_border(kernels::U8Bgr{}); break;
    case PixelFormat::rgba8: with_border(kernels::U8Rgba{}); break;
  }
}

inline kernels::WarpPerspectiveGeometry warp_geometry(const ImageView& image, int out_w, int out_h) noexcept {
  return {image.height, image.width, image.stride, out_h, out_w};
}

}  // namespace detail

/// The 8-bit RGB crop (out_h x out_w x 3, row-major) that MediaPipe converts to floats.
template <class Arch = default_arch>
Status crop_to_u8(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, BorderMode border,
                  uint8_t* out) {
  FACEKIT_RETURN_IF_ERROR(detail::check_crop_args(image, roi, out_w, out_h, out));
  CropTransform tr;
  FACEKIT_RETURN_IF_ERROR(crop_transform(roi, out_w, out_h, &tr));
  const auto g = detail::warp_geometry(image, out_w, out_h);
  detail::with_warp_variant(image, border, [&](auto layout, auto b) {
    kernels::u8_warp_perspective<Arch, decltype(layout), decltype(b)::value>(g, image.data, tr.inverse.data(), out);
  });
  return Status::ok();
}

/// The float tensor (NHWC, out_h x out_w x 3, RGB) MediaPipe feeds to a model for this ROI:
/// crop_to_u8's bytes v as v * scale + offset (value_scale_offset). Every pixel is written.
template <class Arch = default_arch>
Status crop_to_tensor(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, BorderMode border,
                      float range_min, float range_max, float* out) {
  FACEKIT_RETURN_IF_ERROR(detail::check_crop_args(image, roi, out_w, out_h, out));
  float scale = 0, offset = 0;
  FACEKIT_RETURN_IF_ERROR(value_scale_offset(range_min, range_max, &scale, &offset));
  CropTransform tr;
  FACEKIT_RETURN_IF_ERROR(crop_transform(roi, out_w, out_h, &tr));
  const auto g = detail::warp_geometry(image, out_w, out_h);
  detail::with_warp_variant(image, border, [&](auto layout, auto b) {
    kernels::u8_warp_perspective_to_f32<Arch, decltype(layout), decltype(b)::value>(g, image.data, tr.inverse.data(),
                                                                                     scale, offset, out);
  });
  return Status::ok();
}

/// The detector's letterbox: the rectangle of `image` (optionally rotated) that, cropped into
/// out_w x out_h with BORDER_ZERO, gives the detector's input, and the matrix that maps
/// tensor-normalised points back to image-normalised ones (docs/pipeline.md 1.5; may be null).
inline Status letterbox_roi(const ImageView& image, int out_w, int out_h, float rotation_rad, RotatedRect* roi_out,
                            Matrix4* crop_to_image) {
  FACEKIT_RETURN_IF_ERROR(image.validate());
  RotatedRect roi = whole_image_rect(image.width, image.height);
  roi.angle_rad = rotation_rad;
  auto padded = pad_roi(roi, out_w, out_h, true);
  if (!padded) return padded.status();
  *roi_out = padded->roi;
  if (crop_to_image) *crop_to_image = crop_to_image_matrix(padded->roi, image.width, image.height);
  return Status::ok();
}

/// The detector's input: the whole image (optionally rotated) letterboxed into out_w x out_h
/// with BORDER_ZERO, values in [range_min, range_max]; `crop_to_image` as letterbox_roi's.
template <class Arch = default_arch>
Status letterbox_whole_image(const ImageView& image, int out_w, int out_h, float range_min, float range_max,
                             float* out, Matrix4* crop_to_image, float rotation_rad = 0.0f) {
  RotatedRect roi;
  FACEKIT_RETURN_IF_ERROR(letterbox_roi(image, out_w, out_h, rotation_rad, &roi, crop_to_image));
  return crop_to_tensor<Arch>(image, roi, out_w, out_h, BorderMode::zero, range_min, range_max, out);
}

}  // namespace facekit
