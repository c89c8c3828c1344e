// Kernel tests of the 8-bit image kernels (u8_warp_perspective, u8_to_f32) on raw pointers:
// every SIMD arch against the scalar reference, bit for bit, on shapes the crop tests
// (test_image.cpp, which go through crop_to_u8 / crop_to_tensor) do not reach: homographies with a
// strong perspective or a vanishing line inside the output, positions that saturate, lengths
// around the vector and piece sizes. Outputs carry a sentinel after their end.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include <facekit/kernels/u8_to_f32.hpp>
#include <facekit/kernels/u8_warp_perspective.hpp>

#include "kernel_test_util.hpp"
#include "test_archs.hpp"

namespace {

namespace fk = facekit::kernels;
using ktest::Buf;
using ktest::kSentinel;

std::vector<uint8_t> random_bytes(std::size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) {
    seed = seed * 1664525u + 1013904223u;
    b = uint8_t(seed >> 24);
  }
  return v;
}

/// Calls f(layout, border) for every pixel layout and border mode of the warp.
template <class F>
void for_each_warp_variant(F&& f) {
  auto borders = [&](auto layout) {
    f(layout, std::integral_constant<fk::BorderMode, fk::BorderMode::zero>{});
    f(layout, std::integral_constant<fk::BorderMode, fk::BorderMode::replicate>{});
  };
  borders(fk::U8Rgb{});
  borders(fk::U8Bgr{});
  borders(fk::U8Rgba{});
}

}  // namespace

TEST_CASE("kernels: u8_to_f32 (the two-rounding formula, SIMD vs scalar at every length)") {
  const std::vector<uint8_t> x = random_bytes(600, 99);
  const float params[][2] = {{2.0f / 255.0f, -1.0f}, {1.0f / 255.0f, 0.0f}, {0.3f, 17.25f}};
  for (const auto& p : params) {
    const float scale = p[0], offset = p[1];
    for (std::size_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 255, 256, 257, 300, 511, 512, 513, 600}) {
      CAPTURE(n);
      Buf ref(n, kSentinel);
      fk::ref::u8_to_f32(x.data(), n, scale, offset, ref.data());
      CHECK(ref.slack_intact(kSentinel));
      std::size_t bad = 0;
      for (std::size_t i = 0; i < n; ++i) {
        volatile float prod = float(x[i]) * scale;  // volatile: rounded before the add
        const float want = prod + offset;
        bad += std::memcmp(&ref[i], &want, sizeof(float)) != 0;
      }
      CHECK(bad == 0);
      fk::u8_to_f32<facekit::scalar_arch>(x.data(), n, scale, offset, ref.data());
      test_archs::for_each_simd_arch([&](auto arch) {
        using A = decltype(arch);
        CAPTURE(A::name());
        Buf y(n, kSentinel);
        fk::u8_to_f32<A>(x.data(), n, scale, offset, y.data());
        CHECK(y.slack_intact(kSentinel));
        CHECK(std::memcmp(y.data(), ref.data(), n * sizeof(float)) == 0);
      });
    }
  }
}

TEST_CASE("kernels: u8_warp_perspective (SIMD vs scalar on raw homographies, every layout and border)") {
  // Inverse maps output pixel -> input position. Input 23 x 13 pixels.
  const double maps[][9] = {
      {1, 0, 0, 0, 1, 0, 0, 0, 1},                       // identity: interior, right and bottom edges
      {0.37, 0.11, -2.5, -0.13, 0.41, 3.25, 0, 0, 1},    // affine, rotated, partly outside
      {0.8, 0.2, -1, 0.1, 0.7, -1, 0.004, 0.009, 0.9},   // strong perspective
      {1, 0, 0, 0, 1, 0, -0.05, 0, 1},                   // W crosses zero inside the output (x = 20)
      {1e9, 0, 0, 0, -1e9, 0, 0, 0, 1},                  // positions saturate to INT_MAX / INT_MIN
      {0.5, 0, -40, 0, 0.5, 30, 0, 0, 1},                // wholly outside
      {0.01, 0, 11.003, 0, 0.01, 6.5, 0, 0, 1},          // inside one pixel: sub-pixel weights
  };
  const int in_w = 23, in_h = 13;
  const int outs[][2] = {{1, 1}, {1, 9}, {3, 2}, {17, 5}, {64, 1}, {65, 3}, {130, 17}, {600, 2}};  // w, h
  int warps = 0;
  for_each_warp_variant([&](auto layout, auto border) {
    using L = decltype(layout);
    constexpr fk::BorderMode B = decltype(border)::value;
    for (int pad : {0, 3}) {
      const std::ptrdiff_t stride = in_w * L::cn + pad;
      // Exactly stride * in_h bytes: a sanitizer build catches any read past the last pixel.
      const std::vector<uint8_t> x = random_bytes(std::size_t(stride) * in_h, uint32_t(7 + L::cn + pad));
      for (const auto& m : maps)
        for (const auto& o : outs) {
          CAPTURE(L::cn);
          CAPTURE(L::r);
          CAPTURE(int(B));
          CAPTURE(pad);
          CAPTURE(m[0]);
          CAPTURE(m[6]);
          CAPTURE(o[0]);
          CAPTURE(o[1]);
          const fk::WarpPerspectiveGeometry g{in_h, in_w, stride, o[1], o[0]};
          const std::size_t n = std::size_t(o[0]) * std::size_t(o[1]) * 3;
          std::vector<uint8_t> ref(n + 16, 0xCD);
          fk::u8_warp_perspective<facekit::scalar_arch, L, B>(g, x.data(), m, ref.data());
          CHECK(std::vector<uint8_t>(ref.begin() + std::ptrdiff_t(n), ref.end()) == std::vector<uint8_t>(16, 0xCD));
          Buf fref(n, kSentinel);
          fk::u8_warp_perspective_to_f32<facekit::scalar_arch, L, B>(g, x.data(), m, 2.0f / 255.0f, -1.0f,
                                                                     fref.data());
          Buf want(n, kSentinel);
          fk::ref::u8_to_f32(ref.data(), n, 2.0f / 255.0f, -1.0f, want.data());
          CHECK(std::memcmp(fref.data(), want.data(), n * sizeof(float)) == 0);
          CHECK(fref.slack_intact(kSentinel));
          test_archs::for_each_simd_arch([&](auto arch) {
            using A = decltype(arch);
            CAPTURE(A::name());
            std::vector<uint8_t> y(n + 16, 0xCD);
            fk::u8_warp_perspective<A, L, B>(g, x.data(), m, y.data());
            CHECK(y == ref);
            Buf f(n, kSentinel);
            fk::u8_warp_perspective_to_f32<A, L, B>(g, x.data(), m, 2.0f / 255.0f, -1.0f, f.data());
            CHECK(std::memcmp(f.data(), want.data(), n * sizeof(float)) == 0);
            CHECK(f.slack_intact(kSentinel));
          });
          ++warps;
        }
    }
  });
  CHECK(warps == 3 * 2 * 2 * 7 * 8);
}
