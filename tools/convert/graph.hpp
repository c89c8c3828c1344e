// tools/convert/graph.hpp - the converter's graph IR: facekit ops under construction, shared by
// the importers (convert/import/), the rewrite passes (convert/passes/) and the emitter.
//
// Tensor ids are SourceGraph tensor indices; tensors a pass creates (row slices) get ids after
// them, named in LoweringGraph::extra_names. A Node is one facekit op as the file will store it:
// its OpType and typed parameter block from the library's op table (op_types.hpp), and its
// inputs as Operands in the op's input order, each saying how the emitter makes it a tensor id
// (an activation, or a constant packed for its kernel). Besides that a node holds only what the
// conversion itself needs (source index, name, dead flag, row-pruning range, a pending marker).
// Passes rewrite nodes in place and mark the ones they fuse away `dead`; dead-op removal drops
// them. Everything a pass reads or changes is in LoweringGraph: no pass keeps state of its own.
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

/// How the emitter turns one node input into a tensor id; the importer or pass that knows the
/// op picks it.
enum class OperandKind : uint8_t {
  none,                 ///< an absent optional input (kNoTensor)
  activation,           ///< a tensor some op (or the graph input) writes
  packed_conv_weights,  ///< weights + bias, conv2d_oc_tile (conv2d; token_dense's [O,1,1,T])
  packed_dw_weights,    ///< weights + bias, dwconv2d_c_tile
  channel_vector,       ///< per-channel values, channel_padded [C] (PReLU slopes, mul factors, gamma/beta)
  plain_constant,       ///< values as they are, plain layout
};

/// One input of a node.
struct Operand {
  OperandKind kind = OperandKind::none;
  /// activation: the tensor; constants: the source tensor that names (and dedups) it, or -1 for
  /// a plain constant named "<node name>/<label>".
  int tensor = -1;
  int bias = -1;              ///< packed weights: the bias's source tensor, or -1
  std::vector<float> values;  ///< channel_vector, plain_constant (packed weights are read from the graph)
  const char* label = nullptr;

  static Operand absent() { return Operand(); }
  static Operand activation(int t) { return make(OperandKind::activation, t); }
  static Operand conv_weights(int w, int b) { return weights(OperandKind::packed_conv_weights, w, b); }
  static Operand dw_weights(int w, int b) { return weights(OperandKind::packed_dw_weights, w, b); }
  static Operand channel_vector(int src, std::vector<float> v) {
    Operand o = make(OperandKind::channel_vector, src);
    o.values = std::move(v);
    return o;
  }
  /// Plain constant named after source tensor `src`, shaped like it.
  static Operand plain(int src, std::vector<float> v) {
    Operand o = make(OperandKind::plain_constant, src);
    o.values = std::move(v);
    return o;
  }
  /// Plain constant [values.size()] named "<node name>/<label>" (no source tensor holds it).
  static Operand plain_labelled(const char* label, std::vector<float> v) {
    Operand o = plain(-1, std::move(v));
    o.label = label;
    return o;
  }

 private:
  static Operand make(OperandKind k, int t) {
    Operand o;
    o.kind = k;
    o.tensor = t;
    return o;
  }
  static Operand weights(OperandKind k, int w, int b) {
    Operand o = make(k, w);
    o.bias = b;
    return o;
  }
};

/// A converter-only step that has no facekit op of its own and must be gone before the emitter.
enum class PendingOp : uint8_t {
  none,
  relu6,  ///< RELU6: only as a fused activation (passes/fuse_activations.cpp); type is relu meanwhile
};

/// A facekit op under construction.
struct Node {
  OpType type = OpType::relu;
  OpParams params{};       ///< as the file stores them: params.as<OpParamsOf<T>::type>()
  std::vector<Operand> in; ///< in the op's input order (op_types.hpp)
  int out = -1;
  // ---- conversion state ----
  int src = 0;             ///< source operator index (the first one, for ordering and messages)
  std::string name;        ///< "CONV_2D#17", grows as ops are fused in
  bool dead = false;
  PendingOp pending = PendingOp::none;
  /// Packed weights hold only output rows [row_lo, row_hi) (row_hi < 0: all; passes/prune_rows.cpp).
  int row_lo = 0, row_hi = -1;
};

/// The tensors of n's activation operands, in input order.
std::vector<int> activation_inputs(const Node& n);
/// Sets input `slot`, filling the slots before it with absent inputs.
void set_input(Node& n, int slot, Operand o);
/// The activation n's parameters fuse (their `activation` field), none for ops without one.
Activation fused_activation(const Node& n);
/// Sets that field; false if n's parameters have none.
bool set_fused_activation(Node& n, Activation a);
// Input slots as op_types.hpp lists them, for the passes that fuse into them.
/// The input slot of a residual that an op adds before its activation (conv2d, dwconv2d,
/// token_dense), or -1.
int residual_slot(OpType t);
/// The input slot of the PReLU slopes of a fused prelu activation (conv2d, dwconv2d, add), or -1.
int alpha_slot(OpType t);
/// n's residual input tensor, or -1.
int residual_input(const Node& n);
/// The name the dump prints: the op's, or the pending step's.
const char* node_type_name(const Node& n);

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

inline bool is_conv(const Node* n) { return n && (n->type == OpType::conv2d || n->type == OpType::dwconv2d); }

/// printf into a std::string (messages of at most 511 characters).
std::string strf(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/// "[1,4,4,3]"
std::string shape_str(const std::vector<int32_t>& s);

/// The graph as text, one live node a line (op, name, inputs and output with their stored
/// shapes, constants, fused activation, parameters), then the counters of LoweringStats that are not zero: what
/// `facekit convert --dump-passes` prints after each pass.
std::string dump_graph(const LoweringGraph& g);

}  // namespace convert
}  // namespace facekit
