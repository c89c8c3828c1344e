// tools/convert/emit.cpp - the graph's live nodes -> OutModel: facekit ops in node order, each
// activation tensor created where it is first used, constants packed for their kernels
// (kernels/pack.hpp) and shared between the ops that read the same source tensor.
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
      OutOp op;
      op.name = n.name;
      Status s = lower(n, &op);
      if (!s) return s;
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

  uint32_t alpha_id(const Node& n) { return channel_vector_id(n.alpha_src, n.alpha); }

  // transform_landmarks' matrix factor: one plain constant per source tensor.
  uint32_t factor_id(const Node& n) {
    auto it = factor_ids_.find(n.factor_src);
    if (it != factor_ids_.end()) return it->second;
    const uint32_t id = add_constant(source_name(n.factor_src), g_.shape(n.factor_src), format::Layout::plain,
                                     n.factor);
    factor_ids_.emplace(n.factor_src, id);
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

  uint32_t weights_id(const Node& n) {
    const auto key = std::make_tuple(n.filter, n.bias, n.row_lo, n.row_hi);
    auto it = weight_ids_.find(key);
    if (it != weight_ids_.end()) return it->second;
    std::vector<int32_t> ws = g_.shape(n.filter);
    const float* w = g_.values[std::size_t(n.filter)].data();
    const float* b = n.bias >= 0 ? g_.values[std::size_t(n.bias)].data() : nullptr;
    std::string name = source_name(n.filter);
    if (n.row_hi >= 0) {  // token_dense rows [row_lo, row_hi) only (passes/prune_rows.cpp)
      w += std::size_t(n.row_lo) * std::size_t(ws[1]) * std::size_t(ws[2]) * std::size_t(ws[3]);
      if (b) b += n.row_lo;
      ws[0] = n.row_hi - n.row_lo;
      name += strf("/rows_%d_%d", n.row_lo, n.row_hi);
    }
    std::vector<float> packed;
    uint32_t id;
    if (n.kind == NodeKind::conv2d || n.kind == NodeKind::token_dense) {  // token_dense: [O,1,1,T], a 1x1 conv's layout
      packed.resize(kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]));
      kernels::pack_f32_conv2d(w, b, ws[0], ws[1], ws[2], ws[3], packed.data());
      id = add_constant(name, ws, format::Layout::conv2d_oc_tile, std::move(packed));
    } else {
      packed.resize(kernels::f32_dwconv2d_packed_size(ws[1], ws[2], ws[3]));
      kernels::pack_f32_dwconv2d(w, b, ws[1], ws[2], ws[3], packed.data());
      id = add_constant(source_name(n.filter), ws, format::Layout::dwconv2d_c_tile, std::move(packed));
    }
    weight_ids_.emplace(key, id);
    return id;
  }

  // The op type, params and inputs of one node.
  Status lower(const Node& n, OutOp* op) {
    switch (n.kind) {
      case NodeKind::conv2d:
      case NodeKind::dwconv2d: {
        op->type = n.kind == NodeKind::conv2d ? OpType::conv2d : OpType::dwconv2d;
        Conv2dParams p = n.conv;
        p.activation = n.act;
        op->params = OpParams::from(p);
        op->inputs = {activation_id(n.in[0]), weights_id(n)};
        if (n.act == Activation::prelu || n.residual >= 0)
          op->inputs.push_back(n.act == Activation::prelu ? alpha_id(n) : kNoTensor);
        if (n.residual >= 0) op->inputs.push_back(activation_id(n.residual));
        break;
      }
      case NodeKind::maxpool2d:
        op->type = OpType::maxpool2d;
        op->params = OpParams::from(n.pool);
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::add:
        op->type = OpType::add;
        op->params = OpParams::from(AddParams{n.act});
        op->inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
        if (n.act == Activation::prelu) op->inputs.push_back(alpha_id(n));
        break;
      case NodeKind::relu:
        op->type = OpType::relu;
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::prelu:
        op->type = OpType::prelu;
        op->inputs = {activation_id(n.in[0]), alpha_id(n)};
        break;
      case NodeKind::logistic:
        op->type = OpType::logistic;
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::reshape:
        op->type = OpType::reshape;
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::concat:
        op->type = OpType::concat;
        op->params = OpParams::from(ConcatParams{n.axis});
        for (int t : n.in) op->inputs.push_back(activation_id(t));
        break;
      case NodeKind::pad:
        op->type = OpType::pad;
        op->params = OpParams::from(n.pad);
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::token_dense:
        op->type = OpType::token_dense;
        op->params = OpParams::from(TokenDenseParams{n.act});
        op->inputs = {activation_id(n.in[0]), weights_id(n)};
        if (n.residual >= 0) op->inputs.push_back(activation_id(n.residual));
        break;
      case NodeKind::layer_norm:
        op->type = OpType::layer_norm;
        op->params = OpParams::from(LayerNormParams{n.eps});
        op->inputs = {activation_id(n.in[0]),
                      n.gamma_src >= 0 ? channel_vector_id(n.gamma_src, n.gamma) : kNoTensor};
        if (n.beta_src >= 0) op->inputs.push_back(channel_vector_id(n.beta_src, n.beta));
        if (n.gamma_src < 0 && n.beta_src < 0) op->inputs.pop_back();
        break;
      case NodeKind::point_normalize:
        op->type = OpType::point_normalize;
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::mul:
        op->type = OpType::mul;
        op->inputs = {activation_id(n.in[0]), alpha_id(n)};
        break;
      case NodeKind::slice:
        op->type = OpType::slice;
        op->params = OpParams::from(n.slice);
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::copy:
        op->type = OpType::copy;
        op->inputs = {add_constant(source_name(n.const_src), g_.shape(n.const_src), format::Layout::plain,
                                   g_.values[std::size_t(n.const_src)])};
        break;
      case NodeKind::landmarks_to_transform_matrix:
        op->type = OpType::landmarks_to_transform_matrix;
        op->params = OpParams::from(n.l2t);
        op->inputs = {activation_id(n.in[0]), add_constant(n.name + "/subset_idxs", {int32_t(n.subset.size())},
                                                           format::Layout::plain, n.subset)};
        break;
      case NodeKind::transform_tensor_bilinear:
        op->type = OpType::transform_tensor_bilinear;
        op->params = OpParams::from(n.ttb);
        op->inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
        break;
      case NodeKind::transform_landmarks:
        op->type = OpType::transform_landmarks;
        op->params = OpParams::from(n.tl);
        op->inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
        if (n.factor_src >= 0) op->inputs.push_back(factor_id(n));
        break;
      case NodeKind::resize_bilinear:
        op->type = OpType::resize_bilinear;
        op->params = OpParams::from(n.resize);
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::depth_to_space:
        op->type = OpType::depth_to_space;
        op->params = OpParams::from(n.d2s);
        op->inputs = {activation_id(n.in[0])};
        break;
      case NodeKind::relu6:
        return g_.fail_model(strf("internal error: %s was not fused", n.name.c_str()));
    }
    return Status::ok();
  }

  const LoweringGraph& g_;
  OutModel out_;
  std::map<int, uint32_t> act_ids_;
  std::map<std::pair<int, int>, uint32_t> alpha_ids_;
  std::map<std::tuple<int, int, int, int>, uint32_t> weight_ids_;
  std::map<int, uint32_t> factor_ids_;
};

}  // namespace

Expected<OutModel> emit_model(const LoweringGraph& g) { return Emitter(g).run(); }

}  // namespace convert
}  // namespace facekit
