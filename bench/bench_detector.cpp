// Whole-detector benchmarks. BM_face_detector_model times the network alone on a fixed input
// (bench/compare_tflite.py compares it with the TFLite interpreter); BM_face_detector_detect
// times detect() on a real image: crop, network, decoding, NMS.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "facekit/face_detector.hpp"

namespace {

facekit::FaceDetector* detector() {
  static facekit::FaceDetector* d = [] {
    auto r = facekit::FaceDetector::create_from_file(std::string(FACEKIT_WEIGHTS_DIR) + "/face_detector.fkm");
    if (!r) {
      std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", r.status().message());
      return static_cast<facekit::FaceDetector*>(nullptr);
    }
    return new facekit::FaceDetector(std::move(*r));
  }();
  return d;
}

void BM_face_detector_model(benchmark::State& state) {
  facekit::FaceDetector* d = detector();
  if (!d) {
    state.SkipWithError("face_detector.fkm not found");
    return;
  }
  facekit::Session& s = d->session();
  float* in = s.input(0);
  const std::size_t n = s.input_info(0).elements();
  // Same deterministic input as compare_tflite.py: a smooth ramp in [-1, 1].
  for (std::size_t i = 0; i < n; ++i) in[i] = float(int(i % 255)) * (2.0f / 255.0f) - 1.0f;
  for (auto _ : state) {
    s.run();
    benchmark::DoNotOptimize(s.output(1)[0]);
  }
}
BENCHMARK(BM_face_detector_model)->Unit(benchmark::kMicrosecond);

void BM_face_detector_detect(benchmark::State& state) {
  facekit::FaceDetector* d = detector();
  auto img = facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/../shared/images/skimage_astronaut.png");
  if (!d || !img) {
    state.SkipWithError("model or ../shared/images/skimage_astronaut.png missing");
    return;
  }
  facekit::FaceDetectorResult r;
  for (auto _ : state) {
    facekit::Status st = d->detect(img->view(), r);
    benchmark::DoNotOptimize(st);
  }
}
BENCHMARK(BM_face_detector_detect)->Unit(benchmark::kMicrosecond);

}  // namespace
