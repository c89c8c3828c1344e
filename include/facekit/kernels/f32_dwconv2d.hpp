// facekit/kernels/f32_dwconv2d.hpp - depthwise conv2d (depth multiplier 1), NHWC float32, packed
// weights (per tile of 16 channels: bias[16], w[KH][KW][16]); same fused epilogue as conv2d.
//
// SIMD layout: for each output row and each vector of channels, the KH*KW weight vectors and the
// bias stay in registers while the row is swept PX output pixels at a time; each input vector
// loaded is used by every output of the block that covers it. Kernel size and stride are template
// parameters (3x3 and 5x5, stride 1 and 2 are instantiated). Padding never reaches that loop: each
// output row is split into left border / interior / right border columns, and rows whose window
// leaves the image go whole to the border path, which clips the tap ranges per pixel. Any other
// configuration (dilation, other sizes) runs the border path everywhere.
#pragma once

#include "common.hpp"
#include "pack.hpp"

namespace facekit {
namespace kernels {

namespace ref {

/// Plain reference depthwise conv2d (any kernel, stride, dilation, padding).
inline void f32_dwconv2d(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  const int T = kPackTile, C = g.out_c;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w);
  for (int oy = 0; oy < g.out_h; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox) {
      const std::size_t p = std::size_t(oy) * g.out_w + ox;
      for (int c = 0; c < C; ++c) {
        const float* wt = w + std::size_t(c / T) * ts;
        const int j = c % T;
        float acc = wt[j];
        for (int ky = 0; ky < g.kernel_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          if (iy < 0 || iy >= g.in_h) continue;
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            if (ix < 0 || ix >= g.in_w) continue;
            acc += x[(std::size_t(iy) * g.in_w + ix) * C + c] * wt[T + (ky * g.kernel_w + kx) * T + j];
          }
        }
        y[p * C + c] = epilogue(acc, e, p, c);
      }
    }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

/// One output pixel, all channels, taps clipped to the image (borders and the generic kernel).
template <class A, Activation Act, bool Res>
FACEKIT_KERNEL_INLINE void dw_pixel(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e,
                                    float* y, int oy, int ox) noexcept {
  constexpr int W = lanes<A>(), T = kPackTile;
  const int C = g.out_c, KW = g.kernel_w;
  const std::size_t ts = packed_tile_stride(g.kernel_h * KW);
  const int iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  int ky0, ky1, kx0, kx1;
  clip_taps(iy0, g.dilation_h, g.kernel_h, g.in_h, &ky0, &ky1);
  clip_taps(ix0, g.dilation_w, KW, g.in_w, &kx0, &kx1);
  const std::size_t p = std::size_t(oy) * g.out_w + ox;
  for (int c0 = 0; c0 < C; c0 += W) {
    const float* wt = w + std::size_t(c0 / T) * ts + c0 % T;
    vf<A> acc = loadu<A>(wt);
    for (int ky = ky0; ky < ky1; ++ky) {
      const float* xr = x + (std::size_t(iy0 + ky * g.dilation_h) * g.in_w) * C + c0;
      const float* wr = wt + T + ky * KW * T;
      for (int kx = kx0; kx < kx1; ++kx)
        acc = fmadd<A>(loadu<A>(xr + std::size_t(ix0 + kx * g.dilation_w) * C), loadu<A>(wr + kx * T), acc);
    }
    const float* rr = Res ? e.residual + p * std::size_t(e.residual_c) + c0 : nullptr;
    const float* al = Act == Activation::prelu ? e.alpha + c0 : nullptr;
    const int rn = Res ? clamp_lanes(e.residual_c - c0, W) : 0;
    store_n<A>(y + p * C + c0, epilogue<A, Act, Res>(acc, rr, rn, al), clamp_lanes(C - c0, W));
  }
}

/// Generic fallback: every pixel through the clipped path.
template <class A, Activation Act, bool Res>
void dwconv2d_generic(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  for (int oy = 0; oy < g.out_h; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox) dw_pixel<A, Act, Res>(g, x, w, e, y, oy, ox);
}

/// Output pixels per register block of the interior loop.
template <class A, int KH, int KW>
constexpr int dw_block_pixels() {
  return vector_registers<A>() - KH * KW - 3 >= 6 ? 4 : 2;
}

/// KHxKW depthwise conv, stride SHxSW, dilation 1.
template <class A, int KH, int KW, int SH, int SW, Activation Act, bool Res>
void dwconv2d_fixed(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  constexpr int W = lanes<A>(), T = kPackTile, PX = dw_block_pixels<A, KH, KW>();
  const int C = g.out_c;
  const std::size_t ts = packed_tile_stride(KH * KW);
  const std::size_t sC = std::size_t(C);
  int oy_lo, oy_hi, ox_lo, ox_hi;
  interior_range(g.out_h, SH, g.pad_top, KH, g.in_h, &oy_lo, &oy_hi);
  interior_range(g.out_w, SW, g.pad_left, KW, g.in_w, &ox_lo, &ox_hi);
  for (int oy = 0; oy < g.out_h; ++oy) {
    if (oy < oy_lo || oy >= oy_hi || ox_lo >= ox_hi) {
      for (int ox = 0; ox < g.out_w; ++ox) dw_pixel<A, Act, Res>(g, x, w, e, y, oy, ox);
      continue;
    }
    for (int ox = 0; ox < ox_lo; ++ox) dw_pixel<A, Act, Res>(g, x, w, e, y, oy, ox);
    for (int ox = ox_hi; ox < g.out_w; ++ox) dw_pixel<A, Act, Res>(g, x, w, e, y, oy, ox);
    const int iy0 = oy * SH - g.pad_top;
    const float* xrow = x + std::size_t(iy0) * g.in_w * sC;
    const std::size_t prow = std::size_t(oy) * g.out_w;
    for (int c0 = 0; c0 < C; c0 += W) {
      const float* wt = w + std::size_t(c0 / T) * ts + c0 % T;
      const vf<A> bias = loadu<A>(wt);
      vf<A> wr[KH * KW];
      unroll<KH * KW>([&](auto K) { wr[decltype(K)::value] = loadu<A>(wt + T + decltype(K)::value * T); });
      const int n = clamp_lanes(C - c0, W);
      const int rn = Res ? clamp_lanes(e.residual_c - c0, W) : 0;
      const float* al = Act == Activation::prelu ? e.alpha + c0 : nullptr;
      // NP output pixels starting at ox.
      auto block = [&](auto NPc, int ox) {
        constexpr int NP = decltype(NPc)::value;
        vf<A> acc[NP];
        unroll<NP>([&](auto P) { acc[decltype(P)::value] = bias; });
        const float* xb = xrow + std::size_t(ox * SW - g.pad_left) * sC + c0;
        unroll<KH>([&](auto KY) {
          constexpr int ky = decltype(KY)::value;
          const float* r = xb + std::size_t(ky) * g.in_w * sC;
          // Input column j feeds output p through tap kx = j - p*SW.
          unroll<(NP - 1) * SW + KW>([&](auto J) {
            constexpr int j = decltype(J)::value;
            const vf<A> xv = loadu<A>(r + j * sC);
            unroll<NP>([&](auto P) {
              constexpr int p = decltype(P)::value, kx = j - p * SW;
              if constexpr (kx >= 0 && kx < KW) acc[p] = fmadd<A>(xv, wr[ky * KW + kx], acc[p]);
            });
          });
        });
        unroll<NP>([&](auto P) {
          constexpr int p = decltype(P)::value;
          const std::size_t q = prow + std::size_t(ox + p);
          const float* rr = Res ? e.residual + q * std::size_t(e.residual_c) + c0 : nullptr;
          store_n<A>(y + q * sC + c0, epilogue<A, Act, Res>(acc[p], rr, rn, al), n);
        });
      };
      int ox = ox_lo;
      for (; ox + PX <= ox_hi; ox += PX) block(std::integral_constant<int, PX>{}, ox);
      for (; ox < ox_hi; ++ox) block(std::integral_constant<int, 1>{}, ox);
    }
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline Conv2dFn select_dwconv2d(scalar_arch, const Conv2dGeometry&, Activation, bool) { return &ref::f32_dwconv2d; }

#if FACEKIT_HAS_SIMD
template <class A>
Conv2dFn select_dwconv2d(A, const Conv2dGeometry& g, Activation act, bool res) {
  const bool square = g.kernel_h == g.kernel_w && g.stride_h == g.stride_w && g.dilation_h == 1 && g.dilation_w == 1;
  const int k = square ? g.kernel_h : 0, s = square ? g.stride_h : 0;
  return dispatch_epilogue(act, res, [&](auto Act, auto Res) -> Conv2dFn {
    constexpr Activation a = decltype(Act)::value;
    constexpr bool r = decltype(Res)::value;
    if (k == 3 && s == 1) return &simd::dwconv2d_fixed<A, 3, 3, 1, 1, a, r>;
    if (k == 3 && s == 2) return &simd::dwconv2d_fixed<A, 3, 3, 2, 2, a, r>;
    if (k == 5 && s == 1) return &simd::dwconv2d_fixed<A, 5, 5, 1, 1, a, r>;
    if (k == 5 && s == 2) return &simd::dwconv2d_fixed<A, 5, 5, 2, 2, a, r>;
    return &simd::dwconv2d_generic<A, a, r>;
  });
}
#endif

}  // namespace detail

/// The depthwise conv2d kernel for this geometry, activation and residual presence. Never null.
template <class Arch>
Conv2dFn select_f32_dwconv2d(const Conv2dGeometry& g, Activation act, bool has_residual) {
  return detail::select_dwconv2d(Arch{}, g, act, has_residual);
}

}  // namespace kernels
}  // namespace facekit
