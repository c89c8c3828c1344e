// tools/convert/passes/topo_sort.cpp - fusion can make a conv read a residual that the source
// computes after the conv: order the live nodes again, keeping the source order wherever the
// dependencies allow (of the ready nodes, the earliest in the current order runs first).
#include <functional>
#include <map>
#include <queue>

#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status topo_sort(LoweringGraph& g) {
  std::vector<int> live;
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    if (!g.nodes[i].dead) live.push_back(int(i));
  std::map<int, int> prod;  // tensor -> position in `live`
  for (std::size_t k = 0; k < live.size(); ++k) prod[g.nodes[std::size_t(live[k])].out] = int(k);
  std::vector<std::vector<int>> users(live.size());
  std::vector<int> pending(live.size(), 0);
  for (std::size_t k = 0; k < live.size(); ++k) {
    const Node& n = g.nodes[std::size_t(live[k])];
    for (int t : activation_inputs(n)) {
      auto it = prod.find(t);
      if (it == prod.end()) continue;
      users[std::size_t(it->second)].push_back(int(k));
      ++pending[k];
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (std::size_t k = 0; k < live.size(); ++k)
    if (pending[k] == 0) ready.push(int(k));
  std::vector<Node> sorted;
  while (!ready.empty()) {
    const int k = ready.top();
    ready.pop();
    sorted.push_back(std::move(g.nodes[std::size_t(live[std::size_t(k)])]));
    for (int u : users[std::size_t(k)])
      if (--pending[std::size_t(u)] == 0) ready.push(u);
  }
  if (sorted.size() != live.size()) return g.fail_model("internal error: the fused graph has a cycle");
  g.nodes = std::move(sorted);
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
