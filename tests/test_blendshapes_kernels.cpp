// The blendshape network's kernels (token_dense, layer_norm, mul, point_normalize, slice): each
// SIMD path against the scalar reference, and the reference against a direct double-precision
// formula, on awkward shapes: channels below, equal to and above the vector widths 4, 8 and 16,
// row counts that leave partial row blocks and partial packed tiles.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <facekit/kernels/f32_layer_norm.hpp>
#include <facekit/kernels/f32_mul.hpp>
#include <facekit/kernels/f32_point_normalize.hpp>
#include <facekit/kernels/f32_slice.hpp>
#include <facekit/kernels/f32_token_dense.hpp>
#include <facekit/kernels/pack.hpp>

#include "kernel_cases.hpp"
#include "kernel_test_util.hpp"
#include "test_archs.hpp"

namespace {

using facekit::Activation;
namespace fk = facekit::kernels;

using ktest::Buf;
using ktest::kSentinel;
using ktest::Rng;

/// |got - want| <= tol * max(1, max|want|) everywhere; "" or the first miss.
std::string compare(const float* got, const float* want, std::size_t n, double tol) {
  double maxabs = 1.0;
  for (std::size_t i = 0; i < n; ++i) maxabs = std::max(maxabs, double(std::fabs(want[i])));
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i]));
    if (!(d <= tol * maxabs)) {
      std::ostringstream os;
      os << "element " << i << ": got " << got[i] << ", want " << want[i] << " (tolerance " << tol * maxabs << ")";
      return os.str();
    }
  }
  return "";
}

using test_archs::for_each_simd_arch;

const char* act_name(Activation a) {
  return a == Activation::relu ? "relu" : a == Activation::relu6 ? "relu6" : "none";
}

}  // namespace

TEST_CASE("kernels: token_dense (SIMD vs reference vs direct formula)") {
  const auto& Ts = kernel_cases::kTokenDenseTokens;
  const auto& Cs = kernel_cases::kTokenDenseChannels;
  const auto& Os = kernel_cases::kTokenDenseOutputs;
  const Activation acts[] = {Activation::none, Activation::relu, Activation::relu6};
  Rng rng{12345};
  int checked = 0;
  for (int T : Ts)
    for (int C : Cs)
      for (int O : Os) {
        std::vector<float> w(std::size_t(O) * T);
        std::vector<float> bias(static_cast<std::size_t>(O));
        rng.fill(w.data(), w.size(), -1.0f, 1.0f);
        rng.fill(bias.data(), bias.size(), -1.0f, 1.0f);
        Buf packed(fk::f32_conv2d_packed_size(O, 1, 1, T), 0.0f);
        fk::pack_f32_conv2d(w.data(), bias.data(), O, 1, 1, T, packed.data());
        Buf x(std::size_t(T) * C, std::numeric_limits<float>::quiet_NaN());  // NaN slack: must not leak
        Buf res(std::size_t(O) * C, std::numeric_limits<float>::quiet_NaN());
        rng.fill(x.data(), x.size(), -2.0f, 2.0f);
        rng.fill(res.data(), res.size(), -2.0f, 2.0f);
        const fk::Conv2dGeometry g = fk::token_dense_geometry(T, C, O);
        for (Activation act : acts)
          for (bool with_res : {false, true}) {
            const std::string what = "T " + std::to_string(T) + ", C " + std::to_string(C) + ", O " +
                                     std::to_string(O) + ", " + act_name(act) + (with_res ? ", residual" : "");
            const fk::Epilogue e{nullptr, with_res ? res.data() : nullptr, C, act};
            // Direct formula on the unpacked weights.
            std::vector<float> naive(std::size_t(O) * C);
            for (int o = 0; o < O; ++o)
              for (int c = 0; c < C; ++c) {
                double acc = bias[std::size_t(o)];
                for (int t = 0; t < T; ++t) acc += double(w[std::size_t(o) * T + t]) * x.data()[std::size_t(t) * C + c];
                if (with_res) acc += res.data()[std::size_t(o) * C + c];
                if (act != Activation::none) acc = std::max(acc, 0.0);
                if (act == Activation::relu6) acc = std::min(acc, 6.0);
                naive[std::size_t(o) * C + c] = float(acc);
              }
            Buf want(std::size_t(O) * C, kSentinel);
            fk::select_f32_token_dense<facekit::scalar_arch>(act, with_res)(g, x.data(), packed.data(), e, want.data(),
                                                                             fk::OutRange{0, O});
            std::string m = compare(want.data(), naive.data(), naive.size(), 1e-5);
            CHECK_MESSAGE(m.empty(), "reference vs formula, " << what << ": " << m);
            CHECK_MESSAGE(want.slack_intact(kSentinel), "reference wrote past the output, " << what);
            for_each_simd_arch([&](auto arch) {
              using A = decltype(arch);
              Buf got(std::size_t(O) * C, kSentinel);
              const fk::Conv2dFn fn = fk::select_f32_token_dense<A>(act, with_res);
              fn(g, x.data(), packed.data(), e, got.data(), fk::OutRange{0, O});
              const std::string mm = compare(got.data(), want.data(), want.size(), 1e-5);
              CHECK_MESSAGE(mm.empty(), std::string(A::name()) << " vs reference, " << what << ": " << mm);
              CHECK_MESSAGE(got.slack_intact(kSentinel), std::string(A::name()) << " wrote past the output, " << what);
              // Threads run the output tokens in parts starting at multiples of the row block:
              // the parts give the whole run's bits.
              const int cut = (O / 2) / fk::kTokenDenseRowAlign * fk::kTokenDenseRowAlign;
              Buf parts(std::size_t(O) * C, kSentinel);
              fn(g, x.data(), packed.data(), e, parts.data(), fk::OutRange{cut, O});
              fn(g, x.data(), packed.data(), e, parts.data(), fk::OutRange{0, cut});
              CHECK_MESSAGE(std::memcmp(parts.data(), got.data(), std::size_t(O) * C * sizeof(float)) == 0,
                            std::string(A::name()) << " in token parts differs from the whole run, " << what);
            });
            ++checked;
          }
      }
  const bool no_prelu = fk::select_f32_token_dense<facekit::default_arch>(Activation::prelu, false) == nullptr;
  CHECK(no_prelu);
  MESSAGE("token_dense: " << checked << " configurations");
}

// The blendshape network's own token MLP shapes (97 -> 384 -> 97 tokens of 64 channels, the
// second with the block input as residual; 384 -> 1 once the converter keeps one token of the
// last block), and odd neighbours of them: long reductions (T = 384, 385) that the small-shape
// case above does not reach, C just past a whole number of vectors.
TEST_CASE("kernels: token_dense on the blendshape network's shapes") {
  Rng rng{4242};
  for (const kernel_cases::TokenDenseShape& s : kernel_cases::kTokenDenseModelShapes) {
    const std::string what = "T " + std::to_string(s.T) + ", C " + std::to_string(s.C) + ", O " + std::to_string(s.O) +
                             (s.residual ? ", residual" : ", relu");
    std::vector<float> w(std::size_t(s.O) * s.T), bias(std::size_t(s.O));
    rng.fill(w.data(), w.size(), -0.2f, 0.2f);
    rng.fill(bias.data(), bias.size(), -1.0f, 1.0f);
    Buf packed(fk::f32_conv2d_packed_size(s.O, 1, 1, s.T), 0.0f);
    fk::pack_f32_conv2d(w.data(), bias.data(), s.O, 1, 1, s.T, packed.data());
    Buf x(std::size_t(s.T) * s.C, std::numeric_limits<float>::quiet_NaN());
    Buf res(std::size_t(s.O) * s.C, std::numeric_limits<float>::quiet_NaN());
    rng.fill(x.data(), x.size(), -2.0f, 2.0f);
    rng.fill(res.data(), res.size(), -2.0f, 2.0f);
    const Activation act = s.residual ? Activation::none : Activation::relu;
    const fk::Epilogue e{nullptr, s.residual ? res.data() : nullptr, s.C, act};
    const fk::Conv2dGeometry g = fk::token_dense_geometry(s.T, s.C, s.O);
    Buf want(std::size_t(s.O) * s.C, kSentinel);
    fk::select_f32_token_dense<facekit::scalar_arch>(act, s.residual)(g, x.data(), packed.data(), e, want.data(),
                                                                     fk::OutRange{0, s.O});
    for_each_simd_arch([&](auto arch) {
      using A = decltype(arch);
      Buf got(std::size_t(s.O) * s.C, kSentinel);
      fk::select_f32_token_dense<A>(act, s.residual)(g, x.data(), packed.data(), e, got.data(), fk::OutRange{0, s.O});
      const std::string m = compare(got.data(), want.data(), want.size(), 1e-5);
      CHECK_MESSAGE(m.empty(), std::string(A::name()) << " vs reference, " << what << ": " << m);
      CHECK_MESSAGE(got.slack_intact(kSentinel), std::string(A::name()) << " wrote past the output, " << what);
    });
  }
}

TEST_CASE("kernels: layer_norm (SIMD vs reference vs direct formula)") {
  Rng rng{777};
  for (int C : kernel_cases::kLayerNormChannels)
    for (int rows : kernel_cases::kLayerNormRows) {
      const std::size_t n = std::size_t(rows) * C;
      Buf x(n, std::numeric_limits<float>::quiet_NaN());
      // An offset well above the spread: the x*g - mean*g form must still cancel accurately.
      for (std::size_t i = 0; i < n; ++i) x.data()[i] = 3.0f + rng.next(-1.0f, 1.0f);
      Buf gamma(fk::f32_channel_padded_size(C), 0.0f), beta(fk::f32_channel_padded_size(C), 0.0f);
      rng.fill(gamma.data(), std::size_t(C), 0.5f, 1.5f);
      rng.fill(beta.data(), std::size_t(C), -0.5f, 0.5f);
      for (int variant = 0; variant < 3; ++variant) {
        const float* gp = variant == 2 ? nullptr : gamma.data();
        const float* bp = variant == 0 ? beta.data() : nullptr;
        const float eps = 1e-6f;
        const std::string what = "C " + std::to_string(C) + ", rows " + std::to_string(rows) +
                                 (gp ? ", gamma" : "") + (bp ? ", beta" : "");
        std::vector<float> naive(n), bound(n);
        for (int r = 0; r < rows; ++r) {
          const float* xr = x.data() + std::size_t(r) * C;
          double mean = 0, var = 0;
          for (int c = 0; c < C; ++c) mean += xr[c];
          mean /= C;
          for (int c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
          var /= C;
          const double rs = 1.0 / std::sqrt(var + eps);
          for (int c = 0; c < C; ++c) {
            const double g = rs * (gp ? gp[c] : 1.0);
            naive[std::size_t(r) * C + c] = float((xr[c] - mean) * g + (bp ? bp[c] : 0.0));
            // x*g - mean*g (the TFLite graph's form) cancels: its float rounding is a few ulp of
            // |x|*g, which dominates when the row's spread is small (C = 1, 2: g up to 1/sqrt(eps)).
            bound[std::size_t(r) * C + c] = float(1e-5 + 4.0 * 6e-8 * (std::fabs(xr[c]) + std::fabs(mean)) * g);
          }
        }
        Buf want(n, kSentinel);
        fk::f32_layer_norm<facekit::scalar_arch>(x.data(), gp, bp, rows, C, eps, want.data());
        for (std::size_t i = 0; i < n; ++i)
          if (!(std::fabs(want.data()[i] - naive[i]) <= bound[i])) {
            FAIL_CHECK("reference vs formula, " << what << ": element " << i << " got " << want.data()[i] << ", want "
                                                << naive[i] << " (bound " << bound[i] << ")");
            break;
          }
        CHECK(want.slack_intact(kSentinel));
        for_each_simd_arch([&](auto arch) {
          using A = decltype(arch);
          Buf got(n, kSentinel);
          fk::f32_layer_norm<A>(x.data(), gp, bp, rows, C, eps, got.data());
          // Both are within `bound` of the exact formula, so within twice that of each other.
          std::string mm;
          for (std::size_t i = 0; i < n && mm.empty(); ++i)
            if (!(std::fabs(got.data()[i] - want.data()[i]) <= 2 * bound[i]))
              mm = "element " + std::to_string(i) + ": got " + std::to_string(got.data()[i]) + ", want " +
                   std::to_string(want.data()[i]) + " (bound " + std::to_string(2 * bound[i]) + ")";
          CHECK_MESSAGE(mm.empty(), std::string(A::name()) << " vs reference, " << what << ": " << mm);
          CHECK_MESSAGE(got.slack_intact(kSentinel), std::string(A::name()) << " wrote past the output, " << what);
        });
      }
    }
}

TEST_CASE("kernels: mul by a per-channel constant (SIMD vs reference)") {
  Rng rng{99};
  for (int C : {1, 2, 3, 4, 7, 8, 16, 17, 33, 64})
    for (int pixels : {1, 5, 146}) {
      const std::size_t n = std::size_t(pixels) * C;
      Buf x(n, std::numeric_limits<float>::quiet_NaN()), b(fk::f32_channel_padded_size(C), 0.0f);
      rng.fill(x.data(), n, -3.0f, 3.0f);
      rng.fill(b.data(), std::size_t(C), -2.0f, 2.0f);
      Buf want(n, kSentinel);
      fk::f32_mul<facekit::scalar_arch>(x.data(), b.data(), pixels, C, want.data());
      for (std::size_t i = 0; i < n; ++i) REQUIRE(want.data()[i] == x.data()[i] * b.data()[i % std::size_t(C)]);
      for_each_simd_arch([&](auto arch) {
        using A = decltype(arch);
        Buf got(n, kSentinel);
        fk::f32_mul<A>(x.data(), b.data(), pixels, C, got.data());
        CHECK_MESSAGE(std::memcmp(got.data(), want.data(), n * sizeof(float)) == 0,
                      A::name() << " C " << C << " pixels " << pixels);
        CHECK(got.slack_intact(kSentinel));
      });
    }
}

TEST_CASE("kernels: point_normalize centres and scales to unit mean distance") {
  Rng rng{5};
  for (int dims : {1, 2, 3}) {
    const int N = 146;
    std::vector<float> x(std::size_t(N) * dims), y(x.size());
    rng.fill(x.data(), x.size(), 100.0f, 900.0f);
    fk::f32_point_normalize<facekit::default_arch>(x.data(), N, dims, y.data());
    double mean[3] = {0, 0, 0}, dist = 0;
    for (int i = 0; i < N; ++i)
      for (int k = 0; k < dims; ++k) mean[k] += y[std::size_t(i) * dims + k] / N;
    for (int i = 0; i < N; ++i) {
      double sq = 0;
      for (int k = 0; k < dims; ++k) sq += double(y[std::size_t(i) * dims + k]) * y[std::size_t(i) * dims + k];
      dist += std::sqrt(sq) / N;
    }
    for (int k = 0; k < dims; ++k) CHECK(std::fabs(mean[k]) < 1e-5);
    CHECK(std::fabs(dist - 1.0) < 1e-5);
  }
}

TEST_CASE("kernels: slice copies the box") {
  const int in[4] = {2, 3, 4, 5}, begin[4] = {1, 0, 2, 1}, out[4] = {1, 3, 2, 3};
  std::vector<float> x(2 * 3 * 4 * 5), y(1 * 3 * 2 * 3, -1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  fk::f32_slice(x.data(), in, begin, out, y.data());
  std::size_t k = 0;
  for (int a = 0; a < out[0]; ++a)
    for (int b = 0; b < out[1]; ++b)
      for (int c = 0; c < out[2]; ++c)
        for (int d = 0; d < out[3]; ++d, ++k) {
          const int src = (((a + begin[0]) * in[1] + b + begin[1]) * in[2] + c + begin[2]) * in[3] + d + begin[3];
          CHECK(y[k] == float(src));
        }
}
