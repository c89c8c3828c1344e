// tools/convert/lowering.hpp - TFLite graph -> facekit op graph (op_types.hpp).
//
// The lowering is a list of passes (passes/pass_list.cpp) over a graph IR (graph.hpp):
//  - source passes fold DEQUANTIZE of float16 constants and DENSIFY of sparse constants, and
//    recognise the blendshape MLP-Mixer's layer normalisations and input point normalisation
//    (whole subgraphs of MEAN, SQUARED_DIFFERENCE, RSQRT, ... become one op each);
//  - the import turns each TFLite operator into nodes (import/, one file per op family, one
//    table): SAME/VALID becomes explicit padding, token mixing stays transpose-free (TRANSPOSE ->
//    1x1 CONV_2D -> TRANSPOSE becomes token_dense), the attention mesh's MediaPipe custom ops
//    (version 2 of Landmarks2TransformMatrix, TransformTensorBilinear, TransformLandmarks) become
//    library ops with typed parameters read from their FlexBuffer options;
//  - graph passes fuse activations, MediaPipe's channel-padded residual ADDs and zero spatial
//    PADs into the convolutions, prune rows no output needs and remove dead ops;
//  - the emitter (emit.hpp) packs the weights (kernels/pack.hpp) and writes the OutModel.
// Every failure names the model, the source operator index and its type, e.g.
//   "face_blendshapes.tflite: operator #3 MEAN is not supported yet".
#pragma once

#include <functional>
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

struct LoweringGraph;

/// Called after each pass (and after a failed import, with what it imported) with the pass's name
/// and the graph as it stands: `facekit convert --dump-passes` prints dump_graph() of it.
using PassObserver = std::function<void(const char* pass, const LoweringGraph& graph)>;

/// Lowers subgraph 0 of `g`. The result has no metadata yet (see model_info.hpp).
Expected<OutModel> lower_graph(const SourceGraph& g, LoweringStats* stats,
                               const PassObserver& after_pass = PassObserver());

}  // namespace convert
}  // namespace facekit
