// facekit/ops/shape_ops.hpp - reshape (an alias, no work), concat and pad.
#pragma once

#include "../kernels/f32_concat.hpp"
#include "../kernels/f32_pad.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

/// Reshape produces no step: the executor lets the output share the input's memory.
inline Status check_reshape(const Model& m, const OpInfo& op) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  if (xt.elements() != yt.elements())
    return FACEKIT_OP_ERROR(op, "'%s' has %zu elements, '%s' has %zu", xt.name, xt.elements(), yt.name, yt.elements());
  return Status::ok();
}

inline Status prepare_concat(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, kMaxOpInputs, 1));
  const TensorInfo& yt = m.tensor(op.outputs[0]);
  const auto p = op.params.as<ConcatParams>();
  if (p.axis < 0 || p.axis >= yt.rank) return FACEKIT_OP_ERROR(op, "axis %d outside rank %d", p.axis, yt.rank);
  std::size_t outer = 1, inner_unit = 1;
  for (int d = 0; d < p.axis; ++d) outer *= std::size_t(yt.dims[d]);
  for (int d = p.axis + 1; d < yt.rank; ++d) inner_unit *= std::size_t(yt.dims[d]);
  int axis_sum = 0;
  copy_io(op, s);
  for (int i = 0; i < op.input_count; ++i) {
    const TensorInfo& xt = m.tensor(op.inputs[i]);
    if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
    bool ok = xt.rank == yt.rank;
    for (int d = 0; ok && d < yt.rank; ++d) ok = d == p.axis || xt.dims[d] == yt.dims[d];
    if (!ok) return FACEKIT_OP_ERROR(op, "input '%s' does not match output '%s' off axis %d", xt.name, yt.name, p.axis);
    axis_sum += xt.dims[p.axis];
    s->inner[i] = int(std::size_t(xt.dims[p.axis]) * inner_unit);
  }
  if (axis_sum != yt.dims[p.axis])
    return FACEKIT_OP_ERROR(op, "inputs sum to %d along axis %d, output has %d", axis_sum, p.axis, yt.dims[p.axis]);
  s->outer = int(outer);
  s->run = [](const Step& st) { kernels::f32_concat(st.in, st.input_count, st.outer, st.inner, st.out); };
  return Status::ok();
}

inline Status prepare_pad(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  const auto p = op.params.as<PadParams>();
  if (xt.rank != yt.rank) return FACEKIT_OP_ERROR(op, "rank changes from %d to %d", xt.rank, yt.rank);
  copy_io(op, s);
  // Right-align the shape into 4 dims.
  const int off = 4 - xt.rank;
  for (int d = 0; d < 4; ++d) {
    const int src = d - off;
    const int in = src >= 0 ? xt.dims[src] : 1, out = src >= 0 ? yt.dims[src] : 1;
    const int before = src >= 0 ? p.before[src] : 0, after = src >= 0 ? p.after[src] : 0;
    if (before < 0 || after < 0 || in + before + after != out)
      return FACEKIT_OP_ERROR(op, "dimension %d: %d + %d + %d != %d", src, before, in, after, out);
    s->pad_in_dims[d] = in;
    s->pad_out_dims[d] = out;
    s->pad_before[d] = before;
  }
  s->pad_value = p.value;
  s->run = [](const Step& st) {
    kernels::f32_pad(st.in[0], st.pad_in_dims, st.pad_before, st.pad_out_dims, st.pad_value, st.out);
  };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
