// tests/test_archs.hpp - the architectures the kernel tests run every SIMD kernel on.
//
// Each is compared against the scalar reference. All x86 levels the compiler can target are
// tested (a binary built with -march=native on an AVX-512 machine still checks the SSE2 and
// AVX2 paths); on ARM, the default arch (xsimd's `neon64` on AArch64, `neon` on ARMv7) and, on
// AArch64, `neon` too (the ARMv7 code paths: division by reciprocal estimates, no vdivq). FACEKIT_TEST_ALL_ARCHS=0 keeps only the default arch: the sanitizer build uses it,
// since every extra arch is a full set of kernel instantiations to compile.
#pragma once

#include <type_traits>

#include <facekit/config.hpp>

#ifndef FACEKIT_TEST_ALL_ARCHS
#define FACEKIT_TEST_ALL_ARCHS 1
#endif

namespace test_archs {

template <class F>
void for_each_simd_arch(F&& f) {
#if FACEKIT_HAS_SIMD
  using D = facekit::default_arch;
  constexpr bool listed = false
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_SSE2
                          || std::is_same<D, xsimd::sse2>::value
#endif
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_FMA3_AVX2
                          || std::is_same<D, xsimd::fma3<xsimd::avx2>>::value
#endif
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_NEON
                          || std::is_same<D, xsimd::neon>::value
#endif
      ;
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_SSE2
  f(xsimd::sse2{});
#endif
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_FMA3_AVX2
  f(xsimd::fma3<xsimd::avx2>{});
#endif
#if FACEKIT_TEST_ALL_ARCHS && XSIMD_WITH_NEON
  f(xsimd::neon{});
#endif
  if constexpr (!listed) f(D{});
#else
  (void)f;
#endif
}

}  // namespace test_archs
