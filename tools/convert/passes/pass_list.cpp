// tools/convert/passes/pass_list.cpp - the order of the lowering: source passes, the import,
// then the graph passes. Reordering or adding a pass is a change to this list alone.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

const std::vector<Pass>& pass_list() {
  static const std::vector<Pass> passes = {
      // level 0: on the TFLite operators
      {"fold_dequantize", fold_dequantize, nullptr},
      {"fuse_mixer_patterns", fuse_mixer_patterns, nullptr},
      {"import", import_ops, nullptr},
      // level 1: on the imported nodes. Fusions first (channel pads before residual ADDs, which
      // need the ADD's operands settled; activations before residuals, which take the ADD's).
      {"absorb_channel_pads", nullptr, absorb_channel_pads},
      {"fuse_activations", nullptr, fuse_activations},
      {"fuse_residual_adds", nullptr, fuse_residual_adds},
      {"fold_spatial_pads", nullptr, fold_spatial_pads},
      // Fusion can make a conv read a residual computed after it in source order.
      {"topo_sort", nullptr, topo_sort},
      // Row pruning sweeps readers before writers: it needs the sorted order.
      {"prune_rows", nullptr, prune_rows},
      {"remove_dead", nullptr, remove_dead},
  };
  return passes;
}

}  // namespace convert
}  // namespace facekit
