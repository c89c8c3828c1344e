// facekit/kernels/f32_slice.hpp - slice (a box of a tensor, stride 1) and copy. Pure data
// movement: memcpy of the contiguous innermost runs, no arithmetic, the same for every Arch.
#pragma once

#include <cstring>

#include "common.hpp"

namespace facekit {
namespace kernels {

/// y = x[b0.., b1.., b2.., b3..] with x of dims in[4] and y of dims out[4] (right-aligned to 4
/// dimensions; begin[d] + out[d] <= in[d]).
inline void f32_slice(const float* x, const int in[4], const int begin[4], const int out[4], float* y) {
  const std::size_t run = std::size_t(out[3]) * sizeof(float);
  for (int a = 0; a < out[0]; ++a)
    for (int b = 0; b < out[1]; ++b)
      for (int c = 0; c < out[2]; ++c) {
        const std::size_t src =
            ((std::size_t(a + begin[0]) * in[1] + std::size_t(b + begin[1])) * in[2] + std::size_t(c + begin[2])) *
                in[3] + std::size_t(begin[3]);
        std::memcpy(y, x + src, run);
        y += out[3];
      }
}

inline void f32_copy(const float* x, std::size_t n, float* y) { std::memcpy(y, x, n * sizeof(float)); }

}  // namespace kernels
}  // namespace facekit
