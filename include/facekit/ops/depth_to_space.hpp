// facekit/ops/depth_to_space.hpp - depth_to_space (TFLite DEPTH_TO_SPACE, NHWC, "DCR" order).
#pragma once

#include "../kernels/f32_depth_to_space.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::depth_to_space> : OpDefDefaults {
  struct Args {
    int in_h, in_w;
    int out_c;
    int block;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    const int b = params_of<OpType::depth_to_space>(op).block_size;
    if (b < 1 || b > 1024) return FACEKIT_OP_ERROR(op, "block size %d is outside 1..1024", b);
    if (yt.dims[1] != xt.dims[1] * b || yt.dims[2] != xt.dims[2] * b || xt.dims[3] != yt.dims[3] * b * b)
      return FACEKIT_OP_ERROR(op,
                              "input '%s' [1,%d,%d,%d] with block %d needs output [1,%d,%d,%d], '%s' is [1,%d,%d,%d]",
                              xt.name, xt.dims[1], xt.dims[2], xt.dims[3], b, xt.dims[1] * b, xt.dims[2] * b,
                              xt.dims[3] / (b * b), yt.name, yt.dims[1], yt.dims[2], yt.dims[3]);
    *a = Args{xt.dims[1], xt.dims[2], yt.dims[3], b};
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_depth_to_space(s.in[0], a.in_h, a.in_w, a.out_c, a.block, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
