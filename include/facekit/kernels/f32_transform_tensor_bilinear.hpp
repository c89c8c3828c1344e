// facekit/kernels/f32_transform_tensor_bilinear.hpp - the affine spatial transformer: bilinear
// samples of an NHWC tensor at affinely mapped positions (MediaPipe's TransformTensorBilinear,
// docs/pipeline.md 4.4; mediapipe/util/tflite/operations/transform_tensor_bilinear.cc). The same
// sampler can serve any [H][W][C] float image.
//
// Output pixel (X = column, Y = row) samples the input at
//   tx = m00 X + m01 Y + m02 0 + m03',  ty = m10 X + m11 Y + m12 0 + m13'
// where input pixel k has its centre at k. Version 2 (pixel_centers) first corrects the matrix so
// that output pixel centres map through it: m03' = m03 + 0.5 m00 + 0.5 m01 - 0.5 (same for row
// 1); version 1 uses the matrix as is. A sample point outside [0, W-1] x [0, H-1] (or NaN) gives 0
// in every channel; inside, the four neighbours are blended with
//   fy ((1-fx) q(y0+1, x0) + fx q(y0+1, x0+1)) + (1-fy) ((1-fx) q(y0, x0) + fx q(y0, x0+1)).
// A neighbour past the last row/column (only when tx = W-1 or ty = H-1 exactly) has weight 0;
// MediaPipe reads it as 0, here it is clamped to the edge, which is the same for finite data.
//
// The scalar reference forms the blend in double and rounds once, as MediaPipe's kernel does; the
// SIMD path works in float with FMAs (within a few ulp of the reference). Both compute the sample
// positions with the same scalar code, so they agree on which pixels are inside.
#pragma once

#include <cmath>
#include <cstddef>

#include "common.hpp"
#include "f32_affine_math.hpp"

namespace facekit {
namespace kernels {

/// Shape of a bilinear resampling: x is [in_h][in_w][channels], y [out_h][out_w][channels].
struct BilinearGeometry {
  int in_h, in_w, channels;
  int out_h, out_w;
};

/// The two matrix rows the sampler reads (x row, y row, 4 floats each) from a row-major 4x4
/// matrix, with version 2's pixel-centre correction formed in double as MediaPipe does.
inline void bilinear_rows_from_matrix(const float* m16, bool pixel_centers, float rows[8]) noexcept {
  for (int i = 0; i < 8; ++i) rows[i] = m16[i];
  if (pixel_centers) {
    rows[3] = float(double(rows[3]) + (double(rows[0]) * 0.5 + double(rows[1]) * 0.5 - 0.5));
    rows[7] = float(double(rows[7]) + (double(rows[4]) * 0.5 + double(rows[5]) * 0.5 - 0.5));
  }
}

namespace detail {

/// Where output pixel (X, Y) samples: the top-left neighbour's offsets and the fractions.
struct BilinearTap {
  std::size_t q00, q01, q10, q11;  ///< element offsets of (y0,x0), (y0,x1), (y1,x0), (y1,x1)
  float fx, fy;
};

/// False when the sample point is outside the input (the pixel is 0).
inline bool bilinear_tap(const BilinearGeometry& g, const float* rows, int X, int Y, BilinearTap* t) noexcept {
  const float tx = affine::dot_xy01(rows, float(X), float(Y));
  const float ty = affine::dot_xy01(rows + 4, float(X), float(Y));
  if (!(tx >= 0.0f && tx <= float(g.in_w - 1) && ty >= 0.0f && ty <= float(g.in_h - 1))) return false;
  const float fx0 = std::floor(tx), fy0 = std::floor(ty);
  const int x0 = int(fx0), y0 = int(fy0);
  const int x1 = x0 + 1 < g.in_w ? x0 + 1 : x0, y1 = y0 + 1 < g.in_h ? y0 + 1 : y0;
  const std::size_t C = std::size_t(g.channels), W = std::size_t(g.in_w);
  t->q00 = (std::size_t(y0) * W + std::size_t(x0)) * C;
  t->q01 = (std::size_t(y0) * W + std::size_t(x1)) * C;
  t->q10 = (std::size_t(y1) * W + std::size_t(x0)) * C;
  t->q11 = (std::size_t(y1) * W + std::size_t(x1)) * C;
  t->fx = tx - fx0;
  t->fy = ty - fy0;
  return true;
}

}  // namespace detail

namespace ref {

/// rows: see bilinear_rows_from_matrix.
inline void f32_affine_bilinear(const BilinearGeometry& g, const float* x, const float* rows, float* y) {
  const int C = g.channels;
  for (int Y = 0; Y < g.out_h; ++Y)
    for (int X = 0; X < g.out_w; ++X) {
      float* out = y + (std::size_t(Y) * std::size_t(g.out_w) + std::size_t(X)) * std::size_t(C);
      kernels::detail::BilinearTap t;
      if (!kernels::detail::bilinear_tap(g, rows, X, Y, &t)) {
        for (int c = 0; c < C; ++c) out[c] = 0.0f;
        continue;
      }
      const double omfx = 1.0 - double(t.fx), omfy = 1.0 - double(t.fy);
      for (int c = 0; c < C; ++c) {
        const float upper = float(omfx * x[t.q00 + c] + double(affine::mulf(t.fx, x[t.q01 + c])));
        const float lower = float(omfx * x[t.q10 + c] + double(affine::mulf(t.fx, x[t.q11 + c])));
        out[c] = float(double(affine::mulf(t.fy, lower)) + omfy * double(upper));
      }
    }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
void affine_bilinear(const BilinearGeometry& g, const float* x, const float* rows, float* y) noexcept {
  constexpr int W = lanes<A>();
  const int C = g.channels;
  const vf<A> zero(0.0f);
  for (int Y = 0; Y < g.out_h; ++Y)
    for (int X = 0; X < g.out_w; ++X) {
      float* out = y + (std::size_t(Y) * std::size_t(g.out_w) + std::size_t(X)) * std::size_t(C);
      kernels::detail::BilinearTap t;
      if (!kernels::detail::bilinear_tap(g, rows, X, Y, &t)) {
        for (int c0 = 0; c0 < C; c0 += W) store_n<A>(out + c0, zero, clamp_lanes(C - c0, W));
        continue;
      }
      const vf<A> fx(t.fx), omfx(1.0f - t.fx), fy(t.fy), omfy(1.0f - t.fy);
      const float *a = x + t.q00, *b = x + t.q01, *c = x + t.q10, *d = x + t.q11;
      int c0 = 0;
      for (; c0 + W <= C; c0 += W) {
        const vf<A> up = fmadd<A>(fx, loadu<A>(b + c0), omfx * loadu<A>(a + c0));
        const vf<A> lo = fmadd<A>(fx, loadu<A>(d + c0), omfx * loadu<A>(c + c0));
        storeu<A>(out + c0, fmadd<A>(fy, lo, omfy * up));
      }
      if (c0 < C) {
        const int n = C - c0;
        const vf<A> up = fmadd<A>(fx, load_n<A>(b + c0, n), omfx * load_n<A>(a + c0, n));
        const vf<A> lo = fmadd<A>(fx, load_n<A>(d + c0, n), omfx * load_n<A>(c + c0, n));
        store_n<A>(out + c0, fmadd<A>(fy, lo, omfy * up), n);
      }
    }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline void affine_bilinear(scalar_arch, const BilinearGeometry& g, const float* x, const float* rows, float* y) {
  ref::f32_affine_bilinear(g, x, rows, y);
}

#if FACEKIT_HAS_SIMD
template <class A>
void affine_bilinear(A, const BilinearGeometry& g, const float* x, const float* rows, float* y) {
  simd::affine_bilinear<A>(g, x, rows, y);
}
#endif

}  // namespace detail

/// Bilinear resampling through two affine rows (see bilinear_rows_from_matrix).
template <class Arch>
void f32_affine_bilinear(const BilinearGeometry& g, const float* x, const float* rows, float* y) {
  detail::affine_bilinear(Arch{}, g, x, rows, y);
}

/// MediaPipe's TransformTensorBilinear: m16 is the row-major 4x4 matrix; pixel_centers selects
/// version 2's correction.
template <class Arch>
void f32_transform_tensor_bilinear(const BilinearGeometry& g, const float* x, const float* m16, bool pixel_centers,
                                   float* y) {
  float rows[8];
  bilinear_rows_from_matrix(m16, pixel_centers, rows);
  f32_affine_bilinear<Arch>(g, x, rows, y);
}

}  // namespace kernels
}  // namespace facekit
