// FaceDetector with the full-range models (docs/pipeline.md 1.7): both converted files load with
// their 192 x 192 input and 2304 single-layer anchors, and the sparse model (the one MediaPipe's
// legacy full-range graph runs) reproduces native MediaPipe 0.10.21's
// FaceDetection(model_selection=1, min_detection_confidence=0.6) on every test image
// (tests/data/golden, field "detector_full_range", made by tests/gen/make_mediapipe_golden.py on
// stb_image pixels). Bounds as in test_face_detector_golden.cpp: same face count; box IoU >= 0.98;
// keypoints within 1% of the box width; score within 0.01.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "facekit/face_detector.hpp"
#include "golden_case.hpp"
#include "test_util.hpp"

using nlohmann::json;

namespace {

struct Face {
  double box[4];  // pixels: x, y, w, h
  double kp[6][2];
  double score;
};

double iou(const double a[4], const double b[4]) {
  const double ix = std::max(0.0, std::min(a[0] + a[2], b[0] + b[2]) - std::max(a[0], b[0]));
  const double iy = std::max(0.0, std::min(a[1] + a[3], b[1] + b[3]) - std::max(a[1], b[1]));
  const double inter = ix * iy, u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0.0;
}

Face from_detection(const facekit::Detection& d, int W, int H) {
  Face f;
  f.box[0] = double(d.relative_box[0]) * W;
  f.box[1] = double(d.relative_box[1]) * H;
  f.box[2] = double(d.relative_box[2]) * W;
  f.box[3] = double(d.relative_box[3]) * H;
  for (int k = 0; k < 6; ++k) {
    f.kp[k][0] = double(d.keypoints[std::size_t(k)].x) * W;
    f.kp[k][1] = double(d.keypoints[std::size_t(k)].y) * H;
  }
  f.score = d.score;
  return f;
}

struct Worst {
  double iou = 1, kp = 0, score = 0;
  int faces = 0;
};

/// Matches each golden face to the unused facekit face with the best IoU, CHECKs the bounds and
/// records the errors.
void compare(const std::vector<Face>& gold, const std::vector<Face>& ours, Worst* w) {
  std::vector<bool> used(ours.size(), false);
  for (const Face& g : gold) {
    int best = -1;
    double best_iou = 0;
    for (std::size_t j = 0; j < ours.size(); ++j) {
      const double v = iou(g.box, ours[j].box);
      if (!used[j] && v > best_iou) best_iou = v, best = int(j);
    }
    if (best < 0) {
      FAIL("a MediaPipe face has no overlapping facekit face");
      continue;
    }
    used[std::size_t(best)] = true;
    const Face& o = ours[std::size_t(best)];
    double kp = 0;
    for (int k = 0; k < 6; ++k) kp = std::max(kp, std::hypot(o.kp[k][0] - g.kp[k][0], o.kp[k][1] - g.kp[k][1]));
    kp /= std::max(g.box[2], 1.0);
    const double se = std::fabs(o.score - g.score);
    CHECK(best_iou >= 0.98);
    CHECK(kp <= 0.01);
    CHECK(se <= 0.01);
    w->iou = std::min(w->iou, best_iou);
    w->kp = std::max(w->kp, kp);
    w->score = std::max(w->score, se);
    ++w->faces;
  }
}

facekit::FaceDetectorOptions legacy_full_range_options() {
  facekit::FaceDetectorOptions o;
  o.min_detection_confidence = 0.6f;  // face_detection_full_range.pbtxt
  o.min_suppression_threshold = 0.3f;
  return o;
}

/// A full-range model file loads as a FaceDetector with docs/pipeline.md 1.7's anchors.
void check_full_range_detector(const char* file) {
  CAPTURE(file);
  auto m = facekit::Model::load_file(test_util::weights_path(file));
  REQUIRE_MESSAGE(m, m.status().message() << " (" << test_util::kFetchModels << ")");
  CHECK(m->kind() == "face_detector");
  facekit::SsdAnchorOptions ao;
  REQUIRE(facekit::read_anchor_options(*m, &ao));
  CHECK(ao.input_width == 192);
  CHECK(ao.input_height == 192);
  CHECK(ao.num_layers == 1);
  CHECK(ao.strides == std::vector<int>{4});
  CHECK(ao.interpolated_scale_aspect_ratio == 0.0f);
  const auto anchors = facekit::generate_ssd_anchors(ao);
  REQUIRE(anchors.size() == 2304);
  // Anchor a sits at cell (a / 48, a % 48), centre ((col + 0.5) / 48, (row + 0.5) / 48), 1 x 1.
  for (std::size_t a : {std::size_t(0), std::size_t(47), std::size_t(48), std::size_t(1234), std::size_t(2303)}) {
    CHECK(anchors[a].x_center == doctest::Approx((double(a % 48) + 0.5) / 48.0));
    CHECK(anchors[a].y_center == doctest::Approx((double(a / 48) + 0.5) / 48.0));
    CHECK(anchors[a].w == 1.0f);
    CHECK(anchors[a].h == 1.0f);
  }
  auto det = facekit::FaceDetector::create(std::make_shared<const facekit::Model>(std::move(*m)));
  REQUIRE_MESSAGE(det, det.status().message());
  CHECK(det->input_width() == 192);
  CHECK(det->input_height() == 192);
}

}  // namespace

TEST_CASE("full-range detector (sparse) loads as a FaceDetector with the full-range anchors") {
  check_full_range_detector("face_detection_full_range_sparse.fkm");
}

#if FACEKIT_TEST_DENSE_FULL_RANGE  // only its official URL has the dense model (tests/CMakeLists.txt)
TEST_CASE("full-range detector (dense) loads as a FaceDetector with the full-range anchors") {
  check_full_range_detector("face_detection_full_range.fkm");
}
#endif

TEST_CASE("full-range detector (sparse) matches native MediaPipe's legacy full-range graph") {
  auto detector = facekit::FaceDetector::create_from_file(
      test_util::weights_path("face_detection_full_range_sparse.fkm"), legacy_full_range_options());
  REQUIRE_MESSAGE(detector, detector.status().message() << " (" << test_util::kFetchModels << ")");
  Worst w;
  int images = 0;
  facekit::FaceDetectorResult result;
  for (const std::string& f : test_util::golden_files()) {
    const golden::Case c = golden::load(f);
    CAPTURE(c.image);
    REQUIRE(detector->detect(c.pixels.view(), result));
    const double W = c.pixels.width, H = c.pixels.height;
    std::vector<Face> gold, ours;
    for (const json& d : c.json.at("detector_full_range").at("detections")) {
      Face g;
      const auto& rb = d.at("relative_box");
      for (int k = 0; k < 4; ++k) g.box[k] = rb[std::size_t(k)].get<double>() * (k % 2 ? H : W);
      for (int k = 0; k < 6; ++k) {
        g.kp[k][0] = d.at("keypoints")[std::size_t(k)][0].get<double>() * W;
        g.kp[k][1] = d.at("keypoints")[std::size_t(k)][1].get<double>() * H;
      }
      g.score = d.at("score").get<double>();
      gold.push_back(g);
    }
    for (const auto& d : result.detections) ours.push_back(from_detection(d, c.pixels.width, c.pixels.height));
    REQUIRE(ours.size() == gold.size());
    compare(gold, ours, &w);
    ++images;
  }
  MESSAGE("full-range (sparse) vs native MediaPipe on " << images << " images: " << w.faces << " faces, worst IoU "
                                                        << w.iou << ", worst keypoint error " << w.kp
                                                        << " box widths, worst score error " << w.score);
  CHECK(w.faces >= 10);
}
