// Detector post-processing (docs/pipeline.md 1.2-1.6): SSD anchors, tensor decoding, weighted NMS,
// letterbox removal and MediaPipe Tasks' pixel boxes. Hand-made tensors with known answers, and
// the detector's real outputs on MediaPipe-exact letterboxes (tests/data/crops/detector_rows.json,
// from tests/gen/make_crop_golden.py) against MediaPipe's own detections (tests/data/golden).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "facekit/detection/decode.hpp"
#include "facekit/detection/nms.hpp"
#include "facekit/detection/projection.hpp"
#include "facekit/detection/ssd_anchors.hpp"
#include "facekit/image/geometry.hpp"
#include "test_util.hpp"

using namespace facekit;
using nlohmann::json;

namespace {

RawDetection box(float xmin, float ymin, float w, float h, float score, float kp = 0.0f) {
  RawDetection d;
  d.xmin = xmin;
  d.ymin = ymin;
  d.width = w;
  d.height = h;
  d.score = score;
  for (int k = 0; k < kDetectionKeypoints; ++k) d.keypoints[std::size_t(k)] = {kp + float(k), kp - float(k)};
  return d;
}

// Stand-in for facekit::Model in the metadata readers (they are templates on the model type).
struct FakeModel {
  std::map<std::string, int32_t> i32;
  std::map<std::string, float> f32;
  std::map<std::string, std::vector<int32_t>> i32s;
  std::map<std::string, std::vector<float>> f32s;
  bool meta_i32(const char* k, int32_t* o) const {
    auto it = i32.find(k);
    if (it == i32.end()) return false;
    *o = it->second;
    return true;
  }
  bool meta_f32(const char* k, float* o) const {
    auto it = f32.find(k);
    if (it == f32.end()) return false;
    *o = it->second;
    return true;
  }
  std::pair<const int32_t*, std::size_t> meta_i32_array(const char* k) const {
    auto it = i32s.find(k);
    return it == i32s.end() ? std::pair<const int32_t*, std::size_t>{nullptr, 0}
                            : std::pair<const int32_t*, std::size_t>{it->second.data(), it->second.size()};
  }
  std::pair<const float*, std::size_t> meta_f32_array(const char* k) const {
    auto it = f32s.find(k);
    return it == f32s.end() ? std::pair<const float*, std::size_t>{nullptr, 0}
                            : std::pair<const float*, std::size_t>{it->second.data(), it->second.size()};
  }
};

// What tools/convert writes for face_detector.tflite.
FakeModel short_range_metadata() {
  FakeModel m;
  m.i32 = {{"input.width", 128},        {"input.height", 128},   {"detector.num_boxes", 896},
           {"detector.num_coords", 16}, {"detector.num_keypoints", 6}, {"anchors.num_layers", 4},
           {"anchors.fixed_anchor_size", 1}};
  m.f32 = {{"detector.box_scale", 128.0f},   {"detector.score_clipping", 100.0f},
           {"anchors.min_scale", 0.1484375f}, {"anchors.max_scale", 0.75f},
           {"anchors.offset_x", 0.5f},        {"anchors.offset_y", 0.5f},
           {"anchors.interpolated_scale_aspect_ratio", 1.0f}};
  m.i32s = {{"anchors.strides", {8, 16, 16, 16}}};
  m.f32s = {{"anchors.aspect_ratios", {1.0f}}};
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Anchors

TEST_CASE("anchors: short range, 896 anchors at MediaPipe's centres") {
  const auto a = generate_ssd_anchors(SsdAnchorOptions::short_range());
  REQUIRE(a.size() == 896);
  for (int i = 0; i < 896; ++i) {
    CAPTURE(i);
    float cx, cy;
    if (i < 512) {  // stride 8: 2 anchors per cell on 16 x 16
      const int cell = i / 2, row = cell / 16, col = cell % 16;
      cx = (float(col) + 0.5f) / 16.0f;
      cy = (float(row) + 0.5f) / 16.0f;
    } else {  // stride 16 (three layers share the map): 6 anchors per cell on 8 x 8
      const int cell = (i - 512) / 6, row = cell / 8, col = cell % 8;
      cx = (float(col) + 0.5f) / 8.0f;
      cy = (float(row) + 0.5f) / 8.0f;
    }
    CHECK(a[std::size_t(i)].x_center == cx);
    CHECK(a[std::size_t(i)].y_center == cy);
    CHECK(a[std::size_t(i)].w == 1.0f);
    CHECK(a[std::size_t(i)].h == 1.0f);
  }
  CHECK(a[0].x_center == 0.03125f);
  CHECK(a[511].y_center == 0.96875f);
  CHECK(a[518].x_center == 0.1875f);
  CHECK(a[895].x_center == 0.9375f);
}

TEST_CASE("anchors: full range, 2304 anchors on 48 x 48") {
  const auto a = generate_ssd_anchors(SsdAnchorOptions::full_range());
  REQUIRE(a.size() == 2304);
  for (int i : {0, 1, 47, 48, 1000, 2303}) {
    CAPTURE(i);
    CHECK(a[std::size_t(i)].x_center == (float(i % 48) + 0.5f) * 1.0f / 48.0f);
    CHECK(a[std::size_t(i)].y_center == (float(i / 48) + 0.5f) * 1.0f / 48.0f);
  }
}

TEST_CASE("anchors: scales, aspect ratios and the lowest-layer reduction") {
  SsdAnchorOptions o = SsdAnchorOptions::short_range();
  o.fixed_anchor_size = false;
  const auto a = generate_ssd_anchors(o);
  REQUIRE(a.size() == 896);
  const float s0 = 0.1484375f;
  const float s1 = float(0.1484375f + (0.75f - 0.1484375f) * 1.0 * 1 / 3.0f);
  CHECK(a[0].w == s0);
  CHECK(a[0].h == s0);
  CHECK(a[1].w == std::sqrt(s0 * s1));  // interpolated anchor of layer 0
  // Last layer: its interpolated anchor uses scale 1.0 as the next scale.
  CHECK(a[895].w == std::sqrt(0.75f * 1.0f));
  CHECK(a[894].w == 0.75f);

  o.aspect_ratios = {1.0f, 4.0f};
  const auto b = generate_ssd_anchors(o);
  REQUIRE(b.size() == 16 * 16 * 3 + 8 * 8 * 9);
  CHECK(b[1].w == s0 * 2.0f);
  CHECK(b[1].h == s0 / 2.0f);

  SsdAnchorOptions r = SsdAnchorOptions::short_range();
  r.reduce_boxes_in_lowest_layer = true;
  r.fixed_anchor_size = false;
  const auto c = generate_ssd_anchors(r);
  REQUIRE(c.size() == 16 * 16 * 3 + 8 * 8 * 6);
  CHECK(c[0].w == 0.1f);
  CHECK(c[1].w == s0 * std::sqrt(2.0f));

  SsdAnchorOptions f = SsdAnchorOptions::short_range();
  f.feature_map_width = {4, 2, 2, 2};
  f.feature_map_height = {3, 1, 1, 1};
  const auto d = generate_ssd_anchors(f);
  CHECK(d.size() == 4 * 3 * 2 + 2 * 1 * 6);
}

TEST_CASE("anchors: invalid options are refused") {
  std::vector<Anchor> out;
  SsdAnchorOptions o;
  o.strides = {8, 16};
  Status s = generate_ssd_anchors(o, &out);
  CHECK_FALSE(s);
  CHECK(std::string(s.message()).find("2 strides for 4 layers") != std::string::npos);
  o = SsdAnchorOptions{};
  o.strides[2] = 0;
  CHECK_FALSE(generate_ssd_anchors(o, &out));
  o = SsdAnchorOptions{};
  o.aspect_ratios = {-1.0f};
  CHECK_FALSE(generate_ssd_anchors(o, &out));
  o = SsdAnchorOptions{};
  o.input_width = 0;
  CHECK_FALSE(generate_ssd_anchors(o, &out));
  CHECK(generate_ssd_anchors(o).empty());
}

TEST_CASE("anchors and decoding: options from model metadata") {
  FakeModel m = short_range_metadata();
  SsdAnchorOptions ao;
  REQUIRE(read_anchor_options(m, &ao));
  CHECK(generate_ssd_anchors(ao).size() == 896);
  DecodeOptions dopt;
  REQUIRE(read_decode_options(m, 896, &dopt));
  CHECK(dopt.num_boxes == 896);
  CHECK(dopt.x_scale == 128.0f);
  CHECK(dopt.score_clipping_thresh == 100.0f);

  FakeModel missing = m;
  missing.i32s.clear();
  Status s = read_anchor_options(missing, &ao);
  CHECK_FALSE(s);
  CHECK(std::string(s.message()).find("anchors.strides") != std::string::npos);
  missing = m;
  missing.f32.erase("detector.box_scale");
  s = read_decode_options(missing, 896, &dopt);
  CHECK_FALSE(s);
  CHECK(std::string(s.message()).find("detector.box_scale") != std::string::npos);
  FakeModel bad = m;
  bad.i32["detector.num_keypoints"] = 9;
  CHECK_FALSE(read_decode_options(bad, 896, &dopt));
  bad = m;
  bad.i32["anchors.num_layers"] = 3;
  CHECK_FALSE(read_anchor_options(bad, &ao));
}

// ---------------------------------------------------------------------------------------------
// Decoding

TEST_CASE("decode: boxes, keypoints, sigmoid with clipping, threshold and filters") {
  const auto anchors = generate_ssd_anchors(SsdAnchorOptions::short_range());
  std::vector<float> boxes(896 * 16, 0.0f), scores(896, -1000.0f);
  auto row = [&](int i) { return boxes.data() + i * 16; };
  // 0: sigmoid(0) == 0.5 exactly: kept at threshold 0.5 (score >= threshold).
  scores[0] = 0.0f;
  row(0)[2] = row(0)[3] = 12.8f;
  // 1: just below the threshold: dropped.
  scores[1] = -1e-6f;
  row(1)[2] = row(1)[3] = 12.8f;
  // 2: negative width, 3: NaN height, 4: NaN score: dropped.
  scores[2] = scores[3] = 5.0f;
  row(2)[2] = -1.0f;
  row(2)[3] = 1.0f;
  row(3)[2] = 1.0f;
  row(3)[3] = NAN;
  scores[4] = NAN;
  row(4)[2] = row(4)[3] = 1.0f;
  // 600: clipped at 100 -> score 1; a box and keypoints with known decoding.
  scores[600] = 1e6f;
  const float r600[16] = {6.4f, -12.8f, 32.0f, 16.0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::memcpy(row(600), r600, sizeof r600);
  // 10: zero-size box: kept (only negative sizes are dropped).
  scores[10] = 2.0f;

  std::vector<RawDetection> out;
  out.reserve(896);
  const DecodeOptions opt;
  REQUIRE(validate_decode_options(opt, anchors.size()));
  decode_detections(boxes.data(), scores.data(), anchors, opt, out);
  REQUIRE(out.size() == 3);
  // Anchor order is kept.
  CHECK(out[0].score == 0.5f);
  // width = xmax - xmin, both rounded first: not exactly w.
  CHECK(out[0].xmin == anchors[0].x_center - 0.05f);
  CHECK(out[0].width == (anchors[0].x_center + 0.05f) - (anchors[0].x_center - 0.05f));
  CHECK(out[1].score == 1.0f / (1.0f + std::exp(-2.0f)));
  CHECK(out[1].width == 0.0f);
  const RawDetection& d = out[2];
  CHECK(d.score == 1.0f);
  const Anchor& a = anchors[600];
  const float xc = 6.4f / 128.0f + a.x_center, yc = -12.8f / 128.0f + a.y_center;
  const float w = 32.0f / 128.0f, h = 16.0f / 128.0f;
  CHECK(d.xmin == xc - w / 2);
  CHECK(d.ymin == yc - h / 2);
  CHECK(d.width == (xc + w / 2) - (xc - w / 2));
  CHECK(d.height == (yc + h / 2) - (yc - h / 2));
  for (int k = 0; k < 6; ++k) {
    CHECK(d.keypoints[std::size_t(k)][0] == r600[4 + 2 * k] / 128.0f + a.x_center);
    CHECK(d.keypoints[std::size_t(k)][1] == r600[5 + 2 * k] / 128.0f + a.y_center);
  }

  // Without clipping a huge logit still gives 1; a lower threshold keeps anchor 1 too.
  DecodeOptions low = opt;
  low.min_score = 0.25f;
  decode_detections(boxes.data(), scores.data(), anchors, low, out);
  CHECK(out.size() == 4);

  DecodeOptions bad = opt;
  bad.num_boxes = 100;
  CHECK_FALSE(validate_decode_options(bad, anchors.size()));
  bad = opt;
  bad.num_coords = 10;
  CHECK_FALSE(validate_decode_options(bad, anchors.size()));
}

// ---------------------------------------------------------------------------------------------
// Weighted NMS

TEST_CASE("nms: IoU exactly at the threshold is not merged, just above is") {
  const RawDetection a = box(0.0f, 0.0f, 1.0f, 1.0f, 0.9f), b = box(0.5f, 0.0f, 1.0f, 1.0f, 0.8f);
  const float iou = detection_iou(b, a);
  CHECK(iou == doctest::Approx(1.0 / 3.0));
  std::vector<RawDetection> in = {a, b}, out;
  NmsScratch s;
  weighted_nms(in, iou, s, out);
  CHECK(out.size() == 2);
  weighted_nms(in, std::nextafter(iou, 0.0f), s, out);
  CHECK(out.size() == 1);
  // Touching boxes (shared edge) have IoU 0; disjoint ones too.
  CHECK(detection_iou(box(0, 0, 1, 1, 1), box(1, 0, 1, 1, 1)) == 0.0f);
  CHECK(detection_iou(box(0, 0, 1, 1, 1), box(2, 2, 1, 1, 1)) == 0.0f);
  CHECK(detection_iou(a, a) == 1.0f);
}

TEST_CASE("nms: weighted corners and keypoints, seed score kept, seed order") {
  // Three overlapping boxes and one elsewhere, given out of order.
  const RawDetection c1 = box(0.10f, 0.10f, 0.30f, 0.30f, 0.9f, 1.0f);
  const RawDetection c2 = box(0.12f, 0.11f, 0.30f, 0.31f, 0.8f, 2.0f);
  const RawDetection c3 = box(0.09f, 0.13f, 0.29f, 0.28f, 0.7f, 3.0f);
  const RawDetection far = box(0.60f, 0.60f, 0.20f, 0.20f, 0.85f, 4.0f);
  std::vector<RawDetection> in = {c3, far, c1, c2}, out;
  out.reserve(4);
  NmsScratch s;
  nms_reserve(s, 4);
  weighted_nms(in, 0.3f, s, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].score == 0.9f);
  CHECK(out[1].score == 0.85f);

  // Expected: float32 sums in descending score order, products rounded on their own.
  float total = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0, k0 = 0, k1 = 0;
  for (const RawDetection* d : {&c1, &c2, &c3}) {
    volatile float p0 = d->xmin * d->score, p1 = d->ymin * d->score, p2 = (d->xmin + d->width) * d->score,
                   p3 = (d->ymin + d->height) * d->score, p4 = d->keypoints[5][0] * d->score,
                   p5 = d->keypoints[5][1] * d->score;
    total += d->score;
    x0 += p0;
    y0 += p1;
    x1 += p2;
    y1 += p3;
    k0 += p4;
    k1 += p5;
  }
  CHECK(out[0].xmin == x0 / total);
  CHECK(out[0].ymin == y0 / total);
  CHECK(out[0].width == x1 / total - x0 / total);
  CHECK(out[0].height == y1 / total - y0 / total);
  CHECK(out[0].keypoints[5][0] == k0 / total);
  CHECK(out[0].keypoints[5][1] == k1 / total);
  // A lone detection is averaged with itself only.
  volatile float fx = far.xmin * far.score;
  CHECK(out[1].xmin == fx / far.score);
  CHECK(out[1].keypoints[2][0] == doctest::Approx(far.keypoints[2][0]));
}

TEST_CASE("nms: a seed without area ends the suppression (MediaPipe's loop rule)") {
  // IoU of a zero-area box with itself is 0, so the round removes nothing and MediaPipe stops.
  std::vector<RawDetection> in = {box(0.5f, 0.5f, 0.0f, 0.2f, 0.9f), box(0.1f, 0.1f, 0.2f, 0.2f, 0.6f)}, out;
  NmsScratch s;
  weighted_nms(in, 0.3f, s, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].score == 0.9f);
  CHECK(out[0].width == 0.0f);
  weighted_nms({}, 0.3f, s, out);
  CHECK(out.empty());
}

TEST_CASE("nms and decoding allocate nothing once reserved") {
  const auto anchors = generate_ssd_anchors(SsdAnchorOptions::short_range());
  std::vector<float> boxes(896 * 16, 0.0f), scores(896, -50.0f);
  for (int i = 0; i < 896; i += 7) {
    scores[std::size_t(i)] = float(i % 5);
    boxes[std::size_t(i) * 16 + 2] = boxes[std::size_t(i) * 16 + 3] = 30.0f;
  }
  std::vector<RawDetection> dec, merged;
  dec.reserve(896);
  merged.reserve(896);
  NmsScratch s;
  nms_reserve(s, 896);
  long n = -1;
  {
    alloc_counter::Scope scope;
    decode_detections(boxes.data(), scores.data(), anchors, DecodeOptions{}, dec);
    weighted_nms(dec, 0.3f, s, merged);
    n = scope.allocations();
  }
  CHECK(dec.size() > 50);
  CHECK(!merged.empty());
  CHECK(n == 0);
}

// ---------------------------------------------------------------------------------------------
// Projection and pixel boxes

TEST_CASE("projection: letterbox removal and rotated matrices") {
  // 200 x 100 image letterboxed into a square: the tensor's middle half holds the image.
  auto p = pad_roi(whole_image_rect(200, 100), 128, 128);
  REQUIRE(p);
  const Matrix4 m = crop_to_image_matrix(p->roi, 200, 100);
  const RawDetection d = box(0.25f, 0.25f, 0.5f, 0.5f, 0.7f, 0.5f);
  const RawDetection q = project_detection(d, m);
  CHECK(q.score == 0.7f);
  CHECK(q.xmin == doctest::Approx(0.25));
  CHECK(q.width == doctest::Approx(0.5));
  CHECK(q.ymin == doctest::Approx(0.0));  // tensor y 0.25 is the image's top edge
  CHECK(q.height == doctest::Approx(1.0));
  CHECK(q.keypoints[0][0] == transform_point(m, 0.5f, 0.5f)[0]);

  // A 90-degree crop: the box becomes the bounding box of its rotated corners.
  const Matrix4 r = crop_to_image_matrix(RotatedRect{50, 50, 100, 100, 1.5707964f}, 100, 100);
  const RawDetection e = project_detection(box(0.0f, 0.0f, 0.5f, 0.25f, 1), r);
  CHECK(e.xmin == doctest::Approx(0.75).epsilon(1e-5));
  CHECK(e.ymin == doctest::Approx(0.0).epsilon(1e-5));
  CHECK(e.width == doctest::Approx(0.25).epsilon(1e-5));
  CHECK(e.height == doctest::Approx(0.5).epsilon(1e-5));
}

TEST_CASE("projection: pixel boxes truncate toward zero and clamp (docs/pipeline.md 1.6)") {
  PixelBox b = to_pixel_box(box(0.4999f, 0.25f, 0.3333f, 0.5f, 1), 100, 80);
  CHECK(b.x == 49);
  CHECK(b.y == 20);
  CHECK(b.width == 33);
  CHECK(b.height == 40);
  b = to_pixel_box(box(-0.019f, -0.5f, 1.7f, 0.001f, 1), 100, 80);
  CHECK(b.x == 0);  // -1.9 truncates to -1, then clamps to 0
  CHECK(b.y == 0);
  CHECK(b.width == 100);
  CHECK(b.height == 0);
  b = to_pixel_box(box(NAN, 1e20f, -1e20f, 0.999999f, 1), 100, 80);
  CHECK(b.x == 0);
  CHECK(b.y == 80);
  CHECK(b.width == 0);
  CHECK(b.height == 79);
}

// ---------------------------------------------------------------------------------------------
// Against MediaPipe

TEST_CASE("post-processing of real detector outputs matches MediaPipe's FaceDetector") {
  std::ifstream rows_in(test_util::source_path("tests/data/crops/detector_rows.json"));
  REQUIRE_MESSAGE(rows_in.good(), "missing tests/data/crops/detector_rows.json (run tests/gen/make_crop_golden.py)");
  const json rows = json::parse(rows_in);
  const auto anchors = generate_ssd_anchors(SsdAnchorOptions::short_range());
  REQUIRE(anchors.size() == rows.at("num_anchors").get<std::size_t>());
  std::vector<RawDetection> dec, merged;
  NmsScratch s;
  double worst_score = 0, worst_kp = 0;
  int faces = 0, exact_boxes = 0;
  for (const json& im : rows.at("images")) {
    const std::string name = im.at("image");
    CAPTURE(name);
    const int W = im.at("width"), H = im.at("height");
    std::vector<float> boxes(896 * 16, 0.0f), scores(896, -100.0f);
    for (const json& r : im.at("rows")) {
      const std::size_t a = r.at("anchor");
      scores[a] = r.at("logit").get<float>();
      for (std::size_t k = 0; k < 16; ++k) boxes[a * 16 + k] = r.at("regressors")[k].get<float>();
    }
    decode_detections(boxes.data(), scores.data(), anchors, DecodeOptions{}, dec);
    weighted_nms(dec, 0.3f, s, merged);  // MediaPipe Tasks FaceDetector default
    auto p = pad_roi(whole_image_rect(W, H), 128, 128);
    REQUIRE(p);
    const Matrix4 m = crop_to_image_matrix(p->roi, W, H);

    std::ifstream gin(test_util::data_path("golden/" + name.substr(0, name.rfind('.')) + ".json"));
    REQUIRE(gin.good());
    const json gold = json::parse(gin).at("detector").at("detections");
    REQUIRE(merged.size() == gold.size());
    for (std::size_t i = 0; i < merged.size(); ++i) {
      const RawDetection q = project_detection(merged[i], m);
      const PixelBox b = to_pixel_box(q, W, H);
      const json& g = gold[i];
      const json& gb = g.at("boundingBox");
      const bool same = b.x == gb.at("originX").get<int>() && b.y == gb.at("originY").get<int>() &&
                        b.width == gb.at("width").get<int>() && b.height == gb.at("height").get<int>();
      exact_boxes += same;
      CHECK(std::abs(b.x - gb.at("originX").get<int>()) <= 1);
      CHECK(std::abs(b.y - gb.at("originY").get<int>()) <= 1);
      CHECK(std::abs(b.width - gb.at("width").get<int>()) <= 1);
      CHECK(std::abs(b.height - gb.at("height").get<int>()) <= 1);
      const double ds = std::fabs(double(q.score) - g.at("score").get<double>());
      CHECK(ds < 1e-6);
      worst_score = std::max(worst_score, ds);
      for (std::size_t k = 0; k < 6; ++k)
        for (std::size_t c = 0; c < 2; ++c) {
          const double dk = std::fabs(double(q.keypoints[k][c]) - g.at("keypoints")[k][c].get<double>());
          CHECK(dk < 1e-5);
          worst_kp = std::max(worst_kp, dk);
        }
      ++faces;
    }
  }
  CHECK(faces == 3);
  MESSAGE("post-processing vs MediaPipe: " << faces << " faces, " << exact_boxes
                                           << " pixel boxes identical, worst score diff " << worst_score
                                           << ", worst keypoint diff " << worst_kp << " (normalised)");
}
