// facekit/ops/elementwise.hpp - add, relu, prelu, logistic.
#pragma once

#include "../kernels/f32_elementwise.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

/// Treats a tensor as [pixels][channels] (channels = last dim).
inline void pixels_channels(const TensorInfo& t, int* pixels, int* channels) {
  *channels = t.rank ? t.dims[t.rank - 1] : 1;
  *pixels = int(t.elements() / std::size_t(*channels));
}

template <class Arch>
Status prepare_add(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
  const uint32_t a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
  const TensorInfo &at = m.tensor(a), &bt = m.tensor(b), &yt = m.tensor(y);
  if (at.is_constant() || bt.is_constant())
    return FACEKIT_OP_ERROR(op, "constant operands are not supported ('%s', '%s')", at.name, bt.name);
  const auto p = op.params.as<AddParams>();
  FACEKIT_RETURN_IF_ERROR(require_activation_param(op, p.activation));
  bool same = at.rank == yt.rank && bt.rank == yt.rank && at.size_bytes == yt.size_bytes;
  for (int d = 0; same && d + 1 < yt.rank; ++d) same = at.dims[d] == yt.dims[d] && bt.dims[d] == yt.dims[d];
  if (!same || at.dims[yt.rank - 1] != yt.dims[yt.rank - 1] || bt.dims[yt.rank - 1] > yt.dims[yt.rank - 1])
    return FACEKIT_OP_ERROR(op, "shapes of '%s' and '%s' do not fit the output '%s' (b may only have fewer channels)",
                            at.name, bt.name, yt.name);
  int pixels, channels;
  pixels_channels(yt, &pixels, &channels);
  if (p.activation == Activation::prelu) FACEKIT_RETURN_IF_ERROR(require_alpha(m, op, op.input(2), channels));
  copy_io(op, s);
  s->pixels = pixels;
  s->channels = channels;
  s->residual_c = bt.dims[bt.rank - 1];
  s->activation = p.activation;
  s->run = [](const Step& st) {
    kernels::f32_add<Arch>(st.in[0], st.in[1], st.pixels, st.channels, st.residual_c, st.in[2], st.activation, st.out);
  };
  return Status::ok();
}

template <class Arch>
Status prepare_unary(const Model& m, const OpInfo& op, Step* s) {
  const bool prelu = op.type == OpType::prelu;
  FACEKIT_RETURN_IF_ERROR(require_counts(op, prelu ? 2 : 1, prelu ? 2 : 1, 1));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  if (xt.elements() != yt.elements() || xt.rank != yt.rank)
    return FACEKIT_OP_ERROR(op, "input '%s' and output '%s' differ in shape", xt.name, yt.name);
  int pixels, channels;
  pixels_channels(yt, &pixels, &channels);
  if (prelu) FACEKIT_RETURN_IF_ERROR(require_alpha(m, op, op.inputs[1], channels));
  copy_io(op, s);
  s->pixels = pixels;
  s->channels = channels;
  s->count = yt.elements();
  switch (op.type) {
    case OpType::relu: s->run = [](const Step& st) { kernels::f32_relu<Arch>(st.in[0], st.count, st.out); }; break;
    case OpType::prelu:
      s->run = [](const Step& st) { kernels::f32_prelu<Arch>(st.in[0], st.in[1], st.pixels, st.channels, st.out); };
      break;
    case OpType::logistic:
      s->run = [](const Step& st) { kernels::f32_logistic<Arch>(st.in[0], st.count, st.out); };
      break;
    default: return FACEKIT_OP_ERROR(op, "not an elementwise op");
  }
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
