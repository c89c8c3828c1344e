// facekit/ops/layer_norm.hpp - layer_norm over the last dimension of each row:
// y = (x - mean) * gamma[c] / sqrt(var + epsilon) + beta[c] (LayerNormParams).
#pragma once

#include <cmath>

#include "../kernels/f32_layer_norm.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::layer_norm> : OpDefDefaults {
  struct Args {
    int rows, channels;
    float epsilon;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 1, 3, 1));
    FACEKIT_RETURN_IF_ERROR(require_same_shape(m, op));
    const PixelsChannels pc = pixels_channels(m.tensor(op.outputs[0]));
    FACEKIT_RETURN_IF_ERROR(require_channel_vector(m, op, op.input(1), pc.channels, "gamma"));
    FACEKIT_RETURN_IF_ERROR(require_channel_vector(m, op, op.input(2), pc.channels, "beta"));
    const float eps = params_of<OpType::layer_norm>(op).epsilon;
    if (!(eps >= 0.0f) || !std::isfinite(eps))
      return FACEKIT_OP_ERROR(op, "epsilon %g is not a finite value >= 0", eps);
    *a = Args{pc.pixels, pc.channels, eps};
    return Status::ok();
  }

  /// Mean, variance, then a multiply-add per element.
  static double flops(const Args& a) { return 5.0 * a.rows * a.channels; }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_layer_norm<Arch>(s.in[0], s.in[1], s.in[2], a.rows, a.channels, a.epsilon, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
