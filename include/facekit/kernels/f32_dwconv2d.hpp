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
inline void f32_dwconv2d(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                         OutRange rows) {
  const int T = kPackTile, C = g.out_c;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w);
  for (int oy = rows.begin; oy < rows.end; ++oy)
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
template <class A, Activation Act>
FACEKIT_KERNEL_INLINE void dw_pixel(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e,
                                    float* y, int oy, int ox) noexcept {
  constexpr int T = kPackTile;
  const int C = g.out_c, KW = g.kernel_w;
  const std::size_t ts = packed_tile_stride(g.kernel_h * KW);
  const int iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  int ky0, ky1, kx0, kx1;
  clip_taps(iy0, g.dilation_h, g.kernel_h, g.in_h, &ky0, &ky1);
  clip_taps(ix0, g.dilation_w, KW, g.in_w, &kx0, &kx1);
  const std::size_t p = std::size_t(oy) * g.out_w + ox;
  for_each_channel_vector<A>(C, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
    using V = decltype(arch);
    const float* wt = w + std::size_t(c0 / T) * ts + c0 % T;
    vf<V> acc = loadu<V>(wt);
    for (int ky = ky0; ky < ky1; ++ky) {
      const float* xr = x + (std::size_t(iy0 + ky * g.dilation_h) * g.in_w) * C + c0;
      const float* wr = wt + T + ky * KW * T;
      for (int kx = kx0; kx < kx1; ++kx)
        acc = fmadd<V>(loadu<V>(xr + std::size_t(ix0 + kx * g.dilation_w) * C), loadu<V>(wr + kx * T), acc);
    }
    const float* rr = e.residual ? e.residual + p * std::size_t(e.residual_c) + c0 : nullptr;
    const float* al = Act == Activation::prelu ? e.alpha + c0 : nullptr;
    const int rn = e.residual ? clamp_lanes(e.residual_c - c0, lanes<V>()) : 0;
    store_n<V>(y + p * C + c0, epilogue<V, Act, true>(acc, rr, rn, al), n);
  });
}

/// Generic fallback: every pixel through the clipped path.
template <class A, Activation Act>
void dwconv2d_generic(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                      OutRange rows) {
  for (int oy = rows.begin; oy < rows.end; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox) dw_pixel<A, Act>(g, x, w, e, y, oy, ox);
}

/// Output pixels per register block of the interior loop.
template <class A, int KH, int KW>
constexpr int dw_block_pixels() {
  return vector_registers<A>() - KH * KW - 3 >= 6 ? 4 : 2;
}

/// One output row for one vector of channels [c0, c0 + n), weights in registers. Pixels whose
/// window is horizontally inside the image go PX at a time, every loaded input vector feeding all
/// the outputs whose window covers it (in rows whose window crosses the top/bottom edge the kernel
/// rows are clipped by a run-time loop); the few left/right border pixels go one at a time with
/// taps skipped by compile-time-unrolled bounds checks.
template <class V, int KH, int KW, int SH, int SW, Activation Act>
FACEKIT_KERNEL_INLINE void dw_row(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                                  int oy, bool interior_row, int ox_lo, int ox_hi, int c0, int n) noexcept {
  constexpr int T = kPackTile, PX = dw_block_pixels<V, KH, KW>();
  const std::size_t sC = std::size_t(g.out_c), row = std::size_t(g.in_w) * sC;
  const float* wt = w + std::size_t(c0 / T) * packed_tile_stride(KH * KW) + c0 % T;
  const vf<V> bias = loadu<V>(wt);
  vf<V> wr[KH * KW];
  unroll<KH * KW>([&](auto K) FACEKIT_LAMBDA_INLINE {
    wr[decltype(K)::value] = loadu<V>(wt + T + decltype(K)::value * T);
  });
  const int rn = e.residual ? clamp_lanes(e.residual_c - c0, lanes<V>()) : 0;
  const float* al = Act == Activation::prelu ? e.alpha + c0 : nullptr;
  const std::size_t prow = std::size_t(oy) * g.out_w;
  const int iy0 = oy * SH - g.pad_top;
  auto finish = [&](const vf<V>& acc, int ox) FACEKIT_LAMBDA_INLINE {
    const std::size_t q = prow + std::size_t(ox);
    const float* rr = e.residual ? e.residual + q * std::size_t(e.residual_c) + c0 : nullptr;
    store_n<V>(y + q * sC + c0, epilogue<V, Act, true>(acc, rr, rn, al), n);
  };
  auto border = [&](int ox) FACEKIT_LAMBDA_INLINE {
    const int ix0 = ox * SW - g.pad_left;
    int ky0, ky1, kx0, kx1;
    clip_taps(iy0, 1, KH, g.in_h, &ky0, &ky1);
    clip_taps(ix0, 1, KW, g.in_w, &kx0, &kx1);
    vf<V> acc = bias;
    unroll<KH>([&](auto KY) FACEKIT_LAMBDA_INLINE {
      constexpr int ky = decltype(KY)::value;
      if (ky < ky0 || ky >= ky1) return;
      const float* r = x + std::size_t(iy0 + ky) * row + c0;
      unroll<KW>([&](auto KX) FACEKIT_LAMBDA_INLINE {
        constexpr int kx = decltype(KX)::value;
        if (kx >= kx0 && kx < kx1) acc = fmadd<V>(loadu<V>(r + std::size_t(ix0 + kx) * sC), wr[ky * KW + kx], acc);
      });
    });
    finish(acc, ox);
  };
  if (ox_lo >= ox_hi) {
    for (int ox = 0; ox < g.out_w; ++ox) border(ox);
    return;
  }
  // NP outputs from ox on (their windows inside the image horizontally). In border rows the
  // kernel rows outside the image are skipped by a run-time loop (weights then come from memory).
  auto block = [&](auto NPc, auto RowClip, int ox) FACEKIT_LAMBDA_INLINE {
    constexpr int NP = decltype(NPc)::value;
    vf<V> acc[NP];
    unroll<NP>([&](auto P) FACEKIT_LAMBDA_INLINE { acc[decltype(P)::value] = bias; });
    const std::size_t col = std::size_t(ox * SW - g.pad_left) * sC + c0;
    // Input column j feeds output p through tap kx = j - p*SW.
    auto kernel_row = [&](const float* r, auto weight) FACEKIT_LAMBDA_INLINE {
      unroll<(NP - 1) * SW + KW>([&](auto J) FACEKIT_LAMBDA_INLINE {
        constexpr int j = decltype(J)::value;
        vf<V> xv = loadu<V>(r + j * sC);
        keep_in_register<V>(xv);
        unroll<NP>([&](auto P) FACEKIT_LAMBDA_INLINE {
          constexpr int p = decltype(P)::value, kx = j - p * SW;
          if constexpr (kx >= 0 && kx < KW) acc[p] = fmadd<V>(xv, weight(std::integral_constant<int, kx>{}), acc[p]);
        });
      });
    };
    if constexpr (decltype(RowClip)::value) {
      int ky0, ky1;
      clip_taps(iy0, 1, KH, g.in_h, &ky0, &ky1);
      for (int ky = ky0; ky < ky1; ++ky)
        kernel_row(x + std::size_t(iy0 + ky) * row + col, [&](auto KX) FACEKIT_LAMBDA_INLINE {
          return loadu<V>(wt + T + (ky * KW + decltype(KX)::value) * T);
        });
    } else {
      unroll<KH>([&](auto KY) FACEKIT_LAMBDA_INLINE {
        constexpr int ky = decltype(KY)::value;
        kernel_row(x + std::size_t(iy0 + ky) * row + col,
                   [&](auto KX) FACEKIT_LAMBDA_INLINE { return wr[ky * KW + decltype(KX)::value]; });
      });
    }
    unroll<NP>([&](auto P) FACEKIT_LAMBDA_INLINE { finish(acc[decltype(P)::value], ox + decltype(P)::value); });
  };
  auto sweep = [&](auto RowClip) FACEKIT_LAMBDA_INLINE {
    int ox = ox_lo;
    for (; ox + PX <= ox_hi; ox += PX) block(std::integral_constant<int, PX>{}, RowClip, ox);
    for (; ox < ox_hi; ++ox) block(std::integral_constant<int, 1>{}, RowClip, ox);
  };
  for (int ox = 0; ox < ox_lo; ++ox) border(ox);
  if (interior_row)
    sweep(std::false_type{});
  else
    sweep(std::true_type{});
  for (int ox = ox_hi; ox < g.out_w; ++ox) border(ox);
}

/// KHxKW depthwise conv, stride SHxSW, dilation 1.
template <class A, int KH, int KW, int SH, int SW, Activation Act>
void dwconv2d_fixed(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                    OutRange rows) {
  int oy_lo, oy_hi, ox_lo, ox_hi;
  interior_range(g.out_h, SH, g.pad_top, KH, g.in_h, &oy_lo, &oy_hi);
  interior_range(g.out_w, SW, g.pad_left, KW, g.in_w, &ox_lo, &ox_hi);
  for (int oy = rows.begin; oy < rows.end; ++oy) {
    const bool interior_row = oy >= oy_lo && oy < oy_hi;
    for_each_channel_vector<A>(g.out_c, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
      dw_row<decltype(arch), KH, KW, SH, SW, Act>(g, x, w, e, y, oy, interior_row, ox_lo, ox_hi, c0, n);
    });
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
  // The activation is a template argument (the epilogue is a large part of a 3x3 kernel's work);
  // the residual is checked at run time, once per output vector.
  (void)res;
  return dispatch_epilogue(act, false, [&](auto Act, auto) -> Conv2dFn {
    constexpr Activation a = decltype(Act)::value;
    if (k == 3 && s == 1) return &simd::dwconv2d_fixed<A, 3, 3, 1, 1, a>;
    if (k == 3 && s == 2) return &simd::dwconv2d_fixed<A, 3, 3, 2, 2, a>;
    if (k == 5 && s == 1) return &simd::dwconv2d_fixed<A, 5, 5, 1, 1, a>;
    if (k == 5 && s == 2) return &simd::dwconv2d_fixed<A, 5, 5, 2, 2, a>;
    return &simd::dwconv2d_generic<A, a>;
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
