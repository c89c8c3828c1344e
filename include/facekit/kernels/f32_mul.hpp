// facekit/kernels/f32_mul.hpp - multiplication by a per-channel constant: y[p][c] = x[p][c] * b[c].
// b is channel_padded (a scalar constant is stored expanded to every channel).
#pragma once

#include "common.hpp"

namespace facekit {
namespace kernels {

namespace ref {

inline void f32_mul(const float* x, const float* b, int pixels, int channels, float* y) {
  for (int p = 0; p < pixels; ++p)
    for (int c = 0; c < channels; ++c) {
      const std::size_t i = std::size_t(p) * channels + c;
      y[i] = x[i] * b[c];
    }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
void mul(const float* x, const float* b, int pixels, int channels, float* y) noexcept {
  constexpr int W = lanes<A>();
  if (channels == 1) {
    // One scale for everything (e.g. [N, 1] tensors): one flat pass.
    const std::size_t n = std::size_t(pixels);
    const vf<A> s(b[0]);
    std::size_t i = 0;
    for (; i + W <= n; i += W) storeu<A>(y + i, loadu<A>(x + i) * s);
    if (i < n) store_n<A>(y + i, load_n<A>(x + i, int(n - i)) * s, int(n - i));
    return;
  }
  for (int p = 0; p < pixels; ++p) {
    const float* xp = x + std::size_t(p) * channels;
    float* yp = y + std::size_t(p) * channels;
    for (int c0 = 0; c0 < channels; c0 += W) {
      const int n = clamp_lanes(channels - c0, W);
      store_n<A>(yp + c0, load_n<A>(xp + c0, n) * loadu<A>(b + c0), n);
    }
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline void mul(scalar_arch, const float* x, const float* b, int pixels, int channels, float* y) {
  ref::f32_mul(x, b, pixels, channels, y);
}

#if FACEKIT_HAS_SIMD
template <class A>
void mul(A, const float* x, const float* b, int pixels, int channels, float* y) {
  simd::mul<A>(x, b, pixels, channels, y);
}
#endif

}  // namespace detail

/// y[p][c] = x[p][c] * b[c] (b channel_padded).
template <class Arch>
void f32_mul(const float* x, const float* b, int pixels, int channels, float* y) {
  detail::mul(Arch{}, x, b, pixels, channels, y);
}

}  // namespace kernels
}  // namespace facekit
