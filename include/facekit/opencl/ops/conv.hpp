// facekit/opencl/ops/conv.hpp - conv2d and dwconv2d on the device, reading the packed weights of
// kernels/pack.hpp (per tile of 16 output channels: bias[16], then w[KH][KW][I][16]) and fusing
// the CPU's epilogue: act(acc + bias + zero_extend(residual)).
//
// Three kernels:
//  - f32_conv2d_1x1: a 1x1 conv (any stride; a 1x1 kernel has no padding) is the GEMM
//    Y[P][O] = X[P][I] W[I][O]. A work-group of 8x8 items computes a 32-pixel x 32-channel tile,
//    4x4 outputs per item, staging 16-deep slices of X and W in local memory. Channel counts
//    below, at and above the tile are handled by zero-filled loads and guarded stores.
//  - f32_conv2d: any other conv, and f32_dwconv2d: direct, one work item per output element.
#pragma once

#include "../../ops/conv2d.hpp"
#include "../../ops/dwconv2d.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kConvSource{"conv", R"CLC(
// kernels::Conv2dGeometry, field by field (conv_geometry_args() passes it).
#define FK_CONV_GEOMETRY int in_h, int in_w, int in_c, int out_h, int out_w, int out_c, int kernel_h, \
  int kernel_w, int stride_h, int stride_w, int dilation_h, int dilation_w, int pad_top, int pad_left
#define FK_CONV_GEOMETRY_VALUES in_h, in_w, in_c, out_h, out_w, out_c, kernel_h, kernel_w, stride_h, stride_w, \
  dilation_h, dilation_w, pad_top, pad_left
// Every conv kernel's arguments (prepare_conv() sets them).
#define FK_CONV_ARGS __global const float* x, int x_off, __global const float* w, int w_off, \
  __global const float* alpha, int alpha_off, __global const float* res, int res_off, __global float* y, int y_off, \
  FK_CONV_GEOMETRY, int res_c, int act

#define FK_PACK_TILE 16

// The fused epilogue of output pixel p, channel c: residual (res_c channels, zero-extended; absent
// when res_off < 0), then the activation.
inline void fk_conv_store(float acc, int p, int c, int out_c, __global const float* res, int res_off, int res_c,
                          __global const float* alpha, int alpha_off, int act, __global float* y, int y_off) {
  if (res_off >= 0 && c < res_c) acc += res[res_off + p * res_c + c];
  y[y_off + p * out_c + c] = fk_activate(acc, act, alpha, alpha_off, c);
}

#define FK_GEMM_TM 32  // pixels per work-group
#define FK_GEMM_TN 32  // output channels per work-group (two packed tiles)
#define FK_GEMM_TK 16  // depth of one local-memory slice
#define FK_GEMM_L 8    // work items per dimension: each computes (TM / L) x (TN / L) outputs
#define FK_GEMM_RM (FK_GEMM_TM / FK_GEMM_L)
#define FK_GEMM_RN (FK_GEMM_TN / FK_GEMM_L)
#define FK_GEMM_ITEMS (FK_GEMM_L * FK_GEMM_L)
#define FK_GEMM_LOADS (FK_GEMM_TM * FK_GEMM_TK / FK_GEMM_ITEMS)  // per item per slice, of X and of W

// Global (ceil(out_c / TN) * L, ceil(pixels / TM) * L), local (L, L).
__kernel __attribute__((reqd_work_group_size(FK_GEMM_L, FK_GEMM_L, 1)))
void f32_conv2d_1x1(FK_CONV_ARGS) {
  __local float xs[FK_GEMM_TK][FK_GEMM_TM];
  __local float ws[FK_GEMM_TK][FK_GEMM_TN];
  const int tx = get_local_id(0), ty = get_local_id(1), item = ty * FK_GEMM_L + tx;
  const int c0 = get_group_id(0) * FK_GEMM_TN, p0 = get_group_id(1) * FK_GEMM_TM;
  const int pixels = out_h * out_w, tile_stride = FK_PACK_TILE * (1 + in_c);

  // This item's loads: X rows (pixels) xm + r * ITEMS / TK at depth xk; W rows (depths)
  // wk + r * ITEMS / TN at channel wn. Row starts are resolved once (-1: outside the output).
  const int xk = item % FK_GEMM_TK, xm = item / FK_GEMM_TK;
  const int wn = item % FK_GEMM_TN, wk = item / FK_GEMM_TN;
  int x_row[FK_GEMM_LOADS];
  for (int r = 0; r < FK_GEMM_LOADS; ++r) {
    const int p = p0 + xm + r * (FK_GEMM_ITEMS / FK_GEMM_TK);
    x_row[r] = p < pixels ? x_off + ((p / out_w) * stride_h * in_w + (p % out_w) * stride_w) * in_c : -1;
  }
  const int wc = c0 + wn;
  const int w_col = wc < out_c ? w_off + (wc / FK_PACK_TILE) * tile_stride + FK_PACK_TILE + wc % FK_PACK_TILE : -1;

  float acc[FK_GEMM_RM][FK_GEMM_RN];
  for (int j = 0; j < FK_GEMM_RN; ++j) {
    const int c = c0 + tx + j * FK_GEMM_L;
    const float bias = c < out_c ? w[w_off + (c / FK_PACK_TILE) * tile_stride + c % FK_PACK_TILE] : 0.0f;
    for (int i = 0; i < FK_GEMM_RM; ++i) acc[i][j] = bias;
  }

  for (int k0 = 0; k0 < in_c; k0 += FK_GEMM_TK) {
    const int k = k0 + xk;
    for (int r = 0; r < FK_GEMM_LOADS; ++r)
      xs[xk][xm + r * (FK_GEMM_ITEMS / FK_GEMM_TK)] = x_row[r] >= 0 && k < in_c ? x[x_row[r] + k] : 0.0f;
    for (int r = 0; r < FK_GEMM_LOADS; ++r) {
      const int kr = wk + r * (FK_GEMM_ITEMS / FK_GEMM_TN);
      ws[kr][wn] = w_col >= 0 && k0 + kr < in_c ? w[w_col + (k0 + kr) * FK_PACK_TILE] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < FK_GEMM_TK; ++kk) {
      float a[FK_GEMM_RM], b[FK_GEMM_RN];
      for (int i = 0; i < FK_GEMM_RM; ++i) a[i] = xs[kk][ty + i * FK_GEMM_L];
      for (int j = 0; j < FK_GEMM_RN; ++j) b[j] = ws[kk][tx + j * FK_GEMM_L];
      for (int i = 0; i < FK_GEMM_RM; ++i)
        for (int j = 0; j < FK_GEMM_RN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

  for (int i = 0; i < FK_GEMM_RM; ++i) {
    const int p = p0 + ty + i * FK_GEMM_L;
    if (p >= pixels) continue;
    for (int j = 0; j < FK_GEMM_RN; ++j) {
      const int c = c0 + tx + j * FK_GEMM_L;
      if (c < out_c) fk_conv_store(acc[i][j], p, c, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
    }
  }
}

// The direct conv of output pixel p, channel c: a conv reads all in_c input channels per tap, a
// depthwise conv (in_c == out_c) only channel c.
inline float fk_conv2d_direct(__global const float* x, int x_off, __global const float* w, int w_off, int p, int c,
                              FK_CONV_GEOMETRY, const bool depthwise) {
  const int group = depthwise ? 1 : in_c, x_c0 = depthwise ? c : 0;
  const int oy = p / out_w, ox = p % out_w;
  const int iy0 = oy * stride_h - pad_top, ix0 = ox * stride_w - pad_left;
  __global const float* wt = w + w_off + (c / FK_PACK_TILE) * FK_PACK_TILE * (1 + kernel_h * kernel_w * group) +
                             c % FK_PACK_TILE;
  float acc = wt[0];
  for (int ky = 0; ky < kernel_h; ++ky) {
    const int iy = iy0 + ky * dilation_h;
    if (iy < 0 || iy >= in_h) continue;
    for (int kx = 0; kx < kernel_w; ++kx) {
      const int ix = ix0 + kx * dilation_w;
      if (ix < 0 || ix >= in_w) continue;
      __global const float* xp = x + x_off + (iy * in_w + ix) * in_c + x_c0;
      __global const float* wk = wt + FK_PACK_TILE * (1 + (ky * kernel_w + kx) * group);
      for (int i = 0; i < group; ++i) acc = fma(xp[i], wk[i * FK_PACK_TILE], acc);
    }
  }
  return acc;
}

// Global (out_c, out_h * out_w).
__kernel void f32_conv2d(FK_CONV_ARGS) {
  const int c = get_global_id(0), p = get_global_id(1);
  if (c >= out_c || p >= out_h * out_w) return;
  const float acc = fk_conv2d_direct(x, x_off, w, w_off, p, c, FK_CONV_GEOMETRY_VALUES, false);
  fk_conv_store(acc, p, c, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
}

// Global (out_c, out_h * out_w).
__kernel void f32_dwconv2d(FK_CONV_ARGS) {
  const int c = get_global_id(0), p = get_global_id(1);
  if (c >= out_c || p >= out_h * out_w) return;
  const float acc = fk_conv2d_direct(x, x_off, w, w_off, p, c, FK_CONV_GEOMETRY_VALUES, true);
  fk_conv_store(acc, p, c, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
}
)CLC"};

/// The conv kernels' arguments and launch (the kernels share one signature).
template <bool Depthwise>
void prepare_conv(ClStepBuilder& b, const typename ops::ConvOpDef<Depthwise>::Args& a) {
  constexpr int kGemmTile = 32, kGemmItems = 8;  // FK_GEMM_TM = FK_GEMM_TN, FK_GEMM_L
  const kernels::Conv2dGeometry& g = a.g;
  const bool gemm = !Depthwise && g.kernel_h == 1 && g.kernel_w == 1;
  ClKernelArgs k = b.kernel(kConvSource, Depthwise ? "f32_dwconv2d" : gemm ? "f32_conv2d_1x1" : "f32_conv2d");
  k.tensor(b.input(kConvX)).tensor(b.input(kConvWeights)).tensor(b.input(kConvAlpha)).tensor(b.input(kConvResidual));
  k.tensor(b.output());
  for (int v : {g.in_h, g.in_w, g.in_c, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
                g.dilation_h, g.dilation_w, g.pad_top, g.pad_left})
    k.value(cl_int(v));
  k.value(cl_int(a.residual_c)).value(cl_int(a.activation));
  const std::size_t pixels = std::size_t(g.out_h) * std::size_t(g.out_w), channels = std::size_t(g.out_c);
  if (gemm) {
    const std::size_t tiles_c = (channels + kGemmTile - 1) / kGemmTile, tiles_p = (pixels + kGemmTile - 1) / kGemmTile;
    b.launch(k, {tiles_c * kGemmItems, tiles_p * kGemmItems}, {kGemmItems, kGemmItems});
  } else {
    b.launch(k, {channels, pixels});
  }
}

template <>
struct ClOpDef<OpType::conv2d> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::conv2d>::Args& a) { prepare_conv<false>(b, a); }
};

template <>
struct ClOpDef<OpType::dwconv2d> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::dwconv2d>::Args& a) { prepare_conv<true>(b, a); }
};

}  // namespace opencl
}  // namespace facekit
