// facekit/kernels/f32_resize_bilinear.hpp - bilinear resizing of an NHWC tensor (TFLite's
// RESIZE_BILINEAR on float data, the reference kernel's sampling rule).
//
// Output row y samples input row position sy = y * scale (or (y + 0.5) * scale - 0.5 with
// half_pixel_centers), scale = in / out (or (in - 1) / (out - 1) with align_corners and out > 1),
// in float. The two rows read are y0 = max(floor(sy), 0) and y1 = min(ceil(sy), in - 1), with
// weight dy = sy - y0 on y1 and 1 - dy on y0; columns alike. So a position before the first
// pixel (half-pixel centres near the top/left) gives dy < 0 on two equal rows: the edge row.
//
// Both paths form the four corner weights in float and accumulate
// x00 w00 + x10 w10 + x01 w01 + x11 w11 with explicit fused multiply-adds in that order, so the
// scalar reference and the SIMD kernel agree bit for bit where the SIMD arch has FMA.
#pragma once

#include <cmath>
#include <cstddef>

#include "common.hpp"

namespace facekit {
namespace kernels {

/// x is [in_h][in_w][channels], y [out_h][out_w][channels]. At most one of the flags is set.
struct ResizeBilinearGeometry {
  int in_h, in_w, channels;
  int out_h, out_w;
  bool align_corners, half_pixel_centers;
};

namespace detail {

inline float resize_scale(int in, int out, bool align_corners) noexcept {
  if (align_corners && out > 1) return float(in - 1) / float(out - 1);
  return float(in) / float(out);
}

/// Source rows/columns of output index v and the weight of the second one.
struct ResizeTap {
  int lo, hi;
  float w;
};

inline ResizeTap resize_tap(int v, float scale, bool half_pixel, int in_size) noexcept {
  const float s = half_pixel ? (float(v) + 0.5f) * scale - 0.5f : float(v) * scale;
  const float fl = std::floor(s);
  ResizeTap t;
  t.lo = int(fl) > 0 ? int(fl) : 0;
  const int c = int(std::ceil(s));
  t.hi = c < in_size - 1 ? c : in_size - 1;
  t.w = s - float(t.lo);
  return t;
}

}  // namespace detail

namespace ref {

inline void f32_resize_bilinear(const ResizeBilinearGeometry& g, const float* x, float* y) {
  using kernels::detail::resize_tap;
  const float sh = kernels::detail::resize_scale(g.in_h, g.out_h, g.align_corners);
  const float sw = kernels::detail::resize_scale(g.in_w, g.out_w, g.align_corners);
  const std::size_t C = std::size_t(g.channels), W = std::size_t(g.in_w);
  for (int oy = 0; oy < g.out_h; ++oy) {
    const auto ty = resize_tap(oy, sh, g.half_pixel_centers, g.in_h);
    for (int ox = 0; ox < g.out_w; ++ox) {
      const auto tx = resize_tap(ox, sw, g.half_pixel_centers, g.in_w);
      const float w00 = (1.0f - ty.w) * (1.0f - tx.w), w10 = ty.w * (1.0f - tx.w);
      const float w01 = (1.0f - ty.w) * tx.w, w11 = ty.w * tx.w;
      const float* p00 = x + (std::size_t(ty.lo) * W + std::size_t(tx.lo)) * C;
      const float* p10 = x + (std::size_t(ty.hi) * W + std::size_t(tx.lo)) * C;
      const float* p01 = x + (std::size_t(ty.lo) * W + std::size_t(tx.hi)) * C;
      const float* p11 = x + (std::size_t(ty.hi) * W + std::size_t(tx.hi)) * C;
      float* out = y + (std::size_t(oy) * std::size_t(g.out_w) + std::size_t(ox)) * C;
      for (std::size_t c = 0; c < C; ++c) {
        float acc = p00[c] * w00;
        acc = std::fma(p10[c], w10, acc);
        acc = std::fma(p01[c], w01, acc);
        out[c] = std::fma(p11[c], w11, acc);
      }
    }
  }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
void resize_bilinear(const ResizeBilinearGeometry& g, const float* x, float* y) noexcept {
  using kernels::detail::resize_tap;
  constexpr int L = lanes<A>();
  const float sh = kernels::detail::resize_scale(g.in_h, g.out_h, g.align_corners);
  const float sw = kernels::detail::resize_scale(g.in_w, g.out_w, g.align_corners);
  const int C = g.channels;
  const std::size_t W = std::size_t(g.in_w);
  for (int oy = 0; oy < g.out_h; ++oy) {
    const auto ty = resize_tap(oy, sh, g.half_pixel_centers, g.in_h);
    for (int ox = 0; ox < g.out_w; ++ox) {
      const auto tx = resize_tap(ox, sw, g.half_pixel_centers, g.in_w);
      const vf<A> w00((1.0f - ty.w) * (1.0f - tx.w)), w10(ty.w * (1.0f - tx.w));
      const vf<A> w01((1.0f - ty.w) * tx.w), w11(ty.w * tx.w);
      const float* p00 = x + (std::size_t(ty.lo) * W + std::size_t(tx.lo)) * std::size_t(C);
      const float* p10 = x + (std::size_t(ty.hi) * W + std::size_t(tx.lo)) * std::size_t(C);
      const float* p01 = x + (std::size_t(ty.lo) * W + std::size_t(tx.hi)) * std::size_t(C);
      const float* p11 = x + (std::size_t(ty.hi) * W + std::size_t(tx.hi)) * std::size_t(C);
      float* out = y + (std::size_t(oy) * std::size_t(g.out_w) + std::size_t(ox)) * std::size_t(C);
      int c = 0;
      for (; c + L <= C; c += L) {
        vf<A> acc = loadu<A>(p00 + c) * w00;
        acc = fmadd<A>(loadu<A>(p10 + c), w10, acc);
        acc = fmadd<A>(loadu<A>(p01 + c), w01, acc);
        storeu<A>(out + c, fmadd<A>(loadu<A>(p11 + c), w11, acc));
      }
      if (c < C) {
        const int n = C - c;
        vf<A> acc = load_n<A>(p00 + c, n) * w00;
        acc = fmadd<A>(load_n<A>(p10 + c, n), w10, acc);
        acc = fmadd<A>(load_n<A>(p01 + c, n), w01, acc);
        store_n<A>(out + c, fmadd<A>(load_n<A>(p11 + c, n), w11, acc), n);
      }
    }
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline void resize_bilinear(scalar_arch, const ResizeBilinearGeometry& g, const float* x, float* y) {
  ref::f32_resize_bilinear(g, x, y);
}

#if FACEKIT_HAS_SIMD
template <class A>
void resize_bilinear(A, const ResizeBilinearGeometry& g, const float* x, float* y) {
  simd::resize_bilinear<A>(g, x, y);
}
#endif

}  // namespace detail

/// TFLite RESIZE_BILINEAR (float): see the file comment for the sampling rule.
template <class Arch>
void f32_resize_bilinear(const ResizeBilinearGeometry& g, const float* x, float* y) {
  detail::resize_bilinear(Arch{}, g, x, y);
}

}  // namespace kernels
}  // namespace facekit
