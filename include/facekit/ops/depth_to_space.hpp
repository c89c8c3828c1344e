// facekit/ops/depth_to_space.hpp - depth_to_space (TFLite DEPTH_TO_SPACE): shape and parameter
// checks, once at load.
//
// Step fields used: conv.in_h/in_w, conv.out_c; iparams[0] = block size.
#pragma once

#include "../kernels/f32_depth_to_space.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

inline Status prepare_depth_to_space(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  const int b = op.params.as<DepthToSpaceParams>().block_size;
  if (b < 1 || b > 1024) return FACEKIT_OP_ERROR(op, "block size %d is outside 1..1024", b);
  if (yt.dims[1] != xt.dims[1] * b || yt.dims[2] != xt.dims[2] * b || xt.dims[3] != yt.dims[3] * b * b)
    return FACEKIT_OP_ERROR(op, "input '%s' [1,%d,%d,%d] with block %d needs output [1,%d,%d,%d], '%s' is [1,%d,%d,%d]",
                            xt.name, xt.dims[1], xt.dims[2], xt.dims[3], b, xt.dims[1] * b, xt.dims[2] * b,
                            xt.dims[3] / (b * b), yt.name, yt.dims[1], yt.dims[2], yt.dims[3]);
  copy_io(op, s);
  s->conv = nhwc_io_geometry(xt, yt);
  s->iparams[0] = b;
  s->run = [](const Step& st) {
    kernels::f32_depth_to_space(st.in[0], st.conv.in_h, st.conv.in_w, st.conv.out_c, st.iparams[0], st.out);
  };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
