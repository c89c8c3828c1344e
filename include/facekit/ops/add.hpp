// facekit/ops/add.hpp - add: out = act(a + zero_extend(b)); b may have fewer channels
// (MediaPipe's channel-padded shortcut).
#pragma once

#include "../kernels/f32_elementwise.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::add> : OpDefDefaults {
  struct Args {
    int pixels, channels;
    int b_channels;
    Activation activation;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
    const TensorInfo &at = m.tensor(op.inputs[0]), &bt = m.tensor(op.inputs[1]), &yt = m.tensor(op.outputs[0]);
    if (at.is_constant() || bt.is_constant())
      return FACEKIT_OP_ERROR(op, "constant operands are not supported ('%s', '%s')", at.name, bt.name);
    const auto p = params_of<OpType::add>(op);
    FACEKIT_RETURN_IF_ERROR(require_activation_param(op, p.activation));
    bool same = at.rank == yt.rank && bt.rank == yt.rank && at.size_bytes == yt.size_bytes;
    for (int d = 0; same && d + 1 < yt.rank; ++d) same = at.dims[d] == yt.dims[d] && bt.dims[d] == yt.dims[d];
    if (!same || at.dims[yt.rank - 1] != yt.dims[yt.rank - 1] || bt.dims[yt.rank - 1] > yt.dims[yt.rank - 1])
      return FACEKIT_OP_ERROR(op, "shapes of '%s' and '%s' do not fit the output '%s' (b may only have fewer channels)",
                              at.name, bt.name, yt.name);
    const PixelsChannels pc = pixels_channels(yt);
    if (p.activation == Activation::prelu) FACEKIT_RETURN_IF_ERROR(require_alpha(m, op, op.input(2), pc.channels));
    *a = Args{pc.pixels, pc.channels, bt.dims[bt.rank - 1], p.activation};
    return Status::ok();
  }

  static double flops(const Args& a) { return double(a.pixels) * a.channels; }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_add<Arch>(s.in[0], s.in[1], a.pixels, a.channels, a.b_channels, s.in[2], a.activation, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
