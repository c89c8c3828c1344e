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
// as conv2d_oc_tile (per tile of FK_TILE rows: bias[FK_TILE], then w[t][FK_TILE]). One work item
// per output element, c fastest (x and y coalesced, w broadcast).
__kernel void f32_token_dense(__global const float* x, int x_off, __global const float* w, int w_off,
                              __global const float* res, int res_off, __global float* y, int y_off, int tokens,
                              int channels, int outputs, int act) {
  const int c = get_global_id(0), o = get_global_id(1);
  if (c >= channels || o >= outputs) return;
  __global const float* wt = w + w_off + (o / FK_TILE) * FK_TILE * (1 + tokens) + o % FK_TILE;
  __global const float* xc = x + x_off + c;
  float acc = wt[0];
  for (int t = 0; t < tokens; ++t) acc += wt[FK_TILE * (1 + t)] * xc[t * channels];
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
    ClKernelArgs k = b.kernel(kMixerSource, "f32_token_dense");
    k.tensor(b.input(kTokenDenseX)).tensor(b.input(kTokenDenseWeights)).tensor(b.input(kTokenDenseResidual));
    k.tensor(b.output());
    // kernels::token_dense_geometry: tokens in in_w, channels in in_c, outputs in out_w.
    k.value(cl_int(a.g.in_w)).value(cl_int(a.channels)).value(cl_int(a.g.out_w)).value(cl_int(a.activation));
    b.launch(k, {std::size_t(a.channels), std::size_t(a.g.out_w)});
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
