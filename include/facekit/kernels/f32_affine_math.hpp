// facekit/kernels/f32_affine_math.hpp - float arithmetic helpers shared by the attention mesh's
// transform ops (landmarks_to_transform_matrix, transform_tensor_bilinear, transform_landmarks).
//
// MediaPipe evaluates these small matrix products in float, one product and one sum at a time
// (its CPU kernels are built without FMA contraction). `mulf` rounds each product to float behind
// an optimisation barrier, so that the compiler cannot fuse it into a following add: the results
// do not depend on -ffp-contract or -march. (A float(double * double) product is not enough: GCC
// narrows it back to a float multiply and then contracts it.)
#pragma once

namespace facekit {
namespace kernels {
namespace affine {

/// The float product a * b, never fused with what follows.
inline float mulf(float a, float b) noexcept {
  float p = a * b;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(p));  // the value must exist, rounded, in a register
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(p));
#else
  volatile float v = p;
  p = v;
#endif
  return p;
}

/// Dot product of a 4-vector with (x, y, 0, 1), summed left to right as MediaPipe's DotProduct.
inline float dot_xy01(const float* row, float x, float y) noexcept {
  float s = mulf(row[0], x) + mulf(row[1], y);
  s = s + mulf(row[2], 0.0f);
  return s + mulf(row[3], 1.0f);
}

/// c = a * b for row-major 4x4 float matrices, each element summed from 0 over k = 0..3.
inline void mat4_mul(const float* a, const float* b, float* c) noexcept {
  for (int r = 0; r < 4; ++r)
    for (int col = 0; col < 4; ++col) {
      float s = 0.0f;
      for (int k = 0; k < 4; ++k) s = s + mulf(a[4 * r + k], b[4 * k + col]);
      c[4 * r + col] = s;
    }
}

}  // namespace affine
}  // namespace kernels
}  // namespace facekit
