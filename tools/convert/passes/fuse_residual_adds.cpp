// tools/convert/passes/fuse_residual_adds.cpp - ADD(conv(x), r) [+ activation] -> conv(x) with
// residual r: the ADD costs no extra pass over memory. Legal when the conv (or token_dense) has
// no activation and no residual of its own and nothing else reads its output.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status fuse_residual_adds(LoweringGraph& g) {
  for (Node& n : g.nodes) {
    if (n.dead || n.type != OpType::add) continue;
    const Activation act = fused_activation(n);
    Node* best = nullptr;
    int best_k = -1;
    for (int k = 0; k < 2; ++k) {
      const int t = n.in[std::size_t(k)].tensor;
      Node* p = g.producer(t);
      const bool token = p && p->type == OpType::token_dense;
      if (!p || residual_slot(p->type) < 0 || fused_activation(*p) != Activation::none || residual_input(*p) >= 0 ||
          g.uses(t) != 1)
        continue;
      if (g.shape(t) != g.shape(n.out)) continue;  // the conv must produce the full-width operand
      // token_dense adds a residual of its own shape only, and has no PReLU.
      if (token && (g.shape(n.in[std::size_t(1 - k)].tensor) != g.shape(n.out) || act == Activation::prelu)) continue;
      // Of two candidates, the later conv: the earlier one's output is then the residual,
      // already computed when the fused conv runs.
      if (!best || p->src > best->src) {
        best = p;
        best_k = k;
      }
    }
    if (!best) continue;
    set_fused_activation(*best, act);
    if (act == Activation::prelu) set_input(*best, alpha_slot(best->type), n.in[std::size_t(alpha_slot(n.type))]);
    set_input(*best, residual_slot(best->type), n.in[std::size_t(1 - best_k)]);
    fuse_into(best, n);
    ++g.stats.residual_adds_fused;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
