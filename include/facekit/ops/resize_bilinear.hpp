// facekit/ops/resize_bilinear.hpp - resize_bilinear (TFLite RESIZE_BILINEAR): shape and
// parameter checks and kernel choice, once at load.
//
// Step fields used: conv.in_h/in_w/in_c, conv.out_h/out_w; iparams[0] = align_corners,
// iparams[1] = half_pixel_centers.
#pragma once

#include "../kernels/f32_resize_bilinear.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <class Arch>
Status prepare_resize_bilinear(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.dims[3] != yt.dims[3])
    return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, output '%s' %d", xt.name, xt.dims[3], yt.name, yt.dims[3]);
  if (xt.dims[1] <= 0 || xt.dims[2] <= 0 || yt.dims[1] <= 0 || yt.dims[2] <= 0)
    return FACEKIT_OP_ERROR(op, "empty image: input %d x %d, output %d x %d", xt.dims[2], xt.dims[1], yt.dims[2],
                            yt.dims[1]);
  const auto p = op.params.as<ResizeBilinearParams>();
  if ((p.align_corners != 0 && p.align_corners != 1) || (p.half_pixel_centers != 0 && p.half_pixel_centers != 1))
    return FACEKIT_OP_ERROR(op, "align_corners %d / half_pixel_centers %d must be 0 or 1", p.align_corners,
                            p.half_pixel_centers);
  if (p.align_corners && p.half_pixel_centers)
    return FACEKIT_OP_ERROR(op, "align_corners and half_pixel_centers are both set; at most one may be");
  copy_io(op, s);
  s->conv = nhwc_io_geometry(xt, yt);
  s->iparams[0] = p.align_corners;
  s->iparams[1] = p.half_pixel_centers;
  s->run = [](const Step& st) {
    const kernels::ResizeBilinearGeometry g{st.conv.in_h,  st.conv.in_w,       st.conv.in_c,      st.conv.out_h,
                                            st.conv.out_w, st.iparams[0] != 0, st.iparams[1] != 0};
    kernels::f32_resize_bilinear<Arch>(g, st.in[0], st.out);
  };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
