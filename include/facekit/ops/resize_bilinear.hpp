// facekit/ops/resize_bilinear.hpp - resize_bilinear (TFLite RESIZE_BILINEAR, float).
#pragma once

#include "../kernels/f32_resize_bilinear.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::resize_bilinear> : OpDefDefaults {
  using Args = kernels::ResizeBilinearGeometry;

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.dims[3] != yt.dims[3])
      return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, output '%s' %d", xt.name, xt.dims[3], yt.name,
                              yt.dims[3]);
    if (xt.dims[1] <= 0 || xt.dims[2] <= 0 || yt.dims[1] <= 0 || yt.dims[2] <= 0)
      return FACEKIT_OP_ERROR(op, "empty image: input %d x %d, output %d x %d", xt.dims[2], xt.dims[1], yt.dims[2],
                              yt.dims[1]);
    const auto p = params_of<OpType::resize_bilinear>(op);
    if ((p.align_corners != 0 && p.align_corners != 1) || (p.half_pixel_centers != 0 && p.half_pixel_centers != 1))
      return FACEKIT_OP_ERROR(op, "align_corners %d / half_pixel_centers %d must be 0 or 1", p.align_corners,
                              p.half_pixel_centers);
    if (p.align_corners && p.half_pixel_centers)
      return FACEKIT_OP_ERROR(op, "align_corners and half_pixel_centers are both set; at most one may be");
    *a = Args{xt.dims[1], xt.dims[2], xt.dims[3], yt.dims[1], yt.dims[2], p.align_corners != 0,
              p.half_pixel_centers != 0};
    return Status::ok();
  }

  /// Four taps per output element.
  static double flops(const Args& a) { return 8.0 * a.out_h * a.out_w * a.channels; }

  template <class Arch>
  static void run(const CpuStep& s) {
    kernels::f32_resize_bilinear<Arch>(s.args_as<Args>(), s.in[0], s.out);
  }
};

}  // namespace ops
}  // namespace facekit
