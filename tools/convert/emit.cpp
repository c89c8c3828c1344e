// tools/convert/emit.cpp - the graph's live nodes -> OutModel: facekit ops in node order, each
// activation tensor created where it is first used, constants packed for their kernels
// (kernels/pack.hpp) and shared between the ops that read the same source tensor. The emitter
// knows no op: a node's type and params are written as they are, its operands turned into
// tensor ids one by one by their kind (graph.hpp).
#include "convert/emit.hpp"

#include <map>
#include <tuple>

#include "facekit/kernels/pack.hpp"

namespace facekit {
namespace convert {

namespace {

class Emitter {
 public:
  explicit Emitter(const LoweringGraph& g) : g_(g) {}

  Expected<OutModel> run() {
    for (int t : g_.source->inputs) out_.inputs.push_back(activation_id(t));
    for (const Node& n : g_.nodes) {
      if (n.pending != PendingOp::none)
        return g_.fail_model(strf("internal error: %s was not fused", n.name.c_str()));
      OutOp op;
      op.name = n.name;
      op.type = n.type;
      op.params = n.params;
      for (const Operand& o : n.in) op.inputs.push_back(operand_id(n, o));
      op.outputs = {activation_id(n.out)};
      out_.ops.push_back(std::move(op));
    }
    for (int t : g_.outputs) out_.outputs.push_back(activation_id(t));
    return std::move(out_);
  }

 private:
  const std::string& source_name(int t) const { return g_.source->tensors[std::size_t(t)].name; }

  uint32_t activation_id(int t) {
    auto it = act_ids_.find(t);
    if (it != act_ids_.end()) return it->second;
    OutTensor ot;
    ot.name = g_.tensor_name(t);
    ot.dims = g_.shape(t);
    const uint32_t id = uint32_t(out_.tensors.size());
    out_.tensors.push_back(std::move(ot));
    act_ids_.emplace(t, id);
    return id;
  }

  uint32_t add_constant(const std::string& name, std::vector<int32_t> dims, format::Layout layout,
                        std::vector<float> data) {
    OutTensor ot;
    ot.name = name;
    ot.dims = std::move(dims);
    ot.kind = format::TensorKind::constant;
    ot.layout = layout;
    ot.data = std::move(data);
    out_.tensors.push_back(std::move(ot));
    return uint32_t(out_.tensors.size() - 1);
  }

  uint32_t operand_id(const Node& n, const Operand& o) {
    switch (o.kind) {
      case OperandKind::none: return kNoTensor;
      case OperandKind::activation: return activation_id(o.tensor);
      case OperandKind::packed_conv_weights:
      case OperandKind::packed_dw_weights: return weights_id(n, o);
      case OperandKind::channel_vector: return channel_vector_id(o.tensor, o.values);
      case OperandKind::plain_constant: return plain_id(n, o);
    }
    return kNoTensor;
  }

  // A plain constant: one per source tensor, or one per node when no source tensor holds it.
  uint32_t plain_id(const Node& n, const Operand& o) {
    if (o.tensor < 0)
      return add_constant(n.name + "/" + o.label, {int32_t(o.values.size())}, format::Layout::plain, o.values);
    auto it = plain_ids_.find(o.tensor);
    if (it != plain_ids_.end()) return it->second;
    const uint32_t id = add_constant(source_name(o.tensor), g_.shape(o.tensor), format::Layout::plain, o.values);
    plain_ids_.emplace(o.tensor, id);
    return id;
  }

  // A per-channel constant (PReLU slopes, mul factors, layer norm gamma/beta), channel_padded.
  uint32_t channel_vector_id(int src, const std::vector<float>& v) {
    // Keyed by channel count too: a single-slope alpha expands to each user's width.
    const auto key = std::make_pair(src, int(v.size()));
    auto it = alpha_ids_.find(key);
    if (it != alpha_ids_.end()) return it->second;
    std::vector<float> packed(kernels::f32_channel_padded_size(int(v.size())));
    kernels::pack_f32_channel_padded(v.data(), int(v.size()), packed.data());
    const uint32_t id = add_constant(source_name(src), {int32_t(v.size())}, format::Layout::channel_padded,
                                     std::move(packed));
    alpha_ids_.emplace(key, id);
    return id;
  }

  // Weights and bias packed for the kernel; a row-pruned node's rows only.
  uint32_t weights_id(const Node& n, const Operand& o) {
    const auto key = std::make_tuple(o.tensor, o.bias, n.row_lo, n.row_hi);
    auto it = weight_ids_.find(key);
    if (it != weight_ids_.end()) return it->second;
    std::vector<int32_t> ws = g_.shape(o.tensor);
    const float* w = g_.values[std::size_t(o.tensor)].data();
    const float* b = o.bias >= 0 ? g_.values[std::size_t(o.bias)].data() : nullptr;
    std::string name = source_name(o.tensor);
    if (n.row_hi >= 0) {  // rows [row_lo, row_hi) only (passes/prune_rows.cpp)
      w += std::size_t(n.row_lo) * std::size_t(ws[1]) * std::size_t(ws[2]) * std::size_t(ws[3]);
      if (b) b += n.row_lo;
      ws[0] = n.row_hi - n.row_lo;
      name += strf("/rows_%d_%d", n.row_lo, n.row_hi);
    }
    std::vector<float> packed;
    uint32_t id;
    if (o.kind == OperandKind::packed_conv_weights) {
      packed.resize(kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]));
      kernels::pack_f32_conv2d(w, b, ws[0], ws[1], ws[2], ws[3], packed.data());
      id = add_constant(name, ws, format::Layout::conv2d_oc_tile, std::move(packed));
    } else {
      packed.resize(kernels::f32_dwconv2d_packed_size(ws[1], ws[2], ws[3]));
      kernels::pack_f32_dwconv2d(w, b, ws[1], ws[2], ws[3], packed.data());
      id = add_constant(name, ws, format::Layout::dwconv2d_c_tile, std::move(packed));
    }
    weight_ids_.emplace(key, id);
    return id;
  }

  const LoweringGraph& g_;
  OutModel out_;
  std::map<int, uint32_t> act_ids_;
  std::map<std::pair<int, int>, uint32_t> alpha_ids_;
  std::map<std::tuple<int, int, int, int>, uint32_t> weight_ids_;
  std::map<int, uint32_t> plain_ids_;
};

}  // namespace

Expected<OutModel> emit_model(const LoweringGraph& g) { return Emitter(g).run(); }

}  // namespace convert
}  // namespace facekit
