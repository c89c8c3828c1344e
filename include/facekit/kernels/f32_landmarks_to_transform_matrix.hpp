// facekit/kernels/f32_landmarks_to_transform_matrix.hpp - the crop matrix of the attention mesh's
// sub-networks (MediaPipe's Landmarks2TransformMatrix v2, docs/pipeline.md 4.3;
// mediapipe/util/tflite/operations/landmarks_to_transform_matrix.cc).
//
// From N landmarks (D coordinates each, x and y used): rot = target - atan2(yR - yL, xR - xL);
// the subset points rotated by rot give a bounding box (w, h, centre); the centre rotated back by
// -rot is (cx, cy). The output is the row-major 4x4 product
//   Translate(cx, cy) * Rotate(-rot) * Scale(sx*w/ow, sy*h/oh) * Translate(-ow/2, -oh/2),
// formed in float and in MediaPipe's order (see f32_affine_math.hpp). It maps a position in the
// ow x oh crop to the landmark frame.
//
// One implementation for every architecture: it touches ~80 points once per inference.
#pragma once

#include <cmath>

#include "f32_affine_math.hpp"

namespace facekit {
namespace kernels {

struct LandmarksToTransformConfig {
  int left, right;                 ///< rotation landmarks
  int output_width, output_height; ///< crop size
  float scale_x, scale_y;
  float target_rotation;           ///< radians
};

namespace ref {

/// x: [N][dims] landmarks; subset: `count` indices (as floats, checked < N by the op layer);
/// m: 16 floats out.
inline void f32_landmarks_to_transform_matrix(const float* x, int dims, const float* subset, int count,
                                              const LandmarksToTransformConfig& cfg, float* m) {
  using affine::mulf;
  const float* l = x + std::size_t(cfg.left) * dims;
  const float* r = x + std::size_t(cfg.right) * dims;
  const float rot = cfg.target_rotation - std::atan2(r[1] - l[1], r[0] - l[0]);
  const float c = std::cos(rot), s = std::sin(rot);
  const float ci = std::cos(-rot), si = std::sin(-rot);
  // Rotated (x, y, 1): rows (c, -s, 0) and (s, c, 0) summed from 0.
  auto rotate = [&](float px, float py, float cc, float ss, float* ox, float* oy) {
    *ox = ((0.0f + mulf(cc, px)) + mulf(-ss, py)) + mulf(0.0f, 1.0f);
    *oy = ((0.0f + mulf(ss, px)) + mulf(cc, py)) + mulf(0.0f, 1.0f);
  };
  float minx = 0.0f, miny = 0.0f, maxx = 0.0f, maxy = 0.0f;
  for (int i = 0; i < count; ++i) {
    const float* p = x + std::size_t(subset[i]) * dims;
    float px, py;
    rotate(p[0], p[1], c, s, &px, &py);
    if (i == 0) {
      minx = maxx = px;
      miny = maxy = py;
      continue;
    }
    if (maxx < px) maxx = px;
    if (maxy < py) maxy = py;
    if (minx > px) minx = px;
    if (miny > py) miny = py;
  }
  const float crop_w = maxx - minx, crop_h = maxy - miny;
  float cx, cy;
  rotate((minx + maxx) / 2.0f, (miny + maxy) / 2.0f, ci, si, &cx, &cy);

  // Translate * Rotate(-rot) * Scale * Translate, accumulated left to right from the identity.
  const float pc = std::cos(-rot), ps = std::sin(-rot);
  const float sx = mulf(cfg.scale_x, crop_w) / float(cfg.output_width);
  const float sy = mulf(cfg.scale_y, crop_h) / float(cfg.output_height);
  const float hx = float(-1.0 * (cfg.output_width / 2.0)), hy = float(-1.0 * (cfg.output_height / 2.0));
  const float id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float shift[16] = {1, 0, 0, cx, 0, 1, 0, cy, 0, 0, 1, 0, 0, 0, 0, 1};
  const float rotm[16] = {pc, -ps, 0, 0, ps, pc, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float scale[16] = {sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const float shift2[16] = {1, 0, 0, hx, 0, 1, 0, hy, 0, 0, 1, 0, 0, 0, 0, 1};
  float a[16], b[16];
  affine::mat4_mul(id, shift, a);
  affine::mat4_mul(a, rotm, b);
  affine::mat4_mul(b, scale, a);
  affine::mat4_mul(a, shift2, m);
}

}  // namespace ref

/// See the file comment; the same code for every Arch.
template <class Arch>
void f32_landmarks_to_transform_matrix(const float* x, int dims, const float* subset, int count,
                                       const LandmarksToTransformConfig& cfg, float* m) {
  ref::f32_landmarks_to_transform_matrix(x, dims, subset, count, cfg, m);
}

}  // namespace kernels
}  // namespace facekit
