// facekit/kernels/f32_layer_norm.hpp - layer normalisation over the last dimension.
//
// For each of `rows` rows of C floats:
//   mean = sum(x) / C, var = sum((x - mean)^2) / C, r = 1 / sqrt(var + eps),
//   y[c] = x[c] * g[c] + (-mean * g[c]) + beta[c]   with g[c] = r * gamma[c].
// The output is formed as x*g - mean*g rather than (x - mean)*g because that is how TensorFlow's
// batch-normalisation form of LayerNorm (and so the TFLite graph) computes it; matching it keeps
// the rounding close to the interpreter's. gamma/beta are channel_padded (whole tiles), either
// may be null (1 / 0).
#pragma once

#include <cmath>

#include "common.hpp"

namespace facekit {
namespace kernels {

namespace ref {

inline void f32_layer_norm(const float* x, const float* gamma, const float* beta, int rows, int channels, float eps,
                           float* y) {
  const float inv_c = 1.0f / float(channels);
  for (int p = 0; p < rows; ++p) {
    const float* xp = x + std::size_t(p) * channels;
    float* yp = y + std::size_t(p) * channels;
    float sum = 0.0f;
    for (int c = 0; c < channels; ++c) sum += xp[c];
    const float mean = sum * inv_c;
    float sq = 0.0f;
    for (int c = 0; c < channels; ++c) {
      const float d = xp[c] - mean;
      sq = std::fma(d, d, sq);
    }
    const float r = 1.0f / std::sqrt(sq * inv_c + eps);
    for (int c = 0; c < channels; ++c) {
      const float g = gamma ? r * gamma[c] : r;
      // Explicit fma, as the SIMD path: with rows of near-equal values, r ~ 1/sqrt(eps) magnifies
      // the rounding of x*g - mean*g, so it must not depend on the compiler's FMA contraction.
      yp[c] = std::fma(xp[c], g, -mean * g) + (beta ? beta[c] : 0.0f);
    }
  }
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
void layer_norm(const float* x, const float* gamma, const float* beta, int rows, int channels, float eps,
                float* y) noexcept {
  constexpr int W = lanes<A>();
  const int full = channels / W * W;
  const float inv_c = 1.0f / float(channels);
  for (int p = 0; p < rows; ++p) {
    const float* xp = x + std::size_t(p) * channels;
    float* yp = y + std::size_t(p) * channels;
    // Two accumulators hide the add latency for the usual C = 64 (four AVX-512 vectors).
    vf<A> s0(0.0f), s1(0.0f);
    int c = 0;
    for (; c + 2 * W <= full; c += 2 * W) {
      s0 = s0 + loadu<A>(xp + c);
      s1 = s1 + loadu<A>(xp + c + W);
    }
    if (c < full) s0 = s0 + loadu<A>(xp + c);
    float sum = xsimd::hadd(s0 + s1);
    for (c = full; c < channels; ++c) sum += xp[c];
    const float mean = sum * inv_c;
    const vf<A> vmean(mean);
    vf<A> q0(0.0f), q1(0.0f);
    for (c = 0; c + 2 * W <= full; c += 2 * W) {
      const vf<A> d0 = loadu<A>(xp + c) - vmean, d1 = loadu<A>(xp + c + W) - vmean;
      q0 = fmadd<A>(d0, d0, q0);
      q1 = fmadd<A>(d1, d1, q1);
    }
    if (c < full) {
      const vf<A> d0 = loadu<A>(xp + c) - vmean;
      q0 = fmadd<A>(d0, d0, q0);
    }
    float sq = xsimd::hadd(q0 + q1);
    for (c = full; c < channels; ++c) {
      const float d = xp[c] - mean;
      sq = std::fma(d, d, sq);
    }
    const vf<A> r(1.0f / std::sqrt(sq * inv_c + eps));
    const vf<A> nmean(-mean);
    for (c = 0; c < channels; c += W) {
      const int n = clamp_lanes(channels - c, W);
      const vf<A> g = gamma ? r * loadu<A>(gamma + c) : r;  // channel_padded: whole vectors are in bounds
      vf<A> v = fmadd<A>(load_n<A>(xp + c, n), g, nmean * g);
      if (beta) v = v + loadu<A>(beta + c);
      store_n<A>(yp + c, v, n);
    }
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline void layer_norm(scalar_arch, const float* x, const float* gamma, const float* beta, int rows, int channels,
                       float eps, float* y) {
  ref::f32_layer_norm(x, gamma, beta, rows, channels, eps, y);
}

#if FACEKIT_HAS_SIMD
template <class A>
void layer_norm(A, const float* x, const float* gamma, const float* beta, int rows, int channels, float eps,
                float* y) {
  simd::layer_norm<A>(x, gamma, beta, rows, channels, eps, y);
}
#endif

}  // namespace detail

/// Layer norm of `rows` rows of `channels` floats (see the file comment). gamma, beta:
/// channel_padded or null.
template <class Arch>
void f32_layer_norm(const float* x, const float* gamma, const float* beta, int rows, int channels, float eps,
                    float* y) {
  detail::layer_norm(Arch{}, x, gamma, beta, rows, channels, eps, y);
}

}  // namespace kernels
}  // namespace facekit
