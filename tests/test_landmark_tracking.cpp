// The pieces between the networks that the Attention Mesh and video mode add: the refinement of
// the Attention Mesh's outputs into 478 points (tables checked against the ones read out of
// MediaPipe's compiled library), the legacy rect-only projection, the tracking ROI
// from landmarks, the rect IoU of the tracked/fresh association, and the one-euro smoother.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "facekit/landmarks/attention_mesh.hpp"
#include "facekit/landmarks/roi.hpp"
#include "facekit/landmarks/smoothing.hpp"
#include "test_util.hpp"

using nlohmann::json;

TEST_CASE("attention mesh refinement tables are MediaPipe's and cover 0..477 exactly once per part") {
  // MediaPipe's own tables, read out of its compiled library by tests/gen/make_mediapipe_tables.py.
  const std::string path = test_util::data_path("mediapipe_tables.json");
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "missing " << path << " (python3 tests/gen/make_mediapipe_tables.py makes it)");
  const json tables = json::parse(in);
  const json& r = tables.at("attention_mesh_refinements");
  REQUIRE(r.size() == 6);
  auto same = [](const json& j, const auto& table) {
    REQUIRE(j.size() == table.size());
    for (std::size_t i = 0; i < table.size(); ++i) CHECK(j[i].get<int>() == int(table[i]));
  };
  same(r[1].at("indexes_mapping"), facekit::kAttentionLipsToMesh);
  same(r[2].at("indexes_mapping"), facekit::kAttentionLeftEyeToMesh);
  same(r[3].at("indexes_mapping"), facekit::kAttentionRightEyeToMesh);
  same(r[4].at("indexes_for_average"), facekit::kAttentionLeftIrisDepthFrom);
  same(r[5].at("indexes_for_average"), facekit::kAttentionRightIrisDepthFrom);
  CHECK(r[4].at("indexes_mapping")[0].get<int>() == facekit::kAttentionLeftIrisFirst);
  CHECK(r[5].at("indexes_mapping")[0].get<int>() == facekit::kAttentionRightIrisFirst);
  CHECK(r[0].at("z_refinement") == "copy");
  for (int k = 1; k <= 3; ++k) CHECK(r[std::size_t(k)].at("z_refinement") == "none");
  for (int k = 4; k <= 5; ++k) CHECK(r[std::size_t(k)].at("z_refinement") == "assign_average");
  // Each part's points fill its model output: x, y, z for the mesh, x, y for the others.
  for (std::size_t k = 0; k < 6; ++k)
    CHECK(int(r[k].at("indexes_mapping").size()) * (k == 0 ? 3 : 2) == facekit::kAttentionOutputValues[k]);
}

TEST_CASE("attention mesh decoding: parts overwrite x, y; z from the mesh, irises get their eye's mean z") {
  // Synthetic outputs in 192-pixel units: mesh point i at (i, 2i, -3i) / 10, every refined part at
  // values that tell where they came from.
  std::vector<float> mesh(468 * 3), lips(160), leye(142), reye(142), liris(10), riris(10);
  for (int i = 0; i < 468; ++i) {
    mesh[std::size_t(i) * 3 + 0] = float(i) / 10;
    mesh[std::size_t(i) * 3 + 1] = float(2 * i) / 10;
    mesh[std::size_t(i) * 3 + 2] = -float(3 * i) / 10;
  }
  auto fill = [](std::vector<float>& v, float base) {
    for (std::size_t j = 0; j < v.size(); ++j) v[j] = base + float(j);
  };
  fill(lips, 1000);
  fill(leye, 2000);
  fill(reye, 3000);
  fill(liris, 4000);
  fill(riris, 5000);
  const float* outs[6] = {mesh.data(), lips.data(), leye.data(), reye.data(), liris.data(), riris.data()};
  std::vector<facekit::NormalizedLandmark> lm(478);
  facekit::refine_attention_mesh(outs, 192, 192, lm.data());
  std::set<int> refined;
  auto check_part = [&](const float* t, const auto& map) {
    for (std::size_t j = 0; j < map.size(); ++j) {
      const int i = map[j];
      refined.insert(i);
      CHECK(lm[std::size_t(i)].x == t[2 * j] / 192.0f);
      CHECK(lm[std::size_t(i)].y == t[2 * j + 1] / 192.0f);
      CHECK(lm[std::size_t(i)].z == mesh[std::size_t(i) * 3 + 2] / 192.0f);  // "none": the mesh z
    }
  };
  check_part(lips.data(), facekit::kAttentionLipsToMesh);
  check_part(leye.data(), facekit::kAttentionLeftEyeToMesh);
  check_part(reye.data(), facekit::kAttentionRightEyeToMesh);
  CHECK(refined.size() == 80 + 71 + 71);  // no index refined twice
  for (int i = 0; i < 468; ++i)
    if (!refined.count(i)) {
      CHECK(lm[std::size_t(i)].x == mesh[std::size_t(i) * 3] / 192.0f);
      CHECK(lm[std::size_t(i)].y == mesh[std::size_t(i) * 3 + 1] / 192.0f);
    }
  auto check_iris = [&](const std::vector<float>& t, int first, const auto& depth_from) {
    double z = 0;
    for (int k : depth_from) z += -3.0 * k / 10 / 192;
    z /= 16;
    for (int j = 0; j < 5; ++j) {
      CHECK(lm[std::size_t(first + j)].x == t[std::size_t(2 * j)] / 192.0f);
      CHECK(lm[std::size_t(first + j)].y == t[std::size_t(2 * j + 1)] / 192.0f);
      CHECK(lm[std::size_t(first + j)].z == doctest::Approx(z).epsilon(1e-6));
    }
  };
  check_iris(liris, 468, facekit::kAttentionLeftIrisDepthFrom);
  check_iris(riris, 473, facekit::kAttentionRightIrisDepthFrom);
}

TEST_CASE("legacy rect-only projection: centre, quarter turn, z scaled by the ROI width") {
  facekit::NormalizedRect roi;
  roi.x_center = 0.4f;
  roi.y_center = 0.6f;
  roi.width = 0.2f;
  roi.height = 0.3f;
  roi.rotation = float(M_PI / 2);
  facekit::NormalizedLandmark p[3] = {{0.5f, 0.5f, 0.1f}, {1.0f, 0.5f, 0.0f}, {0.5f, 1.0f, -0.5f}};
  facekit::project_landmarks_rect_only(roi, p, 3);
  CHECK(p[0].x == doctest::Approx(0.4));  // crop centre -> ROI centre
  CHECK(p[0].y == doctest::Approx(0.6));
  CHECK(p[0].z == doctest::Approx(0.02));
  // Turned by 90 degrees: the crop's +x half-width goes to the image's +y, scaled by the height.
  CHECK(p[1].x == doctest::Approx(0.4).epsilon(1e-6));
  CHECK(p[1].y == doctest::Approx(0.6 + 0.5 * 0.3));
  // The crop's +y goes to the image's -x, scaled by the width.
  CHECK(p[2].x == doctest::Approx(0.4 - 0.5 * 0.2));
  CHECK(p[2].y == doctest::Approx(0.6).epsilon(1e-6));
  CHECK(p[2].z == doctest::Approx(-0.1));
}

TEST_CASE("tracking ROI from landmarks: bounding box, turned from 33 to 263, squared, x1.5") {
  // An upright face box 100 x 140 px in a 400 x 200 image, eye corners level.
  std::vector<facekit::NormalizedLandmark> lm(478, facekit::NormalizedLandmark{0.5f, 0.5f, 0});
  lm[0] = {100 / 400.0f, 30 / 200.0f, 0};
  lm[1] = {200 / 400.0f, 170 / 200.0f, 0};
  lm[33] = {120 / 400.0f, 80 / 200.0f, 0};
  lm[263] = {180 / 400.0f, 80 / 200.0f, 0};
  facekit::NormalizedRect r = facekit::tracking_roi(lm.data(), 478, 400, 200);
  CHECK(r.x_center == doctest::Approx(150 / 400.0));
  CHECK(r.y_center == doctest::Approx(100 / 200.0));
  CHECK(r.rotation == doctest::Approx(0.0));
  CHECK(r.width * 400 == doctest::Approx(210.0));  // long side 140 px, x1.5, square in pixels
  CHECK(r.height * 200 == doctest::Approx(210.0));
  // MediaPipe's angle is -atan2(-dy, dx) in pixels (y down): an eye line going down to the right by
  // 30 degrees gives +30 degrees.
  lm[263] = {(120 + 60 * std::cos(float(M_PI / 6))) / 400.0f, (80 + 60 * std::sin(float(M_PI / 6))) / 200.0f, 0};
  r = facekit::tracking_roi(lm.data(), 478, 400, 200);
  CHECK(r.rotation == doctest::Approx(M_PI / 6).epsilon(1e-5));
}

TEST_CASE("rect IoU of the association: axis-aligned, rotation ignored, strict zero when apart") {
  facekit::NormalizedRect a, b;
  a.x_center = 0.5f; a.y_center = 0.5f; a.width = 0.2f; a.height = 0.2f;
  b = a;
  CHECK(facekit::rect_iou(a, b) == doctest::Approx(1.0));
  b.rotation = 1.0f;
  CHECK(facekit::rect_iou(a, b) == doctest::Approx(1.0));
  b.x_center = 0.6f;  // half overlapping: 0.1 x 0.2 over 0.06
  CHECK(facekit::rect_iou(a, b) == doctest::Approx(0.02 / 0.06).epsilon(1e-5));
  b.x_center = 0.9f;
  CHECK(facekit::rect_iou(a, b) == 0.0f);
  b = a;
  b.width = 0.1f;  // contained: 0.02 / 0.04
  CHECK(facekit::rect_iou(a, b) == doctest::Approx(0.5).epsilon(1e-5));
}

TEST_CASE("one-euro landmark smoother: pass-through first, still points stay, motion lags, reset forgets") {
  facekit::LandmarkSmoother s;
  std::vector<facekit::NormalizedLandmark> lm(478), raw(478);
  for (int i = 0; i < 478; ++i)
    raw[std::size_t(i)] = {0.3f + 0.4f * float(i % 20) / 20, 0.2f + 0.5f * float(i / 20) / 24, 0.01f * float(i % 7)};
  lm = raw;
  s.apply(lm.data(), 478, 640, 480, 0);
  // The first sample passes (up to the float round trip through pixels that MediaPipe makes too).
  for (int i = 0; i < 478; ++i) CHECK(lm[std::size_t(i)].x == doctest::Approx(raw[std::size_t(i)].x).epsilon(1e-6));
  // The same points 33 ms later: a still face stays exactly where it is.
  lm = raw;
  s.apply(lm.data(), 478, 640, 480, 33000);
  for (int i = 0; i < 478; ++i) CHECK(lm[std::size_t(i)].x == doctest::Approx(raw[std::size_t(i)].x).epsilon(1e-6));
  // A jump of 10 px: the output moves towards it but not all the way.
  auto moved = raw;
  for (auto& p : moved) p.x += 10.0f / 640;
  lm = moved;
  s.apply(lm.data(), 478, 640, 480, 66000);
  const double step = (double(lm[0].x) - raw[0].x) * 640;
  MESSAGE("one-euro response to a 10 px jump: " << step << " px");
  CHECK(step > 0.5);
  CHECK(step < 10.0);
  // A timestamp that does not increase returns the raw values.
  lm = raw;
  s.apply(lm.data(), 478, 640, 480, 66000);
  CHECK(lm[0].x == doctest::Approx(raw[0].x).epsilon(1e-6));
  // After a reset the next sample passes through again.
  s.reset();
  lm = moved;
  s.apply(lm.data(), 478, 640, 480, 99000);
  CHECK(lm[0].x == doctest::Approx(moved[0].x).epsilon(1e-6));
}
