// libFuzzer target: the .fkm loader, then, for what loads, the stage its kind names and one
// inference on a small image. A custom mutator seals the CRC-32 again after each mutation, so
// that mutated files get past the checksum into the structure and value checks.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "facekit/face_detector.hpp"
#include "facekit/face_landmarker.hpp"
#include "facekit/model/model.hpp"

extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

void seal_crc(uint8_t* data, std::size_t size) {
  facekit::format::FileHeader h;
  if (size < sizeof h) return;
  std::memcpy(&h, data, sizeof h);
  if (h.header_size < sizeof h || h.header_size > size) return;
  h.checksum = facekit::format::crc32(data + h.header_size, size - h.header_size);
  std::memcpy(data, &h, sizeof h);
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int /*seed*/) {
  size = LLVMFuzzerMutate(data, size, max_size);
  seal_crc(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto loaded = facekit::Model::copy_from_bytes(data, size);
  if (!loaded) return 0;
  auto model = std::make_shared<const facekit::Model>(std::move(*loaded));
  static std::vector<uint8_t> pixels(96 * 64 * 3, 120);
  const facekit::ImageView image{pixels.data(), 96, 64, 96 * 3, facekit::PixelFormat::rgb8};
  if (model->kind() == "face_detector") {
    auto det = facekit::FaceDetector::create(model);
    facekit::FaceDetectorResult r;
    if (det) (void)det->detect(image, r);
  } else if (model->kind() == "face_landmarks_v2" || model->kind() == "face_landmarks_attention") {
    const facekit::FaceMeshModel which = model->kind() == "face_landmarks_v2" ? facekit::FaceMeshModel::v2
                                                                             : facekit::FaceMeshModel::attention;
    auto mesh = facekit::create_mesh_stage(which, model);
    if (mesh) {
      static std::vector<facekit::NormalizedLandmark> landmarks(facekit::kFaceMeshV2Landmarks);
      float presence = 0;
      bool present = false;
      (void)(*mesh)->run(image, facekit::NormalizedRect{}, 0.0f, &presence, landmarks.data(), &present);
    }
  }
  return 0;
}
