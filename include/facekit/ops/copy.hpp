// facekit/ops/copy.hpp - copy: y = x; materialises a plain constant (or copies an activation).
#pragma once

#include "../kernels/f32_slice.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::copy> : OpDefDefaults {
  struct Args {
    std::size_t count;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.is_constant() && xt.layout != format::Layout::plain)
      return FACEKIT_OP_ERROR(op, "constant '%s' must have the plain layout (has %u)", xt.name, unsigned(xt.layout));
    if (xt.elements() != yt.elements())
      return FACEKIT_OP_ERROR(op, "'%s' has %zu elements, '%s' has %zu", xt.name, xt.elements(), yt.name,
                              yt.elements());
    a->count = yt.elements();
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    kernels::f32_copy(s.in[0], s.args_as<Args>().count, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
