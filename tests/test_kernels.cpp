// Kernel tests: the scalar references against naive formulas on unpacked TFLite-layout weights
// (so packing is covered too), then every SIMD kernel against the reference, for the scalar tag,
// SSE2, AVX2 (plain and FMA3) and the build's default architecture. Shapes come from
// kernel_cases.hpp, shared with the benchmarks. Inputs carry NaN in their slack (a kernel that let
// an over-read reach a stored lane would show it); outputs carry a sentinel in their slack (a write
// past the last channel would overwrite it).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <facekit/kernels/f32_concat.hpp>
#include <facekit/kernels/f32_conv2d.hpp>
#include <facekit/kernels/f32_depth_to_space.hpp>
#include <facekit/kernels/f32_dwconv2d.hpp>
#include <facekit/kernels/f32_elementwise.hpp>
#include <facekit/kernels/f32_maxpool2d.hpp>
#include <facekit/kernels/f32_pad.hpp>
#include <facekit/kernels/f32_resize_bilinear.hpp>
#include <facekit/kernels/pack.hpp>

#include "kernel_test_util.hpp"
#include "test_archs.hpp"

#include "kernel_cases.hpp"

namespace {

using facekit::Activation;
namespace fk = facekit::kernels;

using ktest::Buf;
using ktest::kSentinel;
using ktest::Rng;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

/// |got - want| <= 1e-5 * max|want| everywhere; returns "" or a description of the first miss.
std::string compare(const float* got, const float* want, std::size_t n, int channels) {
  float maxabs = 0.0f;
  for (std::size_t i = 0; i < n; ++i) maxabs = std::max(maxabs, std::fabs(want[i]));
  const float tol = 1e-5f * maxabs;
  for (std::size_t i = 0; i < n; ++i) {
    const float d = std::fabs(got[i] - want[i]);
    if (!(d <= tol)) {
      std::ostringstream os;
      os << "element " << i << " (pixel " << i / std::size_t(channels) << ", channel " << i % std::size_t(channels)
         << "): got " << got[i] << ", want " << want[i] << " (tolerance " << tol << ")";
      return os.str();
    }
  }
  return "";
}

const char* act_name(Activation a) {
  switch (a) {
    case Activation::none: return "none";
    case Activation::relu: return "relu";
    case Activation::relu6: return "relu6";
    case Activation::prelu: return "prelu";
  }
  return "?";
}

constexpr Activation kActs[] = {Activation::none, Activation::relu, Activation::relu6, Activation::prelu};

double naive_act(double v, Activation a, float alpha) {
  switch (a) {
    case Activation::none: return v;
    case Activation::relu: return v > 0 ? v : 0;
    case Activation::relu6: return v > 0 ? (v < 6 ? v : 6) : 0;
    case Activation::prelu: return v >= 0 ? v : v * alpha;
  }
  return v;
}

using test_archs::for_each_simd_arch;

// ---- conv2d / dwconv2d ------------------------------------------------------------------------

/// Direct formula on the TFLite layouts: OHWI weights (conv) or [1][KH][KW][C] (depthwise).
void naive_conv(const kernel_cases::ConvCase& c, const float* x, const float* w, const float* bias, const float* alpha,
                const float* res, int rc, Activation act, float* y) {
  const int oh = c.out_h(), ow = c.out_w(), O = c.out_c, I = c.in_c;
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox) {
      const std::size_t p = std::size_t(oy) * ow + ox;
      for (int o = 0; o < O; ++o) {
        double acc = bias[o];
        for (int ky = 0; ky < c.kernel_h; ++ky)
          for (int kx = 0; kx < c.kernel_w; ++kx) {
            const int iy = oy * c.stride_h - c.pad_top + ky * c.dilation_h;
            const int ix = ox * c.stride_w - c.pad_left + kx * c.dilation_w;
            if (iy < 0 || iy >= c.in_h || ix < 0 || ix >= c.in_w) continue;
            const float* xp = x + (std::size_t(iy) * c.in_w + ix) * I;
            if (c.depthwise) {
              acc += double(xp[o]) * w[std::size_t(ky * c.kernel_w + kx) * O + o];
            } else {
              const float* wp = w + ((std::size_t(o) * c.kernel_h + ky) * c.kernel_w + kx) * I;
              for (int i = 0; i < I; ++i) acc += double(xp[i]) * wp[i];
            }
          }
        if (res && o < rc) acc += res[p * rc + o];
        y[p * O + o] = float(naive_act(acc, act, alpha[o]));
      }
    }
}

/// Everything a conv case needs, generated once per case.
struct ConvData {
  const kernel_cases::ConvCase& c;
  std::size_t pixels_out;
  Buf x, packed, alpha, out_ref;
  std::vector<float> w, bias, alpha_raw;

  explicit ConvData(const kernel_cases::ConvCase& cc)
      : c(cc),
        pixels_out(std::size_t(cc.out_h()) * cc.out_w()),
        x(std::size_t(cc.in_h) * cc.in_w * cc.in_c, kNaN),
        packed(cc.depthwise ? fk::f32_dwconv2d_packed_size(cc.kernel_h, cc.kernel_w, cc.out_c)
                            : fk::f32_conv2d_packed_size(cc.out_c, cc.kernel_h, cc.kernel_w, cc.in_c),
               kNaN),
        alpha(fk::f32_channel_padded_size(cc.out_c), kNaN),
        out_ref(pixels_out * cc.out_c, kSentinel) {
    Rng rng{uint32_t(std::hash<std::string>()(c.name))};
    rng.fill(x.data(), x.size(), -1.0f, 1.0f);
    const std::size_t wn = c.depthwise ? std::size_t(c.kernel_h) * c.kernel_w * c.out_c
                                       : std::size_t(c.out_c) * c.kernel_h * c.kernel_w * c.in_c;
    w.resize(wn);
    bias.resize(std::size_t(c.out_c));
    alpha_raw.resize(std::size_t(c.out_c));
    rng.fill(w.data(), wn, -1.5f, 1.5f);
    rng.fill(bias.data(), bias.size(), -1.0f, 1.0f);
    rng.fill(alpha_raw.data(), alpha_raw.size(), 0.0f, 0.5f);
    if (c.depthwise)
      fk::pack_f32_dwconv2d(w.data(), bias.data(), c.kernel_h, c.kernel_w, c.out_c, packed.data());
    else
      fk::pack_f32_conv2d(w.data(), bias.data(), c.out_c, c.kernel_h, c.kernel_w, c.in_c, packed.data());
    fk::pack_f32_channel_padded(alpha_raw.data(), c.out_c, alpha.data());
  }
};

std::vector<int> residual_channel_counts(int out_c) {
  std::vector<int> v = {0, out_c};
  const int part = out_c * 2 / 3;
  if (part >= 1 && part < out_c) v.push_back(part);
  return v;
}

fk::Conv2dFn select_conv(const kernel_cases::ConvCase& c, facekit::scalar_arch, Activation act, bool res) {
  return c.depthwise ? fk::select_f32_dwconv2d<facekit::scalar_arch>(c.geometry(), act, res)
                     : fk::select_f32_conv2d<facekit::scalar_arch>(c.geometry(), act, res);
}
template <class A>
fk::Conv2dFn select_conv(const kernel_cases::ConvCase& c, A, Activation act, bool res) {
  return c.depthwise ? fk::select_f32_dwconv2d<A>(c.geometry(), act, res)
                     : fk::select_f32_conv2d<A>(c.geometry(), act, res);
}

void run_conv_case(const kernel_cases::ConvCase& c) {
  ConvData d(c);
  const fk::Conv2dGeometry g = c.geometry();
  const fk::Conv2dFn reference = c.depthwise ? &fk::ref::f32_dwconv2d : &fk::ref::f32_conv2d;
  // The kernel's unit of work (kernels/common.hpp, OutRange): dwconv2d's rows, conv2d's pixels.
  const fk::OutRange whole{0, c.depthwise ? g.out_h : g.out_h * g.out_w};
  Buf out_naive(d.pixels_out * c.out_c, kSentinel), out(d.pixels_out * c.out_c, kSentinel);
  for (int rc : residual_channel_counts(c.out_c)) {
    Buf res(d.pixels_out * std::size_t(rc), kNaN);
    Rng rng{uint32_t(rc * 7919 + 1)};
    rng.fill(res.data(), res.size(), -2.0f, 2.0f);
    for (Activation act : kActs) {
      const std::string what = c.name + ", act " + act_name(act) + ", residual_c " + std::to_string(rc);
      const fk::Epilogue e{d.alpha.data(), rc ? res.data() : nullptr, rc, act};

      naive_conv(c, d.x.data(), d.w.data(), d.bias.data(), d.alpha_raw.data(), rc ? res.data() : nullptr, rc, act,
                 out_naive.data());
      reference(g, d.x.data(), d.packed.data(), e, d.out_ref.data(), whole);
      std::string miss = compare(d.out_ref.data(), out_naive.data(), out.size(), c.out_c);
      CHECK_MESSAGE(miss.empty(), "reference vs naive, " << what << ": " << miss);
      CHECK_MESSAGE(d.out_ref.slack_intact(kSentinel), "reference wrote past the output, " << what);

      CHECK((select_conv(c, facekit::scalar_arch{}, act, rc > 0) == reference));
      for_each_simd_arch([&](auto arch) {
        using A = decltype(arch);
        const fk::Conv2dFn fn = select_conv(c, arch, act, rc > 0);
        REQUIRE(static_cast<bool>(fn));
        CHECK_MESSAGE((fn != reference), "SIMD fell back to the reference, " << what);
        std::fill(out.data(), out.data() + out.size() + 16, kSentinel);
        fn(g, d.x.data(), d.packed.data(), e, out.data(), whole);
        const std::string m = compare(out.data(), d.out_ref.data(), out.size(), c.out_c);
        CHECK_MESSAGE(m.empty(), std::string(A::name()) << " vs reference, " << what << ": " << m);
        CHECK_MESSAGE(out.slack_intact(kSentinel), std::string(A::name()) << " wrote past the output, " << what);
        // Threads run the output rows in parts (ops/conv2d.hpp: split): the parts, run in any
        // order, give the whole run's bits.
        if (act == kActs[0] || rc > 0) {
          Buf parts(d.pixels_out * c.out_c, kSentinel);
          const int cut1 = whole.end / 3, cut2 = whole.end - whole.end / 4;
          fn(g, d.x.data(), d.packed.data(), e, parts.data(), fk::OutRange{cut2, whole.end});
          fn(g, d.x.data(), d.packed.data(), e, parts.data(), fk::OutRange{0, cut1});
          fn(g, d.x.data(), d.packed.data(), e, parts.data(), fk::OutRange{cut1, cut2});
          CHECK_MESSAGE(std::memcmp(parts.data(), out.data(), out.size() * sizeof(float)) == 0,
                        std::string(A::name()) << " in row parts differs from the whole run, " << what);
          CHECK_MESSAGE(parts.slack_intact(kSentinel), std::string(A::name()) << " (parts) wrote past the output, " << what);
        }
      });
    }
  }
}

// ---- maxpool ----------------------------------------------------------------------------------

void run_pool_case(const kernel_cases::PoolCase& c) {
  const fk::Pool2dGeometry g = c.geometry();
  Buf x(std::size_t(c.in_h) * c.in_w * c.channels, kNaN);
  Rng rng{uint32_t(std::hash<std::string>()(c.name))};
  rng.fill(x.data(), x.size(), -3.0f, -0.5f);  // all negative: a padded tap counted as 0 would win
  const std::size_t n = std::size_t(c.out_h()) * c.out_w() * c.channels;
  Buf want(n, kSentinel), out(n, kSentinel);
  // The reference is the formula itself: max over the in-image taps of each window.
  fk::ref::f32_maxpool2d(g, x.data(), want.data());
  for (std::size_t i = 0; i < n; ++i) REQUIRE_MESSAGE((want[i] < -0.4f && want[i] >= -3.0f), c.name << " at " << i);
  CHECK((fk::select_f32_maxpool2d<facekit::scalar_arch>(g) == &fk::ref::f32_maxpool2d));
  for_each_simd_arch([&](auto arch) {
    using A = decltype(arch);
    std::fill(out.data(), out.data() + n + 16, kSentinel);
    fk::select_f32_maxpool2d<A>(g)(g, x.data(), out.data());
    const std::string m = compare(out.data(), want.data(), n, c.channels);
    CHECK_MESSAGE(m.empty(), std::string(A::name()) << " vs reference, " << c.name << ": " << m);
    CHECK_MESSAGE(out.slack_intact(kSentinel), std::string(A::name()) << " wrote past the output, " << c.name);
  });
}

// ---- elementwise ------------------------------------------------------------------------------

template <class A>
void run_elt_arch(const kernel_cases::EltCase& c, const Buf& a, const Buf& b, const Buf& alpha) {
  const std::size_t n = std::size_t(c.pixels) * c.channels;
  Buf want(n, kSentinel), got(n, kSentinel);
  auto check = [&](const char* op) {
    const std::string m = compare(got.data(), want.data(), n, c.channels);
    CHECK_MESSAGE(m.empty(), std::string(A::name()) << " " << op << ", " << c.name << ": " << m);
    CHECK_MESSAGE(got.slack_intact(kSentinel), std::string(A::name()) << " " << op << " wrote past the output, " << c.name);
    std::fill(got.data(), got.data() + n + 16, kSentinel);
  };
  for (Activation act : kActs) {
    fk::ref::f32_add(a.data(), b.data(), c.pixels, c.channels, c.b_c, alpha.data(), act, want.data());
    fk::f32_add<A>(a.data(), b.data(), c.pixels, c.channels, c.b_c, alpha.data(), act, got.data());
    check(act_name(act));
  }
  fk::ref::f32_relu(a.data(), n, want.data());
  fk::f32_relu<A>(a.data(), n, got.data());
  check("relu");
  fk::ref::f32_prelu(a.data(), alpha.data(), c.pixels, c.channels, want.data());
  fk::f32_prelu<A>(a.data(), alpha.data(), c.pixels, c.channels, got.data());
  check("prelu");
  fk::ref::f32_logistic(a.data(), n, want.data());
  fk::f32_logistic<A>(a.data(), n, got.data());
  check("logistic");
}

void run_elt_case(const kernel_cases::EltCase& c) {
  const std::size_t n = std::size_t(c.pixels) * c.channels;
  Buf a(n, kNaN), b(std::size_t(c.pixels) * c.b_c, kNaN), alpha(fk::f32_channel_padded_size(c.channels), kNaN);
  Rng rng{uint32_t(std::hash<std::string>()(c.name))};
  rng.fill(a.data(), n, -8.0f, 8.0f);
  rng.fill(b.data(), b.size(), -3.0f, 3.0f);
  std::vector<float> alpha_raw(std::size_t(c.channels));
  rng.fill(alpha_raw.data(), alpha_raw.size(), 0.0f, 0.5f);
  fk::pack_f32_channel_padded(alpha_raw.data(), c.channels, alpha.data());

  // References against the formulas.
  Buf y(n, kSentinel);
  for (Activation act : kActs) {
    fk::ref::f32_add(a.data(), b.data(), c.pixels, c.channels, c.b_c, alpha.data(), act, y.data());
    bool ok = true;
    for (int p = 0; p < c.pixels && ok; ++p)
      for (int ch = 0; ch < c.channels && ok; ++ch) {
        const std::size_t i = std::size_t(p) * c.channels + ch;
        const double s = double(a[i]) + (ch < c.b_c ? b[std::size_t(p) * c.b_c + ch] : 0.0);
        ok = std::fabs(naive_act(s, act, alpha_raw[ch]) - y[i]) <= 1e-6 * 16;
      }
    CHECK_MESSAGE(ok, "ref add " << act_name(act) << ", " << c.name);
  }
  fk::ref::f32_logistic(a.data(), n, y.data());
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) ok = ok && std::fabs(1.0 / (1.0 + std::exp(-double(a[i]))) - y[i]) <= 1e-6;
  CHECK_MESSAGE(ok, "ref logistic, " << c.name);

  for_each_simd_arch([&](auto arch) { run_elt_arch<decltype(arch)>(c, a, b, alpha); });
}

}  // namespace

TEST_CASE("kernels: packing layouts") {
  // conv: O=17 (2 tiles), 1x2 taps, I=2. ohwi[o][0][kx][i] = 100*o + 10*kx + i.
  const int O = 17, KH = 1, KW = 2, I = 2;
  std::vector<float> ohwi(std::size_t(O) * KH * KW * I), bias(O);
  for (int o = 0; o < O; ++o) {
    bias[std::size_t(o)] = -float(o) - 1;
    for (int kx = 0; kx < KW; ++kx)
      for (int i = 0; i < I; ++i) ohwi[(std::size_t(o) * KW + kx) * I + i] = float(100 * o + 10 * kx + i);
  }
  const std::size_t size = fk::f32_conv2d_packed_size(O, KH, KW, I);
  REQUIRE(size == 2u * 16u * (1 + 4));
  std::vector<float> packed(size, kNaN);
  fk::pack_f32_conv2d(ohwi.data(), bias.data(), O, KH, KW, I, packed.data());
  for (int t = 0; t < 2; ++t)
    for (int j = 0; j < 16; ++j) {
      const int o = t * 16 + j;
      const float* tile = packed.data() + t * 16 * 5;
      CHECK(tile[j] == (o < O ? -float(o) - 1 : 0.0f));
      for (int k = 0; k < 4; ++k)  // k = kx * I + i
        CHECK(tile[16 + k * 16 + j] == (o < O ? float(100 * o + 10 * (k / I) + k % I) : 0.0f));
    }
  // Null bias packs zeros.
  fk::pack_f32_conv2d(ohwi.data(), nullptr, O, KH, KW, I, packed.data());
  CHECK(packed[3] == 0.0f);

  // depthwise: C=3, 1x2 taps. hwc[0][kx][c] = 10*kx + c.
  const float hwc[] = {0, 1, 2, 10, 11, 12}, dwb[] = {5, 6, 7};
  std::vector<float> dwp(fk::f32_dwconv2d_packed_size(1, 2, 3), kNaN);
  REQUIRE(dwp.size() == 16u * 3u);
  fk::pack_f32_dwconv2d(hwc, dwb, 1, 2, 3, dwp.data());
  for (int j = 0; j < 16; ++j) {
    CHECK(dwp[std::size_t(j)] == (j < 3 ? dwb[j] : 0.0f));
    CHECK(dwp[std::size_t(16 + j)] == (j < 3 ? float(j) : 0.0f));
    CHECK(dwp[std::size_t(32 + j)] == (j < 3 ? float(10 + j) : 0.0f));
  }
  const float al[] = {0.25f, 0.5f};
  std::vector<float> alp(fk::f32_channel_padded_size(2), kNaN);
  REQUIRE(alp.size() == 16u);
  fk::pack_f32_channel_padded(al, 2, alp.data());
  CHECK(alp[0] == 0.25f);
  CHECK(alp[1] == 0.5f);
  CHECK(alp[15] == 0.0f);
}

TEST_CASE("kernels: conv2d and dwconv2d") {
  for (const auto& c : kernel_cases::conv_cases()) {
    CAPTURE(c.name);
    run_conv_case(c);
  }
}

TEST_CASE("kernels: the fast paths are the ones selected") {
#if FACEKIT_HAS_SIMD
  using A = facekit::default_arch;
  namespace s = fk::simd;
  const fk::Conv2dGeometry pw{64, 64, 24, 64, 64, 28, 1, 1, 1, 1, 1, 1, 0, 0};
  CHECK((fk::select_f32_conv2d<A>(pw, Activation::relu, true) == &s::conv2d_pointwise<A>));
  const fk::Conv2dGeometry first{128, 128, 3, 64, 64, 24, 5, 5, 2, 2, 1, 1, 1, 1};
  CHECK((fk::select_f32_conv2d<A>(first, Activation::none, false) == &s::conv2d_kernel_rows<A>));
  const fk::Conv2dGeometry dilated{13, 9, 7, 13, 9, 15, 3, 3, 1, 1, 2, 2, 2, 2};
  CHECK((fk::select_f32_conv2d<A>(dilated, Activation::prelu, false) == &s::conv2d_taps<A>));
  const fk::Conv2dGeometry dw1{64, 64, 24, 64, 64, 24, 3, 3, 1, 1, 1, 1, 1, 1};
  CHECK((fk::select_f32_dwconv2d<A>(dw1, Activation::relu, false) ==
         &s::dwconv2d_fixed<A, 3, 3, 1, 1, Activation::relu>));
  const fk::Conv2dGeometry dw2{64, 64, 28, 32, 32, 28, 3, 3, 2, 2, 1, 1, 0, 0};
  CHECK((fk::select_f32_dwconv2d<A>(dw2, Activation::none, true) ==
         &s::dwconv2d_fixed<A, 3, 3, 2, 2, Activation::none>));
  const fk::Pool2dGeometry mp{64, 64, 28, 32, 32, 2, 2, 2, 2, 0, 0};
  CHECK((fk::select_f32_maxpool2d<A>(mp) == &s::maxpool2d_fixed<A, 2, 2, 2, 2>));
#endif
}

TEST_CASE("kernels: maxpool2d") {
  for (const auto& c : kernel_cases::pool_cases()) {
    CAPTURE(c.name);
    run_pool_case(c);
  }
  // Hand-checked: 2x2 s2 SAME on 3x3 (pad bottom/right 1); padded taps must not count as 0.
  const float x[] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  const fk::Pool2dGeometry g{3, 3, 1, 2, 2, 2, 2, 2, 2, 0, 0};
  const float want[] = {-1, -3, -7, -9};
  float y[4 + 16];
  fk::ref::f32_maxpool2d(g, x, y);
  for (int i = 0; i < 4; ++i) CHECK(y[i] == want[i]);
}

TEST_CASE("kernels: add, relu, prelu, logistic") {
  for (const auto& c : kernel_cases::elt_cases()) {
    CAPTURE(c.name);
    run_elt_case(c);
  }
  // Logistic saturates cleanly.
  Buf x(5, kNaN), y(5, kSentinel);
  const float in[] = {-100.0f, -20.0f, 0.0f, 20.0f, 100.0f};
  std::copy(in, in + 5, x.data());
  fk::f32_logistic<facekit::default_arch>(x.data(), 5, y.data());
  CHECK(y[0] >= 0.0f);
  CHECK(y[0] < 1e-8f);
  CHECK(y[2] == doctest::Approx(0.5f));
  CHECK(y[4] == 1.0f);
}

TEST_CASE("kernels: concat") {
  // [2][3][c] along the channel axis: inputs with 1, 4 and 2 channels.
  const int outer = 6, chans[] = {1, 4, 2};
  std::vector<std::vector<float>> ins(3);
  const float* ptrs[3];
  for (int i = 0; i < 3; ++i) {
    ins[std::size_t(i)].resize(std::size_t(outer * chans[i]));
    for (std::size_t k = 0; k < ins[std::size_t(i)].size(); ++k) ins[std::size_t(i)][k] = float(1000 * i + int(k));
    ptrs[i] = ins[std::size_t(i)].data();
  }
  std::vector<float> out(std::size_t(outer * 7) + 1, kSentinel);
  fk::f32_concat(ptrs, 3, outer, chans, out.data());
  for (int o = 0; o < outer; ++o)
    for (int c = 0; c < 7; ++c) {
      const int i = c < 1 ? 0 : (c < 5 ? 1 : 2), ci = c < 1 ? c : (c < 5 ? c - 1 : c - 5);
      CHECK(out[std::size_t(o * 7 + c)] == float(1000 * i + o * chans[i] + ci));
    }
  CHECK(out.back() == kSentinel);
  // Outer axis (outer = 1): plain back-to-back copy.
  const int whole[] = {outer * 1, outer * 4};
  fk::f32_concat(ptrs, 2, 1, whole, out.data());
  CHECK(out[5] == 5.0f);
  CHECK(out[6] == 1000.0f);
}

TEST_CASE("kernels: pad") {
  const int in[4] = {1, 3, 2, 5}, before[4] = {0, 1, 0, 2}, after[4] = {0, 2, 1, 1};
  int out_dims[4];
  for (int d = 0; d < 4; ++d) out_dims[d] = before[d] + in[d] + after[d];
  std::vector<float> x(std::size_t(in[0] * in[1] * in[2] * in[3]));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  const std::size_t n = std::size_t(out_dims[0] * out_dims[1] * out_dims[2] * out_dims[3]);
  std::vector<float> y(n + 1, kSentinel);
  fk::f32_pad(x.data(), in, before, out_dims, -1.5f, y.data());
  std::size_t i = 0;
  for (int a = 0; a < out_dims[0]; ++a)
    for (int b = 0; b < out_dims[1]; ++b)
      for (int c = 0; c < out_dims[2]; ++c)
        for (int d = 0; d < out_dims[3]; ++d, ++i) {
          const int s[4] = {a - before[0], b - before[1], c - before[2], d - before[3]};
          bool inside = true;
          for (int k = 0; k < 4; ++k) inside = inside && s[k] >= 0 && s[k] < in[k];
          const float want = inside ? x[std::size_t(((s[0] * in[1] + s[1]) * in[2] + s[2]) * in[3] + s[3])] : -1.5f;
          CHECK(y[i] == want);
        }
  CHECK(y[n] == kSentinel);
}

// ---- resize_bilinear ----------------------------------------------------------------------------

namespace {

/// TFLite's reference rule written out independently, in double (kernels/f32_resize_bilinear.hpp
/// documents it): float positions and scales, floor/ceil neighbours clamped to the image.
void naive_resize(const kernel_cases::ResizeCase& c, bool align, bool half, const float* x, float* y) {
  auto axis = [&](int v, int in, int out, int* lo, int* hi, double* w) {
    const float scale = align && out > 1 ? float(in - 1) / float(out - 1) : float(in) / float(out);
    const float s = half ? (float(v) + 0.5f) * scale - 0.5f : float(v) * scale;
    *lo = std::max(int(std::floor(s)), 0);
    *hi = std::min(int(std::ceil(s)), in - 1);
    *w = double(s) - *lo;
  };
  for (int oy = 0; oy < c.out_h; ++oy)
    for (int ox = 0; ox < c.out_w; ++ox) {
      int y0, y1, x0, x1;
      double dy, dx;
      axis(oy, c.in_h, c.out_h, &y0, &y1, &dy);
      axis(ox, c.in_w, c.out_w, &x0, &x1, &dx);
      for (int ch = 0; ch < c.channels; ++ch) {
        auto at = [&](int yy, int xx) { return double(x[(std::size_t(yy) * c.in_w + xx) * c.channels + ch]); };
        y[(std::size_t(oy) * c.out_w + ox) * c.channels + ch] =
            float(at(y0, x0) * (1 - dy) * (1 - dx) + at(y1, x0) * dy * (1 - dx) + at(y0, x1) * (1 - dy) * dx +
                  at(y1, x1) * dy * dx);
      }
    }
}

}  // namespace

TEST_CASE("kernels: resize_bilinear (scalar vs TFLite's rule, SIMD vs scalar)") {
  double worst_ref = 0, worst_simd = 0;
  for (const auto& c : kernel_cases::resize_cases())
    for (int mode = 0; mode < 3; ++mode) {
      const bool align = mode == 1, half = mode == 2;
      CAPTURE(c.name);
      CAPTURE(mode);
      const fk::ResizeBilinearGeometry g{c.in_h, c.in_w, c.channels, c.out_h, c.out_w, align, half};
      const std::size_t n_in = std::size_t(c.in_h) * c.in_w * c.channels;
      const std::size_t n_out = std::size_t(c.out_h) * c.out_w * c.channels;
      ktest::Buf x(n_in, 0.0f), want(n_out, 0.0f), ref(n_out, kSentinel);
      ktest::Rng rng{uint32_t(1234 + c.channels * 7 + mode)};
      rng.fill(x.data(), n_in, -3.0f, 3.0f);
      naive_resize(c, align, half, x.data(), want.data());
      fk::ref::f32_resize_bilinear(g, x.data(), ref.data());
      CHECK(ref.slack_intact(kSentinel));
      for (std::size_t i = 0; i < n_out; ++i) worst_ref = std::max(worst_ref, double(std::fabs(ref[i] - want[i])));
      REQUIRE(worst_ref <= 1e-5);
      for_each_simd_arch([&](auto arch) {
        using A = decltype(arch);
        ktest::Buf y(n_out, kSentinel);
        fk::f32_resize_bilinear<A>(g, x.data(), y.data());
        CHECK(y.slack_intact(kSentinel));
        double d = 0;
        for (std::size_t i = 0; i < n_out; ++i) d = std::max(d, double(std::fabs(y[i] - ref[i])));
        worst_simd = std::max(worst_simd, d);
        CHECK_MESSAGE(d <= 1e-5, A::name() << " differs from the scalar reference by " << d);
      });
    }
  MESSAGE("resize_bilinear: scalar vs TFLite's rule in double " << worst_ref << ", SIMD vs scalar " << worst_simd);
}

TEST_CASE("kernels: depth_to_space") {
  const int cases[][4] = {{1, 1, 1, 2}, {3, 2, 3, 2}, {2, 5, 17, 2}, {4, 3, 1, 3}, {24, 24, 16, 2}};  // h, w, C, b
  for (const auto& c : cases) {
    const int h = c[0], w = c[1], C = c[2], b = c[3];
    CAPTURE(h);
    CAPTURE(w);
    CAPTURE(C);
    CAPTURE(b);
    const std::size_t n = std::size_t(h) * w * C * b * b;
    ktest::Buf x(n, 0.0f), y(n, kSentinel);
    for (std::size_t i = 0; i < n; ++i) x[i] = float(i);
    fk::f32_depth_to_space(x.data(), h, w, C, b, y.data());
    CHECK(y.slack_intact(kSentinel));
    bool ok = true;
    for (int oy = 0; oy < h * b; ++oy)
      for (int ox = 0; ox < w * b; ++ox)
        for (int ch = 0; ch < C; ++ch) {
          const std::size_t src = ((std::size_t(oy / b) * w + std::size_t(ox / b)) * b * b +
                                   std::size_t(oy % b) * b + std::size_t(ox % b)) * C + std::size_t(ch);
          ok = ok && y[(std::size_t(oy) * w * b + std::size_t(ox)) * C + std::size_t(ch)] == x[src];
        }
    CHECK(ok);
  }
}
