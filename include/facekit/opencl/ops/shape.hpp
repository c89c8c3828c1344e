// facekit/opencl/ops/shape.hpp - the data-movement ops on the device: pad, slice, concat, copy and
// depth_to_space. One work item per output float; no arithmetic.
//
// Slice is a pad with negative leading counts (before = -begin), every output element then lying
// inside the input; copy is a concat of one input.
#pragma once

#include "../../ops/concat.hpp"
#include "../../ops/copy.hpp"
#include "../../ops/depth_to_space.hpp"
#include "../../ops/pad.hpp"
#include "../../ops/slice.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kShapeSource{"shape", R"CLC(
// y[i0][i1][i2][i3] = x[i0 - b0][i1 - b1][i2 - b2][i3 - b3] inside x's dims (n0..n3), else value.
// Global (o3, o0 * o1 * o2): the output's innermost dimension, then its rows.
__kernel void f32_pad(__global const float* x, int x_off, __global float* y, int y_off, int n0, int n1, int n2,
                      int n3, int b0, int b1, int b2, int b3, int o0, int o1, int o2, int o3, float value) {
  const int i3 = get_global_id(0), row = get_global_id(1);
  if (i3 >= o3 || row >= o0 * o1 * o2) return;
  const int s0 = row / (o1 * o2) - b0, s1 = row / o2 % o1 - b1, s2 = row % o2 - b2, s3 = i3 - b3;
  const bool inside = s0 >= 0 && s0 < n0 && s1 >= 0 && s1 < n1 && s2 >= 0 && s2 < n2 && s3 >= 0 && s3 < n3;
  y[y_off + row * o3 + i3] = inside ? x[x_off + ((s0 * n1 + s1) * n2 + s2) * n3 + s3] : value;
}

// y[y_start + o * y_stride + j] = x[o * inner + j] for o < outer, j < inner (one input of a
// concat). Global (inner, outer).
__kernel void f32_copy_blocks(__global const float* x, int x_off, __global float* y, int y_off, int outer,
                              int inner, int y_stride, int y_start) {
  const int j = get_global_id(0), o = get_global_id(1);
  if (j >= inner || o >= outer) return;
  y[y_off + y_start + o * y_stride + j] = x[x_off + o * inner + j];
}

// Output pixel (oy, ox) channel c is input pixel (oy / b, ox / b) channel ((oy % b) b + ox % b) C + c.
// Global (C, in_w * b, in_h * b).
__kernel void f32_depth_to_space(__global const float* x, int x_off, __global float* y, int y_off, int in_h,
                                 int in_w, int out_c, int block) {
  const int c = get_global_id(0), ox = get_global_id(1), oy = get_global_id(2);
  const int out_w = in_w * block;
  if (c >= out_c || ox >= out_w || oy >= in_h * block) return;
  const int src = ((oy / block * in_w + ox / block) * block * block + (oy % block) * block + ox % block) * out_c + c;
  y[y_off + (oy * out_w + ox) * out_c + c] = x[x_off + src];
}
)CLC"};

/// Pads (or, with before = -begin, slices) a tensor right-aligned into 4 dimensions.
inline void prepare_pad(ClStepBuilder& b, const int in_dims[4], const int before[4], const int out_dims[4],
                        float value) {
  ClKernelArgs k = b.kernel(kShapeSource, "f32_pad");
  k.tensor(b.input(0)).tensor(b.output());
  for (int d = 0; d < 4; ++d) k.value(cl_int(in_dims[d]));
  for (int d = 0; d < 4; ++d) k.value(cl_int(before[d]));
  for (int d = 0; d < 4; ++d) k.value(cl_int(out_dims[d]));
  k.value(cl_float(value));
  const std::size_t rows = std::size_t(out_dims[0]) * std::size_t(out_dims[1]) * std::size_t(out_dims[2]);
  b.launch(k, {std::size_t(out_dims[3]), rows});
}

/// Copies `outer` blocks of `inner` floats of input `i` to the output at element `y_start`, the
/// output's blocks `y_stride` apart.
inline void prepare_copy_blocks(ClStepBuilder& b, int i, int outer, int inner, int y_stride, int y_start) {
  ClKernelArgs k = b.kernel(kShapeSource, "f32_copy_blocks");
  k.tensor(b.input(i)).tensor(b.output());
  k.value(cl_int(outer)).value(cl_int(inner)).value(cl_int(y_stride)).value(cl_int(y_start));
  b.launch(k, {std::size_t(inner), std::size_t(outer)});
}

template <>
struct ClOpDef<OpType::pad> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::pad>::Args& a) {
    prepare_pad(b, a.in_dims, a.before, a.out_dims, a.value);
  }
};

template <>
struct ClOpDef<OpType::slice> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::slice>::Args& a) {
    const int before[4] = {-a.begin[0], -a.begin[1], -a.begin[2], -a.begin[3]};
    prepare_pad(b, a.in_dims, before, a.out_dims, 0.0f);
  }
};

template <>
struct ClOpDef<OpType::concat> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::concat>::Args& a) {
    const int count = b.op().input_count;
    int total = 0;
    for (int i = 0; i < count; ++i) total += a.inner[i];
    for (int i = 0, start = 0; i < count; start += a.inner[i], ++i)
      prepare_copy_blocks(b, i, a.outer, a.inner[i], total, start);
  }
};

template <>
struct ClOpDef<OpType::copy> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::copy>::Args& a) {
    prepare_copy_blocks(b, 0, 1, int(a.count), int(a.count), 0);
  }
};

template <>
struct ClOpDef<OpType::depth_to_space> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::depth_to_space>::Args& a) {
    ClKernelArgs k = b.kernel(kShapeSource, "f32_depth_to_space");
    k.tensor(b.input(0)).tensor(b.output());
    k.value(cl_int(a.in_h)).value(cl_int(a.in_w)).value(cl_int(a.out_c)).value(cl_int(a.block));
    const std::size_t block = std::size_t(a.block);
    b.launch(k, {std::size_t(a.out_c), std::size_t(a.in_w) * block, std::size_t(a.in_h) * block});
  }
};

}  // namespace opencl
}  // namespace facekit
