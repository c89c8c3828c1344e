// Firmware-style face detection: no exceptions, no RTTI, no file access (FACEKIT_NO_STDIO), no
// image decoder (FACEKIT_NO_STB_IMAGE). The model is compiled into the binary by
// `facekit convert --emit-header` and used in place; the activations live in a static buffer; the
// frame is raw RGB8 as a camera hands it over. After start-up nothing is allocated, which this
// program counts (it replaces operator new) and checks.
//
// Built and run by CMake (examples/CMakeLists.txt, ctest "embedded_detector") and by CI, native and
// cross-built for AArch64 under qemu. The frame is tests/data/embedded/Tom_Hanks_54745_112x112.rgb;
// tests/test_embedded_detector.cpp compares this program's output with MediaPipe's golden and with
// the normal build's FaceDetector on the same pixels. printf is this program's UART.
#include <cstdio>

#include "facekit/face_detector.hpp"
#include "face_detector_fkm.hpp"  // generated: facekit convert --emit-header weights/face_detector.fkm
#include "heap_count.hpp"         // replaces operator new: g_allocations, g_bytes
#include "test_frame.hpp"         // generated from the raw frame: test_frame_rgb, test_frame_width/height

namespace {
constexpr int kMaxFaces = 4;  // the result's capacity, reserved at start-up
constexpr int kFrames = 3;
// The activation arena: static memory, sized by the generated header.
alignas(64) unsigned char g_arena[face_detector_arena_size];
}  // namespace

int main() {
  bool ok = true;
  facekit::FaceDetectorOptions options;
  options.max_faces = kMaxFaces;

  // A too-small buffer is refused with both sizes named (not part of the counted start-up).
  {
    auto small = facekit::FaceDetector::create_from_bytes(face_detector_fkm, sizeof face_detector_fkm, options,
                                                          {g_arena, 1024});
    if (small) {
      std::printf("embedded_detector: FAIL: a 1024-byte arena was accepted\n");
      ok = false;
    } else {
      std::printf("embedded_detector: 1024-byte arena refused: %s\n", small.status().message());
    }
  }

  // ---- start-up: everything that allocates happens here ----------------------------------------
  g_allocations = 0;
  g_bytes = 0;
  auto detector = facekit::FaceDetector::create_from_bytes(face_detector_fkm, sizeof face_detector_fkm, options,
                                                           {g_arena, sizeof g_arena});
  if (!detector) {
    std::printf("embedded_detector: FAIL: %s\n", detector.status().message());
    return 1;
  }
  facekit::FaceDetectorResult result;
  result.detections.reserve(kMaxFaces);
  const facekit::ImageView frame{test_frame_rgb, test_frame_width, test_frame_height, test_frame_width * 3,
                                 facekit::PixelFormat::rgb8};
  const long startup_allocations = g_allocations;
  const std::size_t startup_bytes = g_bytes;

  // ---- the frame loop: nothing may be allocated ------------------------------------------------
  g_allocations = 0;
  for (int i = 0; i < kFrames; ++i) {
    const facekit::Status s = detector->detect(frame, result);
    if (!s) {
      std::printf("embedded_detector: FAIL: detect: %s\n", s.message());
      return 1;
    }
  }
  const long frame_allocations = g_allocations;

  std::printf("embedded_detector: %s; model %zu bytes compiled in, used in place\n", detector->backend_name(),
              sizeof face_detector_fkm);
  std::printf("embedded_detector: arena %zu bytes, a static buffer (face_detector_arena_size)\n", sizeof g_arena);
  std::printf("embedded_detector: start-up: %ld heap allocations, %zu bytes\n", startup_allocations, startup_bytes);
  std::printf("embedded_detector: after start-up: %ld heap allocations in %d detections on a %dx%d raw RGB frame\n",
              frame_allocations, kFrames, frame.width, frame.height);
  for (std::size_t i = 0; i < result.detections.size(); ++i) {
    const facekit::Detection& d = result.detections[i];
    std::printf("face %zu: box %d %d %d %d score %.6f keypoints", i, d.bounding_box.origin_x, d.bounding_box.origin_y,
                d.bounding_box.width, d.bounding_box.height, double(d.score));
    for (const auto& k : d.keypoints) std::printf(" %.6f %.6f", double(k.x), double(k.y));
    std::printf("\n");
  }
  if (frame_allocations != 0) {
    std::printf("embedded_detector: FAIL: %ld heap allocations after start-up\n", frame_allocations);
    ok = false;
  }
  if (result.detections.empty()) {
    std::printf("embedded_detector: FAIL: no face found\n");
    ok = false;
  }
  std::printf("embedded_detector: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
