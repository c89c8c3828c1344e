// facekit/ops/landmarks_to_transform_matrix.hpp - MediaPipe's Landmarks2TransformMatrix
// (version 2), the Attention Mesh's crop matrix (docs/pipeline.md 4.3).
#pragma once

#include <cmath>

#include "../kernels/f32_landmarks_to_transform_matrix.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::landmarks_to_transform_matrix> : OpDefDefaults {
  struct Args {
    int dims;          ///< coordinates per landmark
    int subset_count;  ///< landmark indices in the subset constant
    kernels::LandmarksToTransformConfig config;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
    int n = 0, d = 0;
    FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, op.inputs[kL2tLandmarks], "landmarks", &n, &d, true));
    if (d < 2) return FACEKIT_OP_ERROR(op, "landmarks have %d coordinates, need at least 2 (x, y)", d);
    const TensorInfo& st = m.tensor(op.inputs[kL2tSubset]);
    if (!st.is_constant() || st.layout != format::Layout::plain || st.elements() == 0)
      return FACEKIT_OP_ERROR(op, "subset '%s' must be a non-empty plain constant of landmark indices", st.name);
    const float* idx = st.f32();
    for (std::size_t i = 0; i < st.elements(); ++i)
      if (!(idx[i] >= 0.0f && idx[i] < float(n)) || idx[i] != std::floor(idx[i]))
        return FACEKIT_OP_ERROR(op, "subset '%s' entry %zu is %g; expected an integer index in [0, %d)", st.name, i,
                                double(idx[i]), n);
    FACEKIT_RETURN_IF_ERROR(require_matrix16(m, op, op.outputs[0], "output"));
    const auto p = params_of<OpType::landmarks_to_transform_matrix>(op);
    if (p.left_rotation_idx < 0 || p.left_rotation_idx >= n || p.right_rotation_idx < 0 || p.right_rotation_idx >= n)
      return FACEKIT_OP_ERROR(op, "rotation landmarks %d, %d are not both in [0, %d)", p.left_rotation_idx,
                              p.right_rotation_idx, n);
    if (p.output_width <= 0 || p.output_height <= 0)
      return FACEKIT_OP_ERROR(op, "output size %d x %d is not positive", p.output_width, p.output_height);
    if (!(p.scale_x > 0.0f) || !(p.scale_y > 0.0f) || !std::isfinite(p.scale_x) || !std::isfinite(p.scale_y) ||
        !std::isfinite(p.target_rotation_radians))
      return FACEKIT_OP_ERROR(op, "scale %g x %g must be finite and positive, rotation %g finite", double(p.scale_x),
                              double(p.scale_y), double(p.target_rotation_radians));
    *a = Args{d, int(st.elements()),
              {p.left_rotation_idx, p.right_rotation_idx, p.output_width, p.output_height, p.scale_x, p.scale_y,
               p.target_rotation_radians}};
    return Status::ok();
  }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_landmarks_to_transform_matrix<Arch>(s.in[kL2tLandmarks], a.dims, s.in[kL2tSubset], a.subset_count,
                                                     a.config, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
