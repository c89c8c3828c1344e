// facekit/ops/prelu.hpp - prelu: y = x >= 0 ? x : alpha[c] x, alpha a channel_padded constant.
#pragma once

#include "../kernels/f32_elementwise.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::prelu> : OpDefDefaults {
  struct Args {
    int pixels, channels;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
    FACEKIT_RETURN_IF_ERROR(require_elementwise(m, op));
    const PixelsChannels pc = pixels_channels(m.tensor(op.outputs[0]));
    FACEKIT_RETURN_IF_ERROR(require_alpha(m, op, op.inputs[1], pc.channels));
    *a = Args{pc.pixels, pc.channels};
    return Status::ok();
  }

  static double flops(const Args& a) { return double(a.pixels) * a.channels; }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_prelu<Arch>(s.in[0], s.in[1], a.pixels, a.channels, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
