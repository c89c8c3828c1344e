// facekit/opencl/ops/pool.hpp - maxpool2d on the device: one work item per output pixel and 16
// channels, the window clipped to the image (padded taps are ignored, as on the CPU).
#pragma once

#include "../../ops/maxpool2d.hpp"
#include "../cl_step.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kPoolSource{"pool", R"CLC(
// Global (ceil(channels / 16), out_h * out_w); the fields of kernels::Pool2dGeometry.
__kernel void f32_maxpool2d(__global const float* x, int x_off, __global float* y, int y_off, int in_h, int in_w,
                            int channels, int out_h, int out_w, int kernel_h, int kernel_w, int stride_h,
                            int stride_w, int pad_top, int pad_left) {
  const int c0 = get_global_id(0) * 16, p = get_global_id(1);
  if (c0 >= channels || p >= out_h * out_w) return;
  const int iy0 = (p / out_w) * stride_h - pad_top, ix0 = (p % out_w) * stride_w - pad_left;
  const int ky0 = max(0, -iy0), ky1 = min(kernel_h, in_h - iy0);
  const int kx0 = max(0, -ix0), kx1 = min(kernel_w, in_w - ix0);
  float16 m = -INFINITY;
  for (int ky = ky0; ky < ky1; ++ky)
    for (int kx = kx0; kx < kx1; ++kx) {
      const int i = ((iy0 + ky) * in_w + ix0 + kx) * channels + c0;
      m = fmax(m, fk_load16(x + x_off + i, channels - c0, in_h * in_w * channels - i));
    }
  fk_store16(m, y + y_off + p * channels + c0, channels - c0);
}
)CLC"};

template <>
struct ClOpDef<OpType::maxpool2d> {
  static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::maxpool2d>::Args& a) {
    const kernels::Pool2dGeometry& g = a.g;
    ClKernelArgs k = b.kernel(kPoolSource, "f32_maxpool2d");
    k.tensor(b.input(0)).tensor(b.output());
    for (int v : {g.in_h, g.in_w, g.channels, g.out_h, g.out_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
                  g.pad_top, g.pad_left})
      k.value(cl_int(v));
    b.launch(k, {(std::size_t(g.channels) + kPackTile - 1) / kPackTile, std::size_t(g.out_h) * std::size_t(g.out_w)});
  }
};

}  // namespace opencl
}  // namespace facekit
