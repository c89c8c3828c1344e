// facekit/config.hpp - compile-time switches and the CPU architecture the kernels target.
//
// Switches (define before including any facekit header):
//   FACEKIT_SCALAR        use only the scalar reference kernels (no xsimd). Set automatically when
//                         xsimd finds no supported instruction set (xsimd::batch is then undefined).
//   FACEKIT_NO_STDIO      no file access: models come from bytes, images from memory.
//   FACEKIT_NO_STB_IMAGE  no <stb_image.h> and no image decoding (load_image*): pixels come from
//                         the program's own buffers (ImageView).
//   FACEKIT_ASSERT(x)     internal invariant check (default: assert, so off under NDEBUG). Bad
//                         *input* never asserts; it returns a Status.
// The library throws nothing and uses no RTTI: it builds with -fno-exceptions -fno-rtti
// (examples/embedded_detector.cpp is built so, with FACEKIT_NO_STDIO and FACEKIT_NO_STB_IMAGE).
//   FACEKIT_MAX_IMAGE_DIM largest accepted image width or height (default 16384).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#ifndef FACEKIT_ASSERT
#include <cassert>
#define FACEKIT_ASSERT(x) assert(x)
#endif

#ifndef FACEKIT_MAX_IMAGE_DIM
#define FACEKIT_MAX_IMAGE_DIM 16384
#endif

#if !defined(FACEKIT_SCALAR) || !FACEKIT_SCALAR
#include <xsimd/xsimd.hpp>
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#define FACEKIT_HAS_SIMD 0
#else
#define FACEKIT_HAS_SIMD 1
#endif
#else
#define FACEKIT_HAS_SIMD 0
#endif

namespace facekit {

/// Tag for the plain C++ kernels. Every kernel has an overload (or specialisation) for it.
struct scalar_arch {
  static constexpr const char* name() noexcept { return "scalar"; }
  static constexpr std::size_t float_lanes = 1;
};

#if FACEKIT_HAS_SIMD
/// The architecture the kernels are compiled for, fixed by the compiler flags (-march=...).
using default_arch = xsimd::default_arch;
#else
using default_arch = scalar_arch;
#endif

/// Number of float lanes of an architecture tag.
template <class Arch>
constexpr std::size_t float_lanes() noexcept {
#if FACEKIT_HAS_SIMD
  if constexpr (!std::is_same<Arch, scalar_arch>::value) return xsimd::batch<float, Arch>::size;
#endif
  return 1;
}

/// True when Arch has SIMD vectors of T. xsimd 8.1 declares `double` on 32-bit NEON with an empty
/// placeholder register (batch<double, neon>::size == 0), so the register's size is checked too.
template <class T, class Arch>
constexpr bool has_simd_vectors() noexcept {
#if FACEKIT_HAS_SIMD
  if constexpr (!std::is_same<Arch, scalar_arch>::value) {
    if constexpr (xsimd::types::has_simd_register<T, Arch>::value)
      return sizeof(typename xsimd::types::simd_register<T, Arch>::register_type) >= 2 * sizeof(T);
  }
#endif
  return false;
}

/// Weights are packed in tiles of this many output channels (64 bytes: one AVX-512 register,
/// two AVX, four SSE/NEON). Fixed by the file format, independent of the build's architecture.
constexpr int kPackTile = 16;

/// Alignment of every tensor in a model file and in the activation arena.
constexpr std::size_t kTensorAlignment = 64;

}  // namespace facekit
