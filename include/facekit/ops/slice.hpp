// facekit/ops/slice.hpp - slice: y = x[begin[d] .. begin[d] + y.dims[d]) along each dimension
// (stride 1).
#pragma once

#include "../kernels/f32_slice.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::slice> : OpDefDefaults {
  /// Shapes right-aligned into 4 dimensions.
  struct Args {
    int in_dims[4], begin[4], out_dims[4];
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
    if (xt.rank != yt.rank) return FACEKIT_OP_ERROR(op, "rank changes from %d to %d", xt.rank, yt.rank);
    const auto p = params_of<OpType::slice>(op);
    for (int d = 0; d < 4; ++d) {
      const int src = d - (4 - xt.rank);
      const int in = dim4(xt, d), out = dim4(yt, d);
      const int begin = src >= 0 ? p.begin[src] : 0;
      if (begin < 0 || begin > in || out > in - begin)
        return FACEKIT_OP_ERROR(op, "dimension %d: begin %d + extent %d exceeds %d", src, begin, out, in);
      a->in_dims[d] = in;
      a->begin[d] = begin;
      a->out_dims[d] = out;
    }
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_slice(s.in[0], a.in_dims, a.begin, a.out_dims, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
