// tools/convert/import/elementwise.cpp - ADD, RELU, RELU6, LOGISTIC, PRELU and MUL by a constant.
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

// MUL(matrix, constant of the same 16 elements) whose every reader is a TransformLandmarks
// taking it as the matrix: it becomes those ops' factor input (the attention mesh scales its
// crop matrices from the 16 x 16 crop to the heads' 64 x 64 frame this way).
bool is_matrix_factor(const ImportState& st, const SourceOp& op, int x, int k) {
  const int y = op.outputs[0];
  const auto& ts = st.src.tensors;
  if (ts[std::size_t(x)].elements != 16 || ts[std::size_t(k)].elements != 16 ||
      ts[std::size_t(x)].shape != ts[std::size_t(k)].shape || st.source_output[std::size_t(y)] ||
      st.readers[std::size_t(y)].empty())
    return false;
  for (int r : st.readers[std::size_t(y)]) {
    const SourceOp& u = st.src.ops[std::size_t(r)];
    if (u.builtin != kTfCustom || u.custom_code != kCustomTransformLandmarks || u.inputs.size() != 2 ||
        u.inputs[1] != y || u.inputs[0] == y)
      return false;
  }
  return true;
}

Status need_same_shape(const ImportState& st, const SourceOp& op, int x, int y) {
  if (st.shape(x) != st.shape(y))
    return st.fail(op, strf("input %s and output %s differ in shape", shape_str(st.shape(x)).c_str(),
                            shape_str(st.shape(y)).c_str()));
  return Status::ok();
}

}  // namespace

Status import_add(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, a, "input"));
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, b, "input"));
  if (st.shape(a) != st.shape(b) || st.shape(a) != st.shape(y))
    return st.fail(op, strf("shapes %s + %s -> %s: broadcasting is not supported", shape_str(st.shape(a)).c_str(),
                            shape_str(st.shape(b)).c_str(), shape_str(st.shape(y)).c_str()));
  AddParams p{};
  Status s = activation_of(op.options.activation, &p.activation);
  if (!s) return st.fail(op, s.message());
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::add, p), {a, b}, y);
}

Status import_unary(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  FACEKIT_RETURN_IF_ERROR(need_same_shape(st, op, x, y));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  Node n = st.make_node(op, op.builtin == kTfLogistic ? OpType::logistic : OpType::relu);
  if (op.builtin == kTfRelu6) n.pending = PendingOp::relu6;  // facekit has relu6 only as a fused activation
  return st.emit(std::move(n), {x}, y);
}

Status import_prelu(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], al = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  FACEKIT_RETURN_IF_ERROR(need_same_shape(st, op, x, y));
  const std::vector<float>* av = nullptr;
  FACEKIT_RETURN_IF_ERROR(st.const_floats(op, al, "alpha", &av));
  // facekit applies one slope per channel: alpha must be [.., 1, C] or a single value.
  const auto& xs = st.shape(x);
  const int c = xs.empty() ? 1 : xs.back();
  const auto& as = st.shape(al);
  bool per_channel = as.size() <= xs.size();
  for (std::size_t d = 0; per_channel && d + 1 < as.size(); ++d) per_channel = as[d] == 1;
  const int alpha_c = as.empty() ? 1 : as.back();
  per_channel = per_channel && (alpha_c == c || alpha_c == 1);
  if (!per_channel)
    return st.fail(op, strf("alpha '%s' has shape %s; only one slope per channel (of %d) is supported", st.tname(al),
                            shape_str(as).c_str(), c));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  std::vector<float> alpha(static_cast<std::size_t>(c));
  for (int i = 0; i < c; ++i) alpha[std::size_t(i)] = (*av)[alpha_c == 1 ? 0 : std::size_t(i)];
  return st.emit(st.make_node(op, OpType::prelu), {x}, y, {Operand::channel_vector(al, std::move(alpha))});
}

// MUL by a constant scalar or per-channel vector (anything else is refused), or by a 4x4 matrix
// factor that the TransformLandmarks reading it take over.
Status import_mul(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
  const bool ca = st.constant[std::size_t(a)] != 0, cb = st.constant[std::size_t(b)] != 0;
  if (ca == cb)
    return st.fail(op, ca ? std::string("multiplies two constants (not folded)")
                          : std::string("multiplies two activations; facekit's mul takes one constant operand (MUL "
                                        "of activations is supported only inside a layer normalisation)"));
  const int x = ca ? b : a, k = ca ? a : b;
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  if (op.options.activation != kTfActNone)
    return st.fail(op, strf("fused activation %d on MUL is not supported", op.options.activation));
  const auto& ys = st.src.tensors[std::size_t(y)].shape;
  if (st.shape(x) != ys)
    return st.fail(op, strf("input %s and output %s differ in shape (broadcasting the activation is not supported)",
                            shape_str(st.shape(x)).c_str(), shape_str(ys).c_str()));
  const std::vector<float>* kv = nullptr;
  FACEKIT_RETURN_IF_ERROR(st.const_floats(op, k, "factor", &kv));
  const int c = st.shape(x).empty() ? 1 : st.shape(x).back();
  const bool scalar = st.src.tensors[std::size_t(k)].elements == 1;
  if (!scalar && !st.is_channel_constant(k, c) && is_matrix_factor(st, op, x, k)) {
    FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
    st.matrix_factor[y] = {x, k};
    return Status::ok();
  }
  if (!scalar && !st.is_channel_constant(k, c))
    return st.fail(op, strf("factor '%s' has shape %s; only a scalar or one value per channel (of %d) is supported",
                            st.tname(k), shape_str(st.shape(k)).c_str(), c));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  std::vector<float> factor(static_cast<std::size_t>(c));
  for (int i = 0; i < c; ++i) factor[std::size_t(i)] = (*kv)[scalar ? 0 : std::size_t(i)];
  return st.emit(st.make_node(op, OpType::mul), {x}, y, {Operand::channel_vector(k, std::move(factor))});
}

}  // namespace convert
}  // namespace facekit
