// facekit/ops/concat.hpp - concat along one axis: for each outer index, each input's inner block
// in turn.
#pragma once

#include "../kernels/f32_concat.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::concat> : OpDefDefaults {
  struct Args {
    int outer;                  ///< product of the dimensions before the axis
    int inner[kMaxOpInputs];    ///< per input: its extent along the axis times the inner size
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, kMaxOpInputs, 1));
    const TensorInfo& yt = m.tensor(op.outputs[0]);
    const auto p = params_of<OpType::concat>(op);
    if (p.axis < 0 || p.axis >= yt.rank) return FACEKIT_OP_ERROR(op, "axis %d outside rank %d", p.axis, yt.rank);
    std::size_t outer = 1, inner_unit = 1;
    for (int d = 0; d < p.axis; ++d) outer *= std::size_t(yt.dims[d]);
    for (int d = p.axis + 1; d < yt.rank; ++d) inner_unit *= std::size_t(yt.dims[d]);
    int axis_sum = 0;
    for (int i = 0; i < op.input_count; ++i) {
      const TensorInfo& xt = m.tensor(op.inputs[i]);
      if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
      bool ok = xt.rank == yt.rank;
      for (int d = 0; ok && d < yt.rank; ++d) ok = d == p.axis || xt.dims[d] == yt.dims[d];
      if (!ok)
        return FACEKIT_OP_ERROR(op, "input '%s' does not match output '%s' off axis %d", xt.name, yt.name, p.axis);
      axis_sum += xt.dims[p.axis];
      a->inner[i] = int(std::size_t(xt.dims[p.axis]) * inner_unit);
    }
    if (axis_sum != yt.dims[p.axis])
      return FACEKIT_OP_ERROR(op, "inputs sum to %d along axis %d, output has %d", axis_sum, p.axis, yt.dims[p.axis]);
    a->outer = int(outer);
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_concat(s.in, s.input_count, a.outer, a.inner, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
