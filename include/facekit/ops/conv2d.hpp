// facekit/ops/conv2d.hpp - conv2d (and, through ConvOpDef<true>, dwconv2d): shape checks, the
// kernel variant chosen once at load, the CPU step.
#pragma once

#include "../kernels/f32_conv2d.hpp"
#include "../kernels/f32_dwconv2d.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

/// Output = act(conv(x) + bias + residual); the residual may have fewer channels (zero-extended).
template <bool Depthwise>
struct ConvOpDef : OpDefDefaults {
  struct Args {
    kernels::Conv2dGeometry g;
    Activation activation;
    int residual_c;  ///< channels of the residual input; 0 without one
    kernels::Conv2dFn kernel;  ///< chosen by select()
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 4, 1));
    const uint32_t x = op.inputs[kConvX], w = op.inputs[kConvWeights], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, x, "input"));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, y, "output"));
    FACEKIT_RETURN_IF_ERROR(require_constant(
        m, op, w, Depthwise ? format::Layout::dwconv2d_c_tile : format::Layout::conv2d_oc_tile, "weights"));
    const auto p = op.params.as<Conv2dParams>();
    FACEKIT_RETURN_IF_ERROR(require_activation_param(op, p.activation));
    const TensorInfo &xt = m.tensor(x), &wt = m.tensor(w), &yt = m.tensor(y);
    const int kh = wt.dims[1], kw = wt.dims[2];
    if (p.kernel_h != kh || p.kernel_w != kw)
      return FACEKIT_OP_ERROR(op, "kernel %dx%d in the params but the weights '%s' are %dx%d", p.kernel_h, p.kernel_w,
                              wt.name, kh, kw);
    if (p.stride_h < 1 || p.stride_w < 1 || p.stride_h > 16 || p.stride_w > 16)
      return FACEKIT_OP_ERROR(op, "stride %dx%d out of range 1..16", p.stride_h, p.stride_w);
    if (p.dilation_h < 1 || p.dilation_w < 1 || p.dilation_h > 64 || p.dilation_w > 64)
      return FACEKIT_OP_ERROR(op, "dilation %dx%d out of range 1..64", p.dilation_h, p.dilation_w);
    const int ext_h = (kh - 1) * p.dilation_h + 1, ext_w = (kw - 1) * p.dilation_w + 1;
    if (p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0 || p.pad_top >= ext_h ||
        p.pad_bottom >= ext_h || p.pad_left >= ext_w || p.pad_right >= ext_w)
      return FACEKIT_OP_ERROR(op, "padding t%d l%d b%d r%d invalid for a %dx%d kernel", p.pad_top, p.pad_left,
                              p.pad_bottom, p.pad_right, ext_h, ext_w);
    const int in_h = xt.dims[1], in_w = xt.dims[2], in_c = xt.dims[3];
    const int span_h = in_h + p.pad_top + p.pad_bottom - ext_h, span_w = in_w + p.pad_left + p.pad_right - ext_w;
    if (span_h < 0 || span_w < 0)
      return FACEKIT_OP_ERROR(op, "input %dx%d is smaller than the %dx%d kernel", in_h, in_w, ext_h, ext_w);
    const int out_h = span_h / p.stride_h + 1, out_w = span_w / p.stride_w + 1;
    const int out_c = Depthwise ? wt.dims[3] : wt.dims[0];
    if (yt.dims[1] != out_h || yt.dims[2] != out_w || yt.dims[3] != out_c)
      return FACEKIT_OP_ERROR(op, "output '%s' is %dx%dx%d, the params give %dx%dx%d", yt.name, yt.dims[1],
                              yt.dims[2], yt.dims[3], out_h, out_w, out_c);
    if (in_c != wt.dims[3])
      return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, the weights '%s' expect %d", xt.name, in_c, wt.name,
                              wt.dims[3]);
    if (Depthwise && wt.dims[0] != 1) return FACEKIT_OP_ERROR(op, "depth multiplier must be 1");
    if (p.activation == Activation::prelu) FACEKIT_RETURN_IF_ERROR(require_alpha(m, op, op.input(kConvAlpha), out_c));
    const uint32_t r = op.input(kConvResidual);
    a->residual_c = 0;
    if (r != kNoTensor) {
      FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, r, "residual"));
      const TensorInfo& rt = m.tensor(r);
      if (rt.dims[1] != out_h || rt.dims[2] != out_w || rt.dims[3] > out_c)
        return FACEKIT_OP_ERROR(op, "residual '%s' is %dx%dx%d, must be %dx%d with at most %d channels", rt.name,
                                rt.dims[1], rt.dims[2], rt.dims[3], out_h, out_w, out_c);
      a->residual_c = rt.dims[3];
    }
    a->g = kernels::Conv2dGeometry{in_h,  in_w, in_c,       out_h,      out_w,        out_c,        kh,
                                   kw,    p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left};
    a->activation = p.activation;
    return Status::ok();
  }

  template <class Arch>
  static Status select(const OpInfo& op, Args* a) {
    const bool residual = op.input(kConvResidual) != kNoTensor;
    a->kernel = Depthwise ? kernels::select_f32_dwconv2d<Arch>(a->g, a->activation, residual)
                          : kernels::select_f32_conv2d<Arch>(a->g, a->activation, residual);
    if (!a->kernel) return FACEKIT_OP_ERROR(op, "no kernel for this configuration");
    return Status::ok();
  }

  /// Two per multiply-add.
  static double flops(const Args& a) {
    return 2.0 * a.g.out_h * a.g.out_w * a.g.out_c * a.g.kernel_h * a.g.kernel_w * (Depthwise ? 1 : a.g.in_c);
  }

  /// Threads share the output: conv2d's pixels (its GEMM rows), dwconv2d's rows (its kernel
  /// sweeps a row at a time).
  static SplitRows split(const Args& a) { return {Depthwise ? a.g.out_h : a.g.out_h * a.g.out_w, 1}; }

  template <class Arch>
  static void run_range(const CpuStep& s, int begin, int end) {
    const Args& a = s.args_as<Args>();
    const kernels::Epilogue e{s.in[kConvAlpha], s.in[kConvResidual], a.residual_c, a.activation};
    a.kernel(a.g, s.in[kConvX], s.in[kConvWeights], e, s.out, kernels::OutRange{begin, end});
  }
};

template <>
struct OpDef<OpType::conv2d> : ConvOpDef<false> {};

}  // namespace ops
}  // namespace facekit
