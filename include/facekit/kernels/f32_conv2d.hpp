// facekit/kernels/f32_conv2d.hpp - conv2d on NHWC float32 with packed weights (pack.hpp).
//
// y[p][o] = act(bias[o] + sum_{ky,kx,i} x[iy][ix][i] * w[o][ky][kx][i] + residual[p][o]) where the
// residual (optional) has residual_c <= out_c channels (zero-extended) and act is none / relu /
// relu6 / prelu (per-channel alpha).
//
// Every SIMD path is one register-blocked GEMM microkernel: MR output pixels x up to NV vectors of
// output channels, accumulating over K = KH*KW*I as broadcast(x) * weight-vector FMAs, with the
// epilogue fused before the single store. The paths differ only in where the MR rows of K come from:
//   pointwise  1x1, stride 1, no padding: row p is x + p*I (a plain GEMM).
//   rows       dilation_w == 1: one segment per kernel row, KW*I contiguous floats of x; border
//              pixels gather their segment into a stack buffer with zeros, fully padded rows point
//              at a zero row. (BlazeFace's 5x5 s2 and Face Mesh's 3x3 s2 first convs land here.)
//   taps       anything else: one segment per tap (chunks of <= kZeroFloats input channels),
//              pointing into x or at zeros.
// Configurations beyond the stack budgets fall back to the scalar reference (correct, slow).
#pragma once

#include <cstring>

#include "common.hpp"
#include "pack.hpp"

namespace facekit {
namespace kernels {

/// Zeros that padded taps point at (read-only).
alignas(64) inline constexpr float kZeroFloats[1024] = {};
constexpr int kZeroFloatCount = 1024;

namespace ref {

/// Plain reference conv2d (any kernel, stride, dilation, padding), reading the packed weights.
inline void f32_conv2d(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                       OutRange pixels) {
  const int T = kPackTile;
  const int I = g.in_c;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w * I);
  for (int q = pixels.begin; q < pixels.end; ++q) {
    const int oy = q / g.out_w, ox = q % g.out_w;
    const std::size_t p = std::size_t(q);
    for (int o = 0; o < g.out_c; ++o) {
      const float* wt = w + std::size_t(o / T) * ts;
      const int j = o % T;
      float acc = wt[j];
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
        if (iy < 0 || iy >= g.in_h) continue;
        for (int kx = 0; kx < g.kernel_w; ++kx) {
          const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
          if (ix < 0 || ix >= g.in_w) continue;
          const float* xp = x + (std::size_t(iy) * g.in_w + ix) * I;
          const float* wk = wt + T + std::size_t((ky * g.kernel_w + kx) * I) * T + j;
          for (int i = 0; i < I; ++i) acc += xp[i] * wk[std::size_t(i) * T];
        }
      }
      y[p * g.out_c + o] = epilogue(acc, e, p, o);
    }
  }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

/// Register blocking of the GEMM microkernel for an architecture.
template <class A>
struct GemmConfig {
  static constexpr int W = lanes<A>();
  static_assert(kPackTile % W == 0, "a vector must not straddle two packed tiles");
  static constexpr int VPT = kPackTile / W;     // vectors per packed tile
  static constexpr int NV = VPT >= 2 ? VPT : 2;  // vectors per channel group: one tile, or two 1-vector tiles
  // ~3/4 of the registers hold accumulators; the rest weights and the broadcasts.
  static constexpr int MR = vector_registers<A>() * 3 / 4 / NV > 0 ? vector_registers<A>() * 3 / 4 / NV : 1;
  // Fewer rows for the last block of pixels: a 1x1 output must not pay for MR rows.
  static constexpr int MR2 = (MR + 1) / 2;
};

constexpr int kMaxSegments = 64;     // per pixel; bounds the pointer table
constexpr int kConvScratch = 4096;   // floats of gather buffer (16 KB of stack)

/// The microkernel: MR output pixels x (L vectors of A + H ? one vector of half_arch_t<A> : none)
/// output channels starting at c0. Rows: for segment s, row i reads a[s * MR + i][0 .. seg_len[s]);
/// the packed weights (wt = the group's first tile) follow the same K order. Accumulates in
/// registers, then applies the epilogue and writes the valid channels.
template <class A, int MR, int L, bool H>
void gemm_block(const float* const* a, const int* seg_len, int nseg, const float* wt, std::size_t tile_stride,
                int c0, int out_c, const std::size_t* pix, const Epilogue& e, float* y) noexcept {
  using B = half_arch_t<A>;
  constexpr int W = lanes<A>(), T = kPackTile, LA = L > 0 ? L : 1;
  // Vector v sits in tile v*W/T of the group, at lane offset (v*W)%T; the half vector is v = L.
  std::size_t voff[L + 1];
  unroll<L + 1>([&](auto V) FACEKIT_LAMBDA_INLINE {
    constexpr int v = decltype(V)::value;
    voff[v] = std::size_t(v * W / T) * tile_stride + std::size_t((v * W) % T);
  });
  vf<A> acc[MR][LA];
  vf<B> acch[MR];
  unroll<L>([&](auto V) FACEKIT_LAMBDA_INLINE {
    constexpr int v = decltype(V)::value;
    const vf<A> b = loadu<A>(wt + voff[v]);
    unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE { acc[decltype(I)::value][v] = b; });
  });
  if constexpr (H) {
    const vf<B> b = loadu<B>(wt + voff[L]);
    unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE { acch[decltype(I)::value] = b; });
  }
  const float* wk = wt + T;
  for (int s = 0; s < nseg; ++s) {
    const float* ap[MR];
    unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE { ap[decltype(I)::value] = a[s * MR + decltype(I)::value]; });
    const int len = seg_len[s];
    for (int k = 0; k < len; ++k, wk += T) {
      vf<A> wv[LA];
      unroll<L>([&](auto V) FACEKIT_LAMBDA_INLINE { wv[decltype(V)::value] = loadu<A>(wk + voff[decltype(V)::value]); });
      vf<B> wh;
      if constexpr (H) wh = loadu<B>(wk + voff[L]);
      unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE {
        constexpr int i = decltype(I)::value;
        const float xs = ap[i][k];
        if constexpr (L > 0) {
          const vf<A> xb(xs);
          unroll<L>([&](auto V) FACEKIT_LAMBDA_INLINE {
            constexpr int v = decltype(V)::value;
            acc[i][v] = fmadd<A>(xb, wv[v], acc[i][v]);
          });
        }
        if constexpr (H) {
          if constexpr (L > 0)
            acch[i] = fmadd<B>(lower_half<A>(vf<A>(xs)), wh, acch[i]);  // reuse the wide broadcast
          else
            acch[i] = fmadd<B>(vf<B>(xs), wh, acch[i]);
        }
      });
    }
  }
  int n[L + 1], rn[L + 1];
  unroll<L + 1>([&](auto V) FACEKIT_LAMBDA_INLINE {
    constexpr int v = decltype(V)::value;
    n[v] = clamp_lanes(out_c - c0 - v * W, v < L ? W : lanes<B>());
    rn[v] = e.residual ? clamp_lanes(e.residual_c - c0 - v * W, v < L ? W : lanes<B>()) : 0;
  });
  unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE {
    constexpr int i = decltype(I)::value;
    float* yr = y + pix[i] * std::size_t(out_c) + c0;
    const float* rr = e.residual ? e.residual + pix[i] * std::size_t(e.residual_c) + c0 : nullptr;
    const float* al = e.act == Activation::prelu ? e.alpha + c0 : nullptr;
    unroll<L>([&](auto V) FACEKIT_LAMBDA_INLINE {
      constexpr int v = decltype(V)::value;
      const vf<A> r = epilogue<A>(acc[i][v], rr ? rr + v * W : nullptr, rn[v], al ? al + v * W : nullptr, e.act);
      store_n<A>(yr + v * W, r, n[v]);
    });
    if constexpr (H) {
      const vf<B> r = epilogue<B>(acch[i], rr ? rr + L * W : nullptr, rn[L], al ? al + L * W : nullptr, e.act);
      store_n<B>(yr + L * W, r, n[L]);
    }
  });
}

/// All channel groups for one block of MR pixels. A group is NV vectors (one or two packed tiles);
/// the last one is cut to the vectors it needs, its tail possibly a half-width vector.
template <class A, int MR>
FACEKIT_KERNEL_INLINE void gemm_groups(const float* const* a, const int* seg_len, int nseg, const float* w,
                                       std::size_t tile_stride, int out_c, const std::size_t* pix, const Epilogue& e,
                                       float* y) noexcept {
  using C = GemmConfig<A>;
  constexpr int W = C::W, GW = C::NV * W;
  int c0 = 0;
  for (; c0 + GW <= out_c; c0 += GW)
    gemm_block<A, MR, C::NV, false>(a, seg_len, nseg, w + std::size_t(c0 / kPackTile) * tile_stride, tile_stride, c0, out_c, pix, e, y);
  const int rest = out_c - c0;
  if (rest <= 0) return;
  const float* wt = w + std::size_t(c0 / kPackTile) * tile_stride;
  const int full = rest / W, tail = rest % W;
  if constexpr (has_half_arch<A>()) {
    if (tail > 0 && tail <= lanes<half_arch_t<A>>()) {
      // full < NV here: rest < GW.
      unroll<C::NV>([&](auto Lc) FACEKIT_LAMBDA_INLINE {
        if (full == decltype(Lc)::value)
          gemm_block<A, MR, decltype(Lc)::value, true>(a, seg_len, nseg, wt, tile_stride, c0, out_c, pix, e, y);
      });
      return;
    }
  }
  dispatch_1_to<C::NV>(full + (tail > 0), [&](auto Lc) FACEKIT_LAMBDA_INLINE {
    gemm_block<A, MR, decltype(Lc)::value, false>(a, seg_len, nseg, wt, tile_stride, c0, out_c, pix, e, y);
  });
}

/// Runs the pixel blocks of output pixels `out`. rows.fill<M>(pix, a, seg_len) sets up the M GEMM
/// rows (row pointers per segment) and returns the segment count. The last partial block repeats
/// its last pixel: the duplicate rows recompute and rewrite identical values (no branches on the
/// row count inside). A pixel's value does not depend on its block, so any split of the output
/// pixels gives the same bits.
template <class A, class Rows>
FACEKIT_KERNEL_INLINE void gemm_conv(const Conv2dGeometry& g, const float* w, const Epilogue& e, float* y,
                                     Rows& rows, OutRange out) noexcept {
  using C = GemmConfig<A>;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w * g.in_c);
  const std::size_t P = std::size_t(out.end);
  const float* a[kMaxSegments * C::MR];
  int seg_len[kMaxSegments];
  auto run = [&](auto M, std::size_t p0, std::size_t m) FACEKIT_LAMBDA_INLINE {
    constexpr int MR = decltype(M)::value;
    std::size_t pix[MR];
    unroll<MR>([&](auto I) FACEKIT_LAMBDA_INLINE {
      constexpr std::size_t i = decltype(I)::value;
      pix[i] = p0 + (i < m ? i : m - 1);
    });
    const int nseg = rows.template fill<MR>(pix, a, seg_len);
    gemm_groups<A, MR>(a, seg_len, nseg, w, ts, g.out_c, pix, e, y);
  };
  std::size_t p0 = std::size_t(out.begin);
  for (; p0 + C::MR <= P; p0 += C::MR) run(std::integral_constant<int, C::MR>{}, p0, C::MR);
  const std::size_t m = P - p0;
  if (m == 0) return;
  if (m <= 1)
    run(std::integral_constant<int, 1>{}, p0, m);
  else if (m <= std::size_t(C::MR2))
    run(std::integral_constant<int, C::MR2>{}, p0, m);
  else
    run(std::integral_constant<int, C::MR>{}, p0, m);
}

/// Pointwise rows: pixel p's K = in_c values are x + p * in_c.
struct PointwiseRows {
  const float* x;
  int in_c;
  template <int MR>
  FACEKIT_KERNEL_INLINE int fill(const std::size_t* pix, const float** a, int* seg_len) const noexcept {
    for (int i = 0; i < MR; ++i) a[i] = x + pix[i] * std::size_t(in_c);
    seg_len[0] = in_c;
    return 1;
  }
};

/// One segment per kernel row (dilation_w == 1): KW*I contiguous floats.
struct KernelRowRows {
  const Conv2dGeometry& g;
  const float* x;
  float* scratch;  // >= MR * KH * KW * I floats
  template <int MR>
  int fill(const std::size_t* pix, const float** a, int* seg_len) const noexcept {
    const int I = g.in_c, KW = g.kernel_w, len = KW * I;
    for (int ky = 0; ky < g.kernel_h; ++ky) seg_len[ky] = len;
    // The block's pixels are consecutive: one division, then step (oy, ox).
    int oy = int(pix[0] / std::size_t(g.out_w)), ox = int(pix[0] % std::size_t(g.out_w));
    for (int i = 0; i < MR; ++i) {
      if (i > 0) {
        if (pix[i] == pix[i - 1]) {  // repeated tail row
          for (int ky = 0; ky < g.kernel_h; ++ky) a[ky * MR + i] = a[ky * MR + i - 1];
          continue;
        }
        if (++ox == g.out_w) {
          ox = 0;
          ++oy;
        }
      }
      const int ix0 = ox * g.stride_w - g.pad_left;
      const bool inside_x = ix0 >= 0 && ix0 + KW <= g.in_w;
      const int iy0 = oy * g.stride_h - g.pad_top;
      if (inside_x && iy0 >= 0 && iy0 + (g.kernel_h - 1) * g.dilation_h < g.in_h) {  // the common case
        const float* p = x + (std::size_t(iy0) * g.in_w + ix0) * I;
        const std::size_t step = std::size_t(g.dilation_h) * g.in_w * I;
        for (int ky = 0; ky < g.kernel_h; ++ky) a[ky * MR + i] = p + ky * step;
        continue;
      }
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        const int iy = iy0 + ky * g.dilation_h;
        const float** slot = &a[ky * MR + i];
        if (iy < 0 || iy >= g.in_h) {
          *slot = kZeroFloats;  // len <= kZeroFloatCount (checked at selection)
        } else if (inside_x) {
          *slot = x + (std::size_t(iy) * g.in_w + ix0) * I;
        } else {
          float* dst = scratch + std::size_t(i * g.kernel_h + ky) * len;
          for (int kx = 0; kx < KW; ++kx) {
            const int ix = ix0 + kx;
            float* d = dst + kx * I;
            if (ix >= 0 && ix < g.in_w) {
              const float* src = x + (std::size_t(iy) * g.in_w + ix) * I;
              for (int c = 0; c < I; ++c) d[c] = src[c];
            } else {
              for (int c = 0; c < I; ++c) d[c] = 0.0f;
            }
          }
          *slot = dst;
        }
      }
    }
    return g.kernel_h;
  }
};

/// One segment per tap and chunk of <= kZeroFloatCount input channels (any dilation).
struct TapRows {
  const Conv2dGeometry& g;
  const float* x;
  template <int MR>
  int fill(const std::size_t* pix, const float** a, int* seg_len) const noexcept {
    const int I = g.in_c;
    int iy0[MR], ix0[MR];
    for (int i = 0; i < MR; ++i) {
      iy0[i] = int(pix[i] / std::size_t(g.out_w)) * g.stride_h - g.pad_top;
      ix0[i] = int(pix[i] % std::size_t(g.out_w)) * g.stride_w - g.pad_left;
    }
    int nseg = 0;
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx)
        for (int c = 0; c < I; c += kZeroFloatCount) {
          seg_len[nseg] = std::min(kZeroFloatCount, I - c);
          for (int i = 0; i < MR; ++i) {
            const int iy = iy0[i] + ky * g.dilation_h;
            const int ix = ix0[i] + kx * g.dilation_w;
            const bool in = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
            a[nseg * MR + i] = in ? x + (std::size_t(iy) * g.in_w + ix) * I + c : kZeroFloats;
          }
          ++nseg;
        }
    return nseg;
  }
};

template <class A>
void conv2d_pointwise(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                      OutRange out) {
  PointwiseRows rows{x, g.in_c};
  gemm_conv<A>(g, w, e, y, rows, out);
}

template <class A>
void conv2d_kernel_rows(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                        OutRange out) {
  alignas(64) float scratch[kConvScratch];
  KernelRowRows rows{g, x, scratch};
  gemm_conv<A>(g, w, e, y, rows, out);
}

template <class A>
void conv2d_taps(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                 OutRange out) {
  TapRows rows{g, x};
  gemm_conv<A>(g, w, e, y, rows, out);
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline Conv2dFn select_conv2d(scalar_arch, const Conv2dGeometry&, Activation, bool) { return &ref::f32_conv2d; }

#if FACEKIT_HAS_SIMD
template <class A>
Conv2dFn select_conv2d(A, const Conv2dGeometry& g, Activation act, bool res) {
  using C = simd::GemmConfig<A>;
  const bool pointwise = g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                         g.pad_top == 0 && g.pad_left == 0 && g.in_h == g.out_h && g.in_w == g.out_w;
  const long row_len = long(g.kernel_w) * g.in_c;
  const bool kernel_rows = g.dilation_w == 1 && g.kernel_h <= simd::kMaxSegments && row_len <= kZeroFloatCount &&
                           long(C::MR) * g.kernel_h * row_len <= simd::kConvScratch;
  const long tap_segs = long(g.kernel_h) * g.kernel_w * ((g.in_c + kZeroFloatCount - 1) / kZeroFloatCount);
  const bool taps = tap_segs <= simd::kMaxSegments;
  // The activation and the residual are run-time choices of the epilogue (see simd::epilogue).
  (void)act;
  (void)res;
  if (pointwise) return &simd::conv2d_pointwise<A>;
  if (kernel_rows) return &simd::conv2d_kernel_rows<A>;
  if (taps) return &simd::conv2d_taps<A>;
  return &ref::f32_conv2d;
}
#endif

}  // namespace detail

/// The conv2d kernel for this geometry, activation and residual presence (chosen once, at load).
/// Never null. Arch = facekit::scalar_arch gives the reference.
template <class Arch>
Conv2dFn select_f32_conv2d(const Conv2dGeometry& g, Activation act, bool has_residual) {
  return detail::select_conv2d(Arch{}, g, act, has_residual);
}

}  // namespace kernels
}  // namespace facekit
