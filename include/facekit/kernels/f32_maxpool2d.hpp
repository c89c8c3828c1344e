// facekit/kernels/f32_maxpool2d.hpp - max pooling, NHWC float32. Padded taps are ignored (TFLite):
// each output is the max over the window's taps inside the image.
//
// SIMD: window and stride as template parameters for the common 2x2 s2 (and 3x3 s2); border
// pixels (windows crossing the padding) and other shapes take a clipped per-pixel path.
#pragma once

#include <limits>

#include "common.hpp"

namespace facekit {
namespace kernels {

namespace ref {

inline void f32_maxpool2d(const Pool2dGeometry& g, const float* x, float* y) {
  const int C = g.channels;
  for (int oy = 0; oy < g.out_h; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox)
      for (int c = 0; c < C; ++c) {
        float m = -std::numeric_limits<float>::infinity();
        for (int ky = 0; ky < g.kernel_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_top + ky;
          if (iy < 0 || iy >= g.in_h) continue;
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int ix = ox * g.stride_w - g.pad_left + kx;
            if (ix < 0 || ix >= g.in_w) continue;
            const float v = x[(std::size_t(iy) * g.in_w + ix) * C + c];
            m = v > m ? v : m;
          }
        }
        y[(std::size_t(oy) * g.out_w + ox) * C + c] = m;
      }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

/// One output pixel with the window clipped to the image.
template <class A>
FACEKIT_KERNEL_INLINE void maxpool_pixel(const Pool2dGeometry& g, const float* x, float* y, int oy, int ox) noexcept {
  const int C = g.channels;
  const int iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  int ky0, ky1, kx0, kx1;
  clip_taps(iy0, 1, g.kernel_h, g.in_h, &ky0, &ky1);
  clip_taps(ix0, 1, g.kernel_w, g.in_w, &kx0, &kx1);
  float* yp = y + (std::size_t(oy) * g.out_w + ox) * C;
  for_each_channel_vector<A>(C, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
    using V = decltype(arch);
    vf<V> m(-std::numeric_limits<float>::infinity());
    for (int ky = ky0; ky < ky1; ++ky)
      for (int kx = kx0; kx < kx1; ++kx)
        m = vmax<V>(m, loadu<V>(x + (std::size_t(iy0 + ky) * g.in_w + (ix0 + kx)) * C + c0));
    store_n<V>(yp + c0, m, n);
  });
}

template <class A>
void maxpool2d_generic(const Pool2dGeometry& g, const float* x, float* y) {
  for (int oy = 0; oy < g.out_h; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox) maxpool_pixel<A>(g, x, y, oy, ox);
}

template <class A, int KH, int KW, int SH, int SW>
void maxpool2d_fixed(const Pool2dGeometry& g, const float* x, float* y) {
  const int C = g.channels;
  const std::size_t sC = std::size_t(C), row = std::size_t(g.in_w) * sC;
  int oy_lo, oy_hi, ox_lo, ox_hi;
  interior_range(g.out_h, SH, g.pad_top, KH, g.in_h, &oy_lo, &oy_hi);
  interior_range(g.out_w, SW, g.pad_left, KW, g.in_w, &ox_lo, &ox_hi);
  for (int oy = 0; oy < g.out_h; ++oy) {
    if (oy < oy_lo || oy >= oy_hi || ox_lo >= ox_hi) {
      for (int ox = 0; ox < g.out_w; ++ox) maxpool_pixel<A>(g, x, y, oy, ox);
      continue;
    }
    for (int ox = 0; ox < ox_lo; ++ox) maxpool_pixel<A>(g, x, y, oy, ox);
    for (int ox = ox_hi; ox < g.out_w; ++ox) maxpool_pixel<A>(g, x, y, oy, ox);
    const float* xr = x + std::size_t(oy * SH - g.pad_top) * row;
    float* yr = y + std::size_t(oy) * g.out_w * sC;
    for (int ox = ox_lo; ox < ox_hi; ++ox) {
      const float* xp = xr + std::size_t(ox * SW - g.pad_left) * sC;
      float* yp = yr + std::size_t(ox) * sC;
      for_each_channel_vector<A>(C, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
        using V = decltype(arch);
        vf<V> m = loadu<V>(xp + c0);
        unroll<KH>([&](auto KY) FACEKIT_LAMBDA_INLINE {
          unroll<KW>([&](auto KX) FACEKIT_LAMBDA_INLINE {
            constexpr int ky = decltype(KY)::value, kx = decltype(KX)::value;
            if constexpr (ky + kx > 0) m = vmax<V>(m, loadu<V>(xp + ky * row + kx * sC + c0));
          });
        });
        store_n<V>(yp + c0, m, n);
      });
    }
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline Pool2dFn select_maxpool2d(scalar_arch, const Pool2dGeometry&) { return &ref::f32_maxpool2d; }

#if FACEKIT_HAS_SIMD
template <class A>
Pool2dFn select_maxpool2d(A, const Pool2dGeometry& g) {
  if (g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2)
    return &simd::maxpool2d_fixed<A, 2, 2, 2, 2>;
  if (g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 2 && g.stride_w == 2)
    return &simd::maxpool2d_fixed<A, 3, 3, 2, 2>;
  return &simd::maxpool2d_generic<A>;
}
#endif

}  // namespace detail

/// The max pool kernel for this geometry. Never null.
template <class Arch>
Pool2dFn select_f32_maxpool2d(const Pool2dGeometry& g) {
  return detail::select_maxpool2d(Arch{}, g);
}

}  // namespace kernels
}  // namespace facekit
