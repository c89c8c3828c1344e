// tools/convert/graph.hpp - the converter's graph IR: facekit ops under construction, shared by
// the importers (convert/import/), the rewrite passes (convert/passes/) and the emitter.
//
// Tensor ids are SourceGraph tensor indices; tensors a pass creates (row slices) get ids after
// them, named in LoweringGraph::extra_names. A Node is one facekit op: its kind, activation
// inputs, output and whatever its kind needs (weights by source tensor id, typed params,
// per-channel values). Passes rewrite nodes in place and mark the ones they fuse away `dead`;
// dead-op removal drops them. Everything a pass reads or changes is in LoweringGraph: no pass
// keeps state of its own.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "convert/lowering.hpp"
#include "convert/tflite_reader.hpp"
#include "facekit/op_types.hpp"
#include "facekit/status.hpp"

namespace facekit {
namespace convert {

enum class NodeKind {
  conv2d, dwconv2d, maxpool2d, add, relu, relu6, prelu, reshape, concat, pad, logistic,
  token_dense, layer_norm, point_normalize, mul, slice, copy,
  landmarks_to_transform_matrix, transform_tensor_bilinear, transform_landmarks, resize_bilinear, depth_to_space
};

/// "conv2d", ... (the facekit op a node becomes; relu6 exists only until activation fusion).
const char* node_kind_name(NodeKind k);

/// A facekit op under construction.
struct Node {
  NodeKind kind = NodeKind::relu;
  int src = 0;             ///< source operator index (the first one, for ordering and messages)
  std::string name;        ///< "CONV_2D#17", grows as ops are fused in
  bool dead = false;
  std::vector<int> in;     ///< activation inputs: x | a, b | x0..xn
  int out = -1;
  // conv2d / dwconv2d / token_dense: weights and bias (source tensors), optional residual input
  int filter = -1, bias = -1;
  Conv2dParams conv{};
  int residual = -1;
  // fused activation (conv2d, dwconv2d, add, token_dense) and PReLU slopes (also the prelu op's
  // own, and mul's per-channel factors)
  Activation act = Activation::none;
  int alpha_src = -1;      ///< source tensor of the slopes (its name names the packed tensor)
  std::vector<float> alpha;
  Pool2dParams pool{};
  PadParams pad{};
  int axis = 0;            ///< concat
  // layer_norm: optional gamma / beta (source tensors and values), epsilon
  int gamma_src = -1, beta_src = -1;
  std::vector<float> gamma, beta;
  float eps = 0.0f;
  SliceParams slice{};
  // token_dense computing only output rows [row_lo, row_hi) of its weights (row_hi < 0: all)
  int row_lo = 0, row_hi = -1;
  // copy: the constant it materialises (also its output tensor, see import/shape.cpp's concat)
  int const_src = -1;
  // custom ops: typed params; landmarks_to_transform_matrix's subset (emitted as a constant);
  // transform_landmarks' optional constant factor
  LandmarksToTransformMatrixParams l2t{};
  std::vector<float> subset;
  TransformTensorBilinearParams ttb{};
  TransformLandmarksParams tl{};
  int factor_src = -1;
  std::vector<float> factor;
  ResizeBilinearParams resize{};
  DepthToSpaceParams d2s{};
};

/// The graph being converted: its nodes in execution order and what the passes share.
struct LoweringGraph {
  explicit LoweringGraph(const SourceGraph& g);

  const SourceGraph* source;
  std::vector<Node> nodes;
  std::vector<int> outputs;                 ///< graph outputs (after the import's TRANSPOSE aliasing)
  std::vector<uint8_t> is_output;           ///< per source tensor: one of `outputs`
  std::vector<std::vector<float>> values;   ///< per source tensor: float values of constants (when read)
  std::map<int, std::vector<int32_t>> stored_shape;  ///< tensors stored in another shape than TFLite's
  std::vector<std::string> extra_names;     ///< tensors made by passes: ids source->tensors.size() + k
  LoweringStats stats;

  /// The shape a tensor is stored with: its TFLite shape, except for token_dense outputs (kept
  /// token-major, see import/mixer.cpp) and row-pruned tensors.
  const std::vector<int32_t>& shape(int t) const;
  std::size_t tensor_count() const { return source->tensors.size() + extra_names.size(); }
  std::string tensor_name(int t) const;
  /// A new tensor (made by a pass) named `name` with stored shape `dims`; returns its id.
  int add_tensor(std::string name, std::vector<int32_t> dims);

  /// Uses of tensor t by live nodes; a graph output counts as a use that can never be fused away.
  int uses(int t) const;
  /// The live node writing t, or null.
  Node* producer(int t);

  /// "<model>: msg"
  Status fail_model(const std::string& msg) const;
};

/// `into` takes over n's output and appends its name ("CONV_2D#4+ADD#6"); n is fused away.
inline void fuse_into(Node* into, Node& n) {
  into->out = n.out;
  into->name += "+" + n.name;
  n.dead = true;
}

inline bool is_conv(const Node* n) { return n && (n->kind == NodeKind::conv2d || n->kind == NodeKind::dwconv2d); }

/// printf into a std::string (messages of at most 511 characters).
std::string strf(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/// "[1,4,4,3]"
std::string shape_str(const std::vector<int32_t>& s);

/// The graph as text, one live node a line (kind, name, inputs and output with their stored
/// shapes, fused parts), then the counters of LoweringStats that are not zero: what
/// `facekit convert --dump-passes` prints after each pass.
std::string dump_graph(const LoweringGraph& g);

}  // namespace convert
}  // namespace facekit
