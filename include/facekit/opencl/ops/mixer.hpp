// facekit/opencl/ops/mixer.hpp - the blendshape network's own ops on the device: point_normalize
// (its input normalisation), layer_norm and token_dense (the MLP-Mixer's token mixing; its
// channel mixing is a 1x1 conv2d).
//
// layer_norm and point_normalize keep the scalar reference's summation order (one work item per
// row, resp. per point, reading the whole set): their inputs are small (97 rows of 64, 146
// points), and matching the reference's rounding matters there (layer_norm's 1/sqrt(var + eps)
// magnifies it for near-constant rows).
#pragma once

#include "../../ops/layer_norm.hpp"
#include "../../ops/point_normalize.hpp"
#include "../../ops/token_dense.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

static_assert(kPackTile == 16, "kMixerSource's FK_TILE is kernels/pack.hpp's tile");

inline const ClSource kMixerSource{"mixer", R"CLC(
#pragma OPENCL FP_CONTRACT OFF
#define FK_TILE 16

// kernels/f32_layer_norm.hpp: y = fma(x, g, -mean * g) + beta, g = gamma / sqrt(var + eps).
// gamma_off / beta_off -1: absent (1 / 0). One work item per row.
__kernel void f32_layer_norm(__global const float* x, int x_off, __global const float* gamma, int gamma_off,
                             __global const float* beta, int beta_off, __global float* y, int y_off, int rows,
                             int channels, float eps) {
  const int p = get_global_id(0);
  if (p >= rows) return;
  __global const float* xp = x + x_off + p * channels;
  __global float* yp = y + y_off + p * channels;
  const float inv_c = fk_div(1.0f, (float)channels);
  float sum = 0.0f;
  for (int c = 0; c < channels; ++c) sum += xp[c];
  const float mean = sum * inv_c;
  float sq = 0.0f;
  for (int c = 0; c < channels; ++c) {
    const float d = xp[c] - mean;
    sq = fma(d, d, sq);
  }
  const float r = fk_div(1.0f, fk_sqrt(sq * inv_c + eps));
  for (int c = 0; c < channels; ++c) {
    const float g = gamma_off >= 0 ? r * gamma[gamma_off + c] : r;
    yp[c] = fma(xp[c], g, -mean * g) + (beta_off >= 0 ? beta[beta_off + c] : 0.0f);
  }
}

// kernels/f32_token_dense.hpp: y[o][c] = act(bias[o] + sum_t w[o][t] x[t][c] + res[o][c]), w packed
// as conv2d_oc_tile (per tile of FK_TILE rows: bias[FK_TILE], then w[t][FK_TILE]). A GEMM in
// FK_TILE x FK_TILE work-groups (channels x outputs, one packed tile of outputs per group): each
// step stages FK_TILE tokens of x and of w in local memory, read coalesced; the sum runs over the
// tokens in order, as the reference's.
__kernel __attribute__((reqd_work_group_size(FK_TILE, FK_TILE, 1)))
void f32_token_dense(__global const float* x, int x_off, __global const float* w, int w_off,
                     __global const float* res, int res_off, __global float* y, int y_off, int tokens, int channels,
                     int outputs, int act) {
  __local float xs[FK_TILE][FK_TILE];      // [token][channel]
  __local float ws[FK_TILE][FK_TILE + 1];  // [output][token], padded against bank conflicts
  const int lc = get_local_id(0), lo = get_local_id(1);
  const int c = get_group_id(0) * FK_TILE + lc, o = get_group_id(1) * FK_TILE + lo;
  // The group's packed tile; rows past `outputs` are its zero padding.
  __global const float* wt = w + w_off + get_group_id(1) * FK_TILE * (1 + tokens);
  float acc = wt[lo];
  for (int t0 = 0; t0 < tokens; t0 += FK_TILE) {
    const int t = t0 + lo;
    xs[lo][lc] = t < tokens && c < channels ? x[x_off + t * channels + c] : 0.0f;
    ws[lc][lo] = t < tokens ? wt[FK_TILE * (1 + t) + lc] : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    const int n = min(FK_TILE, tokens - t0);
    for (int k = 0; k < n; ++k) acc += ws[lo][k] * xs[k][lc];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (c >= channels || o >= outputs) return;
  if (res_off >= 0) acc += res[res_off + o * channels + c];
  y[y_off + o * channels + c] = fk_activate(acc, act, w, -1, c);
}

// kernels/f32_point_normalize.hpp: (x - mean) / mean distance, for `points` points of `dims` <= 4
// coordinates. Each work item forms the statistics itself, in the reference's order, and writes
// one point.
__kernel void f32_point_normalize(__global const float* x, int x_off, __global float* y, int y_off, int points,
                                  int dims) {
  const int i = get_global_id(0);
  if (i >= points) return;
  __global const float* xs = x + x_off;
  float mean[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int p = 0; p < points; ++p)
    for (int k = 0; k < dims; ++k) mean[k] += xs[p * dims + k];
  for (int k = 0; k < dims; ++k) mean[k] = fk_div(mean[k], (float)points);
  float dist = 0.0f;
  for (int p = 0; p < points; ++p) {
    float sq = 0.0f;
    for (int k = 0; k < dims; ++k) {
      const float d = xs[p * dims + k] - mean[k];
      sq += d * d;
    }
    dist += fk_sqrt(sq);
  }
  dist = fk_div(dist, (float)points);
  for (int k = 0; k < dims; ++k) y[y_off + i * dims + k] = fk_div(xs[i * dims + k] - mean[k], dist);
}
)CLC"};

template <>
struct ClOpDef<OpType::layer_norm> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::layer_norm>::Args& a) {
    ClKernelArgs k = b.kernel(kMixerSource, "f32_layer_norm");
    k.tensor(b.input(0)).tensor(b.input(1)).tensor(b.input(2)).tensor(b.output());
    k.value(cl_int(a.rows)).value(cl_int(a.channels)).value(cl_float(a.epsilon));
    b.launch(k, {std::size_t(a.rows)});
  }
};

template <>
struct ClOpDef<OpType::token_dense> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::token_dense>::Args& a) {
    if (b.device().max_work_group_size < std::size_t(kPackTile) * kPackTile)
      return b.fail(Status::error("token_dense needs work-groups of %d x %d items, the device allows %zu", kPackTile,
                                  kPackTile, b.device().max_work_group_size));
    ClKernelArgs k = b.kernel(kMixerSource, "f32_token_dense");
    k.tensor(b.input(kTokenDenseX)).tensor(b.input(kTokenDenseWeights)).tensor(b.input(kTokenDenseResidual));
    k.tensor(b.output());
    // kernels::token_dense_geometry: tokens in in_w, channels in in_c, outputs in out_w.
    k.value(cl_int(a.g.in_w)).value(cl_int(a.channels)).value(cl_int(a.g.out_w)).value(cl_int(a.activation));
    b.launch(k, {std::size_t(a.channels), std::size_t(a.g.out_w)}, {kPackTile, kPackTile});
  }
};

template <>
struct ClOpDef<OpType::point_normalize> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::point_normalize>::Args& a) {
    ClKernelArgs k = b.kernel(kMixerSource, "f32_point_normalize");
    k.tensor(b.input(0)).tensor(b.output()).value(cl_int(a.points)).value(cl_int(a.dims));
    b.launch(k, {std::size_t(a.points)});
  }
};

}  // namespace opencl
}  // namespace facekit
