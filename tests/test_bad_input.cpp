// Bad input at the API (issue 18 item 5), beside what test_face_detector.cpp and
// test_face_landmarker.cpp already check (null pixels, stride, swapped models, the landmarker's
// confidences): each gives a clear Status or the documented result, never a crash.
//   - degenerate but valid images (1x1, 1xN, Nx1, 16384x16, blank, decoded from a file) have no face;
//   - zero and negative sizes, negative strides, in every entry point and running mode;
//   - options out of range: num_faces, confidences (outside [0, 1], NaN), num_threads;
//   - models of the wrong kind in every slot;
//   - a model file changed on disk after it was loaded does not change the loaded model.
#include <doctest/doctest.h>

#include <stb_image_write.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "facekit/face_detector.hpp"
#include "facekit/face_landmarker.hpp"
#include "test_util.hpp"

namespace fk = facekit;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

fk::FaceDetector make_detector(const fk::FaceDetectorOptions& o = {}) {
  auto d = fk::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), o);
  REQUIRE_MESSAGE(d, d.status().message() << " (" << test_util::kFetchModels << ")");
  return std::move(*d);
}

fk::FaceLandmarker make_landmarker(const fk::FaceLandmarkerOptions& o = {}) {
  auto lm = fk::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
  REQUIRE_MESSAGE(lm, lm.status().message() << " (" << test_util::kFetchModels << ")");
  return std::move(*lm);
}

template <class T>
std::string error_of(const fk::Expected<T>& e) {
  return e ? std::string() : std::string(e.status().message());
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<uint8_t> encode_png(const fk::Image& img) {
  std::vector<uint8_t> out;
  auto put = [](void* ctx, void* data, int size) {
    auto* o = static_cast<std::vector<uint8_t>*>(ctx);
    o->insert(o->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  REQUIRE(stbi_write_png_to_func(put, &out, img.width, img.height, 3, img.pixels.data(), int(img.stride())) != 0);
  return out;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) {
    std::random_device rd;
    path = (std::filesystem::temp_directory_path() / ("facekit_bad_input_" + std::to_string(rd()) + "_" + name))
               .string();
  }
  ~TempFile() { std::remove(path.c_str()); }
};

void copy_file(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("bad input: degenerate images are valid and have no face") {
  fk::FaceDetector det = make_detector();
  fk::FaceLandmarker lm = make_landmarker();
  fk::FaceLandmarkerOptions vo;
  vo.running_mode = fk::RunningMode::video;
  fk::FaceLandmarker video = make_landmarker(vo);
  fk::FaceDetectorResult dr;
  fk::FaceLandmarkerResult lr;
  struct Size {
    int w, h;
  };
  const Size sizes[] = {{1, 1}, {1, 777}, {777, 1}, {16384, 16}, {16, 16384}, {2, 3}};
  std::vector<uint8_t> px(std::size_t(16384) * 16 * 4, 200);
  int64_t t = 0;
  for (const Size& s : sizes) {
    for (fk::PixelFormat f : {fk::PixelFormat::rgb8, fk::PixelFormat::rgba8}) {
      CAPTURE(s.w);
      CAPTURE(s.h);
      const fk::ImageView v{px.data(), s.w, s.h, std::ptrdiff_t(s.w) * fk::channels_of(f), f};
      fk::Status st = det.detect(v, dr);
      REQUIRE_MESSAGE(st, st.message());
      CHECK(dr.detections.empty());
      st = lm.detect(v, lr);
      REQUIRE_MESSAGE(st, st.message());
      CHECK(lr.faces.empty());
      st = video.detect_for_video(v, t += 33, lr);
      REQUIRE_MESSAGE(st, st.message());
      CHECK(lr.faces.empty());
    }
  }
  // The largest accepted side, FACEKIT_MAX_IMAGE_DIM, is valid; one more is not.
  const fk::ImageView longest{px.data(), FACEKIT_MAX_IMAGE_DIM, 2, FACEKIT_MAX_IMAGE_DIM * 3, fk::PixelFormat::rgb8};
  CHECK(det.detect(longest, dr));
  const fk::ImageView too_long{px.data(), 2, FACEKIT_MAX_IMAGE_DIM + 1, 6, fk::PixelFormat::rgb8};
  CHECK(contains(det.detect(too_long, dr).message(), "FACEKIT_MAX_IMAGE_DIM"));

  // From files: a 1x1 image and a blank (one colour) image decode and have no face.
  fk::Image one(1, 1), blank(320, 240);
  std::fill(one.pixels.begin(), one.pixels.end(), uint8_t(90));
  std::fill(blank.pixels.begin(), blank.pixels.end(), uint8_t(255));
  for (const fk::Image* img : {&one, &blank}) {
    const std::vector<uint8_t> png = encode_png(*img);
    auto decoded = fk::load_image_from_memory(png.data(), png.size());
    REQUIRE_MESSAGE(decoded, decoded.status().message());
    CHECK(decoded->pixels == img->pixels);
    REQUIRE(det.detect(decoded->view(), dr));
    CHECK(dr.detections.empty());
    REQUIRE(lm.detect(decoded->view(), lr));
    CHECK(lr.faces.empty());
  }
}

TEST_CASE("bad input: zero and negative sizes and short strides in every entry point") {
  fk::FaceDetector det = make_detector();
  fk::FaceLandmarker lm = make_landmarker();
  fk::FaceLandmarkerOptions vo;
  vo.running_mode = fk::RunningMode::video;
  fk::FaceLandmarker video = make_landmarker(vo);
  std::vector<uint8_t> px(64 * 64 * 4, 128);
  struct Bad {
    fk::ImageView view;
    const char* word;
  };
  const Bad bad[] = {
      {{nullptr, 64, 64, 64 * 3, fk::PixelFormat::rgb8}, "null"},
      {{px.data(), 0, 64, 64 * 3, fk::PixelFormat::rgb8}, "width 0"},
      {{px.data(), -5, 64, 64 * 3, fk::PixelFormat::rgb8}, "width -5"},
      {{px.data(), 64, 0, 64 * 3, fk::PixelFormat::rgb8}, "height 0"},
      {{px.data(), 64, -64, 64 * 3, fk::PixelFormat::rgb8}, "height -64"},
      {{px.data(), 0, 0, 0, fk::PixelFormat::rgb8}, "width 0"},
      {{px.data(), 64, 64, 64 * 3 - 1, fk::PixelFormat::rgb8}, "stride 191"},
      {{px.data(), 64, 64, 64 * 3, fk::PixelFormat::rgba8}, "stride 192"},
      {{px.data(), 64, 64, -64 * 3, fk::PixelFormat::rgb8}, "stride -192"},
      {{px.data(), 64, 64, 0, fk::PixelFormat::bgr8}, "stride 0"},
      {{px.data(), 64, 64, 64 * 3, fk::PixelFormat(9)}, "pixel format 9"},
  };
  fk::FaceDetectorResult dr;
  fk::FaceLandmarkerResult lr;
  int64_t t = 0;
  for (const Bad& b : bad) {
    CAPTURE(std::string(b.word));
    const std::string d = det.detect(b.view, dr).message();
    CHECK_MESSAGE(contains(d, b.word), d);
    const std::string l = lm.detect(b.view, lr).message();
    CHECK_MESSAGE(contains(l, b.word), l);
    CHECK(lr.faces.empty());
    const std::string v = video.detect_for_video(b.view, ++t, lr).message();
    CHECK_MESSAGE(contains(v, b.word), v);
    CHECK_FALSE(fk::to_rgb_image(b.view));
  }
  // A refused frame leaves the timeline where it was: the next good frame continues it.
  const fk::ImageView good{px.data(), 64, 64, 64 * 3, fk::PixelFormat::rgb8};
  CHECK(video.detect_for_video(good, t + 1, lr));
}

TEST_CASE("bad input: video timestamps going backwards, repeated or negative are refused") {
  fk::FaceLandmarkerOptions vo;
  vo.running_mode = fk::RunningMode::video;
  fk::FaceLandmarker video = make_landmarker(vo);
  std::vector<uint8_t> px(64 * 64 * 3, 128);
  const fk::ImageView grey{px.data(), 64, 64, 64 * 3, fk::PixelFormat::rgb8};
  fk::FaceLandmarkerResult r;
  const std::string neg = video.detect_for_video(grey, -1, r).message();
  CHECK_MESSAGE(contains(neg, "timestamp -1 ms is outside"), neg);
  REQUIRE(video.detect_for_video(grey, 1000, r));
  for (int64_t back : {int64_t(999), int64_t(0), int64_t(1000), int64_t(-5), INT64_MIN}) {
    CAPTURE(back);
    const std::string m = video.detect_for_video(grey, back, r).message();
    CHECK_MESSAGE(contains(m, "not greater than the previous frame's 1000 ms"), m);
    CHECK(r.faces.empty());
  }
  CHECK(video.detect_for_video(grey, 1001, r));
}

TEST_CASE("bad input: options out of range name the option and value") {
  const std::string det_path = test_util::weights_path("face_detector.fkm");
  auto det_error = [&](const fk::FaceDetectorOptions& o) {
    return error_of(fk::FaceDetector::create_from_file(det_path, o));
  };
  auto lm_error = [&](const fk::FaceLandmarkerOptions& o) {
    return error_of(fk::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o));
  };
  for (float bad : {-0.01f, 1.01f, kNaN, std::numeric_limits<float>::infinity()}) {
    CAPTURE(bad);
    fk::FaceDetectorOptions d;
    d.min_detection_confidence = bad;
    CHECK(contains(det_error(d), "min_detection_confidence"));
    d = {};
    d.min_suppression_threshold = bad;
    CHECK(contains(det_error(d), "min_suppression_threshold"));
    fk::FaceLandmarkerOptions l;
    l.min_face_detection_confidence = bad;
    CHECK(contains(lm_error(l), "min_face_detection_confidence"));
    l = {};
    l.min_face_presence_confidence = bad;
    CHECK(contains(lm_error(l), "min_face_presence_confidence"));
    l = {};
    l.min_tracking_confidence = bad;
    CHECK(contains(lm_error(l), "min_tracking_confidence"));
  }
  // The ends of [0, 1] are valid.
  fk::FaceDetectorOptions edge;
  edge.min_detection_confidence = 1.0f;
  edge.min_suppression_threshold = 0.0f;
  CHECK(fk::FaceDetector::create_from_file(det_path, edge));
  for (int n : {0, -1, -1000}) {
    fk::FaceLandmarkerOptions l;
    l.num_faces = n;
    CHECK(contains(lm_error(l), "num_faces " + std::to_string(n) + " must be at least 1"));
  }
  for (int threads : {0, -2, 100000}) {
    CAPTURE(threads);
    fk::FaceDetectorOptions d;
    d.num_threads = threads;
    CHECK(contains(det_error(d), "num_threads " + std::to_string(threads) + " is outside"));
    fk::FaceLandmarkerOptions l;
    l.num_threads = threads;
    CHECK(contains(lm_error(l), "num_threads " + std::to_string(threads) + " is outside"));
  }
  // FaceDetector's max_faces: 0 keeps no face, a negative count keeps all (as documented).
  auto astro = fk::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE(astro);
  fk::FaceDetectorOptions d;
  d.max_faces = 0;
  fk::FaceDetector none = make_detector(d);
  fk::FaceDetectorResult r;
  REQUIRE(none.detect(astro->view(), r));
  CHECK(r.detections.empty());
  d.max_faces = -7;
  fk::FaceDetector all = make_detector(d);
  REQUIRE(all.detect(astro->view(), r));
  CHECK(r.detections.size() == 1);
}

TEST_CASE("bad input: a model of the wrong kind in any slot is refused naming the kind") {
  auto load = [](const char* name) {
    auto m = fk::Model::load_file(test_util::weights_path(name));
    REQUIRE_MESSAGE(m, m.status().message() << " (" << test_util::kFetchModels << ")");
    return std::make_shared<const fk::Model>(std::move(*m));
  };
  const auto detector = load("face_detector.fkm");
  const auto mesh = load("face_landmarks_detector.fkm");
  const auto blendshapes = load("face_blendshapes.fkm");
  const auto geometry = load("face_geometry.fkm");
  const auto attention = load("face_landmark_with_attention.fkm");
  for (const auto& wrong : {mesh, blendshapes, geometry, attention}) {
    CAPTURE(wrong->kind());
    const std::string m = error_of(fk::FaceDetector::create(wrong));
    CHECK_MESSAGE(contains(m, "'" + wrong->kind() + "'"), m);
    const std::string l = error_of(fk::FaceLandmarker::create(wrong, mesh));
    CHECK_MESSAGE(contains(l, "detector model"), l);
  }
  for (const auto& wrong : {detector, blendshapes, geometry}) {
    CAPTURE(wrong->kind());
    const std::string l = error_of(fk::FaceLandmarker::create(detector, wrong));
    CHECK_MESSAGE(contains(l, "'" + wrong->kind() + "'"), l);
  }
  fk::FaceLandmarkerOptions o;
  o.output_face_blendshapes = true;
  o.output_facial_transformation_matrixes = true;
  for (const auto& wrong : {detector, mesh, geometry}) {
    CAPTURE(wrong->kind());
    const std::string l = error_of(fk::FaceLandmarker::create({detector, mesh, wrong, geometry}, o));
    CHECK_MESSAGE(contains(l, "'" + wrong->kind() + "'"), l);
  }
  for (const auto& wrong : {detector, mesh, blendshapes}) {
    CAPTURE(wrong->kind());
    const std::string l = error_of(fk::FaceLandmarker::create({detector, mesh, blendshapes, wrong}, o));
    CHECK_MESSAGE(contains(l, "'" + wrong->kind() + "'"), l);
  }
  CHECK(fk::FaceLandmarker::create({detector, mesh, blendshapes, geometry}, o));
}

TEST_CASE("bad input: a model file changed on disk after loading leaves the loaded model as it was") {
  // Model::load_file copies the file into memory (no memory map), so later writes to the file,
  // or its removal, cannot reach the weights.
  TempFile file("face_detector.fkm");
  copy_file(test_util::weights_path("face_detector.fkm"), file.path);
  auto loaded = fk::Model::load_file(file.path);
  REQUIRE_MESSAGE(loaded, loaded.status().message());
  auto model = std::make_shared<const fk::Model>(std::move(*loaded));
  auto det = fk::FaceDetector::create(model);
  REQUIRE_MESSAGE(det, det.status().message());
  auto astro = fk::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE(astro);
  fk::FaceDetectorResult before, after;
  REQUIRE(det->detect(astro->view(), before));
  REQUIRE(before.detections.size() == 1);

  auto same = [&](const char* what) {
    CAPTURE(std::string(what));
    REQUIRE(det->detect(astro->view(), after));
    REQUIRE(after.detections.size() == before.detections.size());
    CHECK(std::memcmp(&after.detections[0].relative_box, &before.detections[0].relative_box,
                      sizeof before.detections[0].relative_box) == 0);
    CHECK(after.detections[0].score == before.detections[0].score);
    CHECK(model->kind() == "face_detector");
  };
  // Every byte overwritten in place (same size, same inode).
  {
    std::fstream f(file.path, std::ios::in | std::ios::out | std::ios::binary);
    const std::vector<char> junk(std::filesystem::file_size(file.path), '\x5a');
    f.write(junk.data(), std::streamsize(junk.size()));
  }
  same("overwritten");
  // Truncated to nothing, then replaced by another model, then removed.
  std::ofstream(file.path, std::ios::trunc).close();
  same("truncated");
  copy_file(test_util::weights_path("face_landmarks_detector.fkm"), file.path);
  same("replaced");
  std::remove(file.path.c_str());
  same("removed");
  // Loading it again reads what is there now.
  CHECK(contains(error_of(fk::Model::load_file(file.path)), "cannot open"));
}

#ifdef FACEKIT_CLI
TEST_CASE("bad input: --max-pixels refuses larger images in detect, landmarks and track; the rest still run") {
  const std::string big = test_util::image_path("t1.jpg");  // 1280 x 886
  const std::string small = test_util::image_path("skimage_astronaut.png");  // 512 x 512
  const std::string cli = std::string(FACEKIT_CLI);
  for (const char* cmd : {" detect ", " landmarks ", " track "}) {
    CAPTURE(std::string(cmd));
    std::string out;
    const int status = test_util::run_command(
        cli + cmd + big + " " + small + " --models " + FACEKIT_WEIGHTS_DIR + " --max-pixels 300000 2>&1", &out);
    CHECK(status != 0);
    CHECK_MESSAGE(contains(out, "image '" + big + "': JPEG header claims 1280x886 = 1134080 pixels, more than the "
                                "limit of 300000 (max_pixels)"),
                  out);
    CHECK_MESSAGE(contains(out, "skimage_astronaut.png"), out);  // the other image still ran
    out.clear();
    CHECK(test_util::run_command(cli + cmd + small + " --models " + FACEKIT_WEIGHTS_DIR + " --max-pixels 262144 2>&1",
                                 &out) == 0);
    out.clear();
    CHECK(test_util::run_command(cli + cmd + small + " --max-pixels -5 2>&1", &out) != 0);
    CHECK_MESSAGE(contains(out, "--max-pixels: '-5' is not a pixel count"), out);
  }
}
#endif
