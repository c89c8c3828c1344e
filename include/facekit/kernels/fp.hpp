// facekit/kernels/fp.hpp - floating-point helpers for code that must reproduce MediaPipe bit for bit.
//
// Compilers may contract a*b + c into one fused multiply-add (GCC does so by default, across
// statements, whenever the target has FMA, e.g. -march=native). A fused result is rounded once
// instead of twice, which changes last bits and, through the rounding ties of the crop, whole
// pixels. MediaPipe's reference arithmetic rounds every product, so every product that feeds a
// sum goes through fp::mul, whose result the optimiser cannot see into.
#pragma once

#include <climits>
#include <cstdint>

namespace facekit {
namespace fp {

// FACEKIT_FP_OPAQUE(x): x stays as computed, but the optimiser cannot see where it came from.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__SSE2__) || defined(__x86_64__))
#define FACEKIT_FP_OPAQUE(x) __asm__("" : "+x"(x))
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
#define FACEKIT_FP_OPAQUE(x) __asm__("" : "+w"(x))
#else
#define FACEKIT_FP_OPAQUE(x) ::facekit::fp::detail::through_memory(x)
#endif

namespace detail {
template <class T>
inline void through_memory(T& x) noexcept {
  volatile T v = x;
  x = v;
}
}  // namespace detail

/// x unchanged, but opaque to the optimiser: nothing is fused across this point.
template <class T>
inline T opaque(T x) noexcept {
  FACEKIT_FP_OPAQUE(x);
  return x;
}

/// A product rounded on its own (never fused into a following add).
inline float mul(float a, float b) noexcept { return opaque(a * b); }
inline double mul(double a, double b) noexcept { return opaque(a * b); }

/// 1.5 * 2^52: for |v| < 2^51, (v + kRoundMagic) - kRoundMagic is v rounded half to even to an
/// integer (the addition leaves no fraction bits; default rounding mode).
constexpr double kRoundMagic = 6755399441055744.0;

/// OpenCV's saturate_cast<int>(double) after its clamp to [INT_MIN, INT_MAX]: round half to even.
/// NaN becomes INT_MAX, as std::max(INT_MIN, std::min(INT_MAX, v)) makes it.
inline int32_t round_to_int(double v) noexcept {
  v = opaque(v);  // a product passed in must be rounded before the addition below
  v = (v < double(INT_MAX)) ? v : double(INT_MAX);
  v = (double(INT_MIN) < v) ? v : double(INT_MIN);
  return int32_t(int64_t((v + kRoundMagic) - kRoundMagic));
}

}  // namespace fp
}  // namespace facekit
