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
inline void f32_conv2d(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  const int T = kPackTile;
  const int I = g.in_c;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w * I);
  for (int oy = 0; oy < g.out_h; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox) {
      const std::size_t p = std::size_t(oy) * g.out_w + ox;
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
  // ~3/4 of the registers hold accumulators; the rest weights and the broadcast.
  static constexpr int MR = vector_registers<A>() * 3 / 4 / NV > 0 ? vector_registers<A>() * 3 / 4 / NV : 1;
  // Smaller row counts for the last block of pixels (and tiny images): 1x1 outputs must not pay
  // for MR rows.
  static constexpr int MR2 = (MR + 1) / 2;
  static constexpr int MR4 = (MR + 3) / 4;
};

constexpr int kMaxSegments = 64;     // per pixel; bounds the pointer table
constexpr int kConvScratch = 4096;   // floats of gather buffer (16 KB of stack)

/// The microkernel. Rows: for segment s, row i reads a[s * MR + i][0 .. seg_len[s]); the packed
/// weights (wt = first tile of the group, after its bias) follow the same K order. Computes output
/// channels [c0, c0 + L * lanes) of the MR pixels pix[] and writes the valid ones.
template <class A, int MR, int L, Activation Act, bool Res>
void gemm_block(const float* const* a, const int* seg_len, int nseg, const float* wt, std::size_t tile_stride,
                int c0, int out_c, const std::size_t* pix, const Epilogue& e, float* y) noexcept {
  constexpr int W = lanes<A>(), T = kPackTile;
  // Vector v sits in tile v*W/T of the group, at lane offset (v*W)%T.
  std::size_t voff[L];
  unroll<L>([&](auto V) {
    constexpr int v = decltype(V)::value;
    voff[v] = std::size_t(v * W / T) * tile_stride + std::size_t((v * W) % T);
  });
  vf<A> acc[MR][L];
  unroll<L>([&](auto V) {
    constexpr int v = decltype(V)::value;
    const vf<A> b = loadu<A>(wt + voff[v]);
    unroll<MR>([&](auto I) { acc[decltype(I)::value][v] = b; });
  });
  const float* wk = wt + T;
  for (int s = 0; s < nseg; ++s) {
    const float* ap[MR];
    unroll<MR>([&](auto I) { ap[decltype(I)::value] = a[s * MR + decltype(I)::value]; });
    const int len = seg_len[s];
    for (int k = 0; k < len; ++k, wk += T) {
      vf<A> wv[L];
      unroll<L>([&](auto V) { wv[decltype(V)::value] = loadu<A>(wk + voff[decltype(V)::value]); });
      unroll<MR>([&](auto I) {
        constexpr int i = decltype(I)::value;
        const vf<A> xb(ap[i][k]);
        unroll<L>([&](auto V) {
          constexpr int v = decltype(V)::value;
          acc[i][v] = fmadd<A>(xb, wv[v], acc[i][v]);
        });
      });
    }
  }
  int n[L], rn[L];
  unroll<L>([&](auto V) {
    constexpr int v = decltype(V)::value;
    n[v] = clamp_lanes(out_c - c0 - v * W, W);
    rn[v] = Res ? clamp_lanes(e.residual_c - c0 - v * W, W) : 0;
  });
  unroll<MR>([&](auto I) {
    constexpr int i = decltype(I)::value;
    float* yr = y + pix[i] * std::size_t(out_c) + c0;
    unroll<L>([&](auto V) {
      constexpr int v = decltype(V)::value;
      const int c = c0 + v * W;
      const float* rr = Res ? e.residual + pix[i] * std::size_t(e.residual_c) + c : nullptr;
      const float* al = Act == Activation::prelu ? e.alpha + c : nullptr;
      store_n<A>(yr + v * W, epilogue<A, Act, Res>(acc[i][v], rr, rn[v], al), n[v]);
    });
  });
}

/// All channel groups for one block of MR pixels.
template <class A, int MR, Activation Act, bool Res>
FACEKIT_KERNEL_INLINE void gemm_groups(const float* const* a, const int* seg_len, int nseg, const float* w,
                                       std::size_t tile_stride, int out_c, const std::size_t* pix, const Epilogue& e,
                                       float* y) noexcept {
  using C = GemmConfig<A>;
  constexpr int W = C::W;
  const int nvec = (out_c + W - 1) / W;
  for (int v0 = 0; v0 < nvec; v0 += C::NV) {
    const float* wt = w + std::size_t(v0 * W / kPackTile) * tile_stride;
    dispatch_1_to<C::NV>(std::min(C::NV, nvec - v0), [&](auto L) {
      gemm_block<A, MR, decltype(L)::value, Act, Res>(a, seg_len, nseg, wt, tile_stride, v0 * W, out_c, pix, e, y);
    });
  }
}

/// Runs the pixel blocks. rows.fill<M>(pix, a, seg_len) sets up the M rows (row pointers per
/// segment) and returns the segment count. The last partial block repeats its last pixel: the
/// duplicate rows recompute and rewrite identical values (no branches on the row count inside).
template <class A, Activation Act, bool Res, class Rows>
FACEKIT_KERNEL_INLINE void gemm_conv(const Conv2dGeometry& g, const float* w, const Epilogue& e, float* y,
                                     Rows& rows) noexcept {
  using C = GemmConfig<A>;
  const std::size_t ts = packed_tile_stride(g.kernel_h * g.kernel_w * g.in_c);
  const std::size_t P = std::size_t(g.out_h) * g.out_w;
  const float* a[kMaxSegments * C::MR];
  int seg_len[kMaxSegments];
  auto run = [&](auto M, std::size_t p0, std::size_t m) {
    constexpr int MR = decltype(M)::value;
    std::size_t pix[MR];
    unroll<MR>([&](auto I) {
      constexpr std::size_t i = decltype(I)::value;
      pix[i] = p0 + (i < m ? i : m - 1);
    });
    const int nseg = rows.template fill<MR>(pix, a, seg_len);
    gemm_groups<A, MR, Act, Res>(a, seg_len, nseg, w, ts, g.out_c, pix, e, y);
  };
  std::size_t p0 = 0;
  for (; p0 + C::MR <= P; p0 += C::MR) run(std::integral_constant<int, C::MR>{}, p0, C::MR);
  const std::size_t m = P - p0;
  if (m == 0) return;
  if (m <= 1)
    run(std::integral_constant<int, 1>{}, p0, m);
  else if (m <= std::size_t(C::MR4))
    run(std::integral_constant<int, C::MR4>{}, p0, m);
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
    for (int i = 0; i < MR; ++i) {
      if (i > 0 && pix[i] == pix[i - 1]) {  // repeated tail row
        for (int ky = 0; ky < g.kernel_h; ++ky) a[ky * MR + i] = a[ky * MR + i - 1];
        continue;
      }
      const int oy = int(pix[i] / std::size_t(g.out_w)), ox = int(pix[i] % std::size_t(g.out_w));
      const int ix0 = ox * g.stride_w - g.pad_left;
      const bool inside_x = ix0 >= 0 && ix0 + KW <= g.in_w;
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
        const float** slot = &a[ky * MR + i];
        if (iy < 0 || iy >= g.in_h) {
          *slot = kZeroFloats;  // len <= kZeroFloatCount (checked at selection)
        } else if (inside_x) {
          *slot = x + (std::size_t(iy) * g.in_w + ix0) * I;
        } else {
          float* dst = scratch + std::size_t(i * g.kernel_h + ky) * len;
          for (int kx = 0; kx < KW; ++kx) {
            const int ix = ix0 + kx;
            if (ix >= 0 && ix < g.in_w)
              std::memcpy(dst + kx * I, x + (std::size_t(iy) * g.in_w + ix) * I, sizeof(float) * I);
            else
              std::memset(dst + kx * I, 0, sizeof(float) * I);
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
    int nseg = 0;
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx)
        for (int c = 0; c < I; c += kZeroFloatCount) {
          seg_len[nseg] = std::min(kZeroFloatCount, I - c);
          for (int i = 0; i < MR; ++i) {
            const int oy = int(pix[i] / std::size_t(g.out_w)), ox = int(pix[i] % std::size_t(g.out_w));
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            const bool in = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
            a[nseg * MR + i] = in ? x + (std::size_t(iy) * g.in_w + ix) * I + c : kZeroFloats;
          }
          ++nseg;
        }
    return nseg;
  }
};

template <class A, Activation Act, bool Res>
void conv2d_pointwise(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  PointwiseRows rows{x, g.in_c};
  gemm_conv<A, Act, Res>(g, w, e, y, rows);
}

template <class A, Activation Act, bool Res>
void conv2d_kernel_rows(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  alignas(64) float scratch[kConvScratch];
  KernelRowRows rows{g, x, scratch};
  gemm_conv<A, Act, Res>(g, w, e, y, rows);
}

template <class A, Activation Act, bool Res>
void conv2d_taps(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y) {
  TapRows rows{g, x};
  gemm_conv<A, Act, Res>(g, w, e, y, rows);
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
  return dispatch_epilogue(act, res, [&](auto Act, auto Res) -> Conv2dFn {
    constexpr Activation a = decltype(Act)::value;
    constexpr bool r = decltype(Res)::value;
    if (pointwise) return &simd::conv2d_pointwise<A, a, r>;
    if (kernel_rows) return &simd::conv2d_kernel_rows<A, a, r>;
    if (taps) return &simd::conv2d_taps<A, a, r>;
    return &ref::f32_conv2d;
  });
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
