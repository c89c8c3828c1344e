// tools/convert/passes/fold_spatial_pads.cpp - PAD(zeros along H, W) -> conv2d/dwconv2d: the
// conv's own padding grows instead. Not into max pooling: its padded taps are ignored, not zeros.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

namespace {

// A PAD that adds zeros only along H and W of an NHWC tensor.
bool is_spatial_pad(const LoweringGraph& g, const Node& n) {
  if (n.kind != NodeKind::pad || g.shape(n.in[0]).size() != 4) return false;
  return n.pad.before[0] == 0 && n.pad.after[0] == 0 && n.pad.before[3] == 0 && n.pad.after[3] == 0 &&
         (n.pad.before[1] | n.pad.after[1] | n.pad.before[2] | n.pad.after[2]) != 0;
}

}  // namespace

Status fold_spatial_pads(LoweringGraph& g) {
  for (Node& d : g.nodes) {
    if (d.dead || !is_spatial_pad(g, d) || g.uses(d.out) != 1) continue;
    Node* c = nullptr;
    for (Node& n : g.nodes)
      if (!n.dead && is_conv(&n) && n.in[0] == d.out) c = &n;
    if (!c) continue;
    Conv2dParams p = c->conv;
    p.pad_top += d.pad.before[1];
    p.pad_bottom += d.pad.after[1];
    p.pad_left += d.pad.before[2];
    p.pad_right += d.pad.after[2];
    const int ext_h = (p.kernel_h - 1) * p.dilation_h + 1, ext_w = (p.kernel_w - 1) * p.dilation_w + 1;
    // A pad as wide as the kernel would make whole output rows of padding only: keep the PAD.
    if (p.pad_top >= ext_h || p.pad_bottom >= ext_h || p.pad_left >= ext_w || p.pad_right >= ext_w) continue;
    c->conv = p;
    c->in[0] = d.in[0];
    c->name = d.name + "+" + c->name;
    d.dead = true;
    ++g.stats.spatial_pads_folded;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
