// facekit/runtime/activation_plan.hpp - where every activation of a model lives in the one arena
// of a session: the plan every backend shares (the CPU's host arena, the OpenCL buffer).
//
//   ActivationPlan plan = plan_activations(model);
//   // plan.offsets[t]: byte offset of tensor t (kNoOffset for constants); plan.arena_size bytes
//
// Ops that alias their input (reshape) share its bytes; lifetimes run from an op's first write to
// its last read, in op order; graph inputs live from the start and outputs to the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../model/model.hpp"
#include "../ops/op_table.hpp"
#include "memory_plan.hpp"

namespace facekit {

struct ActivationPlan {
  static constexpr std::size_t kNoOffset = ~std::size_t(0);
  std::vector<std::size_t> offsets;  ///< per tensor; kNoOffset for constants
  std::vector<uint32_t> root;        ///< per tensor: the tensor whose storage it uses (itself unless aliased)
  std::size_t arena_size = 0;
};

inline ActivationPlan plan_activations(const Model& m) {
  const std::size_t nt = std::size_t(m.tensor_count());
  ActivationPlan out;
  out.root.resize(nt);
  for (std::size_t t = 0; t < nt; ++t) out.root[t] = uint32_t(t);
  for (const OpInfo& op : m.ops())
    if (ops::aliases_input(op.type)) out.root[op.outputs[0]] = out.root[op.inputs[0]];
  const std::vector<uint32_t>& root = out.root;

  const int n_ops = m.op_count();
  std::vector<UsageRecord> usage(nt);
  std::vector<int> first(nt, n_ops + 1), last(nt, -1);
  for (uint32_t t : m.inputs()) first[root[t]] = 0;
  for (int i = 0; i < n_ops; ++i) {
    const OpInfo& op = m.op(i);
    for (int k = 0; k < op.output_count; ++k) {
      const uint32_t r = root[op.outputs[k]];
      first[r] = std::min(first[r], i);
      last[r] = std::max(last[r], i);
    }
    for (int k = 0; k < op.input_count; ++k)
      if (op.inputs[k] != kNoTensor && !m.tensor(op.inputs[k]).is_constant()) {
        const uint32_t r = root[op.inputs[k]];
        last[r] = std::max(last[r], i);
      }
  }
  for (uint32_t t : m.outputs()) last[root[t]] = n_ops;
  for (std::size_t t = 0; t < nt; ++t) {
    if (root[t] != t || m.tensor(uint32_t(t)).is_constant() || last[t] < 0) continue;
    usage[t] = UsageRecord{m.tensor(uint32_t(t)).size_bytes, first[t], last[t]};
  }
  const MemoryPlan plan = plan_memory(usage);
  out.arena_size = plan.arena_size;
  out.offsets.assign(nt, ActivationPlan::kNoOffset);
  for (std::size_t t = 0; t < nt; ++t)
    if (!m.tensor(uint32_t(t)).is_constant()) out.offsets[t] = plan.offsets[root[t]];
  return out;
}

}  // namespace facekit
