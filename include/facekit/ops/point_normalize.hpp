// facekit/ops/point_normalize.hpp - point_normalize: centre N points, divide by their mean
// distance from the centre (the blendshape network's input normalisation).
#pragma once

#include "../kernels/f32_point_normalize.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::point_normalize> : OpDefDefaults {
  struct Args {
    int points, dims;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
    FACEKIT_RETURN_IF_ERROR(require_same_shape(m, op));
    int points = 0, dims = 0;
    FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, op.inputs[0], "input", &points, &dims));
    if (dims > 4) return FACEKIT_OP_ERROR(op, "points have %d coordinates, at most 4 are supported", dims);
    *a = Args{points, dims};
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_point_normalize<Arch>(s.in[0], a.points, a.dims, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
