// Blendshape network benchmarks. BM_face_blendshapes_model times the network alone on a fixed
// input (bench/compare_tflite.py compares it with the TFLite interpreter); the kernel benchmarks
// time its two hot ops on their real shapes (97 tokens x 64 channels, hidden 384 tokens).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "facekit/kernels/f32_layer_norm.hpp"
#include "facekit/kernels/f32_token_dense.hpp"
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
    return std::make_unique<facekit::Session>(*p);
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

// Token mixing of one mixer block: args = tokens in, tokens out (97 -> 384 relu, 384 -> 97).
void BM_f32_token_dense(benchmark::State& state) {
  const int T = int(state.range(0)), O = int(state.range(1)), C = 64;
  float *x, *w, *y;
  auto xs = aligned_pattern(std::size_t(T) * C, &x);
  auto ys = aligned_pattern(std::size_t(O) * C, &y);
  auto ws = aligned_pattern(facekit::kernels::f32_conv2d_packed_size(O, 1, 1, T), &w);
  const auto g = facekit::kernels::token_dense_geometry(T, C, O);
  const facekit::kernels::Epilogue e{nullptr, nullptr, C, facekit::Activation::relu};
  const auto fn = facekit::kernels::select_f32_token_dense<facekit::default_arch>(facekit::Activation::relu, false);
  for (auto _ : state) {
    fn(g, x, w, e, y);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * T * O * C * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_f32_token_dense)->Args({97, 384})->Args({384, 97})->Unit(benchmark::kMicrosecond);

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
