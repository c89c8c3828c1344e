// facekit/ops/relu.hpp - relu: y = max(x, 0).
#pragma once

#include "../kernels/f32_elementwise.hpp"
#include "unary.hpp"

namespace facekit {
namespace ops {

struct ReluKernel {
  template <class Arch>
  static void apply(const float* x, std::size_t n, float* y) {
    kernels::f32_relu<Arch>(x, n, y);
  }
};

template <>
struct OpDef<OpType::relu> : UnaryOpDef<ReluKernel> {};

}  // namespace ops
}  // namespace facekit
