// tools/convert/graph.cpp - the graph IR's lookups and its text form (--dump-passes).
#include "convert/graph.hpp"

#include <cstdarg>
#include <cstdio>

namespace facekit {
namespace convert {

std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string shape_str(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

namespace {

// The `activation` field of a parameter block, if it has one (overload resolution picks the
// first where P::activation exists).
template <class P>
auto activation_field(P* p, int) -> decltype(&p->activation) {
  return &p->activation;
}
template <class P>
Activation* activation_field(P*, long) {
  return nullptr;
}

}  // namespace

std::vector<int> activation_inputs(const Node& n) {
  std::vector<int> r;
  for (const Operand& o : n.in)
    if (o.kind == OperandKind::activation) r.push_back(o.tensor);
  return r;
}

void set_input(Node& n, int slot, Operand o) {
  if (n.in.size() <= std::size_t(slot)) n.in.resize(std::size_t(slot) + 1);
  n.in[std::size_t(slot)] = std::move(o);
}

Activation fused_activation(const Node& n) {
  switch (n.type) {
#define FACEKIT_CONVERT_ACT_GET(name, code, P) \
  case OpType::name: {                        \
    P p = n.params.as<P>();                   \
    const Activation* a = activation_field(&p, 0); \
    return a ? *a : Activation::none;         \
  }
    FACEKIT_OPS(FACEKIT_CONVERT_ACT_GET)
#undef FACEKIT_CONVERT_ACT_GET
  }
  return Activation::none;
}

bool set_fused_activation(Node& n, Activation act) {
  switch (n.type) {
#define FACEKIT_CONVERT_ACT_SET(name, code, P) \
  case OpType::name: {                        \
    P p = n.params.as<P>();                   \
    Activation* a = activation_field(&p, 0);  \
    if (!a) return false;                     \
    *a = act;                                 \
    n.params = OpParams::from(p);             \
    return true;                              \
  }
    FACEKIT_OPS(FACEKIT_CONVERT_ACT_SET)
#undef FACEKIT_CONVERT_ACT_SET
  }
  return false;
}

int residual_slot(OpType t) {
  if (t == OpType::conv2d || t == OpType::dwconv2d) return kConvResidual;
  if (t == OpType::token_dense) return kTokenDenseResidual;
  return -1;
}

int alpha_slot(OpType t) {
  if (t == OpType::conv2d || t == OpType::dwconv2d) return kConvAlpha;
  if (t == OpType::add) return 2;  // a, b, alpha (op_types.hpp)
  return -1;
}

int residual_input(const Node& n) {
  const int k = residual_slot(n.type);
  if (k < 0 || n.in.size() <= std::size_t(k) || n.in[std::size_t(k)].kind != OperandKind::activation) return -1;
  return n.in[std::size_t(k)].tensor;
}

const char* node_type_name(const Node& n) {
  if (n.pending == PendingOp::relu6) return "relu6";
  const char* s = op_type_name(n.type);
  return s ? s : "?";
}

LoweringGraph::LoweringGraph(const SourceGraph& g)
    : source(&g), is_output(g.tensors.size(), 0), values(g.tensors.size()) {}

const std::vector<int32_t>& LoweringGraph::shape(int t) const {
  auto it = stored_shape.find(t);
  return it != stored_shape.end() ? it->second : source->tensors[std::size_t(t)].shape;
}

std::string LoweringGraph::tensor_name(int t) const {
  return std::size_t(t) < source->tensors.size() ? source->tensors[std::size_t(t)].name
                                                 : extra_names[std::size_t(t) - source->tensors.size()];
}

int LoweringGraph::add_tensor(std::string name, std::vector<int32_t> dims) {
  const int t = int(tensor_count());
  extra_names.push_back(std::move(name));
  stored_shape[t] = std::move(dims);
  return t;
}

int LoweringGraph::uses(int t) const {
  int n = std::size_t(t) < is_output.size() && is_output[std::size_t(t)] ? 1000000 : 0;
  for (const Node& nd : nodes) {
    if (nd.dead) continue;
    for (const Operand& o : nd.in) n += o.kind == OperandKind::activation && o.tensor == t;
  }
  return n;
}

Node* LoweringGraph::producer(int t) {
  for (Node& nd : nodes)
    if (!nd.dead && nd.out == t) return &nd;
  return nullptr;
}

Status LoweringGraph::fail_model(const std::string& msg) const {
  return Status::error("%s: %s", source->source.c_str(), msg.c_str());
}

namespace {

const char* activation_name(Activation a) {
  static const char* const kNames[] = {"none", "relu", "relu6", "prelu"};  // by Activation's value
  const auto i = std::size_t(a);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "?";
}

std::string tensor_str(const LoweringGraph& g, int t) { return "'" + g.tensor_name(t) + "'" + shape_str(g.shape(t)); }

// The parameters worth reading in a dump, per parameter block (others print nothing).
template <class P>
std::string params_str(const P&) {
  return "";
}
std::string params_str(const Conv2dParams& p) {
  return strf("; kernel %dx%d stride %dx%d dilation %dx%d pad %d,%d,%d,%d", p.kernel_h, p.kernel_w, p.stride_h,
              p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right);
}
std::string params_str(const Pool2dParams& p) {
  return strf("; kernel %dx%d stride %dx%d pad %d,%d,%d,%d", p.kernel_h, p.kernel_w, p.stride_h, p.stride_w,
              p.pad_top, p.pad_left, p.pad_bottom, p.pad_right);
}
std::string params_str(const PadParams& p) {
  std::string r = "; pad";
  for (int d = 0; d < 4; ++d) r += strf(" %d+%d", p.before[d], p.after[d]);
  return r;
}
std::string params_str(const SliceParams& p) {
  return strf("; begin %d,%d,%d,%d", p.begin[0], p.begin[1], p.begin[2], p.begin[3]);
}
std::string params_str(const ConcatParams& p) { return strf("; axis %d", p.axis); }
std::string params_str(const LayerNormParams& p) { return strf("; epsilon %g", double(p.epsilon)); }

std::string params_str(const Node& n) {
  switch (n.type) {
#define FACEKIT_CONVERT_PARAMS_STR(name, code, P) \
  case OpType::name: return params_str(n.params.as<P>());
    FACEKIT_OPS(FACEKIT_CONVERT_PARAMS_STR)
#undef FACEKIT_CONVERT_PARAMS_STR
  }
  return "";
}

std::string constant_str(const LoweringGraph& g, const Node& n, const Operand& o) {
  switch (o.kind) {
    case OperandKind::packed_conv_weights:
    case OperandKind::packed_dw_weights: {
      std::string r = "; weights " + tensor_str(g, o.tensor);
      if (n.row_hi >= 0) r += strf(" rows %d..%d", n.row_lo, n.row_hi);
      return r;
    }
    case OperandKind::channel_vector: return strf("; channel vector '%s'[%zu]", g.tensor_name(o.tensor).c_str(),
                                                  o.values.size());
    case OperandKind::plain_constant:
      return o.tensor >= 0 ? "; constant " + tensor_str(g, o.tensor)
                           : strf("; constant '%s/%s'[%zu]", n.name.c_str(), o.label, o.values.size());
    case OperandKind::none:
    case OperandKind::activation: break;
  }
  return "";
}

}  // namespace

std::string dump_graph(const LoweringGraph& g) {
  std::string r;
  int k = 0;
  for (const Node& n : g.nodes) {
    if (n.dead) continue;
    r += strf("  %3d %-16s %s:", k++, node_type_name(n), n.name.c_str());
    const char* sep = " ";
    for (int t : activation_inputs(n)) {
      r += sep + tensor_str(g, t);
      sep = ", ";
    }
    r += " -> " + tensor_str(g, n.out);
    for (const Operand& o : n.in) r += constant_str(g, n, o);
    if (residual_input(n) >= 0) r += "; residual " + tensor_str(g, residual_input(n));
    const Activation act = fused_activation(n);
    if (act != Activation::none) r += std::string("; activation ") + activation_name(act);
    r += params_str(n);
    r += "\n";
  }
  const LoweringStats& s = g.stats;
  const std::pair<const char*, int> counters[] = {
      {"source ops", s.source_ops},
      {"dead source ops", s.dead_ops},
      {"DEQUANTIZE folded", s.dequantize_folded},
      {"DENSIFY folded", s.densify_folded},
      {"activations fused", s.activations_fused},
      {"residual ADDs fused", s.residual_adds_fused},
      {"channel PADs absorbed", s.channel_pads_absorbed},
      {"spatial PADs folded", s.spatial_pads_folded},
      {"TRANSPOSEs folded", s.transposes_folded},
      {"layer norms fused", s.layer_norms_fused},
      {"point normalizations fused", s.point_normalizations_fused},
      {"custom ops lowered", s.custom_ops_lowered},
      {"matrix factors fused", s.matrix_factors_fused},
      {"ops row-pruned", s.rows_pruned_ops},
  };
  std::string c;
  for (const auto& kv : counters)
    if (kv.second) c += strf("%s%s %d", c.empty() ? "" : ", ", kv.first, kv.second);
  r += "  stats: " + (c.empty() ? std::string("-") : c) + "\n";
  return r;
}

}  // namespace convert
}  // namespace facekit
