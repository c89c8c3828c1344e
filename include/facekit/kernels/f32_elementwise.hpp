// facekit/kernels/f32_elementwise.hpp - add (with zero-extended b and fused activation), relu,
// prelu (per-channel alpha), logistic. Tensors are [pixels][channels] float32.
#pragma once

#include <cmath>

#include "common.hpp"

namespace facekit {
namespace kernels {

namespace ref {

/// y[p][c] = act(a[p][c] + (c < b_c ? b[p][c] : 0)); alpha (channel_padded) only for prelu.
inline void f32_add(const float* a, const float* b, int pixels, int channels, int b_c, const float* alpha,
                    Activation act, float* y) {
  for (int p = 0; p < pixels; ++p)
    for (int c = 0; c < channels; ++c) {
      const std::size_t i = std::size_t(p) * channels + c;
      const float bv = c < b_c ? b[std::size_t(p) * b_c + c] : 0.0f;
      y[i] = activate(a[i] + bv, act, alpha, c);
    }
}

inline void f32_relu(const float* x, std::size_t n, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

inline void f32_prelu(const float* x, const float* alpha, int pixels, int channels, float* y) {
  for (int p = 0; p < pixels; ++p)
    for (int c = 0; c < channels; ++c) {
      const std::size_t i = std::size_t(p) * channels + c;
      y[i] = x[i] >= 0.0f ? x[i] : x[i] * alpha[c];
    }
}

inline void f32_logistic(const float* x, std::size_t n, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

/// y = f(x) over n floats; the tail uses exact-length loads/stores.
template <class A, class F>
FACEKIT_KERNEL_INLINE void map_flat(const float* x, std::size_t n, float* y, F&& f) noexcept {
  constexpr std::size_t W = std::size_t(lanes<A>());
  std::size_t i = 0;
  for (; i + W <= n; i += W) storeu<A>(y + i, f(loadu<A>(x + i)));
  if (i < n) store_n<A>(y + i, f(load_n<A>(x + i, int(n - i))), int(n - i));
}

template <class A, Activation Act>
void add(const float* a, const float* b, int pixels, int channels, int b_c, const float* alpha, float* y) noexcept {
  constexpr int W = lanes<A>();
  if (b_c == channels && Act != Activation::prelu) {
    // Same shapes: one flat pass.
    const std::size_t n = std::size_t(pixels) * channels;
    std::size_t i = 0;
    for (; i + W <= n; i += W) storeu<A>(y + i, activate<Act, A>(loadu<A>(a + i) + loadu<A>(b + i), nullptr));
    if (i < n) {
      const int r = int(n - i);
      store_n<A>(y + i, activate<Act, A>(load_n<A>(a + i, r) + load_n<A>(b + i, r), nullptr), r);
    }
    return;
  }
  for (int p = 0; p < pixels; ++p) {
    const float* ap = a + std::size_t(p) * channels;
    const float* bp = b + std::size_t(p) * b_c;
    float* yp = y + std::size_t(p) * channels;
    for_each_channel_vector<A>(channels, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
      using V = decltype(arch);
      const vf<V> s = load_n<V>(ap + c0, n) + load_n<V>(bp + c0, clamp_lanes(b_c - c0, lanes<V>()));
      store_n<V>(yp + c0, activate<Act, V>(s, Act == Activation::prelu ? alpha + c0 : nullptr), n);
    });
  }
}

template <class A>
void prelu(const float* x, const float* alpha, int pixels, int channels, float* y) noexcept {
  for (int p = 0; p < pixels; ++p) {
    const float* xp = x + std::size_t(p) * channels;
    float* yp = y + std::size_t(p) * channels;
    for_each_channel_vector<A>(channels, [&](auto arch, int c0, int n) FACEKIT_LAMBDA_INLINE {
      using V = decltype(arch);
      store_n<V>(yp + c0, activate<Activation::prelu, V>(load_n<V>(xp + c0, n), alpha + c0), n);
    });
  }
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

inline void add(scalar_arch, const float* a, const float* b, int pixels, int channels, int b_c, const float* alpha,
                Activation act, float* y) {
  ref::f32_add(a, b, pixels, channels, b_c, alpha, act, y);
}
inline void relu(scalar_arch, const float* x, std::size_t n, float* y) { ref::f32_relu(x, n, y); }
inline void prelu(scalar_arch, const float* x, const float* alpha, int pixels, int channels, float* y) {
  ref::f32_prelu(x, alpha, pixels, channels, y);
}
inline void logistic(scalar_arch, const float* x, std::size_t n, float* y) { ref::f32_logistic(x, n, y); }

#if FACEKIT_HAS_SIMD
template <class A>
void add(A, const float* a, const float* b, int pixels, int channels, int b_c, const float* alpha, Activation act,
         float* y) {
  dispatch_epilogue(act, false, [&](auto Act, auto) FACEKIT_LAMBDA_INLINE {
    simd::add<A, decltype(Act)::value>(a, b, pixels, channels, b_c, alpha, y);
  });
}
template <class A>
void relu(A, const float* x, std::size_t n, float* y) {
  simd::map_flat<A>(x, n, y, [](const simd::vf<A>& v) FACEKIT_LAMBDA_INLINE { return simd::vmax<A>(v, simd::vf<A>(0.0f)); });
}
template <class A>
void prelu(A, const float* x, const float* alpha, int pixels, int channels, float* y) {
  simd::prelu<A>(x, alpha, pixels, channels, y);
}
template <class A>
void logistic(A, const float* x, std::size_t n, float* y) {
  simd::map_flat<A>(x, n, y, [](const simd::vf<A>& v) FACEKIT_LAMBDA_INLINE {
    const simd::vf<A> one(1.0f);
    return one / (one + simd::vexp<A>(-v));
  });
}
#endif

}  // namespace detail

/// y[p][c] = act(a[p][c] + zero_extend(b)[p][c]), b having b_c <= channels channels per pixel.
/// alpha: channel_padded PReLU slopes (act == prelu only, else may be null).
template <class Arch>
void f32_add(const float* a, const float* b, int pixels, int channels, int b_c, const float* alpha, Activation act,
             float* y) {
  detail::add(Arch{}, a, b, pixels, channels, b_c, alpha, act, y);
}

/// y = max(x, 0) over n floats.
template <class Arch>
void f32_relu(const float* x, std::size_t n, float* y) {
  detail::relu(Arch{}, x, n, y);
}

/// y[p][c] = x >= 0 ? x : x * alpha[c] (alpha channel_padded).
template <class Arch>
void f32_prelu(const float* x, const float* alpha, int pixels, int channels, float* y) {
  detail::prelu(Arch{}, x, alpha, pixels, channels, y);
}

/// y = 1 / (1 + exp(-x)) over n floats.
template <class Arch>
void f32_logistic(const float* x, std::size_t n, float* y) {
  detail::logistic(Arch{}, x, n, y);
}

}  // namespace kernels
}  // namespace facekit
