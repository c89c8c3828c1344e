// FaceDetector behaviour: no allocation per frame, and clear errors for bad input.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "facekit/face_detector.hpp"
#include "test_util.hpp"

namespace {

facekit::FaceDetector make_detector(const facekit::FaceDetectorOptions& o = {}) {
  auto d = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), o);
  REQUIRE_MESSAGE(d, d.status().message() << " (run tools/fetch-models.sh)");
  return std::move(*d);
}

}  // namespace

TEST_CASE("face detector: a second detect() on a same-sized image allocates nothing") {
  facekit::FaceDetector det = make_detector();
  auto img = facekit::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE_MESSAGE(img, img.status().message());
  facekit::FaceDetectorResult result;
  REQUIRE(det.detect(img->view(), result));
  REQUIRE(result.detections.size() == 1);
  // malloc and operator new are both counted in normal builds (the check below is not vacuous).
  {
    alloc_counter::Scope probe;
    void* p = ::operator new(32);  // a direct call is never elided
    ::operator delete(p);
    CHECK(probe.allocations() >= 1);
  }
  facekit::Status st;
  const long allocations = alloc_counter::count([&] { return det.detect(img->view(), result); }, &st);
  REQUIRE(st);
  CHECK(allocations == 0);
  CHECK(result.detections.size() == 1);
  const std::string how = alloc_counter::counts_malloc() ? "operator new and malloc" : "operator new (sanitizer build)";
  MESSAGE("allocations counted through " << how);
}

TEST_CASE("face detector: bad images give clear errors") {
  facekit::FaceDetector det = make_detector();
  std::vector<uint8_t> px(64 * 64 * 4, 128);
  facekit::FaceDetectorResult r;
  auto err = [&](facekit::ImageView v) {
    facekit::Status s = det.detect(v, r);
    CHECK_FALSE(s);
    return std::string(s.message());
  };
  CHECK(err({nullptr, 64, 64, 64 * 3, facekit::PixelFormat::rgb8}).find("null") != std::string::npos);
  CHECK(err({px.data(), 0, 64, 64 * 3, facekit::PixelFormat::rgb8}).find("width") != std::string::npos);
  CHECK(err({px.data(), 64, -1, 64 * 3, facekit::PixelFormat::rgb8}).find("height") != std::string::npos);
  CHECK(err({px.data(), 64, 64, 10, facekit::PixelFormat::rgb8}).find("stride") != std::string::npos);
  CHECK(err({px.data(), FACEKIT_MAX_IMAGE_DIM + 1, 1, (FACEKIT_MAX_IMAGE_DIM + 1) * 3, facekit::PixelFormat::rgb8})
            .find("width") != std::string::npos);
  // Odd sizes work: 1x1 and very thin images are valid input (no faces).
  CHECK(det.detect({px.data(), 1, 1, 3, facekit::PixelFormat::rgb8}, r));
  CHECK(r.detections.empty());
  CHECK(det.detect({px.data(), 63, 1, 63 * 3, facekit::PixelFormat::rgb8}, r));
  CHECK(det.detect({px.data(), 3, 61, 4 * 3, facekit::PixelFormat::rgba8}, r));
}

TEST_CASE("face detector: unreadable images and wrong models") {
  auto missing = facekit::load_image("/nonexistent/photo.jpg");
  REQUIRE_FALSE(missing);
  CHECK(std::string(missing.status().message()).find("/nonexistent/photo.jpg") != std::string::npos);
  auto not_image = facekit::load_image(test_util::source_path("CMakeLists.txt"));
  CHECK_FALSE(not_image);
  auto no_model = facekit::FaceDetector::create_from_file("/nonexistent/face_detector.fkm");
  REQUIRE_FALSE(no_model);
  CHECK(std::string(no_model.status().message()).find("cannot open") != std::string::npos);
  // A model of another kind is refused by name.
  auto mesh = facekit::FaceDetector::create_from_file(test_util::weights_path("face_landmarks_detector.fkm"));
  REQUIRE_FALSE(mesh);
  CHECK(std::string(mesh.status().message()).find("face_landmarks") != std::string::npos);
  facekit::FaceDetectorOptions bad;
  bad.min_detection_confidence = 2.0f;
  auto d = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), bad);
  REQUIRE_FALSE(d);
  CHECK(std::string(d.status().message()).find("min_detection_confidence") != std::string::npos);
}
