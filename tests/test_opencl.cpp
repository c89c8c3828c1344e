// The OpenCL backend against the CPU's scalar reference: each op on awkward shapes (one-op
// models), each converted model on random inputs, within 1e-4 relative. Built only with
// FACEKIT_WITH_OPENCL; the device is OpenCL platform 0, device 0 (FACEKIT_TEST_OPENCL_DEVICE=P:D
// picks another). Without a device, every test here fails and says why.
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <facekit/face_detector.hpp>
#include <facekit/face_landmarker.hpp>
#include <facekit/opencl/opencl_backend.hpp>

#include "alloc_counter.hpp"
#include "backend_check.hpp"
#include "opencl_test_device.hpp"
#include "test_util.hpp"

using backend_check::compare_with_scalar;

namespace {

constexpr double kTolerance = 1e-4;       // one op
constexpr double kModelTolerance = 1e-3;  // a whole network on random inputs

#ifdef FACEKIT_HAVE_CONVERTER
using backend_check::add_op;
using backend_check::add_tensor;
using facekit::OpType;

TEST_CASE("opencl ops: relu, logistic and add match the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  for (int n : {1, 7, 16, 33, 1000}) {
    CAPTURE(n);
    for (OpType t : {OpType::relu, OpType::logistic}) {
      facekit::convert::OutModel m;
      const uint32_t x = add_tensor(m, "x", {1, 1, n, 1}), y = add_tensor(m, "y", {1, 1, n, 1});
      add_op(m, t, {x}, y, facekit::NoParams{});
      m.inputs = {x};
      m.outputs = {y};
      CHECK(compare_with_scalar(dev, backend_check::load_out_model(m)) <= kTolerance);
    }
  }
  struct AddCase {
    int h, w, c, b_c;
    facekit::Activation act;
  };
  for (const AddCase& k : {AddCase{1, 1, 1, 1, facekit::Activation::none}, AddCase{3, 5, 7, 7, facekit::Activation::relu},
                           AddCase{4, 3, 24, 16, facekit::Activation::relu6}, AddCase{5, 5, 33, 17, facekit::Activation::prelu}}) {
    CAPTURE(k.c);
    CAPTURE(k.b_c);
    facekit::convert::OutModel m;
    const uint32_t a = add_tensor(m, "a", {1, k.h, k.w, k.c}), b = add_tensor(m, "b", {1, k.h, k.w, k.b_c});
    uint32_t alpha = facekit::kNoTensor;
    if (k.act == facekit::Activation::prelu) {
      std::vector<float> al(std::size_t((k.c + facekit::kPackTile - 1) / facekit::kPackTile * facekit::kPackTile), 0.0f);
      backend_check::fill_random(9, al.data(), std::size_t(k.c));
      alpha = add_tensor(m, "alpha", {k.c}, al, facekit::format::Layout::channel_padded);
    }
    const uint32_t y = add_tensor(m, "y", {1, k.h, k.w, k.c});
    facekit::AddParams p{};
    p.activation = k.act;
    add_op(m, OpType::add, {a, b, alpha}, y, p);
    m.inputs = {a, b};
    m.outputs = {y};
    CHECK(compare_with_scalar(dev, backend_check::load_out_model(m)) <= kTolerance);
  }
}
#endif

}  // namespace

TEST_CASE("opencl models: every converted network matches the scalar reference on random inputs") {
  const facekit::Backend& dev = opencl_test::device();
  const char* files[] = {"face_detector.fkm", "face_landmarks_detector.fkm", "face_blendshapes.fkm",
                         "face_detection_short_range.fkm", "face_landmark_with_attention.fkm",
                         "face_detection_full_range_sparse.fkm"};
  for (const char* f : files) {
    CAPTURE(f);
    auto m = facekit::Model::load_file(test_util::weights_path(f));
    REQUIRE_MESSAGE(m, m.status().message() << " (run tools/fetch-models.sh)");
    auto model = std::make_shared<const facekit::Model>(std::move(*m));
    const double worst = compare_with_scalar(dev, model, 7);
    // For scale: the CPU's own SIMD kernels against its scalar ones, on the same inputs. Over a
    // whole network the per-op rounding differences (1e-6) compound; Face Mesh V2's 100+ layers on
    // random inputs reach a few 1e-4 on its smallest outputs.
    const double simd = compare_with_scalar(*facekit::cpu_backend(), model, 7);
    CHECK(worst <= kModelTolerance);
    MESSAGE(std::string(f) << " on " << std::string(dev.name()) << ": worst relative error " << worst
                           << " (CPU SIMD vs scalar: " << simd << ")");
  }
}

TEST_CASE("opencl: an OpenCL device that does not exist is a clear error, or the CPU when asked for") {
  facekit::FaceDetectorOptions o;
  o.delegate = facekit::Delegate::opencl;
  o.opencl_platform = 99;
  auto d = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), o);
  REQUIRE_FALSE(d);
  CHECK(std::string(d.status().message()).find("OpenCL platform 99 does not exist") != std::string::npos);
  o.cpu_fallback = true;
  auto cpu = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), o);
  REQUIRE_MESSAGE(cpu, cpu.status().message());
  CHECK(std::string(cpu->backend_name()).rfind("cpu", 0) == 0);
}

// PoCL mallocs inside every clEnqueue* call (its command nodes; ~10 per run): no caller can avoid
// that, so these tests count facekit's own allocations, all of which are C++ (operator new).
TEST_CASE("opencl: one detect() after another allocates nothing on the host (facekit's own allocations)") {
  facekit::FaceDetector det = [] {
    auto d = facekit::FaceDetector::create_from_file(
        test_util::weights_path("face_detector.fkm"),
        test_util::on_delegate(facekit::FaceDetectorOptions{}, facekit::Delegate::opencl));
    REQUIRE_MESSAGE(d, d.status().message());
    return std::move(*d);
  }();
  auto img = facekit::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE(img);
  facekit::FaceDetectorResult r;
  REQUIRE(det.detect(img->view(), r));
  facekit::Status st;
  const long allocations = alloc_counter::count_new([&] { return det.detect(img->view(), r); }, &st);
  REQUIRE_MESSAGE(st, st.message());
  CHECK(allocations == 0);
  CHECK(r.detections.size() == 1);
}

// The camera image goes to the device once per frame: the detector's letterbox and every face's
// ROI crop read the pipeline's frame (BackendFrame). Counted where the sessions upload images.
TEST_CASE("opencl: one detect() or FaceLandmarker frame is one upload of the image (1 and 2 faces, both modes)") {
  using facekit::opencl::ClSession;
  const auto& cl = static_cast<const facekit::opencl::ClBackend&>(opencl_test::device());
  const uint64_t per_frame = facekit::opencl::ClDeviceCrop::supported(cl.device()) ? 1 : 0;  // no fp64: host crops
  MESSAGE("device crop: " << std::string(per_frame ? "on the device (fp64)" : "no fp64: host crops, no image upload"));
  auto astro = facekit::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE_MESSAGE(astro, astro.status().message());
  // Two copies of the astronaut's head side by side (600 x 300): two faces, a smaller image.
  facekit::Image two(2 * 300, 300);
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 600; ++x)
      std::memcpy(two.pixels.data() + (std::size_t(y) * 600 + std::size_t(x)) * 3,
                  astro->pixels.data() + (std::size_t(y) * std::size_t(astro->width) + std::size_t(75 + x % 300)) * 3,
                  3);

  facekit::FaceDetector det = [] {
    auto d = facekit::FaceDetector::create_from_file(
        test_util::weights_path("face_detector.fkm"),
        test_util::on_delegate(facekit::FaceDetectorOptions{}, facekit::Delegate::opencl));
    REQUIRE_MESSAGE(d, d.status().message());
    return std::move(*d);
  }();
  facekit::FaceDetectorResult dr;
  for (int k = 0; k < 2; ++k) {
    const uint64_t before = static_cast<ClSession&>(det.session()).image_uploads();
    REQUIRE(det.detect(astro->view(), dr));
    CHECK(static_cast<ClSession&>(det.session()).image_uploads() - before == per_frame);
  }

  // Sizes 600x300, 512x512 (the device buffer grows), 600x300 again (reused).
  const facekit::Image* frames[] = {&two, &two, &*astro, &two, &*astro};
  const std::size_t faces[] = {2, 2, 1, 2, 1};
  for (facekit::RunningMode mode : {facekit::RunningMode::image, facekit::RunningMode::video}) {
    for (facekit::FaceMeshModel model : {facekit::FaceMeshModel::v2, facekit::FaceMeshModel::attention}) {
      CAPTURE(int(mode));
      CAPTURE(int(model));
      facekit::FaceLandmarkerOptions o =
          test_util::on_delegate(facekit::FaceLandmarkerOptions{}, facekit::Delegate::opencl);
      o.running_mode = mode;
      o.landmark_model = model;
      o.num_faces = 2;
      auto made = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
      REQUIRE_MESSAGE(made, made.status().message() << " (run tools/fetch-models.sh)");
      facekit::FaceLandmarker& lm = *made;
      REQUIRE(std::string(lm.backend_name()).rfind("opencl", 0) == 0);
      auto& detector = static_cast<ClSession&>(lm.detector().session());
      auto& mesh = static_cast<ClSession&>(lm.landmark_session());
      const auto& frame = static_cast<const facekit::opencl::ClFrame&>(lm.frame());
      facekit::FaceLandmarkerResult r;
      int tracked_frames = 0;
      for (int k = 0; k < 5; ++k) {
        CAPTURE(k);
        const uint64_t before = detector.image_uploads() + mesh.image_uploads(), frame_before = frame.uploads();
        const bool video = mode == facekit::RunningMode::video;
        const facekit::Status st =
            video ? lm.detect_for_video(frames[k]->view(), 33 * k, r) : lm.detect(frames[k]->view(), r);
        REQUIRE_MESSAGE(st, st.message());
        // Every face was cropped from the same upload as the detector's letterbox (if it ran). In
        // video mode the second frame's two faces are tracked (no detector); after the size
        // changes, the tracked faces may be lost.
        if (!video || k < 2) CHECK(r.faces.size() == faces[k]);
        CHECK(detector.image_uploads() + mesh.image_uploads() - before == per_frame);
        CHECK(frame.uploads() - frame_before == per_frame);
        tracked_frames += !lm.detector_ran();
      }
      // Video: frames with only the mesh crops (both faces tracked) are among them.
      if (mode == facekit::RunningMode::video) CHECK(tracked_frames > 0);
    }
  }
}

#ifdef FACEKIT_CLI
TEST_CASE("opencl: facekit devices lists the device, and --device opencl runs detect, landmarks and track") {
  std::string out;
  REQUIRE(test_util::run_command(std::string(FACEKIT_CLI) + " devices", &out) == 0);
  CHECK(out.find("opencl:0:0") != std::string::npos);
  const std::string image = test_util::image_path("skimage_astronaut.png");
  // The same JSON on the CPU and on the device, up to the last digits: each line's numbers agree.
  auto numbers = [](const std::string& s) {
    std::vector<double> v;
    const char* p = s.c_str();
    while (*p) {
      char* end = nullptr;
      if ((*p >= '0' && *p <= '9') || *p == '-') {
        v.push_back(std::strtod(p, &end));
        if (end != p) {
          p = end;
          continue;
        }
      }
      ++p;
    }
    return v;
  };
  for (const char* cmd : {" detect --json ", " landmarks --json --blendshapes --matrix ",
                          " landmarks --json --mesh attention ", " track --json "}) {
    CAPTURE(cmd);
    std::string cpu, dev;
    REQUIRE(test_util::run_command(std::string(FACEKIT_CLI) + cmd + image + " " + image, &cpu) == 0);
    REQUIRE(test_util::run_command(std::string(FACEKIT_CLI) + cmd + "--device opencl " + image + " " + image, &dev) == 0);
    const std::vector<double> a = numbers(cpu), b = numbers(dev);
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() > 10);
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    // Landmarks are normalised (1e-3 is 0.5 px on this image), scores and blendshapes in [0, 1];
    // box pixels are integers and may round the other way.
    CHECK(worst <= 1.0);
    MESSAGE(std::string(cmd) << ": worst difference between cpu and opencl output values " << worst);
  }
  REQUIRE(test_util::run_command(std::string(FACEKIT_CLI) + " detect --device gpu " + image + " 2>&1", &out) != 0);
  CHECK(out.find("'gpu' is not cpu, opencl or opencl:PLATFORM:DEVICE") != std::string::npos);
}
#endif

#endif  // FACEKIT_WITH_OPENCL
