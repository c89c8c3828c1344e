// facekit/ops/cpu_step.hpp - one op prepared for the CPU: its kernel chosen at load, its typed
// arguments, and (bound by the session) the addresses of its tensors.
//
// An op's definition (ops/<name>.hpp) validates the op once, which gives its Args; the CPU kernel
// is chosen once for the target arch; the session binds tensor addresses. run() is then a flat
// loop of `step.run(step)`: nothing in a step is decided per inference.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

#include "../op_types.hpp"

namespace facekit {

struct CpuStep;
using CpuStepFn = void (*)(const CpuStep&);
/// Computes output rows [begin, end) of a step that splits (OpDef::split).
using CpuRangeFn = void (*)(const CpuStep&, int begin, int end);

/// Room for the largest op's Args (conv2d: geometry, epilogue and the chosen kernel).
constexpr std::size_t kOpArgsBytes = 96;

struct CpuStep {
  CpuStepFn run = nullptr;           ///< the whole op
  /// For an op that splits over threads: run_range(step, b, e) computes its output rows [b, e)
  /// of split_rows; a part starts at a multiple of split_align. Null for an op that does not split.
  CpuRangeFn run_range = nullptr;
  int split_rows = 0;
  int split_align = 1;
  int parts = 1;                     ///< set by the session for its thread pool: parts per run
  double flops = 0;                  ///< arithmetic per run (OpDef::flops)
  const char* name = "";             ///< the op's name, for messages and profiles
  OpType type = OpType::conv2d;
  int op_index = 0;                  ///< the op's index in the model (profiles)
  uint32_t inputs[kMaxOpInputs];     ///< tensor indices (kNoTensor = absent)
  int input_count = 0;
  uint32_t output = kNoTensor;

  // Bound by the session: activations point into its arena, constants into the model.
  const float* in[kMaxOpInputs] = {};
  float* out = nullptr;

  /// The op's own arguments (OpDef<type>::Args), stored in place so a step is one flat record.
  alignas(8) unsigned char args[kOpArgsBytes] = {};

  template <class A>
  const A& args_as() const noexcept {
    return *std::launder(reinterpret_cast<const A*>(args));
  }
  template <class A>
  void set_args(const A& a) noexcept {
    static_assert(sizeof(A) <= kOpArgsBytes && alignof(A) <= 8 && std::is_trivially_copyable<A>::value,
                  "an op's Args must be a small trivially copyable struct (raise kOpArgsBytes if needed)");
    ::new (static_cast<void*>(args)) A(a);
  }
};

}  // namespace facekit
