// tools/convert/passes/fuse_activations.cpp - RELU / RELU6 / PRELU after a conv2d, dwconv2d or
// add that has no activation yet and no other reader becomes that op's fused activation.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status fuse_activations(LoweringGraph& g) {
  for (Node& n : g.nodes) {
    if (n.dead || (n.kind != NodeKind::relu && n.kind != NodeKind::relu6 && n.kind != NodeKind::prelu)) continue;
    Node* p = g.producer(n.in[0]);
    const bool can = p && (is_conv(p) || p->kind == NodeKind::add) && p->act == Activation::none &&
                     g.uses(n.in[0]) == 1;
    if (!can) {
      if (n.kind == NodeKind::relu6)
        return g.fail_model(strf("operator #%d RELU6 cannot be fused into its producer, and facekit has no "
                                 "standalone relu6 op", n.src));
      continue;
    }
    p->act = n.kind == NodeKind::relu    ? Activation::relu
             : n.kind == NodeKind::relu6 ? Activation::relu6
                                         : Activation::prelu;
    if (n.kind == NodeKind::prelu) {
      p->alpha = n.alpha;
      p->alpha_src = n.alpha_src;
    }
    fuse_into(p, n);
    ++g.stats.activations_fused;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
