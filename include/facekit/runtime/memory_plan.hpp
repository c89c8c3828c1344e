// facekit/runtime/memory_plan.hpp - one arena for all activations, planned once at load.
//
// Each activation gets an offset in a single arena; tensors whose lifetimes (first write to last
// read, in op order) overlap never share bytes. Placement is greedy by size, largest first, at the
// lowest offset that fits between already placed, time-overlapping tensors (the usual arena
// planner, as in TFLite's and XNNPACK's). Aliases (reshape outputs) share their source's block.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../config.hpp"

namespace facekit {

/// A tensor's need for arena bytes between op indices [first, last] (inclusive).
struct UsageRecord {
  std::size_t size = 0;
  int first = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  ///< per record, multiple of kTensorAlignment
  std::size_t arena_size = 0;
};

/// Every block is padded so that SIMD tails may read (never write) up to one aligned vector
/// past a tensor's end.
constexpr std::size_t kArenaSlack = kTensorAlignment;

inline std::size_t arena_block_size(std::size_t bytes) noexcept {
  const std::size_t a = kTensorAlignment;
  return (bytes + kArenaSlack + a - 1) / a * a;
}

inline MemoryPlan plan_memory(const std::vector<UsageRecord>& records) {
  MemoryPlan plan;
  plan.offsets.assign(records.size(), 0);
  std::vector<std::size_t> order(records.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return records[a].size > records[b].size;
  });
  struct Placed {
    std::size_t offset, size;
    int first, last;
  };
  std::vector<Placed> placed;
  placed.reserve(records.size());
  std::vector<Placed> conflicts;
  for (std::size_t idx : order) {
    const UsageRecord& r = records[idx];
    if (r.size == 0) continue;
    const std::size_t need = arena_block_size(r.size);
    conflicts.clear();
    for (const Placed& p : placed)
      if (p.first <= r.last && r.first <= p.last) conflicts.push_back(p);
    std::sort(conflicts.begin(), conflicts.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    std::size_t offset = 0;
    for (const Placed& p : conflicts) {
      if (offset + need <= p.offset) break;
      offset = std::max(offset, p.offset + p.size);
    }
    placed.push_back({offset, need, r.first, r.last});
    plan.offsets[idx] = offset;
    plan.arena_size = std::max(plan.arena_size, offset + need);
  }
  return plan;
}

}  // namespace facekit
