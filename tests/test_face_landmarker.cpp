// FaceLandmarker behaviour: ROI and decoding rules, options, num_faces clipping, the strict
// presence test, no allocation per call, awkward images (small, face at the border, flat) and
// clear errors for wrong models and options.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "facekit/face_landmarker.hpp"
#include "test_util.hpp"

namespace {

facekit::FaceLandmarker make_landmarker(const facekit::FaceLandmarkerOptions& o = {}) {
  auto lm = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
  REQUIRE_MESSAGE(lm, lm.status().message() << " (run tools/fetch-models.sh)");
  return std::move(*lm);
}

facekit::Image load_shared(const std::string& name) {
  auto img = facekit::load_image(test_util::image_path(name));
  REQUIRE_MESSAGE(img, img.status().message());
  return std::move(*img);
}

/// The w x h window of `src` whose top-left is (x0, y0); pixels outside `src` are mid grey.
facekit::Image window(const facekit::Image& src, int x0, int y0, int w, int h) {
  facekit::Image out(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* d = out.pixels.data() + (std::size_t(y) * std::size_t(w) + std::size_t(x)) * 3;
      const int sx = x0 + x, sy = y0 + y;
      if (sx < 0 || sy < 0 || sx >= src.width || sy >= src.height) {
        d[0] = d[1] = d[2] = 128;
      } else {
        std::memcpy(d, src.pixels.data() + (std::size_t(sy) * std::size_t(src.width) + std::size_t(sx)) * 3, 3);
      }
    }
  return out;
}

/// Every landmark finite and every face's fields sane.
void check_defined(const facekit::FaceLandmarkerResult& r) {
  for (const facekit::FaceLandmarks& f : r.faces) {
    CHECK(f.presence > 0.5f);
    CHECK(f.presence <= 1.0f);
    CHECK(std::isfinite(f.roi.x_center));
    CHECK(f.roi.width > 0);
    CHECK(f.roi.height > 0);
    for (const auto& p : f.landmarks) REQUIRE((std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z)));
  }
}

}  // namespace

TEST_CASE("landmarker ROI: rotation from the right eye to the left eye, box x1.5, not squared") {
  // Level eyes: no rotation; centre from the box, sides scaled independently.
  const float right_eye[2] = {0.4f, 0.5f}, left_eye[2] = {0.6f, 0.5f};
  facekit::NormalizedRect r = facekit::face_landmarker_roi({0.3f, 0.2f, 0.4f, 0.2f}, right_eye, left_eye, 640, 480);
  CHECK(r.rotation == 0.0f);
  CHECK(r.x_center == doctest::Approx(0.5));
  CHECK(r.y_center == doctest::Approx(0.3));
  CHECK(r.width == doctest::Approx(0.6));
  CHECK(r.height == doctest::Approx(0.3));
  // Left eye straight below the right eye (a face turned clockwise by 90 degrees on screen):
  // rotation +pi/2, which turns the crop clockwise.
  const float below[2] = {0.4f, 0.7f};
  r = facekit::face_landmarker_roi({0.3f, 0.2f, 0.4f, 0.2f}, right_eye, below, 640, 480);
  CHECK(r.rotation == doctest::Approx(1.5707963));
  // The angle is measured in pixels: on a 2:1 image, normalised (0.1, 0.1) is 45 degrees * atan(1/2).
  const float diag[2] = {0.5f, 0.6f};
  r = facekit::face_landmarker_roi({0.3f, 0.2f, 0.4f, 0.2f}, right_eye, diag, 200, 100);
  CHECK(r.rotation == doctest::Approx(std::atan(0.5)));
  // The result always lies in [-pi, pi).
  const float left_of[2] = {0.2f, 0.5f};
  r = facekit::face_landmarker_roi({0.3f, 0.2f, 0.4f, 0.2f}, right_eye, left_of, 640, 480);
  CHECK(r.rotation == doctest::Approx(-3.14159265));
  // square_long (the tracking ROI of video mode) squares on the longer pixel side first.
  facekit::NormalizedRect s = facekit::scale_rect({0.5f, 0.5f, 0.25f, 0.5f, 0.0f}, 400, 100, 1.5f, 1.5f, true);
  CHECK(s.width * 400 == doctest::Approx(150));
  CHECK(s.height * 100 == doctest::Approx(150));
}

TEST_CASE("face mesh v2 decoding: crop pixels -> image, z scaled by the ROI width in image widths") {
  std::vector<float> t(facekit::kFaceMeshV2Landmarks * 3, 0.0f);
  t[0] = 0;  // crop top-left
  t[1] = 0;
  t[2] = 25.6f;
  t[3] = 128;  // crop centre
  t[4] = 128;
  t[5] = -12.8f;
  std::vector<facekit::NormalizedLandmark> out(facekit::kFaceMeshV2Landmarks);
  // Unrotated 200 x 100 px ROI centred at (300, 200) of a 600 x 400 image.
  facekit::decode_face_mesh_v2(t.data(), 256, 256, {300, 200, 200, 100, 0}, 600, 400, out.data());
  CHECK(out[0].x == doctest::Approx(200.0 / 600));
  CHECK(out[0].y == doctest::Approx(150.0 / 400));
  CHECK(out[0].z == doctest::Approx(0.1 * 200 / 600));
  CHECK(out[1].x == doctest::Approx(0.5));
  CHECK(out[1].y == doctest::Approx(0.5));
  CHECK(out[1].z == doctest::Approx(-0.05 * 200 / 600));
  // Turned by 90 degrees the crop's x axis runs down the image: z scales by w / H.
  facekit::decode_face_mesh_v2(t.data(), 256, 256, {300, 200, 200, 100, 1.5707964f}, 600, 400, out.data());
  CHECK(out[0].x == doctest::Approx((300.0 + 50) / 600));
  CHECK(out[0].y == doctest::Approx((200.0 - 100) / 400));
  CHECK(out[0].z == doctest::Approx(0.1 * 200 / 400));
  CHECK(facekit::face_presence(0.0f) == 0.5f);
  CHECK(facekit::face_presence(-200.0f) == 0.0f);
  CHECK(facekit::face_presence(200.0f) == 1.0f);
}

TEST_CASE("face landmarker: num_faces clips the detector's faces, best first") {
  // Two copies of the astronaut's head side by side (each face large enough for the detector).
  const facekit::Image head = window(load_shared("skimage_astronaut.png"), 150, 55, 150, 150);
  facekit::Image two(head.width * 2, head.height);
  for (int y = 0; y < head.height; ++y)
    for (int k = 0; k < 2; ++k)
      std::memcpy(two.pixels.data() + (std::size_t(y) * std::size_t(two.width) + std::size_t(k * head.width)) * 3,
                  head.pixels.data() + std::size_t(y) * std::size_t(head.width) * 3, std::size_t(head.width) * 3);
  facekit::FaceLandmarkerResult r;
  facekit::FaceLandmarker one = make_landmarker();
  REQUIRE(one.detect(two.view(), r));
  CHECK(r.faces.size() == 1);
  facekit::FaceLandmarkerOptions o;
  o.num_faces = 3;
  facekit::FaceLandmarker three = make_landmarker(o);
  REQUIRE(three.detect(two.view(), r));
  REQUIRE(r.faces.size() == 2);
  CHECK(r.faces[0].detection.score >= r.faces[1].detection.score);
  check_defined(r);
  // One face per half, the same face: the nose tips are half the width apart.
  const float dx = std::fabs(r.faces[0].landmarks[4].x - r.faces[1].landmarks[4].x);
  CHECK(dx == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("face landmarker: presence must be strictly above min_face_presence_confidence") {
  const facekit::Image img = load_shared("emotion_happy.png");
  facekit::FaceLandmarkerResult r;
  facekit::FaceLandmarker lm = make_landmarker();
  REQUIRE(lm.detect(img.view(), r));
  REQUIRE(r.faces.size() == 1);
  const float p = r.faces[0].presence;
  facekit::FaceLandmarkerOptions o;
  o.min_face_presence_confidence = p;  // equal: rejected
  facekit::FaceLandmarker strict = make_landmarker(o);
  REQUIRE(strict.detect(img.view(), r));
  CHECK(r.faces.empty());
  o.min_face_presence_confidence = std::nextafter(p, 0.0f);  // just below: kept
  facekit::FaceLandmarker loose = make_landmarker(o);
  REQUIRE(loose.detect(img.view(), r));
  CHECK(r.faces.size() == 1);
  // A stricter detector threshold than the face's score drops it before the landmark model.
  o = {};
  o.min_face_detection_confidence = 0.99f;
  facekit::FaceLandmarker picky = make_landmarker(o);
  REQUIRE(picky.detect(img.view(), r));
  CHECK(r.faces.empty());
}

TEST_CASE("face landmarker: a second detect() on the same image allocates nothing") {
  facekit::FaceLandmarker lm = make_landmarker();
  const facekit::Image img = load_shared("skimage_astronaut.png");
  facekit::FaceLandmarkerResult r;
  REQUIRE(lm.detect(img.view(), r));
  REQUIRE(r.faces.size() == 1);
  const facekit::FaceLandmarks first = r.faces[0];
  facekit::Status st;
  const long allocations = alloc_counter::count([&] { return lm.detect(img.view(), r); }, &st);
  REQUIRE(st);
  CHECK(allocations == 0);
  REQUIRE(r.faces.size() == 1);
  // Deterministic: the same image gives the same bits.
  CHECK(std::memcmp(&first.landmarks, &r.faces[0].landmarks, sizeof first.landmarks) == 0);
  CHECK(first.presence == r.faces[0].presence);
}

TEST_CASE("face landmarker: small images, faces at the border and flat images are well defined") {
  facekit::FaceLandmarkerOptions o;
  o.num_faces = 4;
  facekit::FaceMeshModel model = facekit::FaceMeshModel::v2;
  SUBCASE("Face Mesh V2") {}
  SUBCASE("Attention Mesh") { model = facekit::FaceMeshModel::attention; }
  o.landmark_model = model;
  CAPTURE(int(model));
  facekit::FaceLandmarker lm = make_landmarker(o);
  facekit::FaceLandmarkerResult r;
  const facekit::Image astro = load_shared("skimage_astronaut.png");  // face box ~(177, 82) 95 x 95

  SUBCASE("image smaller than the model's crop (256 or 192)") {
    const facekit::Image small = window(astro, 150, 55, 150, 150);
    REQUIRE(lm.detect(small.view(), r));
    REQUIRE(r.faces.size() == 1);  // the ROI (1.5x the box) reaches past every edge: replicated
    check_defined(r);
    const auto& nose = r.faces[0].landmarks[4];
    CHECK(nose.x > 0.2f);
    CHECK(nose.x < 0.8f);
    // Tiny images work and find nothing.
    for (int s : {1, 2, 7, 31}) {
      const facekit::Image tiny = window(astro, 200, 100, s, s);
      CAPTURE(s);
      REQUIRE(lm.detect(tiny.view(), r));
      check_defined(r);
    }
  }
  SUBCASE("face cut by each image edge") {
    int found = 0;
    // Windows that put the face's centre 10..30 px inside the left, top, right and bottom edge.
    const int cx = 225, cy = 130;
    const int wins[][4] = {{cx - 20, 0, 300, 300}, {cx - 10, 0, 300, 300}, {0, cy - 20, 512, 300},
                           {cx + 20 - 300, 0, 300, 300}, {0, cy + 30 - 200, 400, 200}};
    for (const auto& w : wins) {
      const facekit::Image img = window(astro, w[0], w[1], w[2], w[3]);
      CAPTURE(w[0]);
      CAPTURE(w[1]);
      REQUIRE(lm.detect(img.view(), r));
      check_defined(r);
      found += int(r.faces.size());
    }
    MESSAGE("faces found in " << found << " of 5 edge windows");
    CHECK(found >= 1);  // at least some half faces still pass: the replicate border path ran
  }
  SUBCASE("all black, all white, 1-pixel-wide") {
    for (uint8_t v : {uint8_t(0), uint8_t(255)}) {
      std::vector<uint8_t> px(640 * 480 * 4, v);
      CAPTURE(int(v));
      REQUIRE(lm.detect({px.data(), 640, 480, 640 * 4, facekit::PixelFormat::rgba8}, r));
      CHECK(r.faces.empty());
      REQUIRE(lm.detect({px.data(), 1, 480, 4, facekit::PixelFormat::rgba8}, r));
      CHECK(r.faces.empty());
    }
  }
  SUBCASE("pixel formats: BGR and RGBA views of the same picture give the same landmarks") {
    REQUIRE(lm.detect(astro.view(), r));
    REQUIRE(r.faces.size() == 1);
    const facekit::FaceLandmarks rgb = r.faces[0];
    std::vector<uint8_t> bgr(astro.pixels.size()), rgba(std::size_t(astro.width) * astro.height * 4);
    for (std::size_t i = 0; i < std::size_t(astro.width) * astro.height; ++i) {
      bgr[i * 3 + 0] = astro.pixels[i * 3 + 2];
      bgr[i * 3 + 1] = astro.pixels[i * 3 + 1];
      bgr[i * 3 + 2] = astro.pixels[i * 3 + 0];
      std::memcpy(&rgba[i * 4], &astro.pixels[i * 3], 3);
      rgba[i * 4 + 3] = 7;  // alpha is ignored
    }
    REQUIRE(lm.detect({bgr.data(), astro.width, astro.height, astro.width * 3, facekit::PixelFormat::bgr8}, r));
    REQUIRE(r.faces.size() == 1);
    CHECK(std::memcmp(&rgb.landmarks, &r.faces[0].landmarks, sizeof rgb.landmarks) == 0);
    REQUIRE(lm.detect({rgba.data(), astro.width, astro.height, astro.width * 4, facekit::PixelFormat::rgba8}, r));
    REQUIRE(r.faces.size() == 1);
    CHECK(std::memcmp(&rgb.landmarks, &r.faces[0].landmarks, sizeof rgb.landmarks) == 0);
  }
}

TEST_CASE("face landmarker: bad images, wrong models and bad options give clear errors") {
  facekit::FaceLandmarker lm = make_landmarker();
  facekit::FaceLandmarkerResult r;
  std::vector<uint8_t> px(64 * 64 * 3, 128);
  facekit::Status s = lm.detect({nullptr, 64, 64, 64 * 3, facekit::PixelFormat::rgb8}, r);
  CHECK_FALSE(s);
  CHECK(std::string(s.message()).find("null") != std::string::npos);
  s = lm.detect({px.data(), 64, 64, 10, facekit::PixelFormat::rgb8}, r);
  CHECK_FALSE(s);
  CHECK(std::string(s.message()).find("stride") != std::string::npos);
  CHECK(r.faces.empty());

  const std::string det = test_util::weights_path("face_detector.fkm");
  const std::string mesh = test_util::weights_path("face_landmarks_detector.fkm");
  auto message = [](const facekit::Expected<facekit::FaceLandmarker>& e) {
    REQUIRE_FALSE(e);
    return std::string(e.status().message());
  };
  // Swapped models: each is refused by kind, naming what was found and what was expected.
  std::string m = message(facekit::FaceLandmarker::create_from_files(det, det));
  CHECK(m.find("'face_detector'") != std::string::npos);
  CHECK(m.find("face_landmarks_v2") != std::string::npos);
  m = message(facekit::FaceLandmarker::create_from_files(mesh, mesh));
  CHECK(m.find("detector model") != std::string::npos);
  CHECK(m.find("face_landmarks_v2") != std::string::npos);
  m = message(facekit::FaceLandmarker::create_from_files(det, "/nonexistent/mesh.fkm"));
  CHECK(m.find("/nonexistent/mesh.fkm") != std::string::npos);
  m = message(facekit::FaceLandmarker::create(nullptr, nullptr));
  CHECK(m.find("null") != std::string::npos);

  facekit::FaceLandmarkerOptions o;
  o.num_faces = 0;
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o)).find("num_faces 0") !=
        std::string::npos);
  o = {};
  o.min_face_presence_confidence = -0.1f;
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o))
            .find("min_face_presence_confidence") != std::string::npos);
  o = {};
  o.min_face_detection_confidence = std::nanf("");
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o))
            .find("min_face_detection_confidence") != std::string::npos);
  o = {};
  o.min_tracking_confidence = 1.5f;
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o)).find("min_tracking_confidence") !=
        std::string::npos);

  // The landmark model must be the one landmark_model names, and the error says how to fix it.
  const std::string attention = test_util::weights_path("face_landmark_with_attention.fkm");
  const std::string short_range = test_util::weights_path("face_detection_short_range.fkm");
  o = {};
  m = message(facekit::FaceLandmarker::create_from_files(det, attention, o));
  CHECK(m.find("'face_landmarks_attention'") != std::string::npos);
  CHECK(m.find("landmark_model = attention") != std::string::npos);
  o.landmark_model = facekit::FaceMeshModel::attention;
  m = message(facekit::FaceLandmarker::create_from_files(short_range, mesh, o));
  CHECK(m.find("'face_landmarks_v2'") != std::string::npos);
  CHECK(m.find("landmark_model = v2") != std::string::npos);
  m = message(facekit::FaceLandmarker::create_from_files(attention, attention, o));
  CHECK(m.find("detector model") != std::string::npos);
  o.landmark_model = static_cast<facekit::FaceMeshModel>(7);
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o)).find("landmark_model 7") !=
        std::string::npos);
  o = {};
  o.running_mode = static_cast<facekit::RunningMode>(3);
  CHECK(message(facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o)).find("running_mode 3") !=
        std::string::npos);
}

TEST_CASE("face landmarker: each running mode refuses the other's call; video timestamps must increase") {
  std::vector<uint8_t> px(64 * 64 * 3, 128);
  const facekit::ImageView grey{px.data(), 64, 64, 64 * 3, facekit::PixelFormat::rgb8};
  facekit::FaceLandmarkerResult r;
  for (facekit::FaceMeshModel model : {facekit::FaceMeshModel::v2, facekit::FaceMeshModel::attention}) {
    CAPTURE(int(model));
    facekit::FaceLandmarkerOptions o;
    o.landmark_model = model;
    facekit::FaceLandmarker image_lm = make_landmarker(o);
    facekit::Status s = image_lm.detect_for_video(grey, 0, r);
    REQUIRE_FALSE(s);
    CHECK(std::string(s.message()).find("running_mode video") != std::string::npos);

    o.running_mode = facekit::RunningMode::video;
    facekit::FaceLandmarker lm = make_landmarker(o);
    s = lm.detect(grey, r);
    REQUIRE_FALSE(s);
    CHECK(std::string(s.message()).find("running_mode image") != std::string::npos);
    REQUIRE(lm.detect_for_video(grey, 5, r));
    CHECK(lm.detector_ran());
    for (int64_t bad : {int64_t(5), int64_t(4)}) {
      s = lm.detect_for_video(grey, bad, r);
      REQUIRE_FALSE(s);
      CHECK(std::string(s.message()).find("not greater than the previous frame's 5 ms") != std::string::npos);
    }
    REQUIRE(lm.detect_for_video(grey, 6, r));
    // A bad frame is refused before it touches the tracking state.
    s = lm.detect_for_video({nullptr, 64, 64, 64 * 3, facekit::PixelFormat::rgb8}, 7, r);
    CHECK_FALSE(s);
    lm.reset_tracking();
    REQUIRE(lm.detect_for_video(grey, 0, r));  // after a reset time may start again
    CHECK_FALSE(lm.detect_for_video(grey, INT64_MAX, r));
  }
}

TEST_CASE("face landmarker video: several faces are tracked, and fresh detections merge with tracked faces") {
  // Two copies of the astronaut side by side. num_faces 2: both found on the first frame, then
  // tracked (no detector). num_faces 3: fewer tracked than wanted, so the detector runs on every
  // frame, and the association must merge each fresh detection with the tracked face it overlaps
  // (IoU > min_tracking_confidence) instead of returning it twice.
  const facekit::Image astro = load_shared("skimage_astronaut.png");
  facekit::Image two(2 * 300, 300);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 600; ++x)
      std::memcpy(two.pixels.data() + (std::size_t(y) * 600 + std::size_t(x)) * 3,
                  astro.pixels.data() + (std::size_t(y) * std::size_t(astro.width) + std::size_t(75 + x % 300)) * 3, 3);
  for (facekit::FaceMeshModel model : {facekit::FaceMeshModel::v2, facekit::FaceMeshModel::attention}) {
    for (int num_faces : {2, 3}) {
      CAPTURE(int(model));
      CAPTURE(num_faces);
      facekit::FaceLandmarkerOptions o;
      o.running_mode = facekit::RunningMode::video;
      o.landmark_model = model;
      o.num_faces = num_faces;
      facekit::FaceLandmarker lm = make_landmarker(o);
      facekit::FaceLandmarkerResult r;
      for (int k = 0; k < 4; ++k) {
        CAPTURE(k);
        REQUIRE(lm.detect_for_video(two.view(), 33 * k, r));
        REQUIRE(r.faces.size() == 2);
        CHECK(lm.detector_ran() == (k == 0 || num_faces == 3));
        check_defined(r);
        // One face in each half.
        const float x0 = r.faces[0].landmarks[4].x, x1 = r.faces[1].landmarks[4].x;
        CHECK(std::min(x0, x1) < 0.5f);
        CHECK(std::max(x0, x1) > 0.5f);
      }
    }
  }
}
