// tools/convert/import/import_state.cpp - checks and node building shared by the importers.
#include <algorithm>

#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

ImportState::ImportState(LoweringGraph& g) : src(*g.source), graph(g) {
  const std::size_t nt = src.tensors.size();
  constant.assign(nt, 0);
  defined.assign(nt, 0);
  source_output.assign(nt, 0);
  for (std::size_t t = 0; t < nt; ++t) constant[t] = src.tensors[t].has_data ? 1 : 0;
  for (int t : src.outputs) source_output[std::size_t(t)] = 1;
  live_op.assign(src.ops.size(), 1);
  producer_op.assign(nt, -1);
  readers.assign(nt, {});
  alias.resize(nt);
  for (std::size_t t = 0; t < nt; ++t) alias[t] = int(t);
  transposed.assign(nt, 0);
  pattern_of.assign(src.ops.size(), -1);
}

Status ImportState::fail(const SourceOp& op, const std::string& msg) const {
  return Status::error("%s: operator #%d %s: %s", src.source.c_str(), op.index, op.type_name.c_str(), msg.c_str());
}

Status ImportState::need_inputs(const SourceOp& op, std::size_t min_in, std::size_t max_in, std::size_t outs) const {
  if (op.inputs.size() < min_in || op.inputs.size() > max_in)
    return fail(op, strf("has %zu inputs, expected %zu..%zu", op.inputs.size(), min_in, max_in));
  if (op.outputs.size() != outs) return fail(op, strf("has %zu outputs, expected %zu", op.outputs.size(), outs));
  for (std::size_t i = 0; i < min_in; ++i)
    if (op.inputs[i] < 0) return fail(op, strf("required input %zu is missing", i));
  return Status::ok();
}

Status ImportState::need_activation(const SourceOp& op, int t, const char* what) const {
  const SourceTensor& st = src.tensors[std::size_t(t)];
  if (constant[std::size_t(t)])
    return fail(op, strf("%s '%s' is a constant; facekit ops take constants only as weights", what, st.name.c_str()));
  if (st.type != kTfFloat32)
    return fail(op, strf("%s '%s' has type %s; activations must be FLOAT32", what, st.name.c_str(),
                         tf_type_name(st.type).c_str()));
  if (st.shape.size() > 4)
    return fail(op, strf("%s '%s' has rank %zu; at most 4 is supported", what, st.name.c_str(), st.shape.size()));
  if (st.elements == 0)
    return fail(op, strf("%s '%s' is empty (shape %s)", what, st.name.c_str(), shape_str(st.shape).c_str()));
  if (!defined[std::size_t(t)])
    return fail(op, strf("%s '%s' is read before any operator writes it", what, st.name.c_str()));
  return Status::ok();
}

Status ImportState::need_nhwc(const SourceOp& op, int t, const char* what) const {
  FACEKIT_RETURN_IF_ERROR(need_activation(op, t, what));
  const auto& s = shape(t);
  if (s.size() != 4 || s[0] != 1)
    return fail(op, strf("%s '%s' has shape %s; expected NHWC with batch 1", what, tname(t), shape_str(s).c_str()));
  return Status::ok();
}

Status ImportState::define_output(const SourceOp& op, int t) {
  const SourceTensor& st = src.tensors[std::size_t(t)];
  if (constant[std::size_t(t)] || defined[std::size_t(t)])
    return fail(op, strf("output '%s' is a constant, a graph input or written twice", st.name.c_str()));
  if (st.type != kTfFloat32)
    return fail(op, strf("output '%s' has type %s; activations must be FLOAT32", st.name.c_str(),
                         tf_type_name(st.type).c_str()));
  if (st.shape.size() > 4)
    return fail(op, strf("output '%s' has rank %zu; at most 4 is supported", st.name.c_str(), st.shape.size()));
  if (st.elements == 0)
    return fail(op, strf("output '%s' is empty (shape %s)", st.name.c_str(), shape_str(st.shape).c_str()));
  defined[std::size_t(t)] = 1;
  return Status::ok();
}

Status ImportState::const_floats(const SourceOp& op, int t, const char* what, const std::vector<float>** out) {
  if (!constant[std::size_t(t)])
    return fail(op, strf("%s '%s' must be a constant (weights computed at run time are not supported)", what,
                         tname(t)));
  std::vector<float>& v = graph.values[std::size_t(t)];
  const SourceTensor& st = src.tensors[std::size_t(t)];
  if (st.has_data && v.empty() && st.elements > 0) {
    if (st.sparse) return fail(op, strf("%s '%s' is a sparse tensor (needs DENSIFY)", what, st.name.c_str()));
    if (st.type != kTfFloat32)
      return fail(op, strf("%s '%s' has type %s; expected FLOAT32 (or FLOAT16 behind DEQUANTIZE)", what,
                           st.name.c_str(), tf_type_name(st.type).c_str()));
    Status s = constant_as_floats(src, t, &v);
    if (!s) return fail(op, s.message());
  }
  *out = &v;
  return Status::ok();
}

bool ImportState::is_channel_constant(int t, int channels) const {
  const auto& s = src.tensors[std::size_t(t)].shape;
  if (src.tensors[std::size_t(t)].elements != std::size_t(channels) || s.empty() || s.back() != channels) return false;
  for (std::size_t d = 0; d + 1 < s.size(); ++d)
    if (s[d] != 1) return false;
  return true;
}

Node ImportState::make_node(const SourceOp& op, OpType type) const {
  Node n;
  n.type = type;
  n.src = op.index;
  n.name = op.type_name + "#" + std::to_string(op.index);
  return n;
}

Status ImportState::emit(Node n, const std::vector<int>& in, int out, std::vector<Operand> constants) {
  n.in.clear();
  for (int t : in) n.in.push_back(Operand::activation(t));
  for (Operand& o : constants) n.in.push_back(std::move(o));
  n.out = out;
  graph.nodes.push_back(std::move(n));
  return Status::ok();
}

Status activation_of(int tf_act, Activation* out) {
  switch (tf_act) {
    case kTfActNone: *out = Activation::none; return Status::ok();
    case kTfActRelu: *out = Activation::relu; return Status::ok();
    case kTfActRelu6: *out = Activation::relu6; return Status::ok();
    case kTfActReluN1To1: return Status::error("fused activation RELU_N1_TO_1 is not supported");
    case kTfActTanh: return Status::error("fused activation TANH is not supported");
    case kTfActSignBit: return Status::error("fused activation SIGN_BIT is not supported");
    default: return Status::error("unknown fused activation %d", tf_act);
  }
}

Status explicit_padding(int padding, int in, int k, int stride, int dilation, int* before, int* after, int* out) {
  if (stride < 1 || dilation < 1 || k < 1 || stride > 1024 || dilation > 1024 || k > 1024)
    return Status::error("kernel %d, stride %d, dilation %d out of range", k, stride, dilation);
  // 64-bit: a hostile input size near INT_MAX must not overflow.
  const int64_t ext = int64_t(k - 1) * dilation + 1;
  if (padding == kTfPadSame) {
    const int64_t o = (int64_t(in) + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((o - 1) * stride + ext - in, 0);
    *out = int(o);
    *before = int(total / 2);
    *after = int(total - total / 2);
  } else if (padding == kTfPadValid) {
    if (in < ext)
      return Status::error("input size %d is smaller than the kernel extent %lld (VALID)", in,
                           static_cast<long long>(ext));
    *out = int((in - ext) / stride + 1);
    *before = *after = 0;
  } else {
    return Status::error("unknown padding %d", padding);
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
