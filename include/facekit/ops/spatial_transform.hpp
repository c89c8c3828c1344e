// facekit/ops/spatial_transform.hpp - the attention mesh's transform ops: landmarks_to_transform_matrix,
// transform_tensor_bilinear and transform_landmarks (MediaPipe's custom ops, docs/pipeline.md 4).
// Shape and parameter checks and kernel choice, once at load.
//
// Step fields used:
//   landmarks_to_transform_matrix  pixels = landmarks, channels = coordinates per landmark,
//                                  count = subset size, iparams = left, right, output width,
//                                  height, fparams = scale x, scale y, target rotation
//   transform_tensor_bilinear      conv.in_h/in_w/in_c, conv.out_h/out_w; iparams[0] = pixel_centers
//   transform_landmarks            pixels = points, channels = coordinates, fparams[0] = translation scale
#pragma once

#include <cmath>

#include "../kernels/f32_landmarks_to_transform_matrix.hpp"
#include "../kernels/f32_transform_landmarks.hpp"
#include "../kernels/f32_transform_tensor_bilinear.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

namespace detail {

inline void store_l2t_config(const kernels::LandmarksToTransformConfig& c, Step* s) {
  s->iparams[0] = c.left;
  s->iparams[1] = c.right;
  s->iparams[2] = c.output_width;
  s->iparams[3] = c.output_height;
  s->fparams[0] = c.scale_x;
  s->fparams[1] = c.scale_y;
  s->fparams[2] = c.target_rotation;
}

inline kernels::LandmarksToTransformConfig load_l2t_config(const Step& s) {
  return {s.iparams[0], s.iparams[1], s.iparams[2], s.iparams[3], s.fparams[0], s.fparams[1], s.fparams[2]};
}

/// A 4x4 matrix operand: 16 floats, an activation or a plain constant.
inline Status require_matrix16(const Model& m, const OpInfo& op, uint32_t t, const char* what) {
  const TensorInfo& ti = m.tensor(t);
  if (ti.elements() != 16) return FACEKIT_OP_ERROR(op, "%s '%s' has %zu elements, expected 16 (a 4x4 matrix)", what,
                                                   ti.name, ti.elements());
  if (ti.is_constant() && ti.layout != format::Layout::plain)
    return FACEKIT_OP_ERROR(op, "%s '%s' must have the plain layout (has %u)", what, ti.name, unsigned(ti.layout));
  return Status::ok();
}

/// Points [1, .., N, D] as an activation: N and D out.
inline Status require_points(const Model& m, const OpInfo& op, uint32_t t, const char* what, int* n, int* d) {
  const TensorInfo& ti = m.tensor(t);
  if (ti.is_constant()) return FACEKIT_OP_ERROR(op, "%s '%s' is a constant", what, ti.name);
  if (ti.rank < 2) return FACEKIT_OP_ERROR(op, "%s '%s' has rank %d, needs [.., N, D]", what, ti.name, ti.rank);
  for (int k = 0; k + 2 < ti.rank; ++k)
    if (ti.dims[k] != 1)
      return FACEKIT_OP_ERROR(op, "%s '%s': dimension %d is %d, the leading dimensions must be 1", what, ti.name, k,
                              ti.dims[k]);
  *n = ti.dims[ti.rank - 2];
  *d = ti.dims[ti.rank - 1];
  return Status::ok();
}

}  // namespace detail

template <class Arch>
Status prepare_landmarks_to_transform_matrix(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
  int n = 0, d = 0;
  FACEKIT_RETURN_IF_ERROR(detail::require_points(m, op, op.inputs[kL2tLandmarks], "landmarks", &n, &d));
  if (d < 2) return FACEKIT_OP_ERROR(op, "landmarks have %d coordinates, need at least 2 (x, y)", d);
  const TensorInfo& st = m.tensor(op.inputs[kL2tSubset]);
  if (!st.is_constant() || st.layout != format::Layout::plain || st.elements() == 0)
    return FACEKIT_OP_ERROR(op, "subset '%s' must be a non-empty plain constant of landmark indices", st.name);
  const float* idx = st.f32();
  for (std::size_t i = 0; i < st.elements(); ++i)
    if (!(idx[i] >= 0.0f && idx[i] < float(n)) || idx[i] != std::floor(idx[i]))
      return FACEKIT_OP_ERROR(op, "subset '%s' entry %zu is %g; expected an integer index in [0, %d)", st.name, i,
                              double(idx[i]), n);
  FACEKIT_RETURN_IF_ERROR(detail::require_matrix16(m, op, op.outputs[0], "output"));
  const auto p = op.params.as<LandmarksToTransformMatrixParams>();
  if (p.left_rotation_idx < 0 || p.left_rotation_idx >= n || p.right_rotation_idx < 0 || p.right_rotation_idx >= n)
    return FACEKIT_OP_ERROR(op, "rotation landmarks %d, %d are not both in [0, %d)", p.left_rotation_idx,
                            p.right_rotation_idx, n);
  if (p.output_width <= 0 || p.output_height <= 0)
    return FACEKIT_OP_ERROR(op, "output size %d x %d is not positive", p.output_width, p.output_height);
  if (!(p.scale_x > 0.0f) || !(p.scale_y > 0.0f) || !std::isfinite(p.scale_x) || !std::isfinite(p.scale_y) ||
      !std::isfinite(p.target_rotation_radians))
    return FACEKIT_OP_ERROR(op, "scale %g x %g must be finite and positive, rotation %g finite", double(p.scale_x),
                            double(p.scale_y), double(p.target_rotation_radians));
  copy_io(op, s);
  s->pixels = n;
  s->channels = d;
  s->count = st.elements();
  detail::store_l2t_config({p.left_rotation_idx, p.right_rotation_idx, p.output_width, p.output_height, p.scale_x,
                            p.scale_y, p.target_rotation_radians},
                           s);
  s->run = [](const Step& st2) {
    kernels::f32_landmarks_to_transform_matrix<Arch>(st2.in[kL2tLandmarks], st2.channels, st2.in[kL2tSubset],
                                                     int(st2.count), detail::load_l2t_config(st2), st2.out);
  };
  return Status::ok();
}

template <class Arch>
Status prepare_transform_tensor_bilinear(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
  FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
  FACEKIT_RETURN_IF_ERROR(detail::require_matrix16(m, op, op.inputs[1], "matrix"));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.dims[3] != yt.dims[3])
    return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, output '%s' %d", xt.name, xt.dims[3], yt.name, yt.dims[3]);
  const auto p = op.params.as<TransformTensorBilinearParams>();
  if (p.pixel_centers != 0 && p.pixel_centers != 1)
    return FACEKIT_OP_ERROR(op, "pixel_centers is %d, expected 0 or 1", p.pixel_centers);
  copy_io(op, s);
  s->conv = nhwc_io_geometry(xt, yt);
  s->iparams[0] = p.pixel_centers;
  s->run = [](const Step& st) {
    const kernels::BilinearGeometry g{st.conv.in_h, st.conv.in_w, st.conv.in_c, st.conv.out_h, st.conv.out_w};
    kernels::f32_transform_tensor_bilinear<Arch>(g, st.in[0], st.in[1], st.iparams[0] != 0, st.out);
  };
  return Status::ok();
}

template <class Arch>
Status prepare_transform_landmarks(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
  int n = 0, d = 0, on = 0, od = 0;
  FACEKIT_RETURN_IF_ERROR(detail::require_points(m, op, op.inputs[kTlPoints], "points", &n, &d));
  FACEKIT_RETURN_IF_ERROR(detail::require_points(m, op, op.outputs[0], "output", &on, &od));
  if (n != on || d != od)
    return FACEKIT_OP_ERROR(op, "points are [%d, %d], output [%d, %d]; they must match", n, d, on, od);
  if (d != 2 && d != 3) return FACEKIT_OP_ERROR(op, "points have %d coordinates, expected 2 or 3", d);
  FACEKIT_RETURN_IF_ERROR(detail::require_matrix16(m, op, op.inputs[kTlMatrix], "matrix"));
  const uint32_t f = op.input(kTlFactor);
  if (f != kNoTensor) {
    FACEKIT_RETURN_IF_ERROR(detail::require_matrix16(m, op, f, "factor"));
    if (!m.tensor(f).is_constant()) return FACEKIT_OP_ERROR(op, "factor '%s' must be a constant", m.tensor(f).name);
  }
  const auto p = op.params.as<TransformLandmarksParams>();
  if (!std::isfinite(p.translation_scale) || p.translation_scale == 0.0f)
    return FACEKIT_OP_ERROR(op, "translation scale %g must be finite and non-zero", double(p.translation_scale));
  copy_io(op, s);
  s->pixels = n;
  s->channels = d;
  s->fparams[0] = p.translation_scale;
  s->run = [](const Step& st) {
    kernels::f32_transform_landmarks<Arch>(st.in[kTlPoints], st.pixels, st.channels, st.in[kTlMatrix],
                                           st.in[kTlFactor], st.fparams[0], st.out);
  };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
