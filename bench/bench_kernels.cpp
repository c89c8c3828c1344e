// Kernel benchmarks at the real model shapes marked `bench` in tests/kernel_cases.hpp (the table the
// kernel tests use), each for the scalar reference and the build's default architecture.
//   facekit_bench --benchmark_filter=kernel/
// FLOPS counts two per multiply-add (max pool: one per comparison; elementwise: one per output).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <facekit/kernels/f32_conv2d.hpp>
#include <facekit/kernels/f32_dwconv2d.hpp>
#include <facekit/kernels/f32_elementwise.hpp>
#include <facekit/kernels/f32_maxpool2d.hpp>
#include <facekit/kernels/pack.hpp>

#include "../tests/kernel_cases.hpp"

namespace {

using facekit::Activation;
namespace fk = facekit::kernels;

/// 64-byte aligned random floats in [lo, hi) with 64 bytes of slack (like the arena).
class Floats {
 public:
  Floats(std::size_t n, float lo = -1.0f, float hi = 1.0f, uint32_t seed = 1) : v_(n + 32) {
    const auto addr = reinterpret_cast<std::uintptr_t>(v_.data());
    p_ = v_.data() + ((64 - addr % 64) % 64) / sizeof(float);
    for (std::size_t i = 0; i < n; ++i) {
      seed = seed * 1664525u + 1013904223u;
      p_[i] = lo + (hi - lo) * float(seed >> 8) * (1.0f / 16777216.0f);
    }
  }
  float* data() { return p_; }

 private:
  std::vector<float> v_;
  float* p_;
};

std::string bench_name(const char* kind, const std::string& name, const char* arch) {
  std::string s = std::string("kernel/") + kind + "/" + name + "/" + arch;
  for (char& ch : s)
    if (ch == ' ') ch = '_';
  return s;
}

template <class A>
void bench_conv(benchmark::State& state, const kernel_cases::ConvCase& c) {
  const fk::Conv2dGeometry g = c.geometry();
  const std::size_t pixels = std::size_t(c.out_h()) * c.out_w();
  Floats x(std::size_t(c.in_h) * c.in_w * c.in_c);
  const std::size_t wn = c.depthwise ? std::size_t(c.kernel_h) * c.kernel_w * c.out_c
                                     : std::size_t(c.out_c) * c.kernel_h * c.kernel_w * c.in_c;
  Floats w(wn, -1.0f, 1.0f, 2), bias(std::size_t(c.out_c), -1.0f, 1.0f, 3), alpha_raw(std::size_t(c.out_c), 0.0f, 0.5f, 4);
  Floats packed(c.depthwise ? fk::f32_dwconv2d_packed_size(c.kernel_h, c.kernel_w, c.out_c)
                            : fk::f32_conv2d_packed_size(c.out_c, c.kernel_h, c.kernel_w, c.in_c));
  Floats alpha(fk::f32_channel_padded_size(c.out_c));
  if (c.depthwise)
    fk::pack_f32_dwconv2d(w.data(), bias.data(), c.kernel_h, c.kernel_w, c.out_c, packed.data());
  else
    fk::pack_f32_conv2d(w.data(), bias.data(), c.out_c, c.kernel_h, c.kernel_w, c.in_c, packed.data());
  fk::pack_f32_channel_padded(alpha_raw.data(), c.out_c, alpha.data());
  const int rc = c.bench_residual_c;
  Floats residual(pixels * std::size_t(rc > 0 ? rc : 1), -1.0f, 1.0f, 5), y(pixels * std::size_t(c.out_c));
  const fk::Epilogue e{alpha.data(), rc > 0 ? residual.data() : nullptr, rc, c.bench_act};
  const fk::Conv2dFn fn = c.depthwise ? fk::select_f32_dwconv2d<A>(g, c.bench_act, rc > 0)
                                      : fk::select_f32_conv2d<A>(g, c.bench_act, rc > 0);
  const fk::OutRange whole{0, c.depthwise ? g.out_h : g.out_h * g.out_w};  // the kernel's unit of work
  for (auto _ : state) {
    fn(g, x.data(), packed.data(), e, y.data(), whole);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(c.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

template <class A>
void bench_pool(benchmark::State& state, const kernel_cases::PoolCase& c) {
  const fk::Pool2dGeometry g = c.geometry();
  const std::size_t out = std::size_t(c.out_h()) * c.out_w() * c.channels;
  Floats x(std::size_t(c.in_h) * c.in_w * c.channels), y(out);
  const fk::Pool2dFn fn = fk::select_f32_maxpool2d<A>(g);
  for (auto _ : state) {
    fn(g, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(double(out) * (c.kernel * c.kernel - 1), benchmark::Counter::kIsIterationInvariantRate);
}

template <class A>
void bench_add(benchmark::State& state, const kernel_cases::EltCase& c) {
  const std::size_t n = std::size_t(c.pixels) * c.channels;
  Floats a(n), b(std::size_t(c.pixels) * c.b_c), y(n);
  for (auto _ : state) {
    fk::f32_add<A>(a.data(), b.data(), c.pixels, c.channels, c.b_c, nullptr, Activation::relu, y.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}

template <class A>
void bench_logistic(benchmark::State& state, const kernel_cases::EltCase& c) {
  const std::size_t n = std::size_t(c.pixels) * c.channels;
  Floats x(n, -8.0f, 8.0f), y(n);
  for (auto _ : state) {
    fk::f32_logistic<A>(x.data(), n, y.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}

template <class A>
void register_arch(const char* arch) {
  for (const auto& c : kernel_cases::conv_cases())
    if (c.bench)
      benchmark::RegisterBenchmark(bench_name(c.depthwise ? "dwconv2d" : "conv2d", c.name, arch).c_str(),
                                   [&c](benchmark::State& s) { bench_conv<A>(s, c); });
  for (const auto& c : kernel_cases::pool_cases())
    if (c.bench)
      benchmark::RegisterBenchmark(bench_name("maxpool2d", c.name, arch).c_str(),
                                   [&c](benchmark::State& s) { bench_pool<A>(s, c); });
  for (const auto& c : kernel_cases::elt_cases())
    if (c.bench) {
      benchmark::RegisterBenchmark(bench_name("add_relu", c.name, arch).c_str(),
                                   [&c](benchmark::State& s) { bench_add<A>(s, c); });
      benchmark::RegisterBenchmark(bench_name("logistic", c.name, arch).c_str(),
                                   [&c](benchmark::State& s) { bench_logistic<A>(s, c); });
    }
}

[[maybe_unused]] const bool registered = [] {
  register_arch<facekit::scalar_arch>("scalar");
  if (!std::is_same<facekit::default_arch, facekit::scalar_arch>::value)
    register_arch<facekit::default_arch>(facekit::default_arch::name());
#ifdef FACEKIT_BENCH_AVX2
  register_arch<xsimd::fma3<xsimd::avx2>>("fma3_avx2");
#endif
  return true;
}();

}  // namespace
