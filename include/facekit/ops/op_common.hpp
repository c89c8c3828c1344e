// facekit/ops/op_common.hpp - shared checks used when preparing ops.
#pragma once

#include "../model/model.hpp"
#include "../runtime/step.hpp"

namespace facekit {
namespace ops {

inline const char* tname(const Model& m, uint32_t t) { return t == kNoTensor ? "(none)" : m.tensor(t).name; }

/// Error prefixed with the op's name and type.
#define FACEKIT_OP_ERROR(op, fmt, ...) \
  ::facekit::Status::error("op %s (%s): " fmt, (op).name, ::facekit::op_type_name((op).type), ##__VA_ARGS__)

inline Status require_counts(const OpInfo& op, int min_in, int max_in, int outs) {
  if (op.input_count < min_in || op.input_count > max_in)
    return FACEKIT_OP_ERROR(op, "has %d inputs, expected %d..%d", op.input_count, min_in, max_in);
  if (op.output_count != outs) return FACEKIT_OP_ERROR(op, "has %d outputs, expected %d", op.output_count, outs);
  for (int i = 0; i < min_in; ++i)
    if (op.inputs[i] == kNoTensor) return FACEKIT_OP_ERROR(op, "required input %d is missing", i);
  return Status::ok();
}

/// An activation tensor of shape [1, H, W, C].
inline Status require_nhwc(const Model& m, const OpInfo& op, uint32_t t, const char* what) {
  const TensorInfo& ti = m.tensor(t);
  if (ti.is_constant()) return FACEKIT_OP_ERROR(op, "%s '%s' must be an activation, not a constant", what, ti.name);
  if (ti.rank != 4 || ti.dims[0] != 1)
    return FACEKIT_OP_ERROR(op, "%s '%s' must be NHWC with batch 1 (rank %d, dims[0] %d)", what, ti.name, ti.rank,
                            ti.dims[0]);
  return Status::ok();
}

inline Status require_constant(const Model& m, const OpInfo& op, uint32_t t, format::Layout layout, const char* what) {
  const TensorInfo& ti = m.tensor(t);
  if (!ti.is_constant() || ti.layout != layout)
    return FACEKIT_OP_ERROR(op, "%s '%s' must be a constant with layout %u (has kind %u, layout %u)", what, ti.name,
                            unsigned(layout), unsigned(ti.kind), unsigned(ti.layout));
  return Status::ok();
}

inline Status require_activation_param(const OpInfo& op, Activation a) {
  if (uint32_t(a) > uint32_t(Activation::prelu)) return FACEKIT_OP_ERROR(op, "unknown activation %u", unsigned(a));
  return Status::ok();
}

/// PReLU alpha: a channel_padded constant of exactly `channels` values.
inline Status require_alpha(const Model& m, const OpInfo& op, uint32_t t, int channels) {
  if (t == kNoTensor) return FACEKIT_OP_ERROR(op, "activation prelu needs an alpha input");
  FACEKIT_RETURN_IF_ERROR(require_constant(m, op, t, format::Layout::channel_padded, "alpha"));
  if (m.tensor(t).dims[0] != channels)
    return FACEKIT_OP_ERROR(op, "alpha '%s' has %d channels, the output has %d", m.tensor(t).name, m.tensor(t).dims[0],
                            channels);
  return Status::ok();
}

/// The NHWC input and output sizes of a resampling op (resize, transform, depth-to-space) in the
/// Step's generic geometry; the other conv fields stay zero.
inline kernels::Conv2dGeometry nhwc_io_geometry(const TensorInfo& x, const TensorInfo& y) noexcept {
  kernels::Conv2dGeometry g{};
  g.in_h = x.dims[1];
  g.in_w = x.dims[2];
  g.in_c = x.dims[3];
  g.out_h = y.dims[1];
  g.out_w = y.dims[2];
  g.out_c = y.dims[3];
  return g;
}

inline void copy_io(const OpInfo& op, Step* s) {
  s->name = op.name;
  s->type = op.type;
  s->input_count = op.input_count;
  for (int i = 0; i < kMaxOpInputs; ++i) s->inputs[i] = i < op.input_count ? op.inputs[i] : kNoTensor;
  s->output = op.outputs[0];
}

}  // namespace ops
}  // namespace facekit
