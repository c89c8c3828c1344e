// Threads: the pool runs every task once; a network split over 2 or 3 threads, or over a pool of
// the caller's that runs the parts in reverse, gives the one-thread run's bits; so does the whole
// FaceLandmarker (landmarks, blendshapes, matrix); nothing is allocated per frame with threads on;
// bad thread options are refused. The ThreadSanitizer leg of .ci/run runs these for data races.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "facekit/face_landmarker.hpp"
#include "test_util.hpp"

namespace {

namespace fk = facekit;

/// A pool of the caller's (the ThreadPoolInterface a program implements): runs the tasks on the
/// calling thread, last first, and counts them; `threads` is what it claims to have.
class ReversePool final : public fk::ThreadPoolInterface {
 public:
  explicit ReversePool(int threads) : threads_(threads) {}
  int num_threads() const noexcept override { return threads_; }
  void parallel_for(int count, TaskFn task, void* context) noexcept override {
    ++calls;
    for (int i = count - 1; i >= 0; --i) {
      task(context, i);
      ++tasks;
    }
  }
  long calls = 0, tasks = 0;

 private:
  int threads_;
};

std::shared_ptr<const fk::Model> load_model(const std::string& file) {
  auto m = fk::Model::load_file(test_util::weights_path(file));
  REQUIRE_MESSAGE(m, m.status().message() << " (" << test_util::kFetchModels << ")");
  return std::make_shared<const fk::Model>(std::move(*m));
}

/// Every input of `s` filled with the same deterministic values in [-1, 1).
void fill_inputs(fk::BackendSession& s) {
  uint32_t state = 12345;
  for (int i = 0; i < int(s.model().inputs().size()); ++i) {
    const fk::TensorInfo& t = s.input_info(i);
    float* p = s.input(i);
    for (std::size_t k = 0; k < t.elements(); ++k) {
      state = state * 1664525u + 1013904223u;
      p[k] = float(state >> 8) / float(1u << 23) - 1.0f;
    }
  }
}

/// All outputs of one run of `model`, with `pool` (null: one thread).
std::vector<std::vector<float>> run_outputs(const std::shared_ptr<const fk::Model>& model,
                                            fk::ThreadPoolInterface* pool) {
  auto session = fk::make_session(*fk::cpu_backend(), model, "threads test");
  REQUIRE_MESSAGE(session, session.status().message());
  fk::BackendSession& s = **session;
  s.set_thread_pool(pool);
  fill_inputs(s);
  REQUIRE(s.run());
  std::vector<std::vector<float>> out;
  for (int i = 0; i < int(model->outputs().size()); ++i) {
    const float* o = s.output(i);
    out.emplace_back(o, o + s.output_info(i).elements());
  }
  return out;
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("thread pool: every task runs exactly once, for any count, call after call") {
  for (int threads : {1, 2, 3, 5}) {
    fk::ThreadPool pool(threads);
    CHECK(pool.num_threads() == threads);
    for (int count : {0, 1, 2, 3, 7, 64, 1000}) {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> hits(std::size_t(count > 0 ? count : 1));
        for (auto& h : hits) h = 0;
        pool.parallel_for(
            count, [](void* ctx, int i) { (*static_cast<std::vector<std::atomic<int>>*>(ctx))[std::size_t(i)]++; },
            &hits);
        int wrong = 0;
        for (int i = 0; i < count; ++i) wrong += hits[std::size_t(i)] != 1;
        REQUIRE_MESSAGE(wrong == 0, threads << " threads, " << count << " tasks: " << wrong << " ran not once");
      }
    }
  }
}

TEST_CASE("thread pool: several callers share one pool (their calls are serialised)") {
  fk::ThreadPool pool(3);
  std::atomic<long> total{0};
  auto caller = [&] {
    for (int round = 0; round < 200; ++round)
      pool.parallel_for(
          5, [](void* ctx, int) { static_cast<std::atomic<long>*>(ctx)->fetch_add(1); }, &total);
  };
  std::thread a(caller), b(caller);
  caller();
  a.join();
  b.join();
  CHECK(total.load() == 3L * 200 * 5);
}

TEST_CASE("threads: every network gives the same bits on 1, 2 and 3 threads and on a caller's pool") {
  const char* models[] = {"face_landmarks_detector.fkm", "face_detector.fkm", "face_blendshapes.fkm",
                          "face_landmark_with_attention.fkm", "face_detection_full_range_sparse.fkm"};
  fk::ThreadPool two(2), three(3);
  for (const char* file : models) {
    CAPTURE(std::string(file));
    const auto model = load_model(file);
    const auto one = run_outputs(model, nullptr);
    CHECK(same_bits(one, run_outputs(model, &two)));
    CHECK(same_bits(one, run_outputs(model, &three)));
    // Parts in reverse order: no part depends on another having run first.
    ReversePool reverse(4);
    CHECK(same_bits(one, run_outputs(model, &reverse)));
    // The ops did split: more parts ran than the pool was called.
    CHECK(reverse.calls > 0);
    CHECK(reverse.tasks > reverse.calls);
  }
}

TEST_CASE("threads: FaceLandmarker with num_threads 2 gives num_threads 1's bits and allocates nothing per frame") {
  auto img = fk::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE_MESSAGE(img, img.status().message());
  for (fk::FaceMeshModel mesh : {fk::FaceMeshModel::v2, fk::FaceMeshModel::attention}) {
    fk::FaceLandmarkerOptions o;
    o.landmark_model = mesh;
    if (mesh == fk::FaceMeshModel::v2) o.output_face_blendshapes = o.output_facial_transformation_matrixes = true;
    auto single = fk::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
    REQUIRE_MESSAGE(single, single.status().message() << " (" << test_util::kFetchModels << ")");
    o.num_threads = 2;
    auto threaded = fk::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
    REQUIRE_MESSAGE(threaded, threaded.status().message());
    fk::FaceLandmarkerResult a, b;
    REQUIRE(single->detect(img->view(), a));
    REQUIRE(threaded->detect(img->view(), b));  // warm-up: the result's capacity
    fk::Status st;
    const long allocations = alloc_counter::count([&] { return threaded->detect(img->view(), b); }, &st);
    REQUIRE(st);
    CHECK(allocations == 0);
    REQUIRE(a.faces.size() == 1);
    REQUIRE(b.faces.size() == 1);
    const fk::FaceLandmarks &fa = a.faces[0], &fb = b.faces[0];
    CHECK(std::memcmp(&fa.landmarks, &fb.landmarks, sizeof fa.landmarks) == 0);
    CHECK(fa.presence == fb.presence);
    CHECK(std::memcmp(&fa.detection.relative_box, &fb.detection.relative_box, sizeof fa.detection.relative_box) == 0);
    CHECK(fa.has_blendshapes == fb.has_blendshapes);
    for (std::size_t k = 0; k < fa.blendshapes.size(); ++k) CHECK(fa.blendshapes[k].score == fb.blendshapes[k].score);
    CHECK(std::memcmp(&fa.facial_transformation_matrix, &fb.facial_transformation_matrix,
                      sizeof fa.facial_transformation_matrix) == 0);
  }
}

TEST_CASE("threads: FaceDetector with a caller's pool splits its ops and keeps the bits") {
  auto img = fk::load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE_MESSAGE(img, img.status().message());
  auto single = fk::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"));
  REQUIRE_MESSAGE(single, single.status().message() << " (" << test_util::kFetchModels << ")");
  ReversePool pool(2);
  fk::FaceDetectorOptions o;
  o.thread_pool = &pool;
  o.num_threads = 0;  // ignored with a pool of the caller's
  auto pooled = fk::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), o);
  REQUIRE_MESSAGE(pooled, pooled.status().message());
  fk::FaceDetectorResult a, b;
  REQUIRE(single->detect(img->view(), a));
  REQUIRE(pooled->detect(img->view(), b));
  CHECK(pool.tasks > pool.calls);
  REQUIRE(a.detections.size() == b.detections.size());
  for (std::size_t i = 0; i < a.detections.size(); ++i) {
    CHECK(a.detections[i].score == b.detections[i].score);
    CHECK(std::memcmp(&a.detections[i].keypoints, &b.detections[i].keypoints, sizeof a.detections[i].keypoints) == 0);
  }
}

TEST_CASE("threads: num_threads outside 1..256 is refused, naming the option") {
  for (int n : {0, -1, 257}) {
    fk::FaceLandmarkerOptions o;
    o.num_threads = n;
    auto lm = fk::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR, o);
    REQUIRE_FALSE(lm);
    CHECK(std::string(lm.status().message()).find("num_threads " + std::to_string(n)) != std::string::npos);
    fk::FaceDetectorOptions d;
    d.num_threads = n;
    auto det = fk::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"), d);
    REQUIRE_FALSE(det);
    CHECK(std::string(det.status().message()).find("num_threads") != std::string::npos);
  }
}

#ifdef FACEKIT_CLI
TEST_CASE("threads: facekit landmarks --threads 3 on several images prints --threads 1's output, in order") {
  std::string images;
  for (const char* name : {"skimage_astronaut.png", "t1.jpg", "crop_no_face.png", "emotion_happy.png",
                           "rotate_rot_90.jpg", "missing_file.png"})
    images += " " + test_util::image_path(name);
  const std::string base = std::string(FACEKIT_CLI) + " landmarks --json --blendshapes --matrix --models " +
                           FACEKIT_WEIGHTS_DIR + images;
  std::string one, three;
  // The missing image fails (exit 1, a message on stderr), the others still print.
  CHECK(test_util::run_command(base + " 2>/dev/null", &one) != 0);
  CHECK(test_util::run_command(base + " --threads 3 --time 2>/dev/null", &three) != 0);
  CHECK(std::count(one.begin(), one.end(), '\n') == 5);
  CHECK(one == three);
  std::string err;
  test_util::run_command(base + " --threads 3 --time 2>&1 >/dev/null", &err);
  CHECK(err.find("missing_file.png") != std::string::npos);
  CHECK(err.find("images/s (3 pipeline(s) side by side)") != std::string::npos);
  std::string bad;
  CHECK(test_util::run_command(std::string(FACEKIT_CLI) + " detect --threads 0 x.png 2>&1", &bad) != 0);
  CHECK(bad.find("--threads: '0' is not a thread count in 1..256") != std::string::npos);
}
#endif
