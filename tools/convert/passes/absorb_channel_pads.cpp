// tools/convert/passes/absorb_channel_pads.cpp - MediaPipe's residual shortcuts widen x with a
// PAD of zero channels before the ADD; add zero-extends its operand b itself, so the ADD reads
// the narrow x instead and the PAD dies (when nothing else reads it).
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

namespace {

// A PAD that only appends zero channels (NHWC): its input can stand in as add's operand b.
bool is_channel_pad(const Node& n) {
  if (n.type != OpType::pad) return false;
  const PadParams pad = n.params.as<PadParams>();
  for (int d = 0; d < 4; ++d) {
    const bool last = d == 3;
    if (pad.before[d] != 0) return false;
    if (!last && pad.after[d] != 0) return false;
    if (last && pad.after[d] <= 0) return false;
  }
  return true;
}

}  // namespace

Status absorb_channel_pads(LoweringGraph& g) {
  for (Node& n : g.nodes) {
    if (n.dead || n.type != OpType::add || g.shape(n.out).size() != 4) continue;
    for (int k = 0; k < 2; ++k) {
      Node* p = g.producer(n.in[std::size_t(k)].tensor);
      if (!p || !is_channel_pad(*p)) continue;
      const int narrow = p->in[0].tensor;
      const int other = n.in[std::size_t(1 - k)].tensor;
      n.in[0].tensor = other;  // the narrower operand must be b
      n.in[1].tensor = narrow;
      n.name += "(" + p->name + ")";
      if (g.uses(p->out) == 0) p->dead = true;
      ++g.stats.channel_pads_absorbed;
      break;  // at most one operand can be the narrower one
    }
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
