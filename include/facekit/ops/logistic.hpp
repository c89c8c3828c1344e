// facekit/ops/logistic.hpp - logistic: y = 1 / (1 + exp(-x)).
#pragma once

#include "../kernels/f32_elementwise.hpp"
#include "unary.hpp"

namespace facekit {
namespace ops {

struct LogisticKernel {
  template <class Arch>
  static void apply(const float* x, std::size_t n, float* y) {
    kernels::f32_logistic<Arch>(x, n, y);
  }
};

template <>
struct OpDef<OpType::logistic> : UnaryOpDef<LogisticKernel> {};

}  // namespace ops
}  // namespace facekit
