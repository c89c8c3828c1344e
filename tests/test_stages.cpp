// The landmarker's stages on their own: the mesh-model registry and the BlazeFace stage.
#include <doctest/doctest.h>

#include <facekit/image/image.hpp>
#include <facekit/stages/blazeface_stage.hpp>
#include <facekit/stages/mesh_models.hpp>

#include <cstring>
#include <set>
#include <string>

#include "test_util.hpp"

using namespace facekit;

namespace {

std::shared_ptr<const Model> load_model(const std::string& file) {
  auto m = Model::load_file(test_util::weights_path(file));
  REQUIRE_MESSAGE(m, m.status().message() << " (" << test_util::kFetchModels << ")");
  return std::make_shared<const Model>(std::move(*m));
}

}  // namespace

TEST_CASE("mesh models: one registry entry per FaceMeshModel, each with its own kind and files") {
  std::size_t n = 0;
  const MeshModelEntry* all = mesh_models(&n);
  REQUIRE(n == 2);
  std::set<std::string> kinds, files;
  for (std::size_t i = 0; i < n; ++i) {
    INFO("entry " << all[i].name);
    CHECK(int(all[i].model) == int(i));  // the enum follows the list
    CHECK(find_mesh_model(all[i].model) == &all[i]);
    CHECK(kinds.insert(all[i].info->kind).second);
    CHECK(files.insert(all[i].info->landmark_file).second);
  }
  CHECK(find_mesh_model(FaceMeshModel(7)) == nullptr);
  CHECK(mesh_model_names() == "v2 or attention");
}

TEST_CASE("mesh models: each stage loads its own model and refuses the other's, naming the option that fits") {
  auto v2 = create_mesh_stage(FaceMeshModel::v2, load_model("face_landmarks_detector.fkm"));
  REQUIRE_MESSAGE(v2, v2.status().message());
  CHECK((*v2)->input_width() == 256);
  auto att = create_mesh_stage(FaceMeshModel::attention, load_model("face_landmark_with_attention.fkm"));
  REQUIRE_MESSAGE(att, att.status().message());
  CHECK((*att)->input_width() == 192);

  auto wrong = create_mesh_stage(FaceMeshModel::v2, load_model("face_landmark_with_attention.fkm"));
  REQUIRE_FALSE(wrong);
  CHECK(std::string(wrong.status().message()).find("landmark_model = attention") != std::string::npos);
  auto detector = create_mesh_stage(FaceMeshModel::attention, load_model("face_detector.fkm"));
  REQUIRE_FALSE(detector);
  const std::string msg = detector.status().message();
  CHECK(msg.find("'face_detector'") != std::string::npos);
  CHECK(msg.find("landmark_model =") == std::string::npos);  // no registered model has that kind
}

TEST_CASE("blazeface stage: settings checked by name, detections as FaceDetector reports them") {
  auto model = load_model("face_detector.fkm");
  BlazeFaceStage::Settings bad;
  bad.min_suppression_threshold = -0.1f;
  auto refused = BlazeFaceStage::create(model, bad);
  REQUIRE_FALSE(refused);
  CHECK(std::string(refused.status().message()).find("min_suppression_threshold") != std::string::npos);
  auto not_detector = BlazeFaceStage::create(load_model("face_blendshapes.fkm"), {});
  REQUIRE_FALSE(not_detector);

  auto stage = BlazeFaceStage::create(model, {});
  REQUIRE_MESSAGE(stage, stage.status().message());
  // MediaPipe Tasks' FaceDetector on the same pixels (tests/data/golden/skimage_astronaut.json,
  // made by tests/gen/make_mediapipe_golden.py): box 177, 82, 95 x 95, score 0.9217387.
  auto image = load_image(test_util::image_path("skimage_astronaut.png"));
  REQUIRE_MESSAGE(image, image.status().message());
  std::vector<Detection> faces;
  REQUIRE(stage->run(image->view(), faces));
  REQUIRE(faces.size() == 1);
  const Detection& d = faces[0];
  CHECK(d.bounding_box.origin_x == 177);
  CHECK(d.bounding_box.origin_y == 82);
  CHECK(d.bounding_box.width == 95);
  CHECK(d.bounding_box.height == 95);
  CHECK(d.score == doctest::Approx(0.9217387).epsilon(1e-5));
  CHECK(d.keypoints[0].x == doctest::Approx(0.39354578).epsilon(1e-4));
  CHECK(d.keypoints[1].x == doctest::Approx(0.4801674).epsilon(1e-4));
}
