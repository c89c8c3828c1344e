// facekit/opencl/ops/resize.hpp - resize_bilinear on the device: one work item per output
// element, the sampling rule of kernels/f32_resize_bilinear.hpp (the scales are computed on the
// host by the same function, so both sides start from the same floats).
#pragma once

#include "../../ops/resize_bilinear.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kResizeSource{"resize", R"CLC(
// The source position must round as on the CPU: no fused multiply-adds in it.
#pragma OPENCL FP_CONTRACT OFF

// kernels::detail::resize_tap: the two source rows (columns) of output index v, and the weight
// of the second.
inline float fk_resize_tap(int v, float scale, int half_pixel, int in_size, int* lo, int* hi) {
  const float s = half_pixel ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
  *lo = max((int)floor(s), 0);
  *hi = min((int)ceil(s), in_size - 1);
  return s - (float)*lo;
}

// Global (channels, out_w, out_h).
__kernel void f32_resize_bilinear(__global const float* x, int x_off, __global float* y, int y_off, int in_h,
                                  int in_w, int channels, int out_h, int out_w, float scale_h, float scale_w,
                                  int half_pixel) {
  const int c = get_global_id(0), ox = get_global_id(1), oy = get_global_id(2);
  if (c >= channels || ox >= out_w || oy >= out_h) return;
  int y0, y1, x0, x1;
  const float wy = fk_resize_tap(oy, scale_h, half_pixel, in_h, &y0, &y1);
  const float wx = fk_resize_tap(ox, scale_w, half_pixel, in_w, &x0, &x1);
  __global const float* xc = x + x_off + c;
  float acc = xc[(y0 * in_w + x0) * channels] * ((1.0f - wy) * (1.0f - wx));
  acc = fma(xc[(y1 * in_w + x0) * channels], wy * (1.0f - wx), acc);
  acc = fma(xc[(y0 * in_w + x1) * channels], (1.0f - wy) * wx, acc);
  y[y_off + (oy * out_w + ox) * channels + c] = fma(xc[(y1 * in_w + x1) * channels], wy * wx, acc);
}
)CLC"};

template <>
struct ClOpDef<OpType::resize_bilinear> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::resize_bilinear>::Args& g) {
    ClKernelArgs k = b.kernel(kResizeSource, "f32_resize_bilinear");
    k.tensor(b.input(0)).tensor(b.output());
    for (int v : {g.in_h, g.in_w, g.channels, g.out_h, g.out_w}) k.value(cl_int(v));
    k.value(cl_float(kernels::detail::resize_scale(g.in_h, g.out_h, g.align_corners)));
    k.value(cl_float(kernels::detail::resize_scale(g.in_w, g.out_w, g.align_corners)));
    k.value(cl_int(g.half_pixel_centers));
    b.launch(k, {std::size_t(g.channels), std::size_t(g.out_w), std::size_t(g.out_h)});
  }
};

}  // namespace opencl
}  // namespace facekit
