// tools/convert/passes/remove_dead.cpp - drops the nodes no graph output needs (e.g. a PAD whose
// only reader took its input instead) and those the fusions marked dead.
#include <algorithm>

#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status remove_dead(LoweringGraph& g) {
  std::vector<uint8_t> needed(g.tensor_count(), 0);
  for (int t : g.outputs) needed[std::size_t(t)] = 1;
  for (std::size_t i = g.nodes.size(); i-- > 0;) {  // readers come after writers
    Node& n = g.nodes[i];
    if (!needed[std::size_t(n.out)]) {
      n.dead = true;
      continue;
    }
    for (int t : activation_inputs(n)) needed[std::size_t(t)] = 1;
  }
  g.nodes.erase(std::remove_if(g.nodes.begin(), g.nodes.end(), [](const Node& n) { return n.dead; }), g.nodes.end());
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
