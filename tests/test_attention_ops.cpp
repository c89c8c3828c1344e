// Tests of the attention mesh's transform kernels (landmarks_to_transform_matrix,
// transform_tensor_bilinear, transform_landmarks) against independent double-precision checks,
// and the SIMD sampler against its scalar reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <facekit/kernels/f32_landmarks_to_transform_matrix.hpp>
#include <facekit/kernels/f32_transform_landmarks.hpp>
#include <facekit/kernels/f32_transform_tensor_bilinear.hpp>

#include "kernel_cases.hpp"
#include "test_archs.hpp"

namespace {

using facekit::kernels::BilinearGeometry;

// A linear ramp: bilinear interpolation reproduces it exactly at any point inside the image.
double ramp(double x, double y, int c) { return 0.5 + 0.25 * c + (1.0 + 0.1 * c) * x - (0.5 + 0.05 * c) * y; }

std::vector<float> ramp_image(int h, int w, int ch) {
  std::vector<float> img(std::size_t(h) * w * ch);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < ch; ++c) img[(std::size_t(y) * w + x) * ch + c] = float(ramp(x, y, c));
  return img;
}

using kernel_cases::affine4;

template <class Arch>
std::vector<float> sample(const BilinearGeometry& g, const std::vector<float>& x, const std::vector<float>& m,
                          bool pixel_centers) {
  // Slack after the output: writes past the end would show up as changed sentinels.
  std::vector<float> y(std::size_t(g.out_h) * g.out_w * g.channels + 64, -777.0f);
  facekit::kernels::f32_transform_tensor_bilinear<Arch>(g, x.data(), m.data(), pixel_centers, y.data());
  for (std::size_t i = y.size() - 64; i < y.size(); ++i) REQUIRE(y[i] == -777.0f);
  y.resize(y.size() - 64);
  return y;
}

}  // namespace

TEST_CASE("attention ops: transform_tensor_bilinear samples a linear ramp through known affine matrices") {
  const int H = 48, W = 40, C = 3;
  const std::vector<float> img = ramp_image(H, W, C);
  struct Case {
    double angle, sx, sy, tx, ty;
    int oh, ow;
  };
  const Case cases[] = {
      {0.0, 1.0, 1.0, 0.0, 0.0, 48, 40},     // identity
      {0.0, 2.0, 2.0, 0.0, 0.0, 24, 20},     // 2x downscale
      {0.3, 1.5, 1.5, 20.0, 4.0, 16, 16},    // the attention mesh's kind of crop
      {-1.1, 0.7, 1.3, 25.0, 30.0, 17, 23},  // rotated, anisotropic, partly outside
      {2.5, 3.0, 3.0, 60.0, 60.0, 16, 16},   // mostly outside
  };
  int inside = 0, outside = 0;
  for (const Case& k : cases) {
    CAPTURE(k.angle);
    const std::vector<float> m = affine4(k.angle, k.sx, k.sy, k.tx, k.ty);
    const BilinearGeometry g{H, W, C, k.oh, k.ow};
    for (int pc = 0; pc < 2; ++pc) {
      const std::vector<float> y = sample<facekit::scalar_arch>(g, img, m, pc != 0);
      for (int Y = 0; Y < k.oh; ++Y)
        for (int X = 0; X < k.ow; ++X) {
          // The sample point in double, from the matrix as stored.
          const double u = pc ? X + 0.5 : X, v = pc ? Y + 0.5 : Y;
          double px = double(m[0]) * u + double(m[1]) * v + double(m[3]);
          double py = double(m[4]) * u + double(m[5]) * v + double(m[7]);
          if (pc) {
            px -= 0.5;
            py -= 0.5;
          }
          const double margin = 1e-3;  // float and double may disagree right at the border
          const bool in = px >= margin && px <= W - 1 - margin && py >= margin && py <= H - 1 - margin;
          const bool out = px < -margin || px > W - 1 + margin || py < -margin || py > H - 1 + margin;
          for (int c = 0; c < C; ++c) {
            const float got = y[(std::size_t(Y) * k.ow + X) * C + c];
            if (in) {
              CHECK(got == doctest::Approx(ramp(px, py, c)).epsilon(1e-5).scale(100.0));
            } else if (out) {
              CHECK(got == 0.0f);
            }
          }
          inside += in;
          outside += out;
        }
    }
  }
  CHECK(inside > 1000);
  CHECK(outside > 300);

  // Pixel-centre correction: identity with version 2 is an exact copy; the 2x downscale averages
  // 2x2 blocks (sample point 2X + 0.5).
  {
    const BilinearGeometry g{H, W, C, H, W};
    CHECK(sample<facekit::scalar_arch>(g, img, affine4(0, 1, 1, 0, 0), true) == img);
    const BilinearGeometry h{H, W, C, H / 2, W / 2};
    const std::vector<float> y = sample<facekit::scalar_arch>(h, img, affine4(0, 2, 2, 0, 0), true);
    for (int Y = 0; Y < H / 2; ++Y)
      for (int X = 0; X < W / 2; ++X)
        for (int c = 0; c < C; ++c) {
          auto at = [&](int yy, int xx) { return double(img[(std::size_t(yy) * W + xx) * C + c]); };
          const double avg = (at(2 * Y, 2 * X) + at(2 * Y, 2 * X + 1) + at(2 * Y + 1, 2 * X) + at(2 * Y + 1, 2 * X + 1)) / 4;
          CHECK(y[(std::size_t(Y) * (W / 2) + X) * C + c] == doctest::Approx(avg).epsilon(1e-6));
        }
  }
}

TEST_CASE("attention ops: transform_tensor_bilinear SIMD matches the scalar reference") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> val(-3.0f, 3.0f);
  float worst = 0.0f;  // largest difference relative to max |ref|
  test_archs::for_each_simd_arch([&](auto arch) {
    using A = decltype(arch);
    INFO(A::name());
    for (const kernel_cases::BilinearShape& s : kernel_cases::kBilinearShapes)
      for (int C : kernel_cases::kBilinearChannels) {
        CAPTURE(C);
        CAPTURE(s.ih);
        std::vector<float> x(std::size_t(s.ih) * s.iw * C);
        for (float& v : x) v = val(rng);
        // Random rotations/scales that put part of the crop outside, plus exact-edge cases: with
        // version 1 and the identity the last row/column samples at W-1 / H-1 exactly.
        std::vector<std::pair<std::vector<float>, bool>> ms = {
            {affine4(0, 1, 1, 0, 0), false},
            {affine4(0, 1, 1, 0, 0), true},
            {affine4(0.0, double(s.iw - 1) / std::max(1, s.ow - 1), double(s.ih - 1) / std::max(1, s.oh - 1), 0, 0),
             false}};
        for (int r = 0; r < 4; ++r)
          ms.push_back({affine4(val(rng), 0.5 + std::fabs(val(rng)) / 2, 0.5 + std::fabs(val(rng)) / 2,
                                s.iw / 2.0 + val(rng), s.ih / 2.0 + val(rng)),
                        r % 2 == 0});
        for (const auto& mp : ms) {
          const BilinearGeometry g{s.ih, s.iw, C, s.oh, s.ow};
          const std::vector<float> ref = sample<facekit::scalar_arch>(g, x, mp.first, mp.second);
          const std::vector<float> got = sample<A>(g, x, mp.first, mp.second);
          float mx = 0.0f;
          for (float v : ref) mx = std::max(mx, std::fabs(v));
          float err = 0.0f;
          for (std::size_t i = 0; i < ref.size(); ++i) err = std::max(err, std::fabs(ref[i] - got[i]));
          worst = std::max(worst, err / std::max(mx, 1.0f));
          CHECK(err <= 1e-6f * std::max(mx, 1.0f));
        }
      }
  });
  MESSAGE("transform_tensor_bilinear SIMD vs scalar: max difference " << worst << " of max |ref|");
}

TEST_CASE("attention ops: landmarks_to_transform_matrix builds the crop of a known rotated box") {
  // Landmarks: a box of half-size (a, b) centred at (cx, cy) in a frame rotated by theta, with the
  // rotation landmarks on its horizontal axis. The crop matrix must map the ow x oh crop onto that
  // box scaled by (scale_x, scale_y): M (u, v) = c + R(theta) S ((u, v) - (ow, oh) / 2).
  const double thetas[] = {0.0, 0.4, -1.2, 2.9};
  for (double theta : thetas) {
    CAPTURE(theta);
    const double cx = 20.5, cy = 17.25, a = 6.0, b = 2.5;
    const double c = std::cos(theta), s = std::sin(theta);
    std::vector<float> pts;
    auto add = [&](double u, double v) {  // box coordinates -> landmark frame, z arbitrary
      pts.push_back(float(cx + c * u - s * v));
      pts.push_back(float(cy + s * u + c * v));
      pts.push_back(float(u * v));
    };
    add(-a, 0);  // 0: left rotation landmark
    add(a, 0);   // 1: right
    add(-a, -b); // 2..5: corners
    add(a, -b);
    add(a, b);
    add(-a, b);
    add(1.0, 0.5);  // 6: inside
    add(40.0, 40.0);  // 7: far away, not in the subset
    const std::vector<float> subset = {2, 3, 4, 5, 6, 0, 1};
    facekit::kernels::LandmarksToTransformConfig cfg{0, 1, 16, 12, 1.5f, 1.25f, 0.0f};
    float m[16];
    facekit::kernels::f32_landmarks_to_transform_matrix<facekit::default_arch>(pts.data(), 3, subset.data(),
                                                                              int(subset.size()), cfg, m);
    const double sx = 1.5 * 2 * a / 16, sy = 1.25 * 2 * b / 12;
    const double want[16] = {c * sx, -s * sy, 0, cx - 8 * c * sx + 6 * s * sy,
                             s * sx, c * sy,  0, cy - 8 * s * sx - 6 * c * sy,
                             0,      0,       1, 0,
                             0,      0,       0, 1};
    for (int i = 0; i < 16; ++i) {
      CAPTURE(i);
      CHECK(m[i] == doctest::Approx(want[i]).epsilon(1e-5).scale(10.0));
    }
    // With target rotation = theta the points are not rotated (rot = 0): the crop is the
    // axis-aligned bounding box of the points, centred on the same point.
    cfg.target_rotation = float(theta);
    facekit::kernels::f32_landmarks_to_transform_matrix<facekit::default_arch>(pts.data(), 3, subset.data(),
                                                                              int(subset.size()), cfg, m);
    CHECK(m[1] == doctest::Approx(0.0).scale(1.0));
    CHECK(m[4] == doctest::Approx(0.0).scale(1.0));
    CHECK(m[0] * 8 + m[3] == doctest::Approx(cx).epsilon(1e-5));  // crop centre (8, 6) -> box centre
    CHECK(m[5] * 6 + m[7] == doctest::Approx(cy).epsilon(1e-5));
  }
}

TEST_CASE("attention ops: transform_landmarks applies the (factored) matrix to 2-D and 3-D points") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> val(-10.0f, 10.0f);
  for (int dims : {2, 3}) {
    CAPTURE(dims);
    const int n = 71;
    std::vector<float> x(std::size_t(n) * dims), y(x.size(), -1.0f), m(16), f(16);
    for (float& v : x) v = val(rng);
    for (float& v : m) v = val(rng);
    for (float& v : f) v = val(rng) / 4;
    for (int use_factor = 0; use_factor < 2; ++use_factor) {
      facekit::kernels::f32_transform_landmarks<facekit::default_arch>(x.data(), n, dims, m.data(),
                                                                       use_factor ? f.data() : nullptr, 1.0f, y.data());
      for (int i = 0; i < n; ++i) {
        double e[2], mm[8];
        for (int k = 0; k < 8; ++k) mm[k] = double(m[k]) * (use_factor ? double(f[k]) : 1.0);
        const double px = x[std::size_t(i) * dims], py = x[std::size_t(i) * dims + 1];
        e[0] = mm[0] * px + mm[1] * py + mm[3];
        e[1] = mm[4] * px + mm[5] * py + mm[7];
        CHECK(y[std::size_t(i) * dims] == doctest::Approx(e[0]).epsilon(1e-5).scale(100.0));
        CHECK(y[std::size_t(i) * dims + 1] == doctest::Approx(e[1]).epsilon(1e-5).scale(100.0));
        if (dims == 3) CHECK(y[std::size_t(i) * dims + 2] == x[std::size_t(i) * dims + 2]);
      }
    }
  }
}
