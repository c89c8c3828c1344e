// FaceLandmarker benchmarks, per stage and whole, for both landmark models (arg 0: Face Mesh V2,
// 1: Attention Mesh), on skimage_astronaut.png (one face):
// - BM_landmark_model: the network alone on a fixed input (bench/compare_tflite.py compares V2
//   with the TFLite interpreter; the Attention Mesh's custom ops keep TFLite from loading it);
// - BM_landmark_crop: the rotated ROI cropped into the model's input (256 or 192 square) with
//   MediaPipe's CPU resampling;
// - BM_face_landmarker_detect: image mode: detector (crop, network, decoding, NMS), ROI, crop,
//   landmark network, decoding;
// - BM_face_landmarker_track: video mode with the face tracked (the detector skipped): crop,
//   network, decoding, the next ROI and (V2) smoothing: the per-frame cost of a video;
// - BM_face_transformation_matrix: the geometry pipeline alone (three weighted Procrustes fits);
// - BM_face_landmarker_detect_full: image mode with blendshapes and the matrix (issue 4's
//   "detect + V2 + blendshapes + matrix").
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bench_threads.hpp"
#include "facekit/face_landmarker.hpp"

namespace {

facekit::FaceMeshModel model_arg(const benchmark::State& state) {
  return state.range(0) ? facekit::FaceMeshModel::attention : facekit::FaceMeshModel::v2;
}

/// One landmarker per configuration, created on first use (nullptr if the models are missing).
facekit::FaceLandmarker* landmarker(facekit::FaceMeshModel model,
                                    facekit::RunningMode mode = facekit::RunningMode::image, bool full = false) {
  static std::map<std::tuple<int, int, bool>, std::unique_ptr<facekit::FaceLandmarker>> cache;
  auto& slot = cache[std::make_tuple(int(model), int(mode), full)];
  if (!slot) {
    facekit::FaceLandmarkerOptions o;
    o.landmark_model = model;
    o.running_mode = mode;
    o.output_face_blendshapes = o.output_facial_transformation_matrixes = full;
    o.num_threads = bench_threads::count();
    auto r = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
    if (!r) {
      std::fprintf(stderr, "%s (run tools/fetch-models.sh)\n", r.status().message());
      return nullptr;
    }
    slot = std::make_unique<facekit::FaceLandmarker>(std::move(*r));
  }
  return slot.get();
}

const facekit::Image* astronaut() {
  static const auto img =
      facekit::load_image(std::string(FACEKIT_SOURCE_DIR) + "/tests/data/images/skimage_astronaut.png");
  return img ? &*img : nullptr;
}

/// The landmarker and image, or a skip with the reason.
bool setup(benchmark::State& state, facekit::FaceLandmarker* lm) {
  if (!lm || !astronaut()) {
    state.SkipWithError("models (run tools/fetch-models.sh) or tests/data/images/skimage_astronaut.png missing");
    return false;
  }
  return true;
}

void BM_landmark_model(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker(model_arg(state));
  if (!setup(state, lm)) return;
  facekit::BackendSession& s = lm->landmark_session();
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
BENCHMARK(BM_landmark_model)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_landmark_crop(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker(model_arg(state));
  if (!setup(state, lm)) return;
  const facekit::Image& img = *astronaut();
  facekit::FaceLandmarkerResult r;
  if (!lm->detect(img.view(), r) || r.faces.size() != 1) {
    state.SkipWithError("expected one face in skimage_astronaut.png");
    return;
  }
  const facekit::RotatedRect roi = facekit::to_pixel_rect(r.faces[0].roi, img.width, img.height);
  float* in = lm->landmark_session().input(0);
  for (auto _ : state) {
    facekit::Status st = facekit::crop_to_tensor(img.view(), roi, lm->input_width(), lm->input_height(),
                                                 facekit::BorderMode::replicate, 0.0f, 1.0f, in);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(in[0]);
  }
}
BENCHMARK(BM_landmark_crop)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

/// Image-mode detect() on the one-face image, timed.
void time_detect(benchmark::State& state, facekit::FaceLandmarker* lm) {
  if (!setup(state, lm)) return;
  facekit::FaceLandmarkerResult r;
  for (auto _ : state) {
    facekit::Status st = lm->detect(astronaut()->view(), r);
    benchmark::DoNotOptimize(st);
  }
  if (r.faces.size() != 1) state.SkipWithError("expected one face in skimage_astronaut.png");
}

void BM_face_landmarker_detect(benchmark::State& state) { time_detect(state, landmarker(model_arg(state))); }
BENCHMARK(BM_face_landmarker_detect)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_face_landmarker_track(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker(model_arg(state), facekit::RunningMode::video);
  if (!setup(state, lm)) return;
  facekit::FaceLandmarkerResult r;
  lm->reset_tracking();
  int64_t t = 0;
  long detector_runs = 0;
  for (auto _ : state) {
    facekit::Status st = lm->detect_for_video(astronaut()->view(), t, r);
    t += 33;
    detector_runs += lm->detector_ran();
    benchmark::DoNotOptimize(st);
  }
  if (r.faces.size() != 1) state.SkipWithError("expected one face in skimage_astronaut.png");
  state.counters["detector_runs"] = double(detector_runs);  // 1: only the first frame
}
BENCHMARK(BM_face_landmarker_track)->ArgName("attention")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_face_transformation_matrix(benchmark::State& state) {
  facekit::FaceLandmarker* lm = landmarker(facekit::FaceMeshModel::v2, facekit::RunningMode::image, true);
  if (!setup(state, lm)) return;
  const facekit::Image& img = *astronaut();
  facekit::FaceLandmarkerResult r;
  if (!lm->detect(img.view(), r) || r.faces.size() != 1) {
    state.SkipWithError("expected one face in skimage_astronaut.png");
    return;
  }
  float m[16];
  for (auto _ : state) {
    bool ok = lm->geometry()->estimate_pose(r.faces[0].landmarks.data(), img.width, img.height, m);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(m[0]);
  }
}
BENCHMARK(BM_face_transformation_matrix)->Unit(benchmark::kMicrosecond);

void BM_face_landmarker_detect_full(benchmark::State& state) {
  time_detect(state, landmarker(facekit::FaceMeshModel::v2, facekit::RunningMode::image, true));
}
BENCHMARK(BM_face_landmarker_detect_full)->Unit(benchmark::kMicrosecond);

}  // namespace
