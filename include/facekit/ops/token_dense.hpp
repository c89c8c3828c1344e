// facekit/ops/token_dense.hpp - token_dense: a dense layer across the second-to-last dimension
// (MLP-Mixer token mixing), run by the conv2d kernels on a transposed geometry.
#pragma once

#include "../kernels/f32_token_dense.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::token_dense> : OpDefDefaults {
  struct Args {
    kernels::Conv2dGeometry g;  ///< kernels::token_dense_geometry
    Activation activation;
    int channels;               ///< C, also the residual's
    kernels::Conv2dFn kernel;   ///< chosen by select()
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 3, 1));
    const uint32_t x = op.inputs[kTokenDenseX], w = op.inputs[kTokenDenseWeights], y = op.outputs[0];
    const TensorInfo &xt = m.tensor(x), &wt = m.tensor(w), &yt = m.tensor(y);
    if (xt.is_constant()) return FACEKIT_OP_ERROR(op, "input '%s' is a constant", xt.name);
    FACEKIT_RETURN_IF_ERROR(require_constant(m, op, w, format::Layout::conv2d_oc_tile, "weights"));
    const auto p = params_of<OpType::token_dense>(op);
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
      if (!same)
        return FACEKIT_OP_ERROR(op, "residual '%s' must be an activation shaped like '%s'", rt.name, yt.name);
    }
    a->g = kernels::token_dense_geometry(t_in, c_in, t_out);
    a->activation = p.activation;
    a->channels = c_in;
    return Status::ok();
  }

  template <class Arch>
  static Status select(const OpInfo& op, Args* a) {
    a->kernel = kernels::select_f32_token_dense<Arch>(a->activation, op.input(kTokenDenseResidual) != kNoTensor);
    if (!a->kernel) return FACEKIT_OP_ERROR(op, "no kernel for this configuration");
    return Status::ok();
  }

  /// Two per multiply-add: O x T weights over C channels.
  static double flops(const Args& a) { return 2.0 * a.g.out_w * a.g.in_w * a.g.in_c; }

  /// Threads share the output tokens, in the kernel's row blocks.
  static SplitRows split(const Args& a) { return {a.g.out_w, kernels::kTokenDenseRowAlign}; }

  template <class Arch>
  static void run_range(const CpuStep& s, int begin, int end) {
    const Args& a = s.args_as<Args>();
    const kernels::Epilogue e{nullptr, s.in[kTokenDenseResidual], a.channels, a.activation};
    a.kernel(a.g, s.in[kTokenDenseX], s.in[kTokenDenseWeights], e, s.out, kernels::OutRange{begin, end});
  }
};

}  // namespace ops
}  // namespace facekit
