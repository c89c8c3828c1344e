// Per-frame image work: the detector letterbox, landmark crops, and detection post-processing.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "facekit/detection/decode.hpp"
#include "facekit/detection/nms.hpp"
#include "facekit/detection/projection.hpp"
#include "facekit/detection/ssd_anchors.hpp"
#include "facekit/image/image_to_tensor.hpp"

namespace {

facekit::Image pattern(int w, int h) {
  facekit::Image img(w, h);
  uint32_t s = 12345;
  for (auto& p : img.pixels) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    p = uint8_t(s >> 24);
  }
  return img;
}

void set_pixel_counters(benchmark::State& st, int out_w, int out_h) {
  st.counters["out_px/s"] =
      benchmark::Counter(double(out_w) * out_h * double(st.iterations()), benchmark::Counter::kIsRate);
}

// Detector input: whole W x H image letterboxed into 128 x 128 (BORDER_ZERO, [-1, 1]).
void BM_letterbox_128(benchmark::State& st) {
  const facekit::Image img = pattern(int(st.range(0)), int(st.range(1)));
  std::vector<float> t(128 * 128 * 3);
  facekit::Matrix4 m;
  for (auto _ : st) {
    facekit::Status s = facekit::letterbox_whole_image(img.view(), 128, 128, -1.0f, 1.0f, t.data(), &m);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(t.data());
  }
  set_pixel_counters(st, 128, 128);
}
BENCHMARK(BM_letterbox_128)->Args({640, 480})->Args({1280, 720})->Args({325, 402});

// Landmark crop: rotated face ROI to N x N (BORDER_REPLICATE, [0, 1]); rotation gives a
// (numerically) perspective homography, 0 an affine one.
void BM_face_crop(benchmark::State& st) {
  const facekit::Image img = pattern(1280, 720);
  const int n = int(st.range(0));
  const float angle = float(st.range(1)) * 0.01f;
  std::vector<float> t(std::size_t(n) * std::size_t(n) * 3);
  const facekit::RotatedRect roi{640, 360, 300, 340, angle};
  for (auto _ : st) {
    facekit::Status s = facekit::crop_to_tensor(img.view(), roi, n, n, facekit::BorderMode::replicate, 0.0f, 1.0f,
                                                t.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(t.data());
  }
  set_pixel_counters(st, n, n);
}
BENCHMARK(BM_face_crop)->Args({256, 0})->Args({256, 35})->Args({192, 35});

// The same crop by the scalar reference path (scalar_arch), for comparison with the SIMD one.
void BM_face_crop_scalar(benchmark::State& st) {
  const facekit::Image img = pattern(1280, 720);
  const int n = int(st.range(0));
  std::vector<float> t(std::size_t(n) * std::size_t(n) * 3);
  const facekit::RotatedRect roi{640, 360, 300, 340, float(st.range(1)) * 0.01f};
  for (auto _ : st) {
    facekit::Status s = facekit::crop_to_tensor<facekit::scalar_arch>(
        img.view(), roi, n, n, facekit::BorderMode::replicate, 0.0f, 1.0f, t.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(t.data());
  }
  set_pixel_counters(st, n, n);
}
BENCHMARK(BM_face_crop_scalar)->Args({256, 35});

// Decoding 896 anchors + weighted NMS + projection, with a handful of overlapping faces.
void BM_detection_post(benchmark::State& st) {
  const auto anchors = facekit::generate_ssd_anchors(facekit::SsdAnchorOptions::short_range());
  std::vector<float> boxes(anchors.size() * 16), scores(anchors.size());
  uint32_t s = 777;
  auto rnd = [&s]() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return float(s >> 8) / 16777216.0f;
  };
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    for (int k = 0; k < 16; ++k) boxes[i * 16 + std::size_t(k)] = (rnd() - 0.5f) * 8.0f;
    boxes[i * 16 + 2] = boxes[i * 16 + 3] = 20.0f + rnd() * 10.0f;
    scores[i] = rnd() < 0.03f ? 2.0f + rnd() : -5.0f;  // ~27 candidates
  }
  facekit::DecodeOptions opt;
  std::vector<facekit::RawDetection> dec, merged;
  dec.reserve(anchors.size());
  merged.reserve(anchors.size());
  facekit::NmsScratch scratch;
  facekit::nms_reserve(scratch, anchors.size());
  facekit::Matrix4 m = facekit::crop_to_image_matrix(facekit::RotatedRect{320, 240, 640, 640, 0}, 640, 480);
  for (auto _ : st) {
    facekit::decode_detections(boxes.data(), scores.data(), anchors, opt, dec);
    facekit::weighted_nms(dec, 0.3f, scratch, merged);
    for (const auto& d : merged) benchmark::DoNotOptimize(facekit::project_detection(d, m));
  }
  st.counters["decoded"] = double(dec.size());
  st.counters["faces"] = double(merged.size());
}
BENCHMARK(BM_detection_post);

}  // namespace
