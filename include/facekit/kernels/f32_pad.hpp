// facekit/kernels/f32_pad.hpp - constant padding of a tensor of rank <= 4 (shapes right-aligned
// into 4 dims by the caller: missing leading dims are 1 with no padding).
#pragma once

#include <cstddef>
#include <cstring>

namespace facekit {
namespace kernels {

/// out[i0][i1][i2][i3] = x[i0 - before[0]]...[i3 - before[3]] where inside in_dims, else value.
/// out_dims[d] = before[d] + in_dims[d] + after[d].
inline void f32_pad(const float* x, const int in_dims[4], const int before[4], const int out_dims[4], float value,
                    float* out) noexcept {
  const int n3 = out_dims[3], b3 = before[3], i3 = in_dims[3];
  auto fill = [value](float* p, int n) {
    for (int i = 0; i < n; ++i) p[i] = value;
  };
  for (int d0 = 0; d0 < out_dims[0]; ++d0) {
    const int s0 = d0 - before[0];
    for (int d1 = 0; d1 < out_dims[1]; ++d1) {
      const int s1 = d1 - before[1];
      for (int d2 = 0; d2 < out_dims[2]; ++d2, out += n3) {
        const int s2 = d2 - before[2];
        if (s0 < 0 || s0 >= in_dims[0] || s1 < 0 || s1 >= in_dims[1] || s2 < 0 || s2 >= in_dims[2]) {
          fill(out, n3);
          continue;
        }
        // One innermost row: padding, the input row, padding.
        const float* src = x + ((std::size_t(s0) * in_dims[1] + s1) * in_dims[2] + s2) * std::size_t(i3);
        fill(out, b3);
        std::memcpy(out + b3, src, std::size_t(i3) * sizeof(float));
        fill(out + b3 + i3, n3 - b3 - i3);
      }
    }
  }
}

}  // namespace kernels
}  // namespace facekit
