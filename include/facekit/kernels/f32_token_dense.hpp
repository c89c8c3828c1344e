// facekit/kernels/f32_token_dense.hpp - a dense layer across rows: the MLP-Mixer's token mixing.
//
// x is a [T][C] matrix (T tokens of C channels, row-major), the weights are [O][T] with a bias
// per output row, packed like a 1x1 conv2d of O output channels and T inputs (conv2d_oc_tile,
// dims [O,1,1,T]: per tile of 16 rows, bias[16] then w[T][16]). The result is [O][C]:
//
//   y[o][c] = act(bias[o] + sum_t w[o][t] * x[t][c] + residual[o][c])
//
// TFLite writes this as TRANSPOSE -> 1x1 CONV_2D -> TRANSPOSE; computing it in place of the
// transposes keeps every tensor token-major and the channel dimension contiguous, so the SIMD
// path vectorises over channels: MR output rows x NV vectors of channels are accumulated in
// registers, each step broadcasting MR consecutive weights of one packed tile (which is why the
// 16-row tiles suit it: the MR weights of one t are adjacent).
//
// Geometry reuses Conv2dGeometry (so the conv2d kernels run it): in_w = T, in_c = C,
// out_w = O; the other fields are 1 / 0.
#pragma once

#include "common.hpp"
#include "pack.hpp"

namespace facekit {
namespace kernels {

/// A part of the output (OutRange) must begin at a multiple of this: the SIMD kernel's row block.
constexpr int kTokenDenseRowAlign = 4;

inline Conv2dGeometry token_dense_geometry(int tokens_in, int channels, int tokens_out) noexcept {
  return Conv2dGeometry{1, tokens_in, channels, 1, tokens_out, channels, 1, 1, 1, 1, 1, 1, 0, 0};
}

namespace ref {

inline void f32_token_dense(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y,
                            OutRange rows) {
  const int T = g.in_w, C = g.in_c, P = kPackTile;
  const std::size_t ts = packed_tile_stride(T);
  for (int o = rows.begin; o < rows.end; ++o) {
    const float* wt = w + std::size_t(o / P) * ts;
    const int j = o % P;
    for (int c = 0; c < C; ++c) {
      float acc = wt[j];
      for (int t = 0; t < T; ++t) acc += wt[P + std::size_t(t) * P + std::size_t(j)] * x[std::size_t(t) * C + c];
      // The residual has the output's shape (no zero extension here): residual_c = C.
      y[std::size_t(o) * C + c] = epilogue(acc, e, std::size_t(o), c);
    }
  }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
struct TokenDenseConfig {
  static constexpr int MR = kTokenDenseRowAlign;  // output rows per block; divides kPackTile
  // Channel vectors per block: MR * NV accumulators + NV inputs + 1 broadcast must fit the registers.
  static constexpr int NV = vector_registers<A>() >= 32 ? 4 : 2;
  static_assert(kPackTile % MR == 0, "a row block must not straddle two packed tiles");
};

/// Rows [o0, o0 + rows) (rows <= MR, all in one packed tile) x channel vectors [c0, c0 + L*W).
template <class A, int L, Activation Act, bool Res>
void token_dense_block(const Conv2dGeometry& g, const float* x, const float* wt, int o0, int rows, int c0,
                       const Epilogue& e, float* y) noexcept {
  constexpr int W = lanes<A>(), MR = TokenDenseConfig<A>::MR, P = kPackTile;
  const int T = g.in_w, C = g.in_c;
  const int j0 = o0 % P;
  vf<A> acc[MR][L];
  unroll<MR>([&](auto I) {
    constexpr int i = decltype(I)::value;
    const vf<A> b(wt[j0 + i]);  // rows past O read the tile's zero padding
    unroll<L>([&](auto V) { acc[i][decltype(V)::value] = b; });
  });
  const float* wk = wt + P + j0;
  const float* xp = x + c0;
  for (int t = 0; t < T; ++t, wk += P, xp += C) {
    // Whole-vector reads may pass the row's end: into the next row, or for the last row into
    // the tensor's slack (common.hpp); those lanes are never stored.
    vf<A> xv[L];
    unroll<L>([&](auto V) {
      // Loaded once into a register: left alone, GCC folds the load into each of the MR FMAs that
      // use it (MR times the loads); a kept array element is spilled, hence the local.
      vf<A> v = loadu<A>(xp + decltype(V)::value * W);
      keep_in_register<A>(v);
      xv[decltype(V)::value] = v;
    });
    unroll<MR>([&](auto I) {
      constexpr int i = decltype(I)::value;
      const vf<A> wb(wk[i]);
      unroll<L>([&](auto V) {
        constexpr int v = decltype(V)::value;
        acc[i][v] = fmadd<A>(wb, xv[v], acc[i][v]);
      });
    });
  }
  int n[L];
  unroll<L>([&](auto V) { n[decltype(V)::value] = clamp_lanes(C - c0 - decltype(V)::value * W, W); });
  unroll<MR>([&](auto I) {
    constexpr int i = decltype(I)::value;
    if (i >= rows) return;
    const std::size_t row = std::size_t(o0 + i) * C + c0;
    unroll<L>([&](auto V) {
      constexpr int v = decltype(V)::value;
      const float* rr = Res ? e.residual + row + v * W : nullptr;
      store_n<A>(y + row + v * W, epilogue<A, Act, Res>(acc[i][v], rr, Res ? n[v] : 0, nullptr), n[v]);
    });
  });
}

template <class A, Activation Act, bool Res>
void token_dense(const Conv2dGeometry& g, const float* x, const float* w, const Epilogue& e, float* y, OutRange out) {
  using Cfg = TokenDenseConfig<A>;
  constexpr int W = lanes<A>();
  const int C = g.in_c;
  const std::size_t ts = packed_tile_stride(g.in_w);
  const int nvec = (C + W - 1) / W;
  for (int o0 = out.begin; o0 < out.end; o0 += Cfg::MR) {
    const float* wt = w + std::size_t(o0 / kPackTile) * ts;
    const int rows = std::min(Cfg::MR, out.end - o0);
    for (int v0 = 0; v0 < nvec; v0 += Cfg::NV)
      dispatch_1_to<Cfg::NV>(std::min(Cfg::NV, nvec - v0), [&](auto L) {
        token_dense_block<A, decltype(L)::value, Act, Res>(g, x, wt, o0, rows, v0 * W, e, y);
      });
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline Conv2dFn select_token_dense(scalar_arch, Activation, bool) { return &ref::f32_token_dense; }

#if FACEKIT_HAS_SIMD
template <class A>
Conv2dFn select_token_dense(A, Activation act, bool res) {
  return dispatch_epilogue(act, res, [&](auto Act, auto Res) -> Conv2dFn {
    constexpr Activation a = decltype(Act)::value;
    (void)Res;
    if constexpr (a == Activation::prelu) {
      return nullptr;  // not offered: the residual-free per-channel slope has no use here
    } else {
      return &simd::token_dense<A, a, decltype(Res)::value>;
    }
  });
}
#endif

}  // namespace detail

/// The token_dense kernel for this activation (none, relu, relu6; prelu gives null) and residual
/// presence, chosen once at load. The Epilogue's residual_c must equal C. Arch = scalar_arch gives
/// the reference.
template <class Arch>
Conv2dFn select_f32_token_dense(Activation act, bool has_residual) {
  if (act == Activation::prelu) return nullptr;
  return detail::select_token_dense(Arch{}, act, has_residual);
}

}  // namespace kernels
}  // namespace facekit
