// tools/convert/passes/fuse_residual_adds.cpp - ADD(conv(x), r) [+ activation] -> conv(x) with
// residual r: the ADD costs no extra pass over memory. Legal when the conv (or token_dense) has
// no activation and no residual of its own and nothing else reads its output.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status fuse_residual_adds(LoweringGraph& g) {
  for (Node& n : g.nodes) {
    if (n.dead || n.kind != NodeKind::add) continue;
    Node* best = nullptr;
    int best_k = -1;
    for (int k = 0; k < 2; ++k) {
      const int t = n.in[std::size_t(k)];
      Node* p = g.producer(t);
      const bool token = p && p->kind == NodeKind::token_dense;
      if (!(is_conv(p) || token) || p->act != Activation::none || p->residual >= 0 || g.uses(t) != 1) continue;
      if (g.shape(t) != g.shape(n.out)) continue;  // the conv must produce the full-width operand
      // token_dense adds a residual of its own shape only, and has no PReLU.
      if (token && (g.shape(n.in[std::size_t(1 - k)]) != g.shape(n.out) || n.act == Activation::prelu)) continue;
      // Of two candidates, the later conv: the earlier one's output is then the residual,
      // already computed when the fused conv runs.
      if (!best || p->src > best->src) {
        best = p;
        best_k = k;
      }
    }
    if (!best) continue;
    best->residual = n.in[std::size_t(1 - best_k)];
    best->act = n.act;
    best->alpha = n.alpha;
    best->alpha_src = n.alpha_src;
    fuse_into(best, n);
    ++g.stats.residual_adds_fused;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
