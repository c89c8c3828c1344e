// facekit/ops/op_common.hpp - what every op definition (ops/<name>.hpp) shares: the OpDef
// template it specialises and the checks it uses on its tensors.
//
// An op definition is a specialisation of OpDef<OpType::name> with:
//   struct Args;                          typed arguments, everything a kernel needs (no pointers
//                                         into tensors); shared by every backend
//   static Status validate(m, op, &args); shapes and params, once at load, naming what is wrong
//   template <class Arch> static Status select(op, &args);   optional: pick a CPU kernel variant
//   template <class Arch> static void run(const CpuStep&);    the CPU step
//   static constexpr bool kAliasesInput;  optional: the output shares the input's memory, no step
//   static double flops(const Args&);     optional: arithmetic per run, for profiles (2 per
//                                         multiply-add; 0 for ops that only move data)
//   static SplitRows split(const Args&);  optional, with run_range in place of run: the op's
//   template <class Arch>                 output is `rows` independent rows that threads share
//   static void run_range(const CpuStep&, int begin, int end);   (each part computed exactly as
//                                         the whole run computes it: bit-identical results)
// ops/op_table.hpp turns the op set (FACEKIT_OPS in op_types.hpp) into the dispatch.
#pragma once

#include "../model/model.hpp"
#include "cpu_step.hpp"

namespace facekit {
namespace ops {

/// Specialised once per op in ops/<name>.hpp.
template <OpType T>
struct OpDef;

/// How an op's output splits over threads: `rows` independent rows, parts starting at multiples
/// of `align` (a kernel's row block).
struct SplitRows {
  int rows;
  int align;
};

/// Defaults an op definition inherits.
struct OpDefDefaults {
  static constexpr bool kAliasesInput = false;
  template <class Arch, class Args>
  static Status select(const OpInfo&, Args*) {
    return Status::ok();
  }
  template <class Args>
  static double flops(const Args&) {
    return 0.0;
  }
};

/// The op's parameter block, typed by the op set.
template <OpType T>
typename OpParamsOf<T>::type params_of(const OpInfo& op) noexcept {
  return op.params.as<typename OpParamsOf<T>::type>();
}

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

/// An elementwise op's input 0 and output: an activation with as many elements, same rank.
inline Status require_elementwise(const Model& m, const OpInfo& op) {
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  if (xt.elements() != yt.elements() || xt.rank != yt.rank)
    return FACEKIT_OP_ERROR(op, "input '%s' and output '%s' differ in shape", xt.name, yt.name);
  return Status::ok();
}

/// Input 0 and the output are activations of the same shape.
inline Status require_same_shape(const Model& m, const OpInfo& op) {
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  bool same = xt.rank == yt.rank;
  for (int d = 0; same && d < xt.rank; ++d) same = xt.dims[d] == yt.dims[d];
  if (!same) return FACEKIT_OP_ERROR(op, "input '%s' and output '%s' differ in shape", xt.name, yt.name);
  return Status::ok();
}

/// A [.., R, C] tensor whose leading dimensions are all 1 (a plain R x C matrix). With
/// `activation`, it must also not be a constant.
inline Status require_matrix(const Model& m, const OpInfo& op, uint32_t t, const char* what, int* rows, int* cols,
                             bool activation = false) {
  const TensorInfo& ti = m.tensor(t);
  if (activation && ti.is_constant()) return FACEKIT_OP_ERROR(op, "%s '%s' is a constant", what, ti.name);
  if (ti.rank < 2) return FACEKIT_OP_ERROR(op, "%s '%s' has rank %d, needs at least 2", what, ti.name, ti.rank);
  for (int d = 0; d + 2 < ti.rank; ++d)
    if (ti.dims[d] != 1)
      return FACEKIT_OP_ERROR(op, "%s '%s': dimension %d is %d, the leading dimensions must be 1", what, ti.name, d,
                              ti.dims[d]);
  *rows = ti.dims[ti.rank - 2];
  *cols = ti.dims[ti.rank - 1];
  return Status::ok();
}

/// An optional channel_padded constant of `channels` values.
inline Status require_channel_vector(const Model& m, const OpInfo& op, uint32_t t, int channels, const char* what) {
  if (t == kNoTensor) return Status::ok();
  FACEKIT_RETURN_IF_ERROR(require_constant(m, op, t, format::Layout::channel_padded, what));
  if (m.tensor(t).dims[0] != channels)
    return FACEKIT_OP_ERROR(op, "%s '%s' has %d values, the input has %d channels", what, m.tensor(t).name,
                            m.tensor(t).dims[0], channels);
  return Status::ok();
}

/// A 4x4 matrix operand: 16 floats, an activation or a plain constant.
inline Status require_matrix16(const Model& m, const OpInfo& op, uint32_t t, const char* what) {
  const TensorInfo& ti = m.tensor(t);
  if (ti.elements() != 16)
    return FACEKIT_OP_ERROR(op, "%s '%s' has %zu elements, expected 16 (a 4x4 matrix)", what, ti.name, ti.elements());
  if (ti.is_constant() && ti.layout != format::Layout::plain)
    return FACEKIT_OP_ERROR(op, "%s '%s' must have the plain layout (has %u)", what, ti.name, unsigned(ti.layout));
  return Status::ok();
}

/// A tensor viewed as [pixels][channels] (channels = last dim).
struct PixelsChannels {
  int pixels, channels;
};
inline PixelsChannels pixels_channels(const TensorInfo& t) noexcept {
  const int channels = t.rank ? t.dims[t.rank - 1] : 1;
  return {int(t.elements() / std::size_t(channels)), channels};
}

/// A shape right-aligned into 4 dimensions (leading 1s), for the pad and slice kernels.
inline int dim4(const TensorInfo& t, int d) noexcept {
  const int src = d - (4 - t.rank);
  return src >= 0 ? t.dims[src] : 1;
}

}  // namespace ops
}  // namespace facekit
