// The firmware-style build (issue 17, item 3): caller arena memory, models from bytes used in
// place, the --emit-header header, and examples/embedded_detector.cpp itself (built with
// -fno-exceptions -fno-rtti, FACEKIT_NO_STDIO, FACEKIT_NO_STB_IMAGE), whose faces on the raw
// test frame must be MediaPipe's (tests/data/golden) and this build's own on the same pixels.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "facekit/face_detector.hpp"
#include "facekit/face_landmarker.hpp"
#include "facekit/runtime/cpu_backend.hpp"
#include "test_util.hpp"
#if defined(FACEKIT_HAVE_CONVERTER)
#include "convert/model_header.hpp"
#endif

namespace {

constexpr int kFrameSide = 112;
const char* const kFrame = "embedded/Tom_Hanks_54745_112x112.rgb";

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), path << ": cannot open");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> raw_frame() {
  std::vector<uint8_t> px = read_bytes(test_util::data_path(kFrame));
  REQUIRE_MESSAGE(px.size() == std::size_t(kFrameSide * kFrameSide * 3),
                  kFrame << " is " << px.size() << " bytes (python3 tests/gen/make_raw_frame.py)");
  return px;
}

facekit::ImageView frame_view(const std::vector<uint8_t>& px) {
  return facekit::ImageView{px.data(), kFrameSide, kFrameSide, kFrameSide * 3, facekit::PixelFormat::rgb8};
}

/// A model file's bytes in 64-byte aligned memory, as a firmware image would hold them.
struct AlignedFile {
  std::vector<unsigned char> storage;
  unsigned char* data = nullptr;
  std::size_t size = 0;
  explicit AlignedFile(const std::string& path) {
    const std::vector<uint8_t> b = read_bytes(path);
    storage.resize(b.size() + 64);
    data = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64) % 64;
    std::memcpy(data, b.data(), b.size());
    size = b.size();
  }
};

std::string detector_path() {
  const std::string p = test_util::weights_path("face_detector.fkm");
  REQUIRE_MESSAGE(std::filesystem::exists(p), p << " is missing: " << test_util::kFetchModels);
  return p;
}

/// 64-byte aligned scratch of `n` bytes.
struct Buffer {
  std::vector<unsigned char> storage;
  unsigned char* data;
  explicit Buffer(std::size_t n) : storage(n + 64) {
    data = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64) % 64;
  }
};

}  // namespace

TEST_CASE("embedded: the raw test frame holds stb_image's pixels of its PNG") {
  auto png = facekit::load_image(test_util::image_path("Tom_Hanks_54745.png"));
  REQUIRE_MESSAGE(png, std::string(png.status().message()));
  const std::vector<uint8_t> raw = raw_frame();
  REQUIRE(png->width == kFrameSide);
  REQUIRE(png->height == kFrameSide);
  CHECK(png->pixels == raw);
}

TEST_CASE("embedded: Session::create_in runs in caller memory and refuses memory that does not fit") {
  auto model = facekit::Model::load_file(detector_path());
  REQUIRE_MESSAGE(model, std::string(model.status().message()));
  auto shared = std::make_shared<const facekit::Model>(std::move(*model));
  auto program = facekit::Program::create(shared);
  REQUIRE(program);
  const std::size_t need = (*program)->arena_size();
  REQUIRE(need > 0);
  CHECK(facekit::FaceDetector::arena_size(*shared) == need);
  Buffer buf(need + 64);

  auto small = facekit::Session::create_in(*program, buf.data, need - 1);
  REQUIRE_FALSE(small);
  const std::string msg = small.status().message();
  CHECK_MESSAGE(msg.find(std::to_string(need - 1) + " bytes") != std::string::npos, msg);
  CHECK_MESSAGE(msg.find("needs " + std::to_string(need)) != std::string::npos, msg);

  auto misaligned = facekit::Session::create_in(*program, buf.data + 4, need);
  REQUIRE_FALSE(misaligned);
  CHECK_MESSAGE(std::string(misaligned.status().message()).find("64-byte aligned") != std::string::npos,
                std::string(misaligned.status().message()));
  CHECK_FALSE(facekit::Session::create_in(*program, nullptr, need));

  // Exactly arena_size() bytes are enough, and the outputs are the allocating session's.
  auto exact = facekit::Session::create_in(*program, buf.data, need);
  REQUIRE_MESSAGE(exact, std::string(exact.status().message()));
  facekit::Session owned(*program);
  for (facekit::BackendSession* s : {static_cast<facekit::BackendSession*>(exact->get()),
                                     static_cast<facekit::BackendSession*>(&owned)}) {
    const facekit::TensorInfo& in = s->input_info(0);
    for (std::size_t i = 0; i < in.elements(); ++i) s->input(0)[i] = float(int(i % 255) - 127) / 128.0f;
  }
  facekit::Status st;
  CHECK(alloc_counter::count([&] { return (*exact)->run(); }, &st) == 0);
  REQUIRE(st);
  REQUIRE(owned.run());
  for (int o = 0; o < 2; ++o) {
    const std::size_t n = owned.output_info(o).elements();
    CHECK(std::memcmp((*exact)->output(o), owned.output(o), n * sizeof(float)) == 0);
  }
}

TEST_CASE("embedded: FaceDetector from bytes in place, in a caller arena, allocates nothing per frame") {
  AlignedFile file(detector_path());
  auto model = facekit::Model::from_bytes(file.data, file.size);
  REQUIRE_MESSAGE(model, std::string(model.status().message()));
  const std::size_t need = facekit::FaceDetector::arena_size(*model);
  // In place: the constants point into the caller's bytes.
  bool in_place = false;
  for (int t = 0; t < model->tensor_count(); ++t) {
    const facekit::TensorInfo& ti = model->tensor(uint32_t(t));
    if (ti.is_constant()) {
      const auto* p = static_cast<const unsigned char*>(ti.data);
      in_place = p >= file.data && p + ti.size_bytes <= file.data + file.size;
      if (!in_place) break;
    }
  }
  CHECK(in_place);

  Buffer arena(need);
  facekit::FaceDetectorOptions options;
  options.max_faces = 4;
  auto small = facekit::FaceDetector::create_from_bytes(file.data, file.size, options, {arena.data, need / 2});
  REQUIRE_FALSE(small);
  const std::string msg = small.status().message();
  MESSAGE("too small: " << msg);
  CHECK(msg.find(std::to_string(need / 2) + " bytes") != std::string::npos);
  CHECK(msg.find("needs " + std::to_string(need)) != std::string::npos);

  auto detector = facekit::FaceDetector::create_from_bytes(file.data, file.size, options, {arena.data, need});
  REQUIRE_MESSAGE(detector, std::string(detector.status().message()));
  auto reference = facekit::FaceDetector::create_from_file(detector_path(), options);
  REQUIRE(reference);

  const std::vector<uint8_t> px = raw_frame();
  facekit::FaceDetectorResult result, expected;
  result.detections.reserve(4);
  REQUIRE(reference->detect(frame_view(px), expected));
  REQUIRE(expected.detections.size() == 1);
  facekit::Status st;
  // The very first detection already allocates nothing: the start-up reserved everything.
  const long n = alloc_counter::count([&] { return detector->detect(frame_view(px), result); }, &st);
  REQUIRE(st);
  CHECK(n == 0);
  REQUIRE(result.detections.size() == expected.detections.size());
  CHECK(result.detections[0].score == expected.detections[0].score);
  CHECK(result.detections[0].relative_box == expected.detections[0].relative_box);
}

#if defined(FACEKIT_HAVE_CONVERTER)
TEST_CASE("embedded: facekit convert --emit-header writes the .fkm bytes, aligned, and the arena size") {
  const std::string fkm = detector_path();
  char tmpl[] = "/tmp/facekit_emit_header_XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  std::string written;
  const facekit::Status s = facekit::convert::write_model_header(fkm, dir, &written);
  REQUIRE_MESSAGE(s, std::string(s.message()));
  CHECK(written == dir + "/face_detector_fkm.hpp");
  std::ifstream f(written);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::filesystem::remove_all(dir);

  CHECK(text.find("alignas(64) inline constexpr unsigned char face_detector_fkm[") != std::string::npos);
  // The array's values, back to bytes.
  const std::size_t open = text.find("= {\n");
  const std::size_t close = text.find("};", open);
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  std::vector<uint8_t> bytes;
  unsigned v = 0;
  bool in_number = false;
  for (std::size_t i = open + 4; i < close; ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      v = v * 10 + unsigned(c - '0');
      in_number = true;
    } else if (in_number) {
      REQUIRE(v < 256);
      bytes.push_back(uint8_t(v));
      v = 0;
      in_number = false;
    }
  }
  CHECK(bytes == read_bytes(fkm));
  auto model = facekit::Model::load_file(fkm);
  REQUIRE(model);
  const std::string arena_line =
      "inline constexpr std::size_t face_detector_arena_size = " + std::to_string(facekit::FaceDetector::arena_size(*model)) + ";";
  CHECK_MESSAGE(text.find(arena_line) != std::string::npos, arena_line);
  CHECK(facekit::convert::header_symbol("dir/2nd-model.v1.fkm") == "_2nd_model_v1");
}
#endif

#if defined(FACEKIT_EMBEDDED_EXAMPLE)
TEST_CASE("embedded: the firmware-style example finds MediaPipe's face and allocates nothing after start-up") {
  std::string out;
  const int rc = test_util::run_command(std::string(FACEKIT_EMBEDDED_EXAMPLE) + " 2>&1", &out);
  MESSAGE(out);
  REQUIRE(rc == 0);
  CHECK(out.find("after start-up: 0 heap allocations") != std::string::npos);
  CHECK(out.find("refused: ") != std::string::npos);

  struct Face {
    int box[4];
    float score;
    float kp[6][2];
  };
  std::vector<Face> faces;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("face ", 0) != 0) continue;
    Face f{};
    int idx = 0;
    const int got = std::sscanf(line.c_str(),
                                "face %d: box %d %d %d %d score %f keypoints %f %f %f %f %f %f %f %f %f %f %f %f", &idx,
                                &f.box[0], &f.box[1], &f.box[2], &f.box[3], &f.score, &f.kp[0][0], &f.kp[0][1],
                                &f.kp[1][0], &f.kp[1][1], &f.kp[2][0], &f.kp[2][1], &f.kp[3][0], &f.kp[3][1],
                                &f.kp[4][0], &f.kp[4][1], &f.kp[5][0], &f.kp[5][1]);
    REQUIRE_MESSAGE(got == 18, line);
    faces.push_back(f);
  }
  REQUIRE(faces.size() == 1);
  const Face& f = faces[0];

  // MediaPipe Tasks' FaceDetector on the PNG's pixels (the same bytes: the first test case).
  std::ifstream gf(test_util::data_path("golden/Tom_Hanks_54745.json"));
  REQUIRE(gf.good());
  const nlohmann::json g = nlohmann::json::parse(gf).at("detector").at("detections");
  REQUIRE(g.size() == 1);
  const nlohmann::json& bb = g[0].at("boundingBox");
  const int gb[4] = {bb.at("originX"), bb.at("originY"), bb.at("width"), bb.at("height")};
  const double ix = std::max(0, std::min(f.box[0] + f.box[2], gb[0] + gb[2]) - std::max(f.box[0], gb[0]));
  const double iy = std::max(0, std::min(f.box[1] + f.box[3], gb[1] + gb[3]) - std::max(f.box[1], gb[1]));
  const double iou = ix * iy / (double(f.box[2]) * f.box[3] + double(gb[2]) * gb[3] - ix * iy);
  double kp_err = 0;
  for (int k = 0; k < 6; ++k)
    kp_err = std::max(kp_err, std::hypot((f.kp[k][0] - g[0].at("keypoints")[k][0].get<double>()) * kFrameSide,
                                         (f.kp[k][1] - g[0].at("keypoints")[k][1].get<double>()) * kFrameSide));
  kp_err /= gb[2];
  MESSAGE("embedded example vs MediaPipe: IoU " << iou << ", keypoint error " << kp_err << " box widths, score "
                                                << f.score << " vs " << g[0].at("score").get<double>());
  // The bounds of the detector's golden test (test_face_detector_golden.cpp).
  CHECK(iou >= 0.98);
  CHECK(kp_err <= 0.01);
  CHECK(std::fabs(f.score - g[0].at("score").get<double>()) <= 0.01);

  // This build's FaceDetector on the same raw pixels: the same kernels, so the same face (to the
  // 6 decimals printed).
  auto detector = facekit::FaceDetector::create_from_file(detector_path());
  REQUIRE(detector);
  const std::vector<uint8_t> px = raw_frame();
  facekit::FaceDetectorResult r;
  REQUIRE(detector->detect(frame_view(px), r));
  REQUIRE(r.detections.size() == 1);
  const facekit::Detection& d = r.detections[0];
  CHECK(d.bounding_box.origin_x == f.box[0]);
  CHECK(d.bounding_box.origin_y == f.box[1]);
  CHECK(d.bounding_box.width == f.box[2]);
  CHECK(d.bounding_box.height == f.box[3]);
  CHECK(std::fabs(d.score - f.score) <= 2e-6);
  for (int k = 0; k < 6; ++k) {
    CHECK(std::fabs(d.keypoints[std::size_t(k)].x - f.kp[k][0]) <= 2e-6);
    CHECK(std::fabs(d.keypoints[std::size_t(k)].y - f.kp[k][1]) <= 2e-6);
  }
}
#endif

#if defined(FACEKIT_EMBEDDED_EXAMPLE_MISSING)
TEST_CASE("embedded: the firmware-style example is built") {
  FAIL("examples/embedded_detector.cpp was left out: weights/face_detector.fkm was missing when CMake configured ("
       << test_util::kFetchModels << ", then configure again: cmake -S . -B build)");
}
#endif

TEST_CASE("embedded: FaceLandmarker in one caller arena gives the allocating landmarker's bits") {
  auto load = [](const char* file) {
    auto m = facekit::Model::load_file(test_util::weights_path(file));
    REQUIRE_MESSAGE(m, std::string(m.status().message()) << " (" << test_util::kFetchModels << ")");
    return std::make_shared<const facekit::Model>(std::move(*m));
  };
  facekit::FaceLandmarkerModels models{load("face_detector.fkm"), load("face_landmarks_detector.fkm"),
                                       load("face_blendshapes.fkm"), load("face_geometry.fkm")};
  facekit::FaceLandmarkerOptions options;
  options.output_face_blendshapes = options.output_facial_transformation_matrixes = true;
  const std::size_t need = facekit::FaceLandmarker::arena_size(models, options);
  // The three networks' plans, each rounded up to 64 bytes.
  std::size_t parts = 0;
  for (const auto& m : {models.detector, models.landmarks, models.blendshapes})
    parts += (facekit::plan_activations(*m).arena_size + 63) / 64 * 64;
  CHECK(need == parts);

  Buffer arena(need);
  auto small = facekit::FaceLandmarker::create(models, options, {arena.data, need - 64});
  REQUIRE_FALSE(small);
  const std::string msg = small.status().message();
  CHECK(msg.find(std::to_string(need - 64) + " bytes") != std::string::npos);
  CHECK(msg.find("need " + std::to_string(need)) != std::string::npos);

  auto in_arena = facekit::FaceLandmarker::create(models, options, {arena.data, need});
  REQUIRE_MESSAGE(in_arena, std::string(in_arena.status().message()));
  auto own = facekit::FaceLandmarker::create(models, options);
  REQUIRE(own);
  // Each network's tensors live in the caller's buffer.
  auto inside = [&](const float* p) {
    const auto* b = reinterpret_cast<const unsigned char*>(p);
    return b >= arena.data && b < arena.data + need;
  };
  CHECK(inside(in_arena->detector().session().input(0)));
  CHECK(inside(in_arena->landmark_session().input(0)));
  CHECK(inside(in_arena->blendshape_session()->input(0)));

  auto img = facekit::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE(img);
  facekit::FaceLandmarkerResult a, b;
  REQUIRE(own->detect(img->view(), a));
  REQUIRE(in_arena->detect(img->view(), b));
  REQUIRE(a.faces.size() == 1);
  REQUIRE(b.faces.size() == 1);
  CHECK(std::memcmp(&a.faces[0].landmarks, &b.faces[0].landmarks, sizeof a.faces[0].landmarks) == 0);
  for (std::size_t k = 0; k < a.faces[0].blendshapes.size(); ++k)
    CHECK(a.faces[0].blendshapes[k].score == b.faces[0].blendshapes[k].score);
  CHECK(a.faces[0].facial_transformation_matrix == b.faces[0].facial_transformation_matrix);
}
