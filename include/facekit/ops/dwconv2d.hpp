// facekit/ops/dwconv2d.hpp - depthwise conv2d: conv2d's definition with per-channel weights
// (dwconv2d_c_tile, depth multiplier 1).
#pragma once

#include "conv2d.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::dwconv2d> : ConvOpDef<true> {};

}  // namespace ops
}  // namespace facekit
