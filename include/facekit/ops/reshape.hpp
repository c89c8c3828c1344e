// facekit/ops/reshape.hpp - reshape: no work and no step; the output shares the input's memory
// (the memory plan gives both one storage root).
#pragma once

#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::reshape> : OpDefDefaults {
  static constexpr bool kAliasesInput = true;
  struct Args {};

  static Status validate(const Model& m, const OpInfo& op, Args*) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
    if (xt.elements() != yt.elements())
      return FACEKIT_OP_ERROR(op, "'%s' has %zu elements, '%s' has %zu", xt.name, xt.elements(), yt.name,
                              yt.elements());
    return Status::ok();
  }
};

}  // namespace ops
}  // namespace facekit
