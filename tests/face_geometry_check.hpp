// Helpers for the tests comparing facial transformation matrices and blendshapes with
// MediaPipe's goldens in tests/data/golden (test_face_geometry.cpp, test_face_landmarker_full.cpp).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "facekit/landmarks/face_mesh_v2.hpp"
#include "test_util.hpp"

namespace geometry_check {

using test_util::golden_files;

inline void read_landmarks(const nlohmann::json& j, facekit::NormalizedLandmark* out) {
  for (std::size_t i = 0; i < j.size(); ++i)
    out[i] = {float(j[i][0].get<double>()), float(j[i][1].get<double>()), float(j[i][2].get<double>())};
}

struct MatrixError {
  double rotation_deg = 0;    ///< angle of R_ours^T R_golden
  double translation_rel = 0; ///< |t_ours - t_golden| / |t_golden|
  double scale_rel = 0;       ///< |s_ours / s_golden - 1|
  double max_abs = 0;         ///< largest element difference
};

/// `ours`: row-major 4x4; `golden`: 16 numbers column-major (golden README).
inline MatrixError compare(const float* ours, const nlohmann::json& golden) {
  Eigen::Matrix4d a, b;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      a(r, c) = ours[4 * r + c];
      b(r, c) = golden[std::size_t(4 * c + r)].get<double>();
    }
  const double sa = a.block<3, 1>(0, 0).norm(), sb = b.block<3, 1>(0, 0).norm();
  const Eigen::Matrix3d ra = a.block<3, 3>(0, 0) / sa, rb = b.block<3, 3>(0, 0) / sb;
  // The angle of the relative rotation from both its cosine and sine (acos alone is
  // ill-conditioned near 0: float32 noise would read as ~0.03 degrees).
  const Eigen::Matrix3d rel = ra.transpose() * rb;
  const Eigen::Vector3d v(rel(2, 1) - rel(1, 2), rel(0, 2) - rel(2, 0), rel(1, 0) - rel(0, 1));
  MatrixError e;
  e.rotation_deg = std::atan2(0.5 * v.norm(), 0.5 * (rel.trace() - 1.0)) * 180.0 / M_PI;
  // (a plain loop: Eigen's vectorised maxCoeff on a 4x4 double trips g++ 12's -Wmaybe-uninitialized)
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) e.max_abs = std::max(e.max_abs, std::fabs(a(r, c) - b(r, c)));
  e.translation_rel = (a.block<3, 1>(0, 3) - b.block<3, 1>(0, 3)).norm() / b.block<3, 1>(0, 3).norm();
  e.scale_rel = std::fabs(sa / sb - 1.0);
  return e;
}

struct Worst {
  MatrixError e;
  std::string rot_at, trans_at;
  void add(const MatrixError& x, const std::string& where) {
    if (x.rotation_deg > e.rotation_deg) e.rotation_deg = x.rotation_deg, rot_at = where;
    if (x.translation_rel > e.translation_rel) e.translation_rel = x.translation_rel, trans_at = where;
    e.scale_rel = std::max(e.scale_rel, x.scale_rel);
    e.max_abs = std::max(e.max_abs, x.max_abs);
  }
  std::string describe() const {
    std::ostringstream s;
    s << "worst rotation " << e.rotation_deg << " deg (" << rot_at << "), translation " << e.translation_rel * 100
      << "% (" << trans_at << "), scale " << e.scale_rel * 100 << "%, max element diff " << e.max_abs;
    return s.str();
  }
};

}  // namespace geometry_check
