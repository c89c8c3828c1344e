// FaceDetector with the full-range models (spec section 1.7): both converted files load with
// their 192 x 192 input and 2304 single-layer anchors, and the sparse model (the one MediaPipe's
// legacy full-range graph runs) reproduces native MediaPipe 0.10.21's
// FaceDetection(model_selection=1, min_detection_confidence=0.6) on the PNG images of
// ../shared/images (tests/data/full_range/detections.json, made by
// tests/gen/make_full_range_detector_golden.py). Bounds as in test_face_detector_golden.cpp: same
// face count; box IoU >= 0.98; keypoints within 1% of the box width; score within 0.01.
// The web golden (../shared/golden "detector_full_range", cropped in WebGL) is compared for
// information only.
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

/// Matches each golden face to the unused facekit face with the best IoU and records the errors;
/// `strict` CHECKs the bounds.
void compare(const std::vector<Face>& gold, const std::vector<Face>& ours, bool strict, Worst* w) {
  std::vector<bool> used(ours.size(), false);
  for (const Face& g : gold) {
    int best = -1;
    double best_iou = 0;
    for (std::size_t j = 0; j < ours.size(); ++j) {
      const double v = iou(g.box, ours[j].box);
      if (!used[j] && v > best_iou) best_iou = v, best = int(j);
    }
    if (best < 0) {
      if (strict) FAIL("a MediaPipe face has no overlapping facekit face");
      w->iou = 0;
      continue;
    }
    used[std::size_t(best)] = true;
    const Face& o = ours[std::size_t(best)];
    double kp = 0;
    for (int k = 0; k < 6; ++k) kp = std::max(kp, std::hypot(o.kp[k][0] - g.kp[k][0], o.kp[k][1] - g.kp[k][1]));
    kp /= std::max(g.box[2], 1.0);
    const double se = std::fabs(o.score - g.score);
    if (strict) {
      CHECK(best_iou >= 0.98);
      CHECK(kp <= 0.01);
      CHECK(se <= 0.01);
    }
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

}  // namespace

TEST_CASE("full-range detectors load as FaceDetectors with spec 1.7's anchors") {
  for (const char* file : {"face_detection_full_range.fkm", "face_detection_full_range_sparse.fkm"}) {
    CAPTURE(file);
    auto m = facekit::Model::load_file(test_util::weights_path(file));
    REQUIRE_MESSAGE(m, m.status().message() << " (run tools/fetch-models.sh)");
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
}

TEST_CASE("full-range detector (sparse) matches native MediaPipe's legacy full-range graph") {
  auto detector = facekit::FaceDetector::create_from_file(
      test_util::weights_path("face_detection_full_range_sparse.fkm"), legacy_full_range_options());
  REQUIRE_MESSAGE(detector, detector.status().message() << " (run tools/fetch-models.sh)");
  std::ifstream in(test_util::source_path("tests/data/full_range/detections.json"));
  REQUIRE(in.good());
  const json doc = json::parse(in);
  REQUIRE(doc.at("images").size() >= 4);
  Worst w;
  facekit::FaceDetectorResult result;
  for (const json& im : doc.at("images")) {
    const std::string name = im.at("image");
    CAPTURE(name);
    auto img = facekit::load_image(test_util::shared_path("images/" + name));
    REQUIRE_MESSAGE(img, img.status().message());
    REQUIRE(img->width == im.at("width").get<int>());
    REQUIRE(img->height == im.at("height").get<int>());
    REQUIRE(detector->detect(img->view(), result));
    std::vector<Face> gold, ours;
    for (const json& d : im.at("detections")) {
      Face f;
      const double W = img->width, H = img->height;
      const auto& rb = d.at("relative_box");
      f.box[0] = rb[0].get<double>() * W;
      f.box[1] = rb[1].get<double>() * H;
      f.box[2] = rb[2].get<double>() * W;
      f.box[3] = rb[3].get<double>() * H;
      for (int k = 0; k < 6; ++k) {
        f.kp[k][0] = d.at("keypoints")[std::size_t(k)][0].get<double>() * W;
        f.kp[k][1] = d.at("keypoints")[std::size_t(k)][1].get<double>() * H;
      }
      f.score = d.at("score").get<double>();
      gold.push_back(f);
    }
    for (const auto& d : result.detections) ours.push_back(from_detection(d, img->width, img->height));
    REQUIRE(ours.size() == gold.size());
    compare(gold, ours, true, &w);
  }
  MESSAGE("full-range (sparse) vs native MediaPipe: " << w.faces << " faces, worst IoU " << w.iou
                                                      << ", worst keypoint error " << w.kp
                                                      << " box widths, worst score error " << w.score);
  CHECK(w.faces >= 3);
}

TEST_CASE("full-range detector (sparse) vs the web golden (WebGL crop: informational)") {
  auto detector = facekit::FaceDetector::create_from_file(
      test_util::weights_path("face_detection_full_range_sparse.fkm"), legacy_full_range_options());
  REQUIRE_MESSAGE(detector, detector.status().message() << " (run tools/fetch-models.sh)");
  Worst w;
  int gold_faces = 0, our_faces = 0, images = 0;
  facekit::FaceDetectorResult result;
  for (const std::string& f : test_util::golden_files()) {
    const golden::Case c = golden::load(f);
    if (!c.json.contains("detector_full_range")) continue;
    CAPTURE(c.image);
    REQUIRE(detector->detect(c.pixels.view(), result));
    std::vector<Face> gold, ours;
    const double W = c.pixels.width, H = c.pixels.height;
    for (const json& d : c.json.at("detector_full_range").at("detections")) {
      Face g;
      const json& bb = d.at("boundingBox");
      const double cx = bb.at("xCenter").get<double>() * W, cy = bb.at("yCenter").get<double>() * H;
      g.box[2] = bb.at("width").get<double>() * W;
      g.box[3] = bb.at("height").get<double>() * H;
      g.box[0] = cx - g.box[2] / 2;
      g.box[1] = cy - g.box[3] / 2;
      for (int k = 0; k < 6; ++k) {
        g.kp[k][0] = d.at("keypoints")[std::size_t(k)][0].get<double>() * W;
        g.kp[k][1] = d.at("keypoints")[std::size_t(k)][1].get<double>() * H;
      }
      g.score = d.at("score").get<double>();
      gold.push_back(g);
    }
    for (const auto& d : result.detections) ours.push_back(from_detection(d, c.pixels.width, c.pixels.height));
    MESSAGE(c.image << ": web " << gold.size() << " face(s), facekit " << ours.size());
    gold_faces += int(gold.size());
    our_faces += int(ours.size());
    ++images;
    compare(gold, ours, false, &w);
  }
  MESSAGE("full-range (sparse) vs web golden on " << images << " images: web " << gold_faces << " faces, facekit "
                                                  << our_faces << "; matched " << w.faces << ", worst IoU " << w.iou
                                                  << ", worst keypoint error " << w.kp
                                                  << " box widths, worst score error " << w.score);
  CHECK(images >= 10);
}
