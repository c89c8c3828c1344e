// tools/convert/import/table.cpp - the one list of TFLite operators the converter imports;
// find_importer() is also the supported-operator check.
//
// Adding an op to the converter (the library op exists: its FACEKIT_OPS line in op_types.hpp and
// its ops/<name>.hpp):
//  1. its importer function, in its own file or its family's file here, declared in importer.hpp.
//     It checks the TFLite operator and emits a Node: the OpType, the typed parameter block
//     (st.make_node(op, OpType::x, XParams{...})) and the inputs in the op's order, activations
//     then constants, each an Operand saying how it is stored (packed weights, channel vector,
//     plain constant);
//  2. one line in the table below.
// Nothing else: the graph IR has no op list of its own, the emitter writes type, params and
// operands without knowing the op, and a pass needs to know an op only if it rewrites it.
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

const OpImporter kImporters[] = {
    {kTfConv2d, nullptr, import_conv, import_token_dense},
    {kTfDepthwiseConv2d, nullptr, import_conv},
    {kTfMaxPool2d, nullptr, import_max_pool},
    {kTfAdd, nullptr, import_add},
    {kTfRelu, nullptr, import_unary},
    {kTfRelu6, nullptr, import_unary},
    {kTfLogistic, nullptr, import_unary},
    {kTfPrelu, nullptr, import_prelu},
    {kTfMul, nullptr, import_mul},
    {kTfReshape, nullptr, import_reshape},
    {kTfConcatenation, nullptr, import_concat},
    {kTfPad, nullptr, import_pad},
    {kTfTranspose, nullptr, import_transpose, nullptr, /*reads_views=*/true},
    {kTfStridedSlice, nullptr, import_strided_slice},
    {kTfDepthToSpace, nullptr, import_depth_to_space},
    {kTfResizeBilinear, nullptr, import_resize_bilinear},
    {kTfDequantize, nullptr, import_folded_constant},
    {kTfDensify, nullptr, import_folded_constant},
    // Only inside the layer norm / point normalisation patterns (passes/fuse_mixer_patterns.cpp).
    {kTfMean, nullptr, import_pattern_member},
    {kTfSub, nullptr, import_pattern_member},
    {kTfDiv, nullptr, import_pattern_member},
    {kTfNeg, nullptr, import_pattern_member},
    {kTfSum, nullptr, import_pattern_member},
    {kTfSqrt, nullptr, import_pattern_member},
    {kTfRsqrt, nullptr, import_pattern_member},
    {kTfSquaredDifference, nullptr, import_pattern_member},
    // MediaPipe's custom ops, by the custom code stored in the model.
    {kTfCustom, kCustomLandmarksToTransformMatrix, import_landmarks_to_transform_matrix},
    {kTfCustom, kCustomTransformTensorBilinear, import_transform_tensor_bilinear},
    {kTfCustom, kCustomTransformLandmarks, import_transform_landmarks},
};

}  // namespace

const OpImporter* find_importer(const SourceOp& op) {
  for (const OpImporter& e : kImporters) {
    if (e.builtin != op.builtin) continue;
    if (op.builtin != kTfCustom || (e.custom_code && op.custom_code == e.custom_code)) return &e;
  }
  return nullptr;
}

}  // namespace convert
}  // namespace facekit
