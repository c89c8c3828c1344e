// Blendshape network benchmarks. BM_face_blendshapes_model times the network alone on a fixed
// input (bench/compare_tflite.py compares it with the TFLite interpreter); the kernel benchmarks
// time its hot ops on their real shapes: the token MLP (token_dense, 97 tokens x 64 channels,
// hidden 384 tokens) and the channel MLP (1x1 conv2d over 97 tokens, 64 -> 256 -> 64 channels).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "facekit/kernels/f32_conv2d.hpp"
#include "facekit/kernels/f32_layer_norm.hpp"
#include "facekit/kernels/f32_token_dense.hpp"
#include "bench_threads.hpp"
#include "facekit/kernels/pack.hpp"
#include "facekit/runtime/executor.hpp"

namespace {

facekit::Session* blendshape_session() {
  static std::unique_ptr<facekit::Session> s = []() -> std::unique_ptr<facekit::Session> {
    auto m = facekit::Model::load_file(std::string(FACEKIT_WEIGHTS_DIR) + "/face_blendshapes.fkm");
    if (!m) {
      std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", m.status().message());
      return nullptr;
    }
    auto p = facekit::Program::create(std::make_shared<const facekit::Model>(std::move(*m)));
    if (!p) {
      std::fprintf(stderr, "%s\n", p.status().message());
      return nullptr;
    }
    auto session = std::make_unique<facekit::Session>(*p);
    session->set_thread_pool(bench_threads::pool());
    return session;
  }();
  return s.get();
}

void BM_face_blendshapes_model(benchmark::State& state) {
  facekit::Session* s = blendshape_session();
  if (!s) {
    state.SkipWithError("face_blendshapes.fkm not found");
    return;
  }
  float* in = s->input(0);
  const std::size_t n = s->input_info(0).elements();
  // Same deterministic input as compare_tflite.py: a ramp in [-1, 1] over the flat tensor.
  for (std::size_t i = 0; i < n; ++i) in[i] = float(int(i % 255)) * (2.0f / 255.0f) - 1.0f;
  for (auto _ : state) {
    s->run();
    benchmark::DoNotOptimize(s->output(0)[0]);
  }
}
BENCHMARK(BM_face_blendshapes_model)->Unit(benchmark::kMicrosecond);

/// 64-byte aligned floats with slack, filled with a smooth pattern.
std::vector<float> aligned_pattern(std::size_t n, float** p) {
  std::vector<float> v(n + 32);
  const auto addr = reinterpret_cast<std::uintptr_t>(v.data());
  *p = v.data() + ((64 - addr % 64) % 64) / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) (*p)[i] = float(int(i % 97)) * 0.01f - 0.5f;
  return v;
}

// Token mixing of one mixer block as the model runs it: args = tokens in, tokens out, residual
// (97 -> 384 with relu; 384 -> 97 with the block's input added, no activation).
void BM_f32_token_dense(benchmark::State& state) {
  const int T = int(state.range(0)), O = int(state.range(1)), C = 64;
  const bool res = state.range(2) != 0;
  float *x, *w, *y, *r;
  auto xs = aligned_pattern(std::size_t(T) * C, &x);
  auto ys = aligned_pattern(std::size_t(O) * C, &y);
  auto rs = aligned_pattern(std::size_t(O) * C, &r);
  auto ws = aligned_pattern(facekit::kernels::f32_conv2d_packed_size(O, 1, 1, T), &w);
  const auto g = facekit::kernels::token_dense_geometry(T, C, O);
  const auto act = res ? facekit::Activation::none : facekit::Activation::relu;
  const facekit::kernels::Epilogue e{nullptr, res ? r : nullptr, C, act};
  const auto fn = facekit::kernels::select_f32_token_dense<facekit::default_arch>(act, res);
  for (auto _ : state) {
    fn(g, x, w, e, y, facekit::kernels::OutRange{0, O});
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * T * O * C * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_f32_token_dense)->Args({97, 384, 0})->Args({384, 97, 1})->Unit(benchmark::kMicrosecond);

// Channel mixing of one mixer block: a 1x1 conv2d over the 97 tokens; args = channels in, out,
// residual (64 -> 256 with relu; 256 -> 64 with the block's input added).
void BM_f32_channel_mix_conv2d(benchmark::State& state) {
  const int M = 97, K = int(state.range(0)), N = int(state.range(1));
  const bool res = state.range(2) != 0;
  float *x, *w, *y, *r;
  auto xs = aligned_pattern(std::size_t(M) * K, &x);
  auto ys = aligned_pattern(std::size_t(M) * N, &y);
  auto rs = aligned_pattern(std::size_t(M) * N, &r);
  auto ws = aligned_pattern(facekit::kernels::f32_conv2d_packed_size(N, 1, 1, K), &w);
  const facekit::kernels::Conv2dGeometry g{1, M, K, 1, M, N, 1, 1, 1, 1, 1, 1, 0, 0};
  const auto act = res ? facekit::Activation::none : facekit::Activation::relu;
  const facekit::kernels::Epilogue e{nullptr, res ? r : nullptr, N, act};
  const auto fn = facekit::kernels::select_f32_conv2d<facekit::default_arch>(g, act, res);
  for (auto _ : state) {
    fn(g, x, w, e, y, facekit::kernels::OutRange{0, M});
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * M * K * N * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_f32_channel_mix_conv2d)->Args({64, 256, 0})->Args({256, 64, 1})->Unit(benchmark::kMicrosecond);

void BM_f32_layer_norm(benchmark::State& state) {
  const int rows = 97, C = 64;
  float *x, *y, *g;
  auto xs = aligned_pattern(std::size_t(rows) * C, &x);
  auto ys = aligned_pattern(std::size_t(rows) * C, &y);
  auto gs = aligned_pattern(facekit::kernels::f32_channel_padded_size(C), &g);
  for (auto _ : state) {
    facekit::kernels::f32_layer_norm<facekit::default_arch>(x, g, nullptr, rows, C, 1e-6f, y);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_f32_layer_norm)->Unit(benchmark::kMicrosecond);

}  // namespace
