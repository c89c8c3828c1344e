// facekit/landmarks/face_geometry.hpp - the facial transformation matrix: the pose of MediaPipe's
// canonical face model in the camera frame, as MediaPipe's face geometry pipeline computes it
// (docs/pipeline.md 7; mediapipe/tasks/cc/vision/face_geometry/libs/geometry_pipeline.cc
// and procrustes_solver.cc).
//
//   auto geo = facekit::FaceGeometry::create_from_file("weights/face_geometry.fkm");
//   std::array<float, 16> m;   // row-major 4x4: [s*R | t; 0 0 0 1]
//   if (geo->estimate_pose(face.landmarks.data(), W, H, m.data())) ...
//
// The model file (kind "face_geometry", written by `facekit convert` from the .task's
// geometry_pipeline_metadata_landmarks.binarypb) holds the canonical vertices (centimetres) and
// the Procrustes weights. The camera is the one FaceLandmarker configures (docs/pipeline.md 7.2):
// perspective, 63 degree vertical field of view, near plane 1, origin at the image's top-left
// corner.
//
// Steps for one face (docs/pipeline.md 7.3-7.5): the first 468 landmarks are projected onto the
// near plane; a first weighted Procrustes fit (canonical -> landmarks with flipped z) gives a
// scale, a second one on the landmarks unprojected with that scale refines it; the landmarks
// unprojected with the product of both scales are metric, and a third fit, canonical -> metric,
// is the pose. Arithmetic is float32 with Eigen's JacobiSVD, as MediaPipe's. Only the weighted
// vertices (33 of 468) enter the fits: the others have weight 0 and add nothing.
//
// A FaceGeometry holds scratch space: one per thread. estimate_pose() allocates nothing.
#pragma once

#include <Eigen/Core>
#include <Eigen/LU>  // determinant()
#include <Eigen/SVD>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../model/model.hpp"
#include "../status.hpp"
#include "face_mesh_v2.hpp"

namespace facekit {

/// Vertices of the canonical face model (the face mesh without the irises).
constexpr int kFaceGeometryVertices = 468;

class FaceGeometry {
 public:
  /// `model`: kind "face_geometry" (weights/face_geometry.fkm).
  static Expected<FaceGeometry> create(std::shared_ptr<const Model> model);
#ifndef FACEKIT_NO_STDIO
  static Expected<FaceGeometry> create_from_file(const std::string& path) {
    auto m = Model::load_file(path);
    if (!m) return m.status();
    return create(std::make_shared<const Model>(std::move(*m)));
  }
#endif

  /// The facial transformation matrix of one face, row-major into `out[16]` (element (r, c) at
  /// out[4 * r + c]; the translation is out[3], out[7], out[11], in centimetres). `landmarks`
  /// holds at least 468 image-normalised landmarks of an image of `image_width` x `image_height`
  /// pixels. False, with `out` untouched, when MediaPipe gives no matrix for the face: its
  /// landmarks are too compact (all within 1e-3 of their mean), or a fit is degenerate.
  bool estimate_pose(const NormalizedLandmark* landmarks, int image_width, int image_height, float* out) noexcept;

  /// The canonical model: vertex v at canonical_vertices()[3 * v .. 3 * v + 3) (centimetres).
  const float* canonical_vertices() const noexcept { return canonical_; }
  /// Landmarks with a non-zero Procrustes weight, and their weights.
  const std::vector<int>& weighted_ids() const noexcept { return ids_; }
  const std::vector<float>& weights() const noexcept { return weights_; }
  float vertical_fov_degrees() const noexcept { return fov_deg_; }
  float near_plane() const noexcept { return near_; }

 private:
  FaceGeometry() = default;
  /// create() without the file name in its errors.
  static Expected<FaceGeometry> create_checked(std::shared_ptr<const Model> model);
  using Mat3X = Eigen::Matrix<float, 3, Eigen::Dynamic>;
  /// Weighted orthogonal Procrustes with uniform scale, source = the canonical weighted vertices,
  /// target = `target` (3 x weighted vertices). False if degenerate (MediaPipe's error cases).
  bool procrustes(const Mat3X& target, Eigen::Matrix4f* transform) const noexcept;

  std::shared_ptr<const Model> model_;
  const float* canonical_ = nullptr;
  std::vector<int> ids_;
  std::vector<float> weights_;
  Mat3X source_;       // canonical positions of the weighted vertices
  Mat3X target_;       // scratch: the current fit's target
  float total_weight_ = 0;
  float fov_deg_ = 63.0f, near_ = 1.0f;
  std::array<float, 3 * kFaceGeometryVertices> screen_{};  // landmarks projected onto the near plane
};

inline Expected<FaceGeometry> FaceGeometry::create(std::shared_ptr<const Model> model) {
  if (!model) return Status::error("FaceGeometry: model is null");
  Expected<FaceGeometry> g = create_checked(model);
  if (!g) return model->name_file(g.status());
  return g;
}

inline Expected<FaceGeometry> FaceGeometry::create_checked(std::shared_ptr<const Model> model) {
  const Model& m = *model;
  if (m.kind() != "face_geometry")
    return Status::error("FaceGeometry: model kind is '%s', expected 'face_geometry' (convert face_landmarker.task: "
                         "it writes face_geometry.fkm)",
                         m.kind().c_str());
  const uint32_t tv = m.find_tensor("canonical_vertices"), tw = m.find_tensor("procrustes_weights");
  if (tv == kNoTensor || tw == kNoTensor)
    return Status::error("FaceGeometry: model lacks the '%s' tensor",
                         tv == kNoTensor ? "canonical_vertices" : "procrustes_weights");
  const TensorInfo& v = m.tensor(tv);
  const TensorInfo& w = m.tensor(tw);
  if (!v.is_constant() || v.elements() != std::size_t(kFaceGeometryVertices) * 3)
    return Status::error("FaceGeometry: canonical_vertices has %zu values, expected a constant 468 x 3", v.elements());
  if (!w.is_constant() || w.elements() != std::size_t(kFaceGeometryVertices))
    return Status::error("FaceGeometry: procrustes_weights has %zu values, expected a constant 468", w.elements());
  FaceGeometry g;
  g.canonical_ = v.f32();
  for (std::size_t i = 0; i < v.elements(); ++i)
    if (!std::isfinite(g.canonical_[i]))
      return Status::error("FaceGeometry: 'canonical_vertices' value %zu is %g, expected a finite value", i,
                           double(g.canonical_[i]));
  double total = 0;
  for (int i = 0; i < kFaceGeometryVertices; ++i) {
    const float wi = w.f32()[i];
    if (!(wi >= 0) || !std::isfinite(wi))
      return Status::error("FaceGeometry: 'procrustes_weights' value %d is %g, expected a finite value >= 0", i,
                           double(wi));
    if (wi > 0) {
      g.ids_.push_back(i);
      g.weights_.push_back(wi);
      total += wi;
    }
  }
  if (!(total > 1e-9) || !std::isfinite(total))
    return Status::error("FaceGeometry: 'procrustes_weights' sum to %g, expected a finite sum > 0", total);
  g.total_weight_ = float(total);
  const Eigen::Index n = Eigen::Index(g.ids_.size());
  g.source_.resize(3, n);
  g.target_.resize(3, n);
  for (Eigen::Index k = 0; k < n; ++k)
    for (int r = 0; r < 3; ++r) g.source_(r, k) = g.canonical_[3 * g.ids_[std::size_t(k)] + r];
  // The fit divides by the weighted vertices' spread about their centroid (procrustes()'s
  // denominator): weighted vertices that all coincide make every pose degenerate.
  {
    Eigen::Vector3d c = Eigen::Vector3d::Zero();
    for (Eigen::Index k = 0; k < n; ++k) c += double(g.weights_[std::size_t(k)]) * g.source_.col(k).cast<double>();
    c /= total;
    double spread = 0;
    for (Eigen::Index k = 0; k < n; ++k)
      spread += double(g.weights_[std::size_t(k)]) * (g.source_.col(k).cast<double>() - c).squaredNorm();
    if (!(spread / total > 1e-9) || !std::isfinite(spread))
      return Status::error("FaceGeometry: 'canonical_vertices' is degenerate: the weighted vertices' mean squared "
                           "distance from their centroid is %g, expected > 1e-9",
                           spread / total);
  }
  // Absent keys keep FaceLandmarker's camera (docs/pipeline.md 7.2); the far plane bounds nothing
  // here but must make a valid frustum with the near one.
  float far_plane = 10000.0f;
  m.meta_f32("camera.vertical_fov_degrees", &g.fov_deg_);
  m.meta_f32("camera.near", &g.near_);
  m.meta_f32("camera.far", &far_plane);
  if (!std::isfinite(g.fov_deg_) || !(g.fov_deg_ > 0 && g.fov_deg_ < 180))
    return Status::error("FaceGeometry: 'camera.vertical_fov_degrees' is %g, expected a finite value in (0, 180)",
                         double(g.fov_deg_));
  if (!std::isfinite(g.near_) || !(g.near_ > 0))
    return Status::error("FaceGeometry: 'camera.near' is %g, expected a finite value > 0", double(g.near_));
  if (!std::isfinite(far_plane) || !(far_plane > g.near_))
    return Status::error("FaceGeometry: 'camera.far' is %g, expected a finite value > 'camera.near' (%g)",
                         double(far_plane), double(g.near_));
  g.model_ = std::move(model);
  return g;
}

inline bool FaceGeometry::procrustes(const Mat3X& target, Eigen::Matrix4f* transform) const noexcept {
  // docs/pipeline.md 7.5: weighted centroid of the source, cross-covariance, SVD rotation with the
  // reflection fix, least-squares scale, then the translation that matches the weighted centroids.
  const Eigen::Index n = source_.cols();
  Eigen::Vector3f c = Eigen::Vector3f::Zero();
  for (Eigen::Index k = 0; k < n; ++k) c += weights_[std::size_t(k)] * source_.col(k);
  c /= total_weight_;
  Eigen::Matrix3f design = Eigen::Matrix3f::Zero();
  for (Eigen::Index k = 0; k < n; ++k)
    design += (weights_[std::size_t(k)] * target.col(k)) * (source_.col(k) - c).transpose();
  if (!(design.norm() > 1e-9f)) return false;
  Eigen::JacobiSVD<Eigen::Matrix3f> svd(design, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Eigen::Matrix3f u = svd.matrixU();
  const Eigen::Matrix3f vt = svd.matrixV().transpose();
  if (u.determinant() * vt.determinant() < 0) u.col(2) *= -1.0f;
  const Eigen::Matrix3f rot = u * vt;
  float num = 0, den = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Vector3f centred = source_.col(k) - c;
    num += weights_[std::size_t(k)] * target.col(k).dot(rot * centred);
    den += weights_[std::size_t(k)] * centred.dot(source_.col(k));
  }
  if (!(den > 1e-9f)) return false;
  const float scale = num / den;
  if (!(scale > 1e-9f)) return false;
  const Eigen::Matrix3f sr = scale * rot;
  Eigen::Vector3f t = Eigen::Vector3f::Zero();
  for (Eigen::Index k = 0; k < n; ++k) t += weights_[std::size_t(k)] * (target.col(k) - sr * source_.col(k));
  t /= total_weight_;
  transform->setIdentity();
  transform->topLeftCorner<3, 3>() = sr;
  transform->topRightCorner<3, 1>() = t;
  return transform->allFinite();
}

inline bool FaceGeometry::estimate_pose(const NormalizedLandmark* landmarks, int image_width, int image_height,
                                        float* out) noexcept {
  constexpr int N = kFaceGeometryVertices;
  if (image_width <= 0 || image_height <= 0) return false;
  // IsScreenLandmarkListTooCompact: the running mean, then the largest distance from it.
  {
    float mx = 0, my = 0;
    for (int i = 0; i < N; ++i) {
      mx += (landmarks[i].x - mx) / float(i + 1);
      my += (landmarks[i].y - my) / float(i + 1);
    }
    float max_sq = 0;
    for (int i = 0; i < N; ++i) {
      const float dx = landmarks[i].x - mx, dy = landmarks[i].y - my;
      max_sq = std::max(max_sq, dx * dx + dy * dy);
    }
    if (!(std::sqrt(max_sq) > 1e-3f)) return false;
  }
  // Perspective frustum at the near plane, origin top-left (docs/pipeline.md 7.4).
  const float h_near = 2.0f * near_ * std::tan(0.5f * fov_deg_ * float(M_PI) / 180.0f);
  const float w_near = float(image_width) * h_near / float(image_height);
  const float left = -0.5f * w_near, right = 0.5f * w_near, bottom = -0.5f * h_near, top = 0.5f * h_near;
  // 1. Project onto the near plane; depth offset = mean projected z.
  float z_sum = 0;
  for (int i = 0; i < N; ++i) {
    float* p = &screen_[std::size_t(3 * i)];
    p[0] = landmarks[i].x * (right - left) + left;
    p[1] = (1.0f - landmarks[i].y) * (top - bottom) + bottom;
    p[2] = landmarks[i].z * (right - left);
    z_sum += p[2];
  }
  const float depth_offset = z_sum / float(N);
  const Eigen::Index n = source_.cols();
  Eigen::Matrix4f fit;
  // 2. First scale: the projected points with z flipped (right-handed camera frame).
  for (Eigen::Index k = 0; k < n; ++k) {
    const float* p = &screen_[std::size_t(3 * ids_[std::size_t(k)])];
    target_.col(k) << p[0], p[1], -p[2];
  }
  if (!procrustes(target_, &fit)) return false;
  const float s1 = fit.col(0).norm();
  // Unprojects the weighted points with a total scale into target_ (MoveAndRescaleZ, UnprojectXY,
  // ChangeHandedness).
  auto unproject = [&](float scale) {
    for (Eigen::Index k = 0; k < n; ++k) {
      const float* p = &screen_[std::size_t(3 * ids_[std::size_t(k)])];
      const float z = (p[2] - depth_offset + near_) / scale;
      target_.col(k) << p[0] * z / near_, p[1] * z / near_, -z;
    }
  };
  // 3. Second scale, on the points unprojected with the first.
  unproject(s1);
  if (!procrustes(target_, &fit)) return false;
  const float s2 = fit.col(0).norm();
  // 4-5. Metric landmarks, and the pose that maps the canonical model onto them.
  unproject(s1 * s2);
  if (!procrustes(target_, &fit)) return false;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) out[4 * r + c] = fit(r, c);
  return true;
}

}  // namespace facekit
