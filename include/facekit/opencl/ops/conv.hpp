// facekit/opencl/ops/conv.hpp - conv2d and dwconv2d on the device, reading the packed weights of
// kernels/pack.hpp (per tile of 16 output channels: bias[16], then w[KH][KW][I][16]) and fusing
// the CPU's epilogue: act(acc + bias + zero_extend(residual)).
//
// A work item computes whole packed tiles: 16 channels in one float16, the tile's weights read as
// float16 rows. Channels beyond out_c (the last tile's padding) are computed with the packing's
// zero weights and not stored.
//  - f32_conv2d_1x1: a 1x1 conv (any stride; a 1x1 kernel has no padding) is the GEMM
//    Y[P][O] = X[P][I] W[I][O], tiled: a work-group computes 32 pixels x 2 tiles, staging
//    16-deep slices of X and W in local memory; each item accumulates 8 pixels x 1 tile.
//  - f32_conv2d (any other conv) and f32_dwconv2d: direct, one work item per pixel and tile.
// Sizes tuned on PoCL (a CPU: few items per group, wide vectors). A GPU wants bigger groups
// with fewer accumulators per item (e.g. 16 x 16 items, one channel lane each).
#pragma once

#include "../../ops/conv2d.hpp"
#include "../../ops/dwconv2d.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kConvSource{"conv", R"CLC(
// kernels::Conv2dGeometry, field by field.
#define FK_CONV_GEOMETRY int in_h, int in_w, int in_c, int out_h, int out_w, int out_c, int kernel_h, \
  int kernel_w, int stride_h, int stride_w, int dilation_h, int dilation_w, int pad_top, int pad_left
#define FK_CONV_GEOMETRY_VALUES in_h, in_w, in_c, out_h, out_w, out_c, kernel_h, kernel_w, stride_h, stride_w, \
  dilation_h, dilation_w, pad_top, pad_left
// Every conv kernel's arguments (prepare_conv() sets them).
#define FK_CONV_ARGS __global const float* x, int x_off, __global const float* w, int w_off, \
  __global const float* alpha, int alpha_off, __global const float* res, int res_off, __global float* y, int y_off, \
  FK_CONV_GEOMETRY, int res_c, int act

#define FK_PACK_TILE 16

// The 1x1 GEMM's tiles (prepare_conv() launches with the same numbers).
#define FK_GEMM_TM 32  // pixels per work-group
#define FK_GEMM_RM 8   // pixels per work item
#define FK_GEMM_NT 2   // packed tiles per work-group (one per item along dimension 0)
#define FK_GEMM_TK 16  // depth of a local-memory slice: one float16 row of X per pixel

// The fused epilogue of output pixel p, channels c0 .. c0 + 15 (those below out_c are stored):
// the residual (res_c channels, zero-extended; absent when res_off < 0), then the activation
// (alpha is channel_padded: whole tiles).
inline void fk_conv_store16(float16 acc, int p, int pixels, int c0, int out_c, __global const float* res, int res_off,
                            int res_c, __global const float* alpha, int alpha_off, int act, __global float* y,
                            int y_off) {
  if (res_off >= 0) acc += fk_load16(res + res_off + p * res_c + c0, res_c - c0, (pixels - p) * res_c - c0);
  if (act == FK_ACT_RELU) acc = fmax(acc, 0.0f);
  if (act == FK_ACT_RELU6) acc = clamp(acc, 0.0f, 6.0f);
  if (act == FK_ACT_PRELU) acc = select(acc * vload16(0, alpha + alpha_off + c0), acc, acc >= 0.0f);
  fk_store16(acc, y + y_off + p * out_c + c0, out_c - c0);
}

// Global (tiles rounded up to NT, ceil(pixels / TM) * TM / RM), local (NT, TM / RM).
__kernel __attribute__((reqd_work_group_size(FK_GEMM_NT, FK_GEMM_TM / FK_GEMM_RM, 1)))
void f32_conv2d_1x1(FK_CONV_ARGS) {
  __local float xs[FK_GEMM_TM][FK_GEMM_TK];
  __local float ws[FK_GEMM_NT][FK_GEMM_TK][FK_PACK_TILE];
  const int tj = get_local_id(0), ti = get_local_id(1);
  const int t = get_global_id(0), p0 = get_group_id(1) * FK_GEMM_TM;
  const int tiles = (out_c + FK_PACK_TILE - 1) / FK_PACK_TILE;
  const int pixels = out_h * out_w, tile_stride = FK_PACK_TILE * (1 + in_c);
  const int item = ti * FK_GEMM_NT + tj, items = FK_GEMM_NT * FK_GEMM_TM / FK_GEMM_RM;
  float16 acc[FK_GEMM_RM];
  const float16 bias = t < tiles ? vload16(0, w + w_off + t * tile_stride) : (float16)0.0f;
  for (int r = 0; r < FK_GEMM_RM; ++r) acc[r] = bias;
  for (int k0 = 0; k0 < in_c; k0 += FK_GEMM_TK) {
    const int kn = min(FK_GEMM_TK, in_c - k0);
    for (int row = item; row < FK_GEMM_TM; row += items) {
      const int p = p0 + row;
      const int xi = ((p / out_w) * stride_h * in_w + (p % out_w) * stride_w) * in_c + k0;
      vstore16(fk_load16(x + x_off + xi, p < pixels ? kn : 0, in_h * in_w * in_c - xi), 0, xs[row]);
    }
    for (int row = item; row < FK_GEMM_NT * FK_GEMM_TK; row += items) {
      const int tt = get_group_id(0) * FK_GEMM_NT + row / FK_GEMM_TK, k = row % FK_GEMM_TK;
      const float16 v = tt < tiles && k < kn ? vload16(0, w + w_off + tt * tile_stride + FK_PACK_TILE * (1 + k0 + k))
                                             : (float16)0.0f;
      vstore16(v, 0, ws[row / FK_GEMM_TK][k]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (t < tiles) {  // the group's second tile may lie past out_c: it only helps to load
      for (int k = 0; k < FK_GEMM_TK; ++k) {
        const float16 wv = vload16(0, ws[tj][k]);
        for (int r = 0; r < FK_GEMM_RM; ++r) acc[r] = fma((float16)xs[ti * FK_GEMM_RM + r][k], wv, acc[r]);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (t >= tiles) return;
  for (int r = 0; r < FK_GEMM_RM; ++r) {
    const int p = p0 + ti * FK_GEMM_RM + r;
    if (p < pixels)
      fk_conv_store16(acc[r], p, pixels, t * FK_PACK_TILE, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
  }
}

// The direct conv of output pixel p, the 16 channels of packed tile t: a conv reads all in_c input
// channels per tap, a depthwise conv (in_c == out_c) the tile's own.
inline float16 fk_conv2d_direct(__global const float* x, int x_off, __global const float* w, int w_off, int p, int t,
                                FK_CONV_GEOMETRY, const bool depthwise) {
  const int group = depthwise ? 1 : in_c, c0 = t * FK_PACK_TILE;
  const int oy = p / out_w, ox = p % out_w;
  const int iy0 = oy * stride_h - pad_top, ix0 = ox * stride_w - pad_left;
  __global const float* wt = w + w_off + t * FK_PACK_TILE * (1 + kernel_h * kernel_w * group);
  float16 acc = vload16(0, wt);
  for (int ky = 0; ky < kernel_h; ++ky) {
    const int iy = iy0 + ky * dilation_h;
    if (iy < 0 || iy >= in_h) continue;
    for (int kx = 0; kx < kernel_w; ++kx) {
      const int ix = ix0 + kx * dilation_w;
      if (ix < 0 || ix >= in_w) continue;
      const int xi = (iy * in_w + ix) * in_c;
      __global const float* xp = x + x_off + xi;
      __global const float* wk = wt + FK_PACK_TILE * (1 + (ky * kernel_w + kx) * group);
      if (depthwise) {
        acc = fma(fk_load16(xp + c0, in_c - c0, in_h * in_w * in_c - xi - c0), vload16(0, wk), acc);
      } else {
        for (int i = 0; i < in_c; ++i) acc = fma((float16)xp[i], vload16(i, wk), acc);
      }
    }
  }
  return acc;
}

// Global (tiles, out_h * out_w).
__kernel void f32_conv2d(FK_CONV_ARGS) {
  const int t = get_global_id(0), p = get_global_id(1);
  if (t * FK_PACK_TILE >= out_c || p >= out_h * out_w) return;
  const float16 acc = fk_conv2d_direct(x, x_off, w, w_off, p, t, FK_CONV_GEOMETRY_VALUES, false);
  fk_conv_store16(acc, p, out_h * out_w, t * FK_PACK_TILE, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
}

// Global (tiles, out_h * out_w).
__kernel void f32_dwconv2d(FK_CONV_ARGS) {
  const int t = get_global_id(0), p = get_global_id(1);
  if (t * FK_PACK_TILE >= out_c || p >= out_h * out_w) return;
  const float16 acc = fk_conv2d_direct(x, x_off, w, w_off, p, t, FK_CONV_GEOMETRY_VALUES, true);
  fk_conv_store16(acc, p, out_h * out_w, t * FK_PACK_TILE, out_c, res, res_off, res_c, alpha, alpha_off, act, y, y_off);
}
)CLC"};

/// The conv kernels' arguments and launch (the kernels share one signature).
template <bool Depthwise>
void prepare_conv(ClStepBuilder& b, const typename ops::ConvOpDef<Depthwise>::Args& a) {
  constexpr std::size_t kTile = kPackTile, kGemmTm = 32, kGemmRm = 8, kGemmNt = 2;  // FK_PACK_TILE, FK_GEMM_*
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
  const std::size_t tiles = (channels + kTile - 1) / kTile;
  if (gemm)
    b.launch(k, {tiles, (pixels + kGemmTm - 1) / kGemmTm * (kGemmTm / kGemmRm)}, {kGemmNt, kGemmTm / kGemmRm});
  else
    b.launch(k, {tiles, pixels});
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
