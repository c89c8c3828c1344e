// facekit/stages/geometry_stage.hpp - the facial transformation matrix of one face
// (docs/pipeline.md 7): MediaPipe's geometry pipeline (landmarks/face_geometry.hpp) with the
// canonical face model of face_geometry.fkm.
//
//   auto stage = facekit::GeometryStage::create(model);
//   std::array<float, 16> m;   // row-major 4x4
//   bool has_matrix = stage->run(landmarks.data(), W, H, m.data());
//
// run() allocates nothing.
#pragma once

#include <memory>

#include "../landmarks/face_geometry.hpp"
#include "../landmarks/face_mesh_v2.hpp"
#include "../model/model.hpp"
#include "../status.hpp"

namespace facekit {

class GeometryStage {
 public:
  static Expected<GeometryStage> create(std::shared_ptr<const Model> model) {
    auto g = FaceGeometry::create(std::move(model));
    if (!g) {
      Status s = g.status();
      s.prefix("geometry model");
      return s;
    }
    return GeometryStage(std::move(*g));
  }

  /// Writes the 4x4 matrix of the face whose image-normalised `landmarks` are given; false when
  /// MediaPipe gives no matrix (landmarks too compact).
  bool run(const NormalizedLandmark* landmarks, int image_w, int image_h, float* matrix) noexcept {
    return solver_.estimate_pose(landmarks, image_w, image_h, matrix);
  }

  FaceGeometry& solver() noexcept { return solver_; }

 private:
  explicit GeometryStage(FaceGeometry solver) : solver_(std::move(solver)) {}
  FaceGeometry solver_;
};

}  // namespace facekit
