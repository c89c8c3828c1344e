// End to end against MediaPipe: on every image in tests/data/images, FaceDetector must find the
// faces that MediaPipe Tasks' FaceDetector found (tests/data/golden/*.json, field "detector",
// options min_detection_confidence 0.5, min_suppression_threshold 0.3).
//
// Bounds (issue 2): same face count; box IoU >= 0.98 with its match; keypoints within 1% of the
// box width; score within 0.01. The CPU crop is MediaPipe's, so the outputs agree up to float32
// rounding; the worst differences seen are reported too.
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

struct GoldenFace {
  int box[4];
  float kp[6][2];
  float score;
};

double iou(const int a[4], const int b[4]) {
  const double ix = std::max(0, std::min(a[0] + a[2], b[0] + b[2]) - std::max(a[0], b[0]));
  const double iy = std::max(0, std::min(a[1] + a[3], b[1] + b[3]) - std::max(a[1], b[1]));
  const double inter = ix * iy;
  const double u = double(a[2]) * a[3] + double(b[2]) * b[3] - inter;
  return u > 0 ? inter / u : 0.0;
}

using test_util::golden_files;

}  // namespace

static void check_detector_goldens(facekit::Delegate delegate) {
  auto detector = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"),
                                                          test_util::on_delegate(facekit::FaceDetectorOptions{}, delegate));
  REQUIRE_MESSAGE(detector, detector.status().message() << " (run tools/fetch-models.sh)");
  const auto files = golden_files();
  REQUIRE(files.size() >= 10);
  double worst_iou = 1, worst_kp = 0, worst_score = 0;
  int faces_total = 0;
  facekit::FaceDetectorResult result;
  for (const std::string& f : files) {
    const golden::Case c = golden::load(f);
    const json& g = c.json;
    const std::string& image = c.image;
    CAPTURE(image);
    const facekit::Image* img = &c.pixels;
    REQUIRE(detector->detect(img->view(), result));

    std::vector<GoldenFace> gold;
    for (const json& d : g.at("detector").at("detections")) {
      GoldenFace gf;
      const json& bb = d.at("boundingBox");
      gf.box[0] = bb.at("originX");
      gf.box[1] = bb.at("originY");
      gf.box[2] = bb.at("width");
      gf.box[3] = bb.at("height");
      for (int k = 0; k < 6; ++k) {
        gf.kp[k][0] = d.at("keypoints")[std::size_t(k)][0].get<float>();
        gf.kp[k][1] = d.at("keypoints")[std::size_t(k)][1].get<float>();
      }
      gf.score = d.at("score");
      gold.push_back(gf);
    }
    REQUIRE(result.detections.size() == gold.size());
    std::vector<bool> used(result.detections.size(), false);
    for (const GoldenFace& gf : gold) {
      // Match by best IoU.
      int best = -1;
      double best_iou = 0;
      for (std::size_t j = 0; j < result.detections.size(); ++j) {
        const auto& bb = result.detections[j].bounding_box;
        const int ob[4] = {bb.origin_x, bb.origin_y, bb.width, bb.height};
        const double v = iou(gf.box, ob);
        if (!used[j] && v > best_iou) best_iou = v, best = int(j);
      }
      REQUIRE_MESSAGE(best >= 0, "a MediaPipe face has no overlapping facekit face");
      used[std::size_t(best)] = true;
      const facekit::Detection& d = result.detections[std::size_t(best)];
      double kp_err = 0;
      for (int k = 0; k < 6; ++k)
        kp_err = std::max(kp_err, (double)std::hypot((d.keypoints[std::size_t(k)].x - gf.kp[k][0]) * img->width,
                                             (d.keypoints[std::size_t(k)].y - gf.kp[k][1]) * img->height));
      kp_err /= std::max(gf.box[2], 1);
      const double score_err = std::fabs(double(d.score) - gf.score);
      CHECK(best_iou >= 0.98);
      CHECK(kp_err <= 0.01);
      CHECK(score_err <= 0.01);
      worst_iou = std::min(worst_iou, best_iou);
      worst_kp = std::max(worst_kp, kp_err);
      worst_score = std::max(worst_score, score_err);
      ++faces_total;
    }
  }
  MESSAGE("detector on " << std::string(detector->backend_name()) << " vs MediaPipe: " << faces_total << " faces, worst IoU " << worst_iou
                                    << ", worst keypoint error " << worst_kp << " box widths, worst score error "
                                    << worst_score);
  CHECK(faces_total >= 10);
}

TEST_CASE("face detector matches MediaPipe Tasks FaceDetector on every shared image") {
  check_detector_goldens(facekit::Delegate::cpu);
}

#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL
TEST_CASE("opencl: face detector matches MediaPipe Tasks FaceDetector on every shared image") {
  check_detector_goldens(facekit::Delegate::opencl);
}
#endif
