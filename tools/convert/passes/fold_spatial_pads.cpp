// tools/convert/passes/fold_spatial_pads.cpp - PAD(zeros along H, W) -> conv2d/dwconv2d: the
// conv's own padding grows instead. Not into max pooling: its padded taps are ignored, not zeros.
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

namespace {

// A PAD that adds zeros only along H and W of an NHWC tensor.
bool is_spatial_pad(const LoweringGraph& g, const Node& n) {
  if (n.type != OpType::pad || g.shape(n.in[0].tensor).size() != 4) return false;
  const PadParams pad = n.params.as<PadParams>();
  return pad.before[0] == 0 && pad.after[0] == 0 && pad.before[3] == 0 && pad.after[3] == 0 &&
         (pad.before[1] | pad.after[1] | pad.before[2] | pad.after[2]) != 0;
}

}  // namespace

Status fold_spatial_pads(LoweringGraph& g) {
  for (Node& d : g.nodes) {
    if (d.dead || !is_spatial_pad(g, d) || g.uses(d.out) != 1) continue;
    Node* c = nullptr;
    for (Node& n : g.nodes)
      if (!n.dead && is_conv(&n) && n.in[0].tensor == d.out) c = &n;
    if (!c) continue;
    const PadParams pad = d.params.as<PadParams>();
    Conv2dParams p = c->params.as<Conv2dParams>();
    p.pad_top += pad.before[1];
    p.pad_bottom += pad.after[1];
    p.pad_left += pad.before[2];
    p.pad_right += pad.after[2];
    const int ext_h = (p.kernel_h - 1) * p.dilation_h + 1, ext_w = (p.kernel_w - 1) * p.dilation_w + 1;
    // A pad as wide as the kernel would make whole output rows of padding only: keep the PAD.
    if (p.pad_top >= ext_h || p.pad_bottom >= ext_h || p.pad_left >= ext_w || p.pad_right >= ext_w) continue;
    c->params = OpParams::from(p);
    c->in[0].tensor = d.in[0].tensor;
    c->name = d.name + "+" + c->name;
    d.dead = true;
    ++g.stats.spatial_pads_folded;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
