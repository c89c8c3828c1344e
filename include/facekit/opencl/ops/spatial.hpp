// facekit/opencl/ops/spatial.hpp - the Attention Mesh's spatial transformer on the device:
// landmarks_to_transform_matrix (the crop matrix, one work item: a few dozen points),
// transform_tensor_bilinear (the feature-map crop, one work item per output element) and
// transform_landmarks (one work item per point).
//
// The arithmetic follows the scalar references (kernels/f32_affine_math.hpp): products and sums
// in float in MediaPipe's order, never contracted; the bilinear blend in double where the device
// has doubles (as the reference), else in float.
#pragma once

#include "../../ops/landmarks_to_transform_matrix.hpp"
#include "../../ops/transform_landmarks.hpp"
#include "../../ops/transform_tensor_bilinear.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kSpatialSource{"spatial", R"CLC(
#pragma OPENCL FP_CONTRACT OFF
#ifdef cl_khr_fp64
typedef double fk_real;
#else
typedef float fk_real;
#endif

// affine::dot_xy01: row . (x, y, 0, 1), summed left to right.
inline float fk_dot_xy01(const float* row, float x, float y) {
  float s = row[0] * x + row[1] * y;
  s = s + row[2] * 0.0f;
  return s + row[3] * 1.0f;
}

// affine::mat4_mul: c = a * b, row-major 4x4, each element summed from 0.
inline void fk_mat4_mul(const float* a, const float* b, float* c) {
  for (int r = 0; r < 4; ++r)
    for (int col = 0; col < 4; ++col) {
      float s = 0.0f;
      for (int k = 0; k < 4; ++k) s = s + a[4 * r + k] * b[4 * k + col];
      c[4 * r + col] = s;
    }
}

// (px, py) rotated by the rows (cc, -ss, 0) and (ss, cc, 0), summed from 0.
inline float2 fk_rotate(float px, float py, float cc, float ss) {
  return (float2)(((0.0f + cc * px) + -ss * py) + 0.0f * 1.0f, ((0.0f + ss * px) + cc * py) + 0.0f * 1.0f);
}

// kernels/f32_landmarks_to_transform_matrix.hpp. half_w, half_h: -(output size / 2).
__kernel void f32_landmarks_to_transform_matrix(__global const float* x, int x_off, __global const float* subset,
                                                int subset_off, __global float* m, int m_off, int dims, int count,
                                                int left, int right, int out_w, int out_h, float scale_x,
                                                float scale_y, float target_rotation, float half_w, float half_h) {
  if (get_global_id(0) != 0) return;
  __global const float* l = x + x_off + left * dims;
  __global const float* r = x + x_off + right * dims;
  const float rot = target_rotation - atan2(r[1] - l[1], r[0] - l[0]);
  const float c = cos(rot), s = sin(rot), ci = cos(-rot), si = sin(-rot);
  float minx = 0.0f, miny = 0.0f, maxx = 0.0f, maxy = 0.0f;
  for (int i = 0; i < count; ++i) {
    __global const float* p = x + x_off + (int)subset[subset_off + i] * dims;
    const float2 q = fk_rotate(p[0], p[1], c, s);
    if (i == 0) {
      minx = maxx = q.x;
      miny = maxy = q.y;
      continue;
    }
    if (maxx < q.x) maxx = q.x;
    if (maxy < q.y) maxy = q.y;
    if (minx > q.x) minx = q.x;
    if (miny > q.y) miny = q.y;
  }
  const float crop_w = maxx - minx, crop_h = maxy - miny;
  const float2 centre = fk_rotate(fk_div(minx + maxx, 2.0f), fk_div(miny + maxy, 2.0f), ci, si);
  const float pc = cos(-rot), ps = sin(-rot);
  const float sx = fk_div(scale_x * crop_w, (float)out_w), sy = fk_div(scale_y * crop_h, (float)out_h);
  const float id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float shift[16] = {1, 0, 0, centre.x, 0, 1, 0, centre.y, 0, 0, 1, 0, 0, 0, 0, 1};
  const float rotm[16] = {pc, -ps, 0, 0, ps, pc, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float scale[16] = {sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float shift2[16] = {1, 0, 0, half_w, 0, 1, 0, half_h, 0, 0, 1, 0, 0, 0, 0, 1};
  float a[16], b[16], out[16];
  fk_mat4_mul(id, shift, a);
  fk_mat4_mul(a, rotm, b);
  fk_mat4_mul(b, scale, a);
  fk_mat4_mul(a, shift2, out);
  for (int i = 0; i < 16; ++i) m[m_off + i] = out[i];
}

// kernels/f32_transform_tensor_bilinear.hpp: output (X, Y), channel c samples x at the matrix's
// first two rows (version 2's pixel-centre correction formed as bilinear_rows_from_matrix does).
__kernel void f32_transform_tensor_bilinear(__global const float* x, int x_off, __global const float* m, int m_off,
                                            __global float* y, int y_off, int in_h, int in_w, int channels,
                                            int out_h, int out_w, int pixel_centers) {
  const int c = get_global_id(0), X = get_global_id(1), Y = get_global_id(2);
  if (c >= channels || X >= out_w || Y >= out_h) return;
  float rows[8];
  for (int i = 0; i < 8; ++i) rows[i] = m[m_off + i];
  if (pixel_centers) {
    rows[3] = (float)((fk_real)rows[3] + ((fk_real)rows[0] * 0.5 + (fk_real)rows[1] * 0.5 - 0.5));
    rows[7] = (float)((fk_real)rows[7] + ((fk_real)rows[4] * 0.5 + (fk_real)rows[5] * 0.5 - 0.5));
  }
  const float tx = fk_dot_xy01(rows, (float)X, (float)Y), ty = fk_dot_xy01(rows + 4, (float)X, (float)Y);
  __global float* out = y + y_off + (Y * out_w + X) * channels + c;
  if (!(tx >= 0.0f && tx <= (float)(in_w - 1) && ty >= 0.0f && ty <= (float)(in_h - 1))) {
    *out = 0.0f;
    return;
  }
  const float fx0 = floor(tx), fy0 = floor(ty);
  const int x0 = (int)fx0, y0 = (int)fy0;
  const int x1 = x0 + 1 < in_w ? x0 + 1 : x0, y1 = y0 + 1 < in_h ? y0 + 1 : y0;
  const float fx = tx - fx0, fy = ty - fy0;
  __global const float* xs = x + x_off + c;
  const float q00 = xs[(y0 * in_w + x0) * channels], q01 = xs[(y0 * in_w + x1) * channels];
  const float q10 = xs[(y1 * in_w + x0) * channels], q11 = xs[(y1 * in_w + x1) * channels];
  const fk_real omfx = (fk_real)1.0 - (fk_real)fx, omfy = (fk_real)1.0 - (fk_real)fy;
  const float upper = (float)(omfx * q00 + (fk_real)(fx * q01));
  const float lower = (float)(omfx * q10 + (fk_real)(fx * q11));
  *out = (float)((fk_real)(fy * lower) + omfy * (fk_real)upper);
}

// kernels/f32_transform_landmarks.hpp: one point per work item; factor_off -1: no factor.
__kernel void f32_transform_landmarks(__global const float* x, int x_off, __global const float* matrix, int m_off,
                                      __global const float* factor, int f_off, __global float* y, int y_off,
                                      int points, int dims, float translation_scale) {
  const int i = get_global_id(0);
  if (i >= points) return;
  float m[8];
  for (int k = 0; k < 8; ++k) m[k] = f_off >= 0 ? matrix[m_off + k] * factor[f_off + k] : matrix[m_off + k];
  m[3] = m[3] * translation_scale;
  m[7] = m[7] * translation_scale;
  __global const float* p = x + x_off + i * dims;
  __global float* q = y + y_off + i * dims;
  const float px = p[0], py = p[1];
  q[0] = fk_dot_xy01(m, px, py);
  q[1] = fk_dot_xy01(m + 4, px, py);
  if (dims > 2) q[2] = p[2];
}
)CLC"};

template <>
struct ClOpDef<OpType::landmarks_to_transform_matrix> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::landmarks_to_transform_matrix>::Args& a) {
    const kernels::LandmarksToTransformConfig& c = a.config;
    ClKernelArgs k = b.kernel(kSpatialSource, "f32_landmarks_to_transform_matrix");
    k.tensor(b.input(kL2tLandmarks)).tensor(b.input(kL2tSubset)).tensor(b.output());
    k.value(cl_int(a.dims)).value(cl_int(a.subset_count)).value(cl_int(c.left)).value(cl_int(c.right));
    k.value(cl_int(c.output_width)).value(cl_int(c.output_height)).value(cl_float(c.scale_x));
    k.value(cl_float(c.scale_y)).value(cl_float(c.target_rotation));
    // The reference's float(-1.0 * (size / 2.0)), formed here in double as there.
    k.value(cl_float(-1.0 * (c.output_width / 2.0))).value(cl_float(-1.0 * (c.output_height / 2.0)));
    b.launch(k, {1});
  }
};

template <>
struct ClOpDef<OpType::transform_tensor_bilinear> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::transform_tensor_bilinear>::Args& a) {
    const kernels::BilinearGeometry& g = a.g;
    ClKernelArgs k = b.kernel(kSpatialSource, "f32_transform_tensor_bilinear");
    k.tensor(b.input(0)).tensor(b.input(1)).tensor(b.output());
    k.value(cl_int(g.in_h)).value(cl_int(g.in_w)).value(cl_int(g.channels)).value(cl_int(g.out_h));
    k.value(cl_int(g.out_w)).value(cl_int(a.pixel_centers ? 1 : 0));
    b.launch(k, {std::size_t(g.channels), std::size_t(g.out_w), std::size_t(g.out_h)});
  }
};

template <>
struct ClOpDef<OpType::transform_landmarks> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::transform_landmarks>::Args& a) {
    ClKernelArgs k = b.kernel(kSpatialSource, "f32_transform_landmarks");
    k.tensor(b.input(kTlPoints)).tensor(b.input(kTlMatrix)).tensor(b.input(kTlFactor)).tensor(b.output());
    k.value(cl_int(a.points)).value(cl_int(a.dims)).value(cl_float(a.translation_scale));
    b.launch(k, {std::size_t(a.points)});
  }
};

}  // namespace opencl
}  // namespace facekit
