// tools/convert/passes/fuse_activations.cpp - RELU / RELU6 / PRELU after a conv2d, dwconv2d or
// add that has no activation yet and no other reader becomes that op's fused activation.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status fuse_activations(LoweringGraph& g) {
  for (Node& n : g.nodes) {
    if (n.dead || (n.type != OpType::relu && n.type != OpType::prelu)) continue;
    const int x = n.in[0].tensor;
    Node* p = g.producer(x);
    const bool can = p && (is_conv(p) || p->type == OpType::add) && fused_activation(*p) == Activation::none &&
                     g.uses(x) == 1;
    if (!can) {
      if (n.pending == PendingOp::relu6)
        return g.fail_model(strf("operator #%d RELU6 cannot be fused into its producer, and facekit has no "
                                 "standalone relu6 op", n.src));
      continue;
    }
    set_fused_activation(*p, n.pending == PendingOp::relu6 ? Activation::relu6
                             : n.type == OpType::relu         ? Activation::relu
                                                              : Activation::prelu);
    if (n.type == OpType::prelu) set_input(*p, alpha_slot(p->type), n.in[1]);  // the slopes move with it
    fuse_into(p, n);
    ++g.stats.activations_fused;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
