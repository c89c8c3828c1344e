// facekit/ops/unary.hpp - the definition shared by ops that map each element on its own
// (relu, logistic): y[i] = f(x[i]) over the whole tensor.
#pragma once

#include "op_common.hpp"

namespace facekit {
namespace ops {

/// Kernel: a struct with `template <class Arch> static void apply(const float*, size_t, float*)`.
template <class Kernel>
struct UnaryOpDef : OpDefDefaults {
  struct Args {
    std::size_t count;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    FACEKIT_RETURN_IF_ERROR(require_elementwise(m, op));
    a->count = m.tensor(op.outputs[0]).elements();
    return Status::ok();
  }

  static double flops(const Args& a) { return double(a.count); }

  template <class Arch>
  static void run(const CpuStep& s) {
    Kernel::template apply<Arch>(s.in[0], s.args_as<Args>().count, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
