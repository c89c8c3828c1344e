// The whole Face Landmarker built as examples/embedded_detector.cpp is (-fno-exceptions -fno-rtti,
// FACEKIT_NO_STDIO, FACEKIT_NO_STB_IMAGE, static), with its four models compiled in by
// `facekit convert --emit-header`: what firmware that wants landmarks, blendshapes and the head
// pose carries. Built on request (target example_embedded_landmarker; CI builds and runs it for
// its size, bench/RESULTS.md). The networks' activations live in one static buffer (the three
// headers' arena sizes, each rounded up to 64: FaceLandmarker::arena_size); after its first frame
// the landmarker allocates nothing, which this program counts.
#include <cstdio>
#include <memory>

#include "face_blendshapes_fkm.hpp"
#include "face_detector_fkm.hpp"
#include "face_geometry_fkm.hpp"
#include "face_landmarks_detector_fkm.hpp"
#include "facekit/face_landmarker.hpp"
#include "heap_count.hpp"
#include "test_frame.hpp"

namespace {
constexpr std::size_t rounded(std::size_t n) { return (n + 63) / 64 * 64; }
alignas(64) unsigned char g_arena[rounded(face_detector_arena_size) + rounded(face_landmarks_detector_arena_size) +
                                  rounded(face_blendshapes_arena_size)];

std::shared_ptr<const facekit::Model> model(const unsigned char* bytes, std::size_t size, bool* ok) {
  auto m = facekit::Model::from_bytes(bytes, size);
  if (!m) {
    std::printf("embedded_landmarker: FAIL: %s\n", m.status().message());
    *ok = false;
    return nullptr;
  }
  return std::make_shared<const facekit::Model>(std::move(*m));
}
}  // namespace

int main() {
  bool ok = true;
  facekit::FaceLandmarkerModels models;
  models.detector = model(face_detector_fkm, sizeof face_detector_fkm, &ok);
  models.landmarks = model(face_landmarks_detector_fkm, sizeof face_landmarks_detector_fkm, &ok);
  models.blendshapes = model(face_blendshapes_fkm, sizeof face_blendshapes_fkm, &ok);
  models.geometry = model(face_geometry_fkm, sizeof face_geometry_fkm, &ok);
  if (!ok) return 1;
  facekit::FaceLandmarkerOptions options;
  options.output_face_blendshapes = true;
  options.output_facial_transformation_matrixes = true;
  if (facekit::FaceLandmarker::arena_size(models, options) != sizeof g_arena) {
    std::printf("embedded_landmarker: FAIL: the arena needs %zu bytes, the static buffer has %zu\n",
                facekit::FaceLandmarker::arena_size(models, options), sizeof g_arena);
    return 1;
  }
  auto landmarker = facekit::FaceLandmarker::create(std::move(models), options, {g_arena, sizeof g_arena});
  if (!landmarker) {
    std::printf("embedded_landmarker: FAIL: %s\n", landmarker.status().message());
    return 1;
  }
  const facekit::ImageView frame{test_frame_rgb, test_frame_width, test_frame_height, test_frame_width * 3,
                                 facekit::PixelFormat::rgb8};
  facekit::FaceLandmarkerResult result;
  facekit::Status s = landmarker->detect(frame, result);  // the first frame sizes the result
  const long startup_allocations = g_allocations;
  g_allocations = 0;
  for (int i = 0; s && i < 3; ++i) s = landmarker->detect(frame, result);
  if (!s) {
    std::printf("embedded_landmarker: FAIL: detect: %s\n", s.message());
    return 1;
  }
  std::printf("embedded_landmarker: models %zu bytes compiled in, used in place\n",
              sizeof face_detector_fkm + sizeof face_landmarks_detector_fkm + sizeof face_blendshapes_fkm +
                  sizeof face_geometry_fkm);
  std::printf("embedded_landmarker: start-up and first frame: %ld heap allocations; after: %ld; arena %zu bytes, a "
              "static buffer\n",
              startup_allocations, g_allocations, sizeof g_arena);
  for (const facekit::FaceLandmarks& f : result.faces)
    std::printf("face: presence %.3f, nose tip %.4f %.4f, blendshapes %d, matrix %d\n", double(f.presence),
                double(f.landmarks[4].x), double(f.landmarks[4].y), int(f.has_blendshapes),
                int(f.has_facial_transformation_matrix));
  ok = result.faces.size() == 1 && g_allocations == 0;
  std::printf("embedded_landmarker: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
