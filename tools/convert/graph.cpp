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

const char* node_kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::conv2d: return "conv2d";
    case NodeKind::dwconv2d: return "dwconv2d";
    case NodeKind::maxpool2d: return "maxpool2d";
    case NodeKind::add: return "add";
    case NodeKind::relu: return "relu";
    case NodeKind::relu6: return "relu6";
    case NodeKind::prelu: return "prelu";
    case NodeKind::reshape: return "reshape";
    case NodeKind::concat: return "concat";
    case NodeKind::pad: return "pad";
    case NodeKind::logistic: return "logistic";
    case NodeKind::token_dense: return "token_dense";
    case NodeKind::layer_norm: return "layer_norm";
    case NodeKind::point_normalize: return "point_normalize";
    case NodeKind::mul: return "mul";
    case NodeKind::slice: return "slice";
    case NodeKind::copy: return "copy";
    case NodeKind::landmarks_to_transform_matrix: return "landmarks_to_transform_matrix";
    case NodeKind::transform_tensor_bilinear: return "transform_tensor_bilinear";
    case NodeKind::transform_landmarks: return "transform_landmarks";
    case NodeKind::resize_bilinear: return "resize_bilinear";
    case NodeKind::depth_to_space: return "depth_to_space";
  }
  return "?";
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
    for (int i : nd.in) n += i == t;
    n += nd.residual == t;
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

}  // namespace

std::string dump_graph(const LoweringGraph& g) {
  std::string r;
  int k = 0;
  for (const Node& n : g.nodes) {
    if (n.dead) continue;
    r += strf("  %3d %-16s %s:", k++, node_kind_name(n.kind), n.name.c_str());
    const char* sep = " ";
    for (int t : n.in) {
      r += sep + tensor_str(g, t);
      sep = ", ";
    }
    r += " -> " + tensor_str(g, n.out);
    if (n.filter >= 0) r += "; weights " + tensor_str(g, n.filter);
    if (n.row_hi >= 0) r += strf(" rows %d..%d", n.row_lo, n.row_hi);
    if (n.residual >= 0) r += "; residual " + tensor_str(g, n.residual);
    if (n.act != Activation::none) r += std::string("; activation ") + activation_name(n.act);
    if (n.const_src >= 0) r += "; constant " + tensor_str(g, n.const_src);
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
