// facekit/kernels/f32_concat.hpp - concatenation of contiguous blocks (any axis of any rank).
//
// A concat along an axis is, for each of `outer` positions (the product of the dims before the
// axis), each input's contiguous block of inner[i] floats (its axis length times the product of
// the dims after the axis) in turn. Plain memcpy: there is no arithmetic to vectorise.
#pragma once

#include <cstddef>
#include <cstring>

namespace facekit {
namespace kernels {

/// out = for o in [0, outer): in[0][o*inner[0] ..], in[1][o*inner[1] ..], ...
inline void f32_concat(const float* const* in, int count, int outer, const int* inner, float* out) noexcept {
  for (int o = 0; o < outer; ++o)
    for (int i = 0; i < count; ++i) {
      const std::size_t n = std::size_t(inner[i]);
      std::memcpy(out, in[i] + std::size_t(o) * n, n * sizeof(float));
      out += n;
    }
}

}  // namespace kernels
}  // namespace facekit
