// facekit/kernels/u8_to_f32.hpp - bytes to floats as MediaPipe's ImageToTensorCalculator maps
// its 8-bit crop to a value range: y = float(x) * scale + offset, the product rounded to float32
// on its own before the addition (two roundings, never a fused multiply-add).
//
// The SIMD path gives the scalar reference's bits on every arch: int32 -> float is exact for
// bytes, and the product is kept opaque (fp.hpp) so that the compiler cannot fuse it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "fp.hpp"

namespace facekit {
namespace kernels {

namespace ref {

/// n bytes x to floats y.
inline void u8_to_f32(const uint8_t* x, std::size_t n, float scale, float offset, float* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] = fp::mul(float(x[i]), scale) + offset;
}

}  // namespace ref

/// The conversion as a table: lut[v] = ref::u8_to_f32 of byte v, v = 0..255 (what a scalar loop
/// that converts many bytes looks up instead of multiplying).
inline void u8_to_f32_table(float scale, float offset, float lut[256]) noexcept {
  uint8_t v[256];
  for (int i = 0; i < 256; ++i) v[i] = uint8_t(i);
  ref::u8_to_f32(v, 256, scale, offset, lut);
}

/// True when Arch converts in SIMD lanes (it needs int32 and float lanes).
template <class Arch>
constexpr bool u8_to_f32_has_simd() noexcept {
  return has_simd_vectors<int32_t, Arch>() && has_simd_vectors<float, Arch>();
}

#if FACEKIT_HAS_SIMD
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// GCC 12's unmasked AVX-512 conversion starts from _mm512_undefined_ps() and trips a false
// uninitialized warning wherever it is inlined (GCC PR 105593, see common.hpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace simd {

template <class A>
void u8_to_f32(const uint8_t* x, std::size_t n, float scale, float offset, float* y) noexcept {
  using F = xsimd::batch<float, A>;
  using I = xsimd::batch<int32_t, A>;
  constexpr std::size_t N = F::size;
  constexpr std::size_t kPiece = 256;
  static_assert(kPiece % N == 0, "a piece must hold whole batches");
  const F s(scale), o(offset);
  alignas(64) int32_t wide[kPiece];
  std::size_t i = 0;
  while (i + N <= n) {
    const std::size_t m = std::min(kPiece, (n - i) / N * N);
    // Widened by a plain loop the compiler vectorises (xsimd 8.1 has no byte -> int32 widening).
    for (std::size_t k = 0; k < m; ++k) wide[k] = x[i + k];
    for (std::size_t k = 0; k < m; k += N, i += N) {
      // The product is rounded on its own, as in the reference: never fused with the addition.
      typename F::register_type prod = xsimd::batch_cast<float>(I::load_aligned(wide + k)) * s;
      FACEKIT_FP_OPAQUE(prod);
      (F(prod) + o).store_unaligned(y + i);
    }
  }
  ref::u8_to_f32(x + i, n - i, scale, offset, y + i);
}

}  // namespace simd
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // FACEKIT_HAS_SIMD

/// n bytes x to floats y = float(x) * scale + offset (see the file comment). x and y do not
/// overlap. Every Arch gives the same bits.
template <class Arch>
void u8_to_f32(const uint8_t* x, std::size_t n, float scale, float offset, float* y) noexcept {
  if constexpr (u8_to_f32_has_simd<Arch>()) {
#if FACEKIT_HAS_SIMD
    simd::u8_to_f32<Arch>(x, n, scale, offset, y);
#endif
  } else {
    ref::u8_to_f32(x, n, scale, offset, y);
  }
}

}  // namespace kernels
}  // namespace facekit
