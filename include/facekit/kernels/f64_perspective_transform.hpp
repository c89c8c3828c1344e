// facekit/kernels/f64_perspective_transform.hpp - OpenCV's getPerspectiveTransform and 3x3
// invert, bit for bit: the homography u8_warp_perspective samples through.
//
// This is arithmetic on plain arrays, so it lives with the kernels rather than with the crop entry
// points (image/image_to_tensor.hpp): any backend that reproduces MediaPipe's crop needs the same
// matrix, and it must be formed with the same roundings as the pixel loops (fp.hpp). It runs once
// per crop on a few dozen numbers, so it has no Arch parameter and no SIMD variant.
//
// Exactness notes (in OpenCV's order of operations):
//  * the 8x8 system is built from float32 products (-x * u), as OpenCV forms them;
//  * hal::LU64f: partial pivoting, and back substitution that DIVIDES by the pivot (a reciprocal
//    multiply changes the last bit of the matrix, and with it whole pixels of letterboxed
//    non-square images);
//  * cv::invert of a 3x3 matrix: the closed form with one reciprocal of the determinant.
#pragma once

#include <cfloat>
#include <cmath>
#include <utility>

#include "fp.hpp"

namespace facekit {
namespace kernels {

namespace detail {

/// hal::LU64f on an 8x8 system (a row-major, b right-hand side, solution left in b). False when
/// a pivot is below OpenCV's threshold (a singular system).
inline bool f64_lu_solve8(double a[8][8], double b[8]) noexcept {
  const int m = 8;
  for (int i = 0; i < m; ++i) {
    int k = i;
    for (int j = i + 1; j < m; ++j)
      if (std::fabs(a[j][i]) > std::fabs(a[k][i])) k = j;
    if (!(std::fabs(a[k][i]) >= DBL_EPSILON * 100)) return false;
    if (k != i) {
      for (int j = i; j < m; ++j) std::swap(a[i][j], a[k][j]);
      std::swap(b[i], b[k]);
    }
    const double d = -1.0 / a[i][i];
    for (int j = i + 1; j < m; ++j) {
      const double alpha = a[j][i] * d;
      for (int c = i + 1; c < m; ++c) a[j][c] += fp::mul(alpha, a[i][c]);
      b[j] += fp::mul(alpha, b[i]);
    }
  }
  for (int i = m - 1; i >= 0; --i) {
    double s = b[i];
    for (int c = i + 1; c < m; ++c) s -= fp::mul(a[i][c], b[c]);
    b[i] = s / a[i][i];
  }
  return true;
}

}  // namespace detail

/// cv::getPerspectiveTransform: the row-major 3x3 homography m (m[8] == 1) that maps the four
/// points src[i] (x, y) to dst[i]. False when the points give a singular system.
inline bool f64_perspective_transform(const float src[4][2], const float dst[4][2], double m[9]) noexcept {
  double a[8][8] = {}, b[8];
  for (int i = 0; i < 4; ++i) {
    const float x = src[i][0], y = src[i][1], u = dst[i][0], v = dst[i][1];
    a[i][0] = a[i + 4][3] = x;
    a[i][1] = a[i + 4][4] = y;
    a[i][2] = a[i + 4][5] = 1;
    a[i][6] = -x * u;  // float32 products, as OpenCV forms them
    a[i][7] = -y * u;
    a[i + 4][6] = -x * v;
    a[i + 4][7] = -y * v;
    b[i] = u;
    b[i + 4] = v;
  }
  if (!detail::f64_lu_solve8(a, b)) return false;
  for (int i = 0; i < 8; ++i) m[i] = b[i];
  m[8] = 1.0;
  return true;
}

/// cv::invert of a row-major 3x3 matrix s into t (closed form). False when det(s) == 0.
inline bool f64_invert3x3(const double s[9], double t[9]) noexcept {
  using fp::mul;
  const double m00 = s[0], m01 = s[1], m02 = s[2], m10 = s[3], m11 = s[4], m12 = s[5], m20 = s[6], m21 = s[7],
               m22 = s[8];
  const double det = mul(m00, mul(m11, m22) - mul(m12, m21)) - mul(m01, mul(m10, m22) - mul(m12, m20)) +
                     mul(m02, mul(m10, m21) - mul(m11, m20));
  if (det == 0) return false;
  const double r = 1.0 / det;
  const double inv[9] = {(mul(m11, m22) - mul(m12, m21)) * r, (mul(m02, m21) - mul(m01, m22)) * r,
                         (mul(m01, m12) - mul(m02, m11)) * r, (mul(m12, m20) - mul(m10, m22)) * r,
                         (mul(m00, m22) - mul(m02, m20)) * r, (mul(m02, m10) - mul(m00, m12)) * r,
                         (mul(m10, m21) - mul(m11, m20)) * r, (mul(m01, m20) - mul(m00, m21)) * r,
                         (mul(m00, m11) - mul(m01, m10)) * r};
  for (int i = 0; i < 9; ++i) t[i] = inv[i];
  return true;
}

}  // namespace kernels
}  // namespace facekit
