// facekit/ops/mixer.hpp - the ops of the blendshape MLP-Mixer: layer_norm, token_dense, mul,
// point_normalize, slice and copy. Shape checks and kernel choice, once at load.
//
// The Step has no fields of its own for these ops; they reuse the generic ones:
//   layer_norm       pixels = rows, channels = C, pad_value = epsilon
//   token_dense      conv (token_dense_geometry), conv_fn, activation, residual_c = C
//   mul              pixels, channels
//   point_normalize  pixels = points, channels = coordinates per point
//   slice            pad_in_dims / pad_before (= begin) / pad_out_dims, right-aligned to 4 dims
//   copy             count
#pragma once

#include <cmath>

#include "../kernels/f32_layer_norm.hpp"
#include "../kernels/f32_mul.hpp"
#include "../kernels/f32_point_normalize.hpp"
#include "../kernels/f32_slice.hpp"
#include "../kernels/f32_token_dense.hpp"
#include "elementwise.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

/// Input and output are activations of the same shape.
inline Status require_same_shape(const Model& m, const OpInfo& op) {
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  bool same = xt.rank == yt.rank;
  for (int d = 0; same && d < xt.rank; ++d) same = xt.dims[d] == yt.dims[d];
  if (!same) return FACEKIT_OP_ERROR(op, "input '%s' and output '%s' differ in shape", xt.name, yt.name);
  return Status::ok();
}

/// A [.., R, C] tensor whose leading dimensions are all 1 (a plain R x C matrix).
inline Status require_matrix(const Model& m, const OpInfo& op, uint32_t t, const char* what, int* rows, int* cols) {
  const TensorInfo& ti = m.tensor(t);
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

template <class Arch>
Status prepare_layer_norm(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 3, 1));
  FACEKIT_RETURN_IF_ERROR(require_same_shape(m, op));
  int pixels = 0, channels = 0;
  pixels_channels(m.tensor(op.outputs[0]), &pixels, &channels);
  FACEKIT_RETURN_IF_ERROR(require_channel_vector(m, op, op.input(1), channels, "gamma"));
  FACEKIT_RETURN_IF_ERROR(require_channel_vector(m, op, op.input(2), channels, "beta"));
  const float eps = op.params.as<LayerNormParams>().epsilon;
  if (!(eps >= 0.0f) || !std::isfinite(eps)) return FACEKIT_OP_ERROR(op, "epsilon %g is not a finite value >= 0", eps);
  copy_io(op, s);
  s->pixels = pixels;
  s->channels = channels;
  s->pad_value = eps;
  s->run = [](const Step& st) {
    kernels::f32_layer_norm<Arch>(st.in[0], st.in[1], st.in[2], st.pixels, st.channels, st.pad_value, st.out);
  };
  return Status::ok();
}

template <class Arch>
Status prepare_token_dense(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
  const uint32_t x = op.inputs[kTokenDenseX], w = op.inputs[kTokenDenseWeights], y = op.outputs[0];
  const TensorInfo &xt = m.tensor(x), &wt = m.tensor(w), &yt = m.tensor(y);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  FACEKIT_RETURN_IF_ERROR(require_constant(m, op, w, format::Layout::conv2d_oc_tile, "weights"));
  const auto p = op.params.as<TokenDenseParams>();
  FACEKIT_RETURN_IF_ERROR(require_activation_param(op, p.activation));
  if (p.activation == Activation::prelu) return FACEKIT_OP_ERROR(op, "activation prelu is not supported");
  int t_in = 0, c_in = 0, t_out = 0, c_out = 0;
  FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, x, "input", &t_in, &c_in));
  FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, y, "output", &t_out, &c_out));
  if (wt.dims[1] != 1 || wt.dims[2] != 1 || wt.dims[3] != t_in || wt.dims[0] != t_out)
    return FACEKIT_OP_ERROR(op, "weights '%s' are [%d,%d,%d,%d], expected [%d,1,1,%d] for %d -> %d rows", wt.name,
                            wt.dims[0], wt.dims[1], wt.dims[2], wt.dims[3], t_out, t_in, t_in, t_out);
  if (c_in != c_out || yt.rank != xt.rank)
    return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, output '%s' %d (they must match, same rank)", xt.name,
                            c_in, yt.name, c_out);
  const uint32_t r = op.input(kTokenDenseResidual);
  if (r != kNoTensor) {
    const TensorInfo& rt = m.tensor(r);
    bool same = !rt.is_constant() && rt.rank == yt.rank;
    for (int d = 0; same && d < yt.rank; ++d) same = rt.dims[d] == yt.dims[d];
    if (!same) return FACEKIT_OP_ERROR(op, "residual '%s' must be an activation shaped like '%s'", rt.name, yt.name);
  }
  copy_io(op, s);
  s->conv = kernels::token_dense_geometry(t_in, c_in, t_out);
  s->activation = p.activation;
  s->residual_c = c_in;
  s->conv_fn = kernels::select_f32_token_dense<Arch>(p.activation, r != kNoTensor);
  if (!s->conv_fn) return FACEKIT_OP_ERROR(op, "no kernel for this configuration");
  s->run = [](const Step& st) {
    const kernels::Epilogue e{nullptr, st.in[kTokenDenseResidual], st.residual_c, st.activation};
    st.conv_fn(st.conv, st.in[kTokenDenseX], st.in[kTokenDenseWeights], e, st.out);
  };
  return Status::ok();
}

template <class Arch>
Status prepare_mul(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
  FACEKIT_RETURN_IF_ERROR(require_same_shape(m, op));
  int pixels = 0, channels = 0;
  pixels_channels(m.tensor(op.outputs[0]), &pixels, &channels);
  FACEKIT_RETURN_IF_ERROR(require_constant(m, op, op.inputs[1], format::Layout::channel_padded, "b"));
  FACEKIT_RETURN_IF_ERROR(require_channel_vector(m, op, op.inputs[1], channels, "b"));
  copy_io(op, s);
  s->pixels = pixels;
  s->channels = channels;
  s->run = [](const Step& st) { kernels::f32_mul<Arch>(st.in[0], st.in[1], st.pixels, st.channels, st.out); };
  return Status::ok();
}

template <class Arch>
Status prepare_point_normalize(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  FACEKIT_RETURN_IF_ERROR(require_same_shape(m, op));
  int points = 0, dims = 0;
  FACEKIT_RETURN_IF_ERROR(require_matrix(m, op, op.inputs[0], "input", &points, &dims));
  if (dims > 4) return FACEKIT_OP_ERROR(op, "points have %d coordinates, at most 4 are supported", dims);
  copy_io(op, s);
  s->pixels = points;
  s->channels = dims;
  s->run = [](const Step& st) { kernels::f32_point_normalize<Arch>(st.in[0], st.pixels, st.channels, st.out); };
  return Status::ok();
}

inline Status prepare_slice(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
  if (xt.rank != yt.rank) return FACEKIT_OP_ERROR(op, "rank changes from %d to %d", xt.rank, yt.rank);
  const auto p = op.params.as<SliceParams>();
  copy_io(op, s);
  const int off = 4 - xt.rank;
  for (int d = 0; d < 4; ++d) {
    const int src = d - off;
    const int in = src >= 0 ? xt.dims[src] : 1, out = src >= 0 ? yt.dims[src] : 1;
    const int begin = src >= 0 ? p.begin[src] : 0;
    if (begin < 0 || begin > in || out > in - begin)
      return FACEKIT_OP_ERROR(op, "dimension %d: begin %d + extent %d exceeds %d", src, begin, out, in);
    s->pad_in_dims[d] = in;
    s->pad_before[d] = begin;
    s->pad_out_dims[d] = out;
  }
  s->run = [](const Step& st) { kernels::f32_slice(st.in[0], st.pad_in_dims, st.pad_before, st.pad_out_dims, st.out); };
  return Status::ok();
}

inline Status prepare_copy(const Model& m, const OpInfo& op, Step* s) {
  FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 1, 1));
  const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
  if (xt.is_constant() && xt.layout != format::Layout::plain)
    return FACEKIT_OP_ERROR(op, "constant '%s' must have the plain layout (has %u)", xt.name, unsigned(xt.layout));
  if (xt.elements() != yt.elements())
    return FACEKIT_OP_ERROR(op, "'%s' has %zu elements, '%s' has %zu", xt.name, xt.elements(), yt.name, yt.elements());
  copy_io(op, s);
  s->count = yt.elements();
  s->run = [](const Step& st) { kernels::f32_copy(st.in[0], st.count, st.out); };
  return Status::ok();
}

}  // namespace ops
}  // namespace facekit
