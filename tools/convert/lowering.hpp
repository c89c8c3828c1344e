// tools/convert/lowering.hpp - TFLite graph -> facekit op graph (op_types.hpp).
//
// Folds DEQUANTIZE of float16 constants and DENSIFY of sparse constants, turns SAME/VALID into explicit padding, fuses
// activations, MediaPipe's channel-padded residual ADDs and zero spatial PADs into the
// convolutions, removes dead ops and packs the weights (kernels/pack.hpp). For the blendshape
// MLP-Mixer it also recognises layer normalisations and the input point normalisation (whole
// subgraphs of MEAN, SQUARED_DIFFERENCE, RSQRT, ... become one op each) and keeps token mixing
// transpose-free (TRANSPOSE -> 1x1 CONV_2D -> TRANSPOSE becomes token_dense). The attention
// mesh's MediaPipe custom ops (version 2 of Landmarks2TransformMatrix, TransformTensorBilinear,
// TransformLandmarks) become library ops, their FlexBuffer custom options read into typed
// parameters; a MUL of a transform matrix by a constant joins the transform_landmarks reading
// it. Every failure names
// the model, the source operator index and its type, e.g.
//   "face_blendshapes.tflite: operator #3 MEAN is not supported yet".
#pragma once

#include <string>

#include "convert/model_writer.hpp"
#include "convert/tflite_reader.hpp"
#include "facekit/status.hpp"

namespace facekit {
namespace convert {

/// What the lowering did, for the conversion log and the tests.
struct LoweringStats {
  int source_ops = 0;              ///< operators in the TFLite subgraph
  int dead_ops = 0;                ///< source ops whose results no graph output needs
  int dequantize_folded = 0;       ///< DEQUANTIZE ops turned into float32 constants
  int densify_folded = 0;          ///< DENSIFY ops of sparse constants turned into dense constants
  int activations_fused = 0;       ///< RELU/RELU6/PRELU ops merged into their producer
  int residual_adds_fused = 0;     ///< ADD ops merged into a conv2d/dwconv2d as its residual
  int channel_pads_absorbed = 0;   ///< channel PADs replaced by add's zero-extended operand
  int spatial_pads_folded = 0;     ///< zero spatial PADs merged into a conv2d/dwconv2d's padding
  int transposes_folded = 0;       ///< TRANSPOSEs of the last two dims absorbed into token_dense ops
  int layer_norms_fused = 0;       ///< MEAN/SQUARED_DIFFERENCE/RSQRT/... subgraphs turned into layer_norm
  int point_normalizations_fused = 0;  ///< MEAN/SUB/SUM/SQRT/DIV subgraphs turned into point_normalize
  int custom_ops_lowered = 0;      ///< MediaPipe custom ops (Landmarks2TransformMatrix, ...) lowered
  int matrix_factors_fused = 0;    ///< MULs of a 4x4 matrix by a constant merged into transform_landmarks
  int rows_pruned_ops = 0;         ///< ops computing only the rows (tokens) some graph output needs
};

/// Lowers subgraph 0 of `g`. The result has no metadata yet (see model_info.hpp).
Expected<OutModel> lower_graph(const SourceGraph& g, LoweringStats* stats);

}  // namespace convert
}  // namespace facekit
