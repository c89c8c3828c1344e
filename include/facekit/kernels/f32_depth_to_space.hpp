// facekit/kernels/f32_depth_to_space.hpp - TFLite's DEPTH_TO_SPACE on NHWC float data: each input
// pixel's channels are dealt out over a block x block patch of output pixels.
//
// With C = output channels, output pixel (h * b + by, w * b + bx) channel c is input pixel (h, w)
// channel (by * b + bx) * C + c (TensorFlow's default "DCR" order). Pure data movement: each
// output pixel is one contiguous run of C input floats, so a memcpy per pixel is as fast as any
// vector loop would be.
#pragma once

#include <cstddef>
#include <cstring>

namespace facekit {
namespace kernels {

/// x is [in_h][in_w][block * block * out_c], y [in_h * block][in_w * block][out_c].
inline void f32_depth_to_space(const float* x, int in_h, int in_w, int out_c, int block, float* y) noexcept {
  const std::size_t C = std::size_t(out_c), b = std::size_t(block);
  const std::size_t out_w = std::size_t(in_w) * b;
  for (std::size_t h = 0; h < std::size_t(in_h); ++h)
    for (std::size_t w = 0; w < std::size_t(in_w); ++w) {
      const float* src = x + (h * std::size_t(in_w) + w) * b * b * C;
      for (std::size_t by = 0; by < b; ++by)
        for (std::size_t bx = 0; bx < b; ++bx)
          std::memcpy(y + ((h * b + by) * out_w + w * b + bx) * C, src + (by * b + bx) * C, C * sizeof(float));
    }
}

}  // namespace kernels
}  // namespace facekit
