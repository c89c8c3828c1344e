// facekit/opencl/cl_op_table.hpp - every op's OpenCL definition, and the dispatch made from the
// op set (FACEKIT_OPS): validation gives each op's Args (ops/<name>.hpp, shared with the CPU),
// ClOpDef<T>::prepare turns them into the session's kernel launches.
//
// Adding an op: its ClOpDef in opencl/ops/<file>.hpp and that file's include here. An op that
// runs a step and has no ClOpDef does not compile.
#pragma once

#include <cstring>

#include "../ops/cpu_step.hpp"
#include "../ops/op_table.hpp"
#include "cl_step.hpp"
#include "ops/conv.hpp"
#include "ops/elementwise.hpp"
#include "ops/mixer.hpp"
#include "ops/pool.hpp"
#include "ops/resize.hpp"
#include "ops/shape.hpp"
#include "ops/spatial.hpp"

namespace facekit {
namespace opencl {

/// An op's validated Args, stored in place (the same room as a CPU step's).
struct ClOpArgs {
  OpType type = OpType::conv2d;
  alignas(8) unsigned char bytes[kOpArgsBytes] = {};
};

namespace detail {

template <OpType T>
Status validate_into(const Model& m, const OpInfo& op, ClOpArgs* out) {
  typename ops::OpDef<T>::Args a{};
  FACEKIT_RETURN_IF_ERROR(ops::OpDef<T>::validate(m, op, &a));
  static_assert(sizeof(a) <= kOpArgsBytes, "raise kOpArgsBytes");
  out->type = T;
  std::memcpy(out->bytes, &a, sizeof a);
  return Status::ok();
}

template <OpType T>
void prepare_step(ClStepBuilder& b, const ClOpArgs& args) {
  if constexpr (!ops::OpDef<T>::kAliasesInput) {
    typename ops::OpDef<T>::Args a;
    std::memcpy(&a, args.bytes, sizeof a);
    ClOpDef<T>::prepare(b, a);
  }
}

}  // namespace detail

/// Checks `op` against its tensors; its Args go to *out.
inline Status validate_op(const Model& m, const OpInfo& op, ClOpArgs* out) {
  switch (op.type) {
#define FACEKIT_CL_VALIDATE(name, code, P) \
  case OpType::name: return detail::validate_into<OpType::name>(m, op, out);
    FACEKIT_OPS(FACEKIT_CL_VALIDATE)
#undef FACEKIT_CL_VALIDATE
  }
  return Status::error("op %s: unknown op type %u", op.name, unsigned(op.type));
}

/// The op's kernels and launches for the session `b` builds (errors stay in b.status()).
inline void prepare_step(ClStepBuilder& b, const ClOpArgs& args) {
  switch (args.type) {
#define FACEKIT_CL_PREPARE(name, code, P) \
  case OpType::name: return detail::prepare_step<OpType::name>(b, args);
    FACEKIT_OPS(FACEKIT_CL_PREPARE)
#undef FACEKIT_CL_PREPARE
  }
}

}  // namespace opencl
}  // namespace facekit
