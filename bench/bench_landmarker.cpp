// FaceLandmarker benchmarks. BM_face_mesh_v2_model times the Face Mesh V2 network alone on a fixed
// input (bench/compare_tflite.py compares it with the TFLite interpreter); BM_face_landmarker_detect
// times detect() on a one-face image: detector (crop, network, decoding, NMS), ROI, 256 x 256 crop,
// landmark network, decoding. BM_face_transformation_matrix times the geometry pipeline alone
// (three weighted Procrustes fits) on one face's landmarks; BM_face_landmarker_detect_full the
// whole pipeline with blendshapes and the matrix (issue 4's "detect + V2 + blendshapes + matrix").
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "facekit/face_landmarker.hpp"

namespace {

facekit::FaceLandmarker* landmarker() {
  static facekit::FaceLandmarker* lm = [] {
    auto r = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR);
    if (!r) {
      std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", r.status().message());
      return static_cast<facekit::FaceLandmarker*>(nullptr);
    }
    return new facekit::FaceLandmarker(std::move(*r));
  }();
  return lm;
}

void BM_face_mesh_v2_model(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker();
  if (!lm) {
    state.SkipWithError("face_detector.fkm / face_landmarks_detector.fkm not found");
    return;
  }
  facekit::Session& s = lm->landmark_session();
  const std::size_t n = s.input_info(0).elements();
  // Same deterministic input as compare_tflite.py: a ramp in [-1, 1].
  std::vector<float> ramp(n);
  for (std::size_t i = 0; i < n; ++i) ramp[i] = float(int(i % 255)) * (2.0f / 255.0f) - 1.0f;
  float* in = s.input(0);
  for (auto _ : state) {
    // The activations reuse the input buffer, so it is refilled each time (~1% of the run), as a
    // real caller does; otherwise later runs would compute on garbage.
    std::memcpy(in, ramp.data(), n * sizeof(float));
    s.run();
    benchmark::DoNotOptimize(s.output(0)[0]);
  }
}
BENCHMARK(BM_face_mesh_v2_model)->Unit(benchmark::kMicrosecond);

void BM_face_landmarker_detect(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker();
  auto img = facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/../shared/images/skimage_astronaut.png");
  if (!lm || !img) {
    state.SkipWithError("models or ../shared/images/skimage_astronaut.png missing");
    return;
  }
  facekit::FaceLandmarkerResult r;
  for (auto _ : state) {
    facekit::Status st = lm->detect(img->view(), r);
    benchmark::DoNotOptimize(st);
  }
  if (r.faces.size() != 1) state.SkipWithError("expected one face in skimage_astronaut.png");
}
BENCHMARK(BM_face_landmarker_detect)->Unit(benchmark::kMicrosecond);

facekit::FaceLandmarker* full_landmarker() {
  static facekit::FaceLandmarker* lm = [] {
    facekit::FaceLandmarkerOptions o;
    o.output_face_blendshapes = o.output_facial_transformation_matrixes = true;
    auto r = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
    if (!r) {
      std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", r.status().message());
      return static_cast<facekit::FaceLandmarker*>(nullptr);
    }
    return new facekit::FaceLandmarker(std::move(*r));
  }();
  return lm;
}

void BM_face_transformation_matrix(benchmark::State& state) {
  facekit::FaceLandmarker* lm = full_landmarker();
  auto img = facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/../shared/images/skimage_astronaut.png");
  if (!lm || !img) {
    state.SkipWithError("models or ../shared/images/skimage_astronaut.png missing");
    return;
  }
  facekit::FaceLandmarkerResult r;
  if (!lm->detect(img->view(), r) || r.faces.size() != 1) {
    state.SkipWithError("expected one face in skimage_astronaut.png");
    return;
  }
  float m[16];
  for (auto _ : state) {
    bool ok = lm->geometry()->estimate_pose(r.faces[0].landmarks.data(), img->width, img->height, m);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(m[0]);
  }
}
BENCHMARK(BM_face_transformation_matrix)->Unit(benchmark::kMicrosecond);

void BM_face_landmarker_detect_full(benchmark::State& state) {
  facekit::FaceLandmarker* lm = full_landmarker();
  auto img = facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/../shared/images/skimage_astronaut.png");
  if (!lm || !img) {
    state.SkipWithError("models or ../shared/images/skimage_astronaut.png missing");
    return;
  }
  facekit::FaceLandmarkerResult r;
  for (auto _ : state) {
    facekit::Status st = lm->detect(img->view(), r);
    benchmark::DoNotOptimize(st);
  }
  if (r.faces.size() != 1) state.SkipWithError("expected one face in skimage_astronaut.png");
}
BENCHMARK(BM_face_landmarker_detect_full)->Unit(benchmark::kMicrosecond);

}  // namespace
