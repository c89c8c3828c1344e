// facekit/ops/pool2d.hpp - maxpool2d: shape checks and kernel choice.
#pragma once

#include "../kernels/f32_maxpool2d.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <class Arch>
Status prepare_maxpool2d(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  const uint32_t x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, x, "input"));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, y, "output"));
  const auto p = op.params.as<Pool2dParams>();
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
    return FACEKIT_OP_ERROR(op, "output '%s' is %dx%dx%d, the params give %dx%dx%d", yt.name, yt.dims[1], yt.dims[2],
                            yt.dims[3], out_h, out_w, xt.dims[3]);
  copy_io(op, s);
  s->pool = kernels::Pool2dGeometry{xt.dims[1], xt.dims[2], xt.dims[3], out_h,      out_w,     p.kernel_h,
                                    p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left};
  s->pool_fn = kernels::select_f32_maxpool2d<Arch>(s->pool);
  if (!s->pool_fn) return FACEKIT_OP_ERROR(op, "no kernel for this configuration");
  s->run = [](const Step& st) { st.pool_fn(st.pool, st.in[0], st.out); };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
