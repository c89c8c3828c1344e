// Whole-detector benchmarks. BM_face_detector_model times the network alone on a fixed input
// (bench/compare_tflite.py compares it with the TFLite interpreter); BM_face_detector_detect
// times detect() on a real image: crop, network, decoding, NMS. The *_full_range variants run the
// 192 x 192 full-range networks (dense and sparse; docs/pipeline.md 1.7) the same way.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "bench_threads.hpp"
#include "facekit/face_detector.hpp"

namespace {

// One detector per model file, loaded on first use (nullptr if it cannot be loaded).
facekit::FaceDetector* detector(const char* file) {
  static std::map<std::string, facekit::FaceDetector*> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  facekit::FaceDetector* d = nullptr;
  facekit::FaceDetectorOptions o;
  o.num_threads = bench_threads::count();
  auto r = facekit::FaceDetector::create_from_file(std::string(FACEKIT_WEIGHTS_DIR) + "/" + file, o);
  if (r)
    d = new facekit::FaceDetector(std::move(*r));
  else
    std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", r.status().message());
  cache[file] = d;
  return d;
}

void run_model(benchmark::State& state, const char* file) {
  facekit::FaceDetector* d = detector(file);
  if (!d) {
    state.SkipWithError("detector model not found");
    return;
  }
  facekit::BackendSession& s = d->session();
  float* in = s.input(0);
  const std::size_t n = s.input_info(0).elements();
  // Same deterministic input as compare_tflite.py: a smooth ramp in [-1, 1].
  for (std::size_t i = 0; i < n; ++i) in[i] = float(int(i % 255)) * (2.0f / 255.0f) - 1.0f;
  for (auto _ : state) {
    s.run();
    benchmark::DoNotOptimize(s.output(1)[0]);
  }
}
void BM_face_detector_model(benchmark::State& state) { run_model(state, "face_detector.fkm"); }
BENCHMARK(BM_face_detector_model)->Unit(benchmark::kMicrosecond);
void BM_face_detector_full_range_model(benchmark::State& state) {
  run_model(state, "face_detection_full_range.fkm");
}
BENCHMARK(BM_face_detector_full_range_model)->Unit(benchmark::kMicrosecond);
void BM_face_detector_full_range_sparse_model(benchmark::State& state) {
  run_model(state, "face_detection_full_range_sparse.fkm");
}
BENCHMARK(BM_face_detector_full_range_sparse_model)->Unit(benchmark::kMicrosecond);

void run_detect(benchmark::State& state, const char* file) {
  facekit::FaceDetector* d = detector(file);
  auto img = facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/tests/data/images/skimage_astronaut.png");
  if (!d || !img) {
    state.SkipWithError("model (run tools/fetch-models.sh) or tests/data/images/skimage_astronaut.png missing");
    return;
  }
  facekit::FaceDetectorResult r;
  for (auto _ : state) {
    facekit::Status st = d->detect(img->view(), r);
    benchmark::DoNotOptimize(st);
  }
}
void BM_face_detector_detect(benchmark::State& state) { run_detect(state, "face_detector.fkm"); }
BENCHMARK(BM_face_detector_detect)->Unit(benchmark::kMicrosecond);
void BM_face_detector_full_range_sparse_detect(benchmark::State& state) {
  run_detect(state, "face_detection_full_range_sparse.fkm");
}
BENCHMARK(BM_face_detector_full_range_sparse_detect)->Unit(benchmark::kMicrosecond);

}  // namespace
