// facekit/opencl/ops/elementwise.hpp - relu, logistic, prelu, add and mul on the device: one work
// item per element.
#pragma once

#include "../../ops/add.hpp"
#include "../../ops/logistic.hpp"
#include "../../ops/mul.hpp"
#include "../../ops/prelu.hpp"
#include "../../ops/relu.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kElementwiseSource{"elementwise", R"CLC(
__kernel void f32_relu(__global const float* x, int x_off, __global float* y, int y_off, int n) {
  const int i = get_global_id(0);
  if (i >= n) return;
  const float v = x[x_off + i];
  y[y_off + i] = v > 0.0f ? v : 0.0f;
}

__kernel void f32_logistic(__global const float* x, int x_off, __global float* y, int y_off, int n) {
  const int i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = 1.0f / (1.0f + exp(-x[x_off + i]));
}

// y[p][c] = act(a[p][c] + (c < b_c ? b[p][c] : 0)): b may have fewer channels (zero-extended).
__kernel void f32_add(__global const float* a, int a_off, __global const float* b, int b_off,
                      __global const float* alpha, int alpha_off, __global float* y, int y_off,
                      int pixels, int channels, int b_c, int act) {
  const int c = get_global_id(0), p = get_global_id(1);
  if (c >= channels || p >= pixels) return;
  const float bv = c < b_c ? b[b_off + p * b_c + c] : 0.0f;
  y[y_off + p * channels + c] = fk_activate(a[a_off + p * channels + c] + bv, act, alpha, alpha_off, c);
}

// y[p][c] = x[p][c] >= 0 ? x[p][c] : x[p][c] * alpha[c] (alpha channel_padded).
__kernel void f32_prelu(__global const float* x, int x_off, __global const float* alpha, int alpha_off,
                        __global float* y, int y_off, int pixels, int channels) {
  const int c = get_global_id(0), p = get_global_id(1);
  if (c >= channels || p >= pixels) return;
  y[y_off + p * channels + c] = fk_activate(x[x_off + p * channels + c], FK_ACT_PRELU, alpha, alpha_off, c);
}

// y[p][c] = x[p][c] * b[c].
__kernel void f32_mul(__global const float* x, int x_off, __global const float* b, int b_off, __global float* y,
                      int y_off, int pixels, int channels) {
  const int c = get_global_id(0), p = get_global_id(1);
  if (c >= channels || p >= pixels) return;
  y[y_off + p * channels + c] = x[x_off + p * channels + c] * b[b_off + c];
}
)CLC"};

/// One work item per element of a unary op (ops/unary.hpp's Args).
inline void prepare_unary(ClStepBuilder& b, std::size_t count, const char* kernel) {
  ClKernelArgs k = b.kernel(kElementwiseSource, kernel);
  k.tensor(b.input(0)).tensor(b.output()).value(cl_int(count));
  b.launch(k, {count});
}

template <>
struct ClOpDef<OpType::relu> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::relu>::Args& a) {
    prepare_unary(b, a.count, "f32_relu");
  }
};

template <>
struct ClOpDef<OpType::logistic> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::logistic>::Args& a) {
    prepare_unary(b, a.count, "f32_logistic");
  }
};

template <>
struct ClOpDef<OpType::add> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::add>::Args& a) {
    ClKernelArgs k = b.kernel(kElementwiseSource, "f32_add");
    k.tensor(b.input(0)).tensor(b.input(1)).tensor(b.input(2)).tensor(b.output());
    k.value(cl_int(a.pixels)).value(cl_int(a.channels)).value(cl_int(a.b_channels)).value(cl_int(a.activation));
    b.launch(k, {std::size_t(a.channels), std::size_t(a.pixels)});
  }
};

/// One work item per element of an op on [pixels][channels] with a per-channel vector (input 1).
inline void prepare_channelwise(ClStepBuilder& b, int pixels, int channels, const char* kernel) {
  ClKernelArgs k = b.kernel(kElementwiseSource, kernel);
  k.tensor(b.input(0)).tensor(b.input(1)).tensor(b.output()).value(cl_int(pixels)).value(cl_int(channels));
  b.launch(k, {std::size_t(channels), std::size_t(pixels)});
}

template <>
struct ClOpDef<OpType::prelu> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::prelu>::Args& a) {
    prepare_channelwise(b, a.pixels, a.channels, "f32_prelu");
  }
};

template <>
struct ClOpDef<OpType::mul> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::mul>::Args& a) {
    prepare_channelwise(b, a.pixels, a.channels, "f32_mul");
  }
};

}  // namespace opencl
}  // namespace facekit
