// tools/convert/import/mixer.cpp - the blendshape MLP-Mixer: token mixing (a 1x1 CONV_2D over
// a TRANSPOSE view) and the normalisation subgraphs that passes/fuse_mixer_patterns.cpp
// recognised, each imported as one op.
#include <cmath>

#include "convert/import/importer.hpp"
#include "facekit/kernels/pack.hpp"

namespace facekit {
namespace convert {

// A 1x1 CONV_2D over a transposed view: TFLite computes conv(transpose(x)) with x = [1,1,T,C]
// stored token-major; token_dense computes the same numbers as [1,1,O,C] directly. The conv's
// output tensor is stored in that shape and marked transposed, so that the TRANSPOSE that
// normally follows is again a free view.
Status import_token_dense(ImportState& st, const SourceOp& op, int view) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 3, 1));
  if (op.options.type != 1)
    return st.fail(op, strf("options are missing (union type %d, expected 1)", op.options.type));
  const int x = op.inputs[0], w = op.inputs[1], b = op.inputs.size() > 2 ? op.inputs[2] : -1, y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  const auto& vs = st.src.tensors[std::size_t(view)].shape;
  if (vs.size() != 4 || vs[0] != 1 || vs[1] != 1)
    return st.fail(op, strf("transposed input '%s' has shape %s; expected [1,1,C,T]", st.tname(view),
                            shape_str(vs).c_str()));
  const int C = vs[2], T = vs[3];
  const std::vector<float>* wv = nullptr;
  const std::vector<float>* bv = nullptr;
  FACEKIT_RETURN_IF_ERROR(st.const_floats(op, w, "filter", &wv));
  if (b >= 0) FACEKIT_RETURN_IF_ERROR(st.const_floats(op, b, "bias", &bv));
  const auto& ws = st.shape(w);
  if (ws.size() != 4 || ws[0] < 1 || ws[1] != 1 || ws[2] != 1 || ws[3] != T)
    return st.fail(op, strf("filter '%s' has shape %s; a token-mixing conv needs [O,1,1,%d]", st.tname(w),
                            shape_str(ws).c_str(), T));
  const int O = ws[0];
  if (kernels::f32_conv2d_packed_size(O, 1, 1, T) > (std::size_t(1) << 28))
    return st.fail(op, strf("filter '%s' %s is too large", st.tname(w), shape_str(ws).c_str()));
  if (bv && st.shape(b) != std::vector<int32_t>{O})
    return st.fail(op, strf("bias '%s' has shape %s, expected [%d]", st.tname(b), shape_str(st.shape(b)).c_str(), O));
  if (op.options.stride_h != 1 || op.options.stride_w != 1)
    return st.fail(op, strf("stride %dx%d on a token-mixing conv is not supported", op.options.stride_h,
                            op.options.stride_w));
  TokenDenseParams p{};
  Status s = activation_of(op.options.activation, &p.activation);
  if (!s) return st.fail(op, s.message());
  const auto& ys = st.src.tensors[std::size_t(y)].shape;
  if (ys != std::vector<int32_t>{1, 1, C, O})
    return st.fail(op, strf("output '%s' has shape %s, expected [1,1,%d,%d]", st.tname(y), shape_str(ys).c_str(), C,
                            O));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  st.graph.stored_shape[y] = {1, 1, O, C};
  st.transposed[std::size_t(y)] = 1;
  // [O,1,1,T]: a 1x1 conv's weights, packed as such.
  return st.emit(st.make_node(op, OpType::token_dense, p), {x}, y, {Operand::conv_weights(w, b)});
}

Status import_pattern_member(ImportState& st, const SourceOp& op) {
  return st.fail(op, "is supported only as part of a layer normalisation or point normalisation subgraph, and this "
                     "one does not match those patterns");
}

Status import_pattern(ImportState& st, const Pattern& p, const SourceOp& last) {
  const int x = p.x;
  if (st.transposed[std::size_t(x)])
    return st.fail(last, strf("input '%s' is a transposed view, which a normalisation cannot read", st.tname(x)));
  const int xr = st.alias[std::size_t(x)];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(last, xr, "input"));
  FACEKIT_RETURN_IF_ERROR(st.define_output(last, p.y));
  Node n;
  n.type = p.type;
  n.src = p.ops.front();
  for (int i : p.ops) {
    const SourceOp& op = st.src.ops[std::size_t(i)];
    n.name += (n.name.empty() ? "" : "+") + op.type_name + "#" + std::to_string(op.index);
  }
  std::vector<Operand> constants;
  if (p.type == OpType::layer_norm) {
    const std::vector<float>* v = nullptr;
    FACEKIT_RETURN_IF_ERROR(st.const_floats(last, p.eps, "epsilon", &v));
    const LayerNormParams ln{(*v)[0]};
    if (!(ln.epsilon >= 0.0f) || !std::isfinite(ln.epsilon))
      return st.fail(last, strf("epsilon '%s' is %g; expected a finite value >= 0", st.tname(p.eps),
                                double(ln.epsilon)));
    n.params = OpParams::from(ln);
    // x, [gamma], [beta]: a beta without gamma keeps gamma's slot empty.
    if (p.gamma >= 0 || p.beta >= 0) constants.push_back(Operand::absent());
    if (p.gamma >= 0) {
      FACEKIT_RETURN_IF_ERROR(st.const_floats(last, p.gamma, "gamma", &v));
      constants[0] = Operand::channel_vector(p.gamma, *v);
    }
    if (p.beta >= 0) {
      FACEKIT_RETURN_IF_ERROR(st.const_floats(last, p.beta, "beta", &v));
      constants.push_back(Operand::channel_vector(p.beta, *v));
    }
    ++st.graph.stats.layer_norms_fused;
  } else {
    const auto& xs = st.shape(xr);
    for (std::size_t d = 0; d + 2 < xs.size(); ++d)
      if (xs[d] != 1)
        return st.fail(last, strf("points '%s' %s: leading dimensions must be 1", st.tname(x), shape_str(xs).c_str()));
    if (xs.back() > 4)
      return st.fail(last, strf("points '%s' have %d coordinates; at most 4 are supported", st.tname(x), xs.back()));
    ++st.graph.stats.point_normalizations_fused;
  }
  return st.emit(std::move(n), {xr}, p.y, std::move(constants));
}

}  // namespace convert
}  // namespace facekit
