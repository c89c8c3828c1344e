// facekit/ops/pad.hpp - pad: constant padding before and after each dimension.
#pragma once

#include "../kernels/f32_pad.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::pad> : OpDefDefaults {
  /// Shapes right-aligned into 4 dimensions.
  struct Args {
    int in_dims[4], before[4], out_dims[4];
    float value;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
    const auto p = params_of<OpType::pad>(op);
    if (xt.rank != yt.rank) return FACEKIT_OP_ERROR(op, "rank changes from %d to %d", xt.rank, yt.rank);
    for (int d = 0; d < 4; ++d) {
      const int src = d - (4 - xt.rank);
      const int in = dim4(xt, d), out = dim4(yt, d);
      const int before = src >= 0 ? p.before[src] : 0, after = src >= 0 ? p.after[src] : 0;
      if (before < 0 || after < 0 || in + before + after != out)
        return FACEKIT_OP_ERROR(op, "dimension %d: %d + %d + %d != %d", src, before, in, after, out);
      a->in_dims[d] = in;
      a->out_dims[d] = out;
      a->before[d] = before;
    }
    a->value = p.value;
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_pad(s.in[0], a.in_dims, a.before, a.out_dims, a.value, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
