// facekit/ops/maxpool2d.hpp - maxpool2d: shape checks, the kernel chosen once at load, the CPU
// step. Padded taps are ignored (TFLite semantics).
#pragma once

#include "../kernels/f32_maxpool2d.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::maxpool2d> : OpDefDefaults {
  struct Args {
    kernels::Pool2dGeometry g;
    kernels::Pool2dFn kernel;  ///< chosen by select()
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    const uint32_t x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, x, "input"));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, y, "output"));
    const auto p = params_of<OpType::maxpool2d>(op);
    if (p.activation != Activation::none)
      return FACEKIT_OP_ERROR(op, "a fused activation (%u) on max pooling is not supported", unsigned(p.activation));
    if (p.kernel_h < 1 || p.kernel_w < 1 || p.kernel_h > 64 || p.kernel_w > 64 || p.stride_h < 1 || p.stride_w < 1 ||
        p.stride_h > 64 || p.stride_w > 64)
      return FACEKIT_OP_ERROR(op, "kernel %dx%d / stride %dx%d out of range", p.kernel_h, p.kernel_w, p.stride_h,
                              p.stride_w);
    if (p.pad_top < 0 || p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0 || p.pad_top >= p.kernel_h ||
        p.pad_bottom >= p.kernel_h || p.pad_left >= p.kernel_w || p.pad_right >= p.kernel_w)
      return FACEKIT_OP_ERROR(op, "padding t%d l%d b%d r%d invalid for a %dx%d window", p.pad_top, p.pad_left,
                              p.pad_bottom, p.pad_right, p.kernel_h, p.kernel_w);
    const TensorInfo &xt = m.tensor(x), &yt = m.tensor(y);
    const int span_h = xt.dims[1] + p.pad_top + p.pad_bottom - p.kernel_h;
    const int span_w = xt.dims[2] + p.pad_left + p.pad_right - p.kernel_w;
    if (span_h < 0 || span_w < 0) return FACEKIT_OP_ERROR(op, "input is smaller than the window");
    const int out_h = span_h / p.stride_h + 1, out_w = span_w / p.stride_w + 1;
    if (yt.dims[1] != out_h || yt.dims[2] != out_w || yt.dims[3] != xt.dims[3])
      return FACEKIT_OP_ERROR(op, "output '%s' is %dx%dx%d, the params give %dx%dx%d", yt.name, yt.dims[1],
                              yt.dims[2], yt.dims[3], out_h, out_w, xt.dims[3]);
    a->g = kernels::Pool2dGeometry{xt.dims[1], xt.dims[2], xt.dims[3], out_h,     out_w,     p.kernel_h,
                                   p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left};
    return Status::ok();
  }

  template <class Arch>
  static Status select(const OpInfo& op, Args* a) {
    a->kernel = kernels::select_f32_maxpool2d<Arch>(a->g);
    if (!a->kernel) return FACEKIT_OP_ERROR(op, "no kernel for this configuration");
    return Status::ok();
  }

  /// One per comparison.
  static double flops(const Args& a) {
    return double(a.g.out_h) * a.g.out_w * a.g.channels * a.g.kernel_h * a.g.kernel_w;
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    a.kernel(a.g, s.in[0], s.out);
  }
};

}  // namespace ops
}  // namespace facekit
