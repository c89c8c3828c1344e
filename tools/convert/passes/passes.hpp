// tools/convert/passes/passes.hpp - the converter's rewrite passes, one per file in this folder,
// run in the order of pass_list.cpp (the one place that names it).
//
// Two levels, as the graph exists only after the import:
//  - source passes work on the TFLite operators before they are imported (ImportState): folding
//    constant-only operators and recognising multi-op patterns that import as one node;
//  - graph passes rewrite the imported nodes (LoweringGraph) and may fail with a Status naming
//    the model and operator.
// The import itself is one step of the list, so the list reads as the whole lowering.
// Adding a pass: a new file defining its function, declared below, and one line in pass_list.cpp.
#pragma once

#include <vector>

#include "convert/graph.hpp"
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

struct Pass {
  const char* name;
  Status (*on_source)(ImportState&);  ///< a source-level pass (or the import), else null
  Status (*on_graph)(LoweringGraph&);         ///< a graph pass, else null
};

/// Every pass, in the order they run.
const std::vector<Pass>& pass_list();

// ---- source level ----
/// DEQUANTIZE (float16) and DENSIFY (sparse) of constants become float32 constants
/// (LoweringGraph::values).
Status fold_dequantize(ImportState& st);
/// The MLP-Mixer's layer norms and point normalisation (MEAN, SQUARED_DIFFERENCE, RSQRT, ...
/// subgraphs) recognised as one op each (ImportState::patterns).
Status fuse_mixer_patterns(ImportState& st);

// ---- graph level ----
/// ADD(PAD_channels(x), y) -> ADD(y, x): add zero-extends its narrower operand b.
Status absorb_channel_pads(LoweringGraph& g);
/// conv2d/dwconv2d/add -> RELU/RELU6/PRELU: one op with a fused activation.
Status fuse_activations(LoweringGraph& g);
/// ADD(conv(x), r) [+ activation] -> conv(x) with residual r (also token_dense).
Status fuse_residual_adds(LoweringGraph& g);
/// PAD(zeros along H, W) -> conv2d/dwconv2d: the conv's own padding grows instead.
Status fold_spatial_pads(LoweringGraph& g);
/// Orders the nodes by their dependencies, keeping the source order where it can.
Status topo_sort(LoweringGraph& g);
/// Ops of [1,1,R,C] tensors compute only the rows (tokens) a graph output needs.
Status prune_rows(LoweringGraph& g);
/// Drops nodes no graph output needs (and the ones passes marked dead).
Status remove_dead(LoweringGraph& g);

}  // namespace convert
}  // namespace facekit
