// facekit/kernels/f32_transform_landmarks.hpp - points through an affine matrix (MediaPipe's
// TransformLandmarks v2, docs/pipeline.md 4.5;
// mediapipe/util/tflite/operations/transform_landmarks.cc):
//   (x, y[, z]) -> (m00 x + m01 y + m02 0 + m03 s, m10 x + m11 y + m12 0 + m13 s[, z])
// with m = matrix .* factor (element-wise, factor optional) and s the translation scale (1 in v2).
// Products and sums in float, in MediaPipe's order (f32_affine_math.hpp).
//
// One implementation for every architecture: the attention mesh transforms at most 80 points.
#pragma once

#include <cstddef>

#include "f32_affine_math.hpp"

namespace facekit {
namespace kernels {

namespace ref {

/// x, y: [points][dims], dims 2 or 3; matrix: 16 floats; factor: 16 floats or null.
inline void f32_transform_landmarks(const float* x, int points, int dims, const float* matrix, const float* factor,
                                    float translation_scale, float* y) {
  using affine::mulf;
  float m[8];
  for (int i = 0; i < 8; ++i) m[i] = factor ? mulf(matrix[i], factor[i]) : matrix[i];
  m[3] = mulf(m[3], translation_scale);
  m[7] = mulf(m[7], translation_scale);
  for (int i = 0; i < points; ++i) {
    const float* p = x + std::size_t(i) * dims;
    float* q = y + std::size_t(i) * dims;
    const float px = p[0], py = p[1];
    const float z = dims > 2 ? p[2] : 0.0f;
    q[0] = affine::dot_xy01(m, px, py);
    q[1] = affine::dot_xy01(m + 4, px, py);
    if (dims > 2) q[2] = z;
  }
}

}  // namespace ref

/// See the file comment; the same code for every Arch.
template <class Arch>
void f32_transform_landmarks(const float* x, int points, int dims, const float* matrix, const float* factor,
                             float translation_scale, float* y) {
  ref::f32_transform_landmarks(x, points, dims, matrix, factor, translation_scale, y);
}

}  // namespace kernels
}  // namespace facekit
