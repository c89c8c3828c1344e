// facekit/kernels/pack.hpp - weight packing: TFLite layouts -> the layouts the kernels read.
// The converter packs once, offline (XNNPACK's pack functions are the model); the kernels then
// stream the weights in order. Tile = kPackTile output channels, bias first, zero padded.
#pragma once

#include <cstddef>

#include "../config.hpp"

namespace facekit {
namespace kernels {

inline int pack_tiles(int channels) noexcept { return (channels + kPackTile - 1) / kPackTile; }

/// Floats needed for a conv2d of O output channels, KHxKW taps, I input channels.
inline std::size_t f32_conv2d_packed_size(int O, int KH, int KW, int I) noexcept {
  return std::size_t(pack_tiles(O)) * kPackTile * (1 + std::size_t(KH) * KW * I);
}

/// ohwi: TFLite CONV_2D filter [O][KH][KW][I]; bias: [O] or null.
/// out: per tile of 16 output channels: bias[16], then w[KH][KW][I][16].
inline void pack_f32_conv2d(const float* ohwi, const float* bias, int O, int KH, int KW, int I,
                            float* out) noexcept {
  const int T = kPackTile;
  const std::size_t taps = std::size_t(KH) * KW * I;
  for (int t = 0; t < pack_tiles(O); ++t) {
    float* dst = out + std::size_t(t) * T * (1 + taps);
    for (int j = 0; j < T; ++j) {
      const int o = t * T + j;
      dst[j] = (o < O && bias) ? bias[o] : 0.0f;
    }
    dst += T;
    for (std::size_t k = 0; k < taps; ++k)
      for (int j = 0; j < T; ++j) {
        const int o = t * T + j;
        dst[k * T + j] = o < O ? ohwi[std::size_t(o) * taps + k] : 0.0f;
      }
  }
}

/// Floats needed for a depthwise conv2d of C channels with KHxKW taps.
inline std::size_t f32_dwconv2d_packed_size(int KH, int KW, int C) noexcept {
  return std::size_t(pack_tiles(C)) * kPackTile * (1 + std::size_t(KH) * KW);
}

/// hwc: TFLite DEPTHWISE_CONV_2D filter [1][KH][KW][C] (depth multiplier 1); bias: [C] or null.
/// out: per tile of 16 channels: bias[16], then w[KH][KW][16].
inline void pack_f32_dwconv2d(const float* hwc, const float* bias, int KH, int KW, int C,
                              float* out) noexcept {
  const int T = kPackTile;
  const int taps = KH * KW;
  for (int t = 0; t < pack_tiles(C); ++t) {
    float* dst = out + std::size_t(t) * T * (1 + taps);
    for (int j = 0; j < T; ++j) {
      const int c = t * T + j;
      dst[j] = (c < C && bias) ? bias[c] : 0.0f;
    }
    dst += T;
    for (int k = 0; k < taps; ++k)
      for (int j = 0; j < T; ++j) {
        const int c = t * T + j;
        dst[k * T + j] = c < C ? hwc[std::size_t(k) * C + c] : 0.0f;
      }
  }
}

/// Per-channel vectors (PReLU alpha): C values, zero padded to a whole tile.
inline std::size_t f32_channel_padded_size(int C) noexcept {
  return std::size_t(pack_tiles(C)) * kPackTile;
}

inline void pack_f32_channel_padded(const float* v, int C, float* out) noexcept {
  const std::size_t n = f32_channel_padded_size(C);
  for (std::size_t i = 0; i < n; ++i) out[i] = i < std::size_t(C) ? v[i] : 0.0f;
}

}  // namespace kernels
}  // namespace facekit
