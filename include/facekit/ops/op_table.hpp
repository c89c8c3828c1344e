// facekit/ops/op_table.hpp - every op definition, and the dispatch made from the op set
// (FACEKIT_OPS in op_types.hpp): one switch, generated, for validation and for the CPU steps.
//
// Adding an op: its line in FACEKIT_OPS, its definition in ops/<name>.hpp, and its include here
// (docs/architecture.md walks through one). An op in the set without a definition does not
// compile: OpDef<OpType::name> is incomplete.
#pragma once

#include <type_traits>

#include "add.hpp"
#include "concat.hpp"
#include "conv2d.hpp"
#include "copy.hpp"
#include "depth_to_space.hpp"
#include "dwconv2d.hpp"
#include "landmarks_to_transform_matrix.hpp"
#include "layer_norm.hpp"
#include "logistic.hpp"
#include "maxpool2d.hpp"
#include "mul.hpp"
#include "op_common.hpp"
#include "pad.hpp"
#include "point_normalize.hpp"
#include "prelu.hpp"
#include "relu.hpp"
#include "reshape.hpp"
#include "resize_bilinear.hpp"
#include "slice.hpp"
#include "token_dense.hpp"
#include "transform_landmarks.hpp"
#include "transform_tensor_bilinear.hpp"

namespace facekit {
namespace ops {

/// True for ops whose output shares the input's memory (no step runs).
inline bool aliases_input(OpType t) noexcept {
  switch (t) {
#define FACEKIT_OP_ALIASES(name, code, P) \
  case OpType::name: return OpDef<OpType::name>::kAliasesInput;
    FACEKIT_OPS(FACEKIT_OP_ALIASES)
#undef FACEKIT_OP_ALIASES
  }
  return false;
}

/// Checks an op against its tensors (any backend); the error names the op, its type and what is wrong.
inline Status validate_op(const Model& m, const OpInfo& op) {
  switch (op.type) {
#define FACEKIT_OP_VALIDATE(name, code, P)         \
  case OpType::name: {                             \
    OpDef<OpType::name>::Args args{};              \
    return OpDef<OpType::name>::validate(m, op, &args); \
  }
    FACEKIT_OPS(FACEKIT_OP_VALIDATE)
#undef FACEKIT_OP_VALIDATE
  }
  return Status::error("op %s: unknown op type %u", op.name, unsigned(op.type));
}

/// An op's arithmetic per run (OpDef::flops; 0 for an op that does not validate), for profiles
/// of any backend.
inline double op_flops(const Model& m, const OpInfo& op) {
  switch (op.type) {
#define FACEKIT_OP_FLOPS_OF(name, code, P)                                                  \
  case OpType::name: {                                                                      \
    OpDef<OpType::name>::Args args{};                                                       \
    return OpDef<OpType::name>::validate(m, op, &args) ? OpDef<OpType::name>::flops(args) : 0.0; \
  }
    FACEKIT_OPS(FACEKIT_OP_FLOPS_OF)
#undef FACEKIT_OP_FLOPS_OF
  }
  return 0.0;
}

namespace detail {

/// True for an op definition with run_range (it splits over threads; OpDef::split).
template <class Def, class = void>
struct splits : std::false_type {};
template <class Def>
struct splits<Def, std::void_t<decltype(&Def::template run_range<scalar_arch>)>> : std::true_type {};

/// The whole of a splitting op: all its rows in one part.
template <class Def, class Arch>
void run_all_rows(const CpuStep& s) {
  Def::template run_range<Arch>(s, 0, s.split_rows);
}

template <OpType T, class Arch>
Status prepare_cpu_step(const Model& m, const OpInfo& op, CpuStep* s) {
  using Def = OpDef<T>;
  typename Def::Args args{};
  FACEKIT_RETURN_IF_ERROR(Def::validate(m, op, &args));
  if constexpr (!Def::kAliasesInput) {
    FACEKIT_RETURN_IF_ERROR(Def::template select<Arch>(op, &args));
    if constexpr (splits<Def>::value) {
      const SplitRows sr = Def::split(args);
      s->run = &run_all_rows<Def, Arch>;
      s->run_range = &Def::template run_range<Arch>;
      s->split_rows = sr.rows;
      s->split_align = sr.align > 0 ? sr.align : 1;
    } else {
      s->run = &Def::template run<Arch>;
    }
    s->flops = Def::flops(args);
    s->set_args(args);
  }
  s->name = op.name;
  s->type = op.type;
  s->input_count = op.input_count;
  for (int i = 0; i < kMaxOpInputs; ++i) s->inputs[i] = i < op.input_count ? op.inputs[i] : kNoTensor;
  s->output = op.outputs[0];
  return Status::ok();
}

}  // namespace detail

/// Validates `op` and prepares its CPU step for `Arch` (kernel chosen once, here). Ops that alias
/// their input (aliases_input) are validated and get a step with no run function.
template <class Arch>
Status prepare_cpu_step(const Model& m, const OpInfo& op, CpuStep* s) {
  switch (op.type) {
#define FACEKIT_OP_PREPARE(name, code, P) \
  case OpType::name: return detail::prepare_cpu_step<OpType::name, Arch>(m, op, s);
    FACEKIT_OPS(FACEKIT_OP_PREPARE)
#undef FACEKIT_OP_PREPARE
  }
  return Status::error("op %s: unknown op type %u", op.name, unsigned(op.type));
}

}  // namespace ops
}  // namespace facekit
