// The facial transformation matrix (landmarks/face_geometry.hpp, weights/face_geometry.fkm):
//  * the converted canonical geometry (docs/pipeline.md 7.1 values);
//  * fed MediaPipe's own landmarks (golden landmarker.faces[i].landmarks), the matrix matches
//    MediaPipe's golden matrix within 1 degree of rotation and 1% of translation (issue 4), for
//    every face of every shared image; the worst figures are reported;
//  * degenerate input (too compact landmarks) gives no matrix, as in MediaPipe;
//  * the converter rejects geometry files that are not what the pose solver expects.
#include <doctest/doctest.h>


#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "face_geometry_check.hpp"
#include "facekit/landmarks/face_geometry.hpp"
#include "test_util.hpp"

#if FACEKIT_HAVE_CONVERTER
#include "convert/face_geometry.hpp"
#endif

using nlohmann::json;

namespace {

std::shared_ptr<const facekit::Model> load_geometry_model() {
  auto m = facekit::Model::load_file(test_util::weights_path("face_geometry.fkm"));
  if (!m) {
    MESSAGE(m.status().message() << " (run tools/fetch-models.sh)");
    return nullptr;
  }
  return std::make_shared<const facekit::Model>(std::move(*m));
}

}  // namespace

TEST_CASE("face geometry: the converted canonical model (docs/pipeline.md 7.1)") {
  auto model = load_geometry_model();
  REQUIRE_MESSAGE(model, "weights/face_geometry.fkm is missing");
  CHECK(model->kind() == "face_geometry");
  CHECK(model->op_count() == 0);
  auto g = facekit::FaceGeometry::create(model);
  REQUIRE_MESSAGE(g, g.status().message());
  CHECK(g->weighted_ids().size() == 33);
  const float total = std::accumulate(g->weights().begin(), g->weights().end(), 0.0f);
  CHECK(total == doctest::Approx(1.055).epsilon(1e-3));
  const float* v = g->canonical_vertices();
  // Symmetric eye corners, nose tip in front (the values decoded from the .binarypb).
  CHECK(v[3 * 263 + 0] == doctest::Approx(4.4459).epsilon(1e-4));
  CHECK(v[3 * 33 + 0] == doctest::Approx(-4.4459).epsilon(1e-4));
  CHECK(v[3 * 4 + 2] == doctest::Approx(7.5866).epsilon(1e-4));
  CHECK(g->vertical_fov_degrees() == 63.0f);
  CHECK(g->near_plane() == 1.0f);
  int triangles = 0;
  CHECK(model->meta_i32_array("geometry.triangles").second == 2694);
  triangles = int(model->meta_i32_array("geometry.triangles").second / 3);
  CHECK(triangles == 898);
}

TEST_CASE("face geometry: other model kinds are rejected by name") {
  auto m = facekit::Model::load_file(test_util::weights_path("face_blendshapes.fkm"));
  REQUIRE_MESSAGE(m, m.status().message());
  auto g = facekit::FaceGeometry::create(std::make_shared<const facekit::Model>(std::move(*m)));
  REQUIRE_FALSE(g);
  CHECK(std::string(g.status().message()).find("'face_blendshapes', expected 'face_geometry'") != std::string::npos);
  CHECK_FALSE(facekit::FaceGeometry::create(nullptr));
}

TEST_CASE("facial transformation matrix from MediaPipe's landmarks matches MediaPipe's (1 degree, 1%)") {
  auto model = load_geometry_model();
  REQUIRE_MESSAGE(model, "weights/face_geometry.fkm is missing");
  auto g = facekit::FaceGeometry::create(model);
  REQUIRE_MESSAGE(g, g.status().message());
  geometry_check::Worst worst;
  int faces = 0;
  for (const std::string& f : geometry_check::golden_files()) {
    std::ifstream in(f);
    const json gj = json::parse(in);
    const std::string image = gj.at("image");
    CAPTURE(image);
    const int W = gj.at("width").get<int>(), H = gj.at("height").get<int>();
    const json& gfaces = gj.at("landmarker").at("faces");
    for (std::size_t k = 0; k < gfaces.size(); ++k) {
      CAPTURE(k);
      std::array<facekit::NormalizedLandmark, facekit::kFaceMeshV2Landmarks> lm;
      geometry_check::read_landmarks(gfaces[k].at("landmarks"), lm.data());
      std::array<float, 16> m{};
      REQUIRE(g->estimate_pose(lm.data(), W, H, m.data()));
      const geometry_check::MatrixError e = geometry_check::compare(m.data(), gfaces[k].at("matrix"));
      CHECK(e.rotation_deg <= 1.0);
      CHECK(e.translation_rel <= 0.01);
      worst.add(e, image);
      ++faces;
    }
  }
  CHECK(faces >= 10);
  MESSAGE("matrix from golden landmarks, " << faces << " faces: " << worst.describe());
}

TEST_CASE("face geometry: too compact or degenerate landmarks give no matrix") {
  auto model = load_geometry_model();
  REQUIRE_MESSAGE(model, "weights/face_geometry.fkm is missing");
  auto g = facekit::FaceGeometry::create(model);
  REQUIRE_MESSAGE(g, g.status().message());
  std::array<facekit::NormalizedLandmark, facekit::kFaceMeshV2Landmarks> lm;
  for (auto& p : lm) p = {0.5f, 0.5f, 0.0f};
  lm[7] = {0.5005f, 0.5f, 0.0f};  // within 1e-3 of the mean: still too compact
  std::array<float, 16> m;
  m.fill(-7.0f);
  CHECK_FALSE(g->estimate_pose(lm.data(), 640, 480, m.data()));
  CHECK(m[0] == -7.0f);  // untouched
  CHECK_FALSE(g->estimate_pose(lm.data(), 0, 480, m.data()));
  // The canonical model itself, seen face-on: a proper rotation close to identity, finite.
  const float* v = g->canonical_vertices();
  for (int i = 0; i < facekit::kFaceMeshV2Landmarks; ++i) {
    const int s = i < facekit::kFaceGeometryVertices ? i : 1;
    lm[std::size_t(i)] = {0.5f + v[3 * s] * 0.02f, 0.5f - v[3 * s + 1] * 0.02f, -v[3 * s + 2] * 0.02f};
  }
  REQUIRE(g->estimate_pose(lm.data(), 640, 640, m.data()));
  for (float x : m) CHECK(std::isfinite(x));
  CHECK(m[15] == 1.0f);
  CHECK(m[11] < 0.0f);  // in front of the camera
  const double s = std::sqrt(double(m[0]) * m[0] + double(m[4]) * m[4] + double(m[8]) * m[8]);
  CHECK(m[0] / s == doctest::Approx(1.0).epsilon(0.02));
  CHECK(m[5] / s == doctest::Approx(1.0).epsilon(0.02));
  CHECK(m[10] / s == doctest::Approx(1.0).epsilon(0.02));
}

#if FACEKIT_HAVE_CONVERTER
TEST_CASE("converter: face geometry input checks") {
  using facekit::convert::convert_face_geometry;
  using facekit::convert::is_face_geometry_source;
  CHECK(is_face_geometry_source("geometry_pipeline_metadata_landmarks.binarypb"));
  CHECK(is_face_geometry_source("x.task/geometry_pipeline_metadata_landmarks.binarypb"));
  CHECK_FALSE(is_face_geometry_source("face_blendshapes.tflite"));
  auto msg = [](const std::vector<uint8_t>& b) {
    auto c = convert_face_geometry(b, "g.binarypb");
    return c ? std::string() : std::string(c.status().message());
  };
  // Not a protobuf message at all (a truncated length-delimited field).
  CHECK(msg({0x0a, 0x40, 0x01}).find("not a serialized geometry pipeline metadata") != std::string::npos);
  // input_source (field 3) = 2: face detection based geometry, not what the landmarker uses.
  CHECK(msg({0x18, 0x02}).find("input_source is 2") != std::string::npos);
  // input_source 1 but no mesh.
  CHECK(msg({0x18, 0x01}).find("canonical_mesh is missing") != std::string::npos);
  // A mesh with 2 vertex floats.
  CHECK(msg({0x18, 0x01, 0x0a, 0x0a, 0x1d, 0, 0, 0, 0, 0x1d, 0, 0, 0x80, 0x3f})
            .find("vertex_buffer has 2 floats") != std::string::npos);
}
#endif
