// tools/convert/import/importer.hpp - TFLite operators -> graph nodes (convert/graph.hpp).
//
// One importer function per TFLite operator (or custom code), kept by op family in this folder
// and listed once in the table of table.cpp: that table is also the converter's list of
// supported operators. An importer checks its operator (inputs, options, shapes, constants) and
// appends the node(s) it becomes; every failure names the model, the operator index and type:
//   "face_blendshapes.tflite: operator #3 MEAN: ...".
// ImportState holds what the import knows about the source graph besides the nodes: which
// tensors are constants or already written, the TRANSPOSE views of the MLP-Mixer, the
// multi-op patterns recognised before the import (passes/fuse_mixer_patterns.cpp).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "convert/graph.hpp"

namespace facekit {
namespace convert {

/// MediaPipe's custom ops (custom codes as stored in the model).
constexpr const char* kCustomLandmarksToTransformMatrix = "Landmarks2TransformMatrix";
constexpr const char* kCustomTransformTensorBilinear = "TransformTensorBilinear";
constexpr const char* kCustomTransformLandmarks = "TransformLandmarks";

/// A multi-op subgraph recognised as one facekit op (layer norm, point normalisation).
struct Pattern {
  OpType type = OpType::layer_norm;  ///< layer_norm or point_normalize
  std::vector<int> ops;    ///< member source ops, ascending
  int x = -1, y = -1;      ///< input and output tensors
  int gamma = -1, beta = -1, eps = -1;
};

struct ImportState {
  explicit ImportState(LoweringGraph& graph);

  const SourceGraph& src;
  LoweringGraph& graph;
  std::vector<uint8_t> constant;      ///< per source tensor: has constant values
  std::vector<uint8_t> defined;       ///< written by an op imported so far, or a graph input
  std::vector<uint8_t> source_output; ///< per source tensor: a graph output of the TFLite graph
  std::vector<uint8_t> live_op;       ///< per source op: some graph output depends on it
  std::vector<int> producer_op;       ///< per tensor: the live source op writing it
  std::vector<std::vector<int>> readers;  ///< per tensor: live source ops reading it
  // MLP-Mixer support. A TRANSPOSE of the last two dims emits nothing: its output becomes a view,
  // alias[t] naming the tensor that holds the data and transposed[t] saying whether t is the
  // transpose of what that tensor stores.
  std::vector<int> alias;
  std::vector<uint8_t> transposed;
  std::set<int> materialised;         ///< constants a copy op turned into activations
  std::vector<Pattern> patterns;
  std::vector<int> pattern_of;        ///< per source op: its pattern, or -1
  std::map<int, std::pair<int, int>> matrix_factor;  ///< MUL output -> (matrix, constant factor)

  // ---- messages ----
  const char* tname(int t) const { return src.tensors[std::size_t(t)].name.c_str(); }
  Status fail(const SourceOp& op, const std::string& msg) const;
  const std::vector<int32_t>& shape(int t) const { return graph.shape(t); }

  // ---- checks shared by the importers ----
  Status need_inputs(const SourceOp& op, std::size_t min_in, std::size_t max_in, std::size_t outs) const;
  /// A float32 activation already written by an earlier op (or a graph input).
  Status need_activation(const SourceOp& op, int t, const char* what) const;
  /// need_activation, NHWC with batch 1.
  Status need_nhwc(const SourceOp& op, int t, const char* what) const;
  /// Marks an op output as written (once), float32, rank <= 4.
  Status define_output(const SourceOp& op, int t);
  /// Float values of a constant (a float32 constant, or a folded DEQUANTIZE result).
  Status const_floats(const SourceOp& op, int t, const char* what, const std::vector<float>** out);
  /// A constant of `channels` values, shaped [C] or [1, .., 1, C].
  bool is_channel_constant(int t, int channels) const;

  // ---- building nodes ----
  /// A node of `type` named after `op`, with the typed parameter block `params`
  /// (OpParamsOf<type>::type); the overload without params leaves the block zero (NoParams).
  template <class P>
  Node make_node(const SourceOp& op, OpType type, const P& params) const {
    Node n = make_node(op, type);
    n.params = OpParams::from(params);
    return n;
  }
  Node make_node(const SourceOp& op, OpType type) const;
  /// Appends a node whose inputs are the activations `in` followed by the constants `constants`.
  Status emit(Node n, const std::vector<int>& in, int out, std::vector<Operand> constants = {});
};

/// TFLite's fused activation as a facekit Activation (fails for the ones facekit lacks).
Status activation_of(int tf_act, Activation* out);
/// TFLite's SAME/VALID rule along one axis: explicit before/after padding and the output size.
Status explicit_padding(int padding, int in, int k, int stride, int dilation, int* before, int* after, int* out);

using ImportFn = Status (*)(ImportState&, const SourceOp&);
/// Imports `op` whose input 0 reads the transposed view `view` (op's inputs already resolved).
using ImportViewFn = Status (*)(ImportState&, const SourceOp& op, int view);

/// One line of the import table.
struct OpImporter {
  int builtin;               ///< TFLite builtin code (kTfCustom for custom ops)
  const char* custom_code;   ///< custom ops only, else null
  ImportFn import;
  /// For an operator whose input 0 is a transposed view (import/mixer.cpp), or null: refused.
  ImportViewFn import_view = nullptr;
  /// Takes its inputs as stored, views included (TRANSPOSE itself); others read through aliases.
  bool reads_views = false;
};

/// The importer of `op`, or null if facekit cannot import it.
const OpImporter* find_importer(const SourceOp& op);

/// Prepares `st` (graph input/output checks, live ops, supported-op check, producer/reader
/// index). Runs before the source-level passes.
Status prepare_import(ImportState& st);
/// Imports every live operator in source order (patterns where their last member stands), then
/// resolves the graph outputs through the TRANSPOSE views.
Status import_ops(ImportState& st);

// ---- the importers (one family per file) ----
Status import_conv(ImportState& st, const SourceOp& op);           // conv.cpp: CONV_2D, DEPTHWISE_CONV_2D
Status import_max_pool(ImportState& st, const SourceOp& op);       // pool.cpp
Status import_add(ImportState& st, const SourceOp& op);            // elementwise.cpp
Status import_unary(ImportState& st, const SourceOp& op);          //   RELU, RELU6, LOGISTIC
Status import_prelu(ImportState& st, const SourceOp& op);
Status import_mul(ImportState& st, const SourceOp& op);
Status import_reshape(ImportState& st, const SourceOp& op);        // shape.cpp
Status import_concat(ImportState& st, const SourceOp& op);
Status import_pad(ImportState& st, const SourceOp& op);
Status import_transpose(ImportState& st, const SourceOp& op);
Status import_strided_slice(ImportState& st, const SourceOp& op);
Status import_depth_to_space(ImportState& st, const SourceOp& op);
Status import_resize_bilinear(ImportState& st, const SourceOp& op);  // resize.cpp
Status import_folded_constant(ImportState& st, const SourceOp& op);  // quantize.cpp: DEQUANTIZE, DENSIFY
Status import_token_dense(ImportState& st, const SourceOp& op, int view);  // mixer.cpp: 1x1 CONV_2D over a view
Status import_pattern_member(ImportState& st, const SourceOp& op);   //   MEAN, SUB, ... left unmatched
Status import_pattern(ImportState& st, const Pattern& p, const SourceOp& last);
Status import_landmarks_to_transform_matrix(ImportState& st, const SourceOp& op);  // mediapipe_custom.cpp
Status import_transform_tensor_bilinear(ImportState& st, const SourceOp& op);
Status import_transform_landmarks(ImportState& st, const SourceOp& op);

/// Folds one DEQUANTIZE or DENSIFY of a constant into a constant (passes/fold_dequantize.cpp).
Status fold_constant_op(ImportState& st, const SourceOp& op);

}  // namespace convert
}  // namespace facekit
