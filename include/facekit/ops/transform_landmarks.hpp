// facekit/ops/transform_landmarks.hpp - MediaPipe's TransformLandmarks (version 2): points mapped
// by a 4x4 matrix, optionally times a constant factor fused in by the converter.
#pragma once

#include <cmath>

#include "../kernels/f32_transform_landmarks.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::transform_landmarks> : OpDefDefaults {
  struct Args {
    int points, dims;
    float translation_scale;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
    int n = 0, d = 0, on = 0, od = 0;
    FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, op.inputs[kTlPoints], "points", &n, &d, true));
    FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, op.outputs[0], "output", &on, &od, true));
    if (n != on || d != od)
      return FACEKIT_OP_ERROR(op, "points are [%d, %d], output [%d, %d]; they must match", n, d, on, od);
    if (d != 2 && d != 3) return FACEKIT_OP_ERROR(op, "points have %d coordinates, expected 2 or 3", d);
    FACEKIT_RETURN_IF_ERROR(require_matrix16(m, op, op.inputs[kTlMatrix], "matrix"));
    const uint32_t f = op.input(kTlFactor);
    if (f != kNoTensor) {
      FACEKIT_RETURN_IF_ERROR(require_matrix16(m, op, f, "factor"));
      if (!m.tensor(f).is_constant()) return FACEKIT_OP_ERROR(op, "factor '%s' must be a constant", m.tensor(f).name);
    }
    const auto p = params_of<OpType::transform_landmarks>(op);
    if (!std::isfinite(p.translation_scale) || p.translation_scale == 0.0f)
      return FACEKIT_OP_ERROR(op, "translation scale %g must be finite and non-zero", double(p.translation_scale));
    *a = Args{n, d, p.translation_scale};
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_transform_landmarks<Arch>(s.in[kTlPoints], a.points, a.dims, s.in[kTlMatrix], s.in[kTlFactor],
                                           a.translation_scale, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
