// facekit/kernels/f32_point_normalize.hpp - centre a set of points and scale it to unit mean
// distance (the blendshape network's input normalisation):
//
//   m = mean_i x[i],  d = mean_i |x[i] - m|,  y[i] = (x[i] - m) / d
//
// for N points of D coordinates ([N][D] row-major). The arithmetic follows the TFLite graph it
// replaces (MEAN, SUB, MUL, SUM, SQRT, MEAN, DIV), in float32 and in the same order: sums run
// over the points in index order and are then divided by N, the distance is sqrt of the sum of
// squares, and the result is a division (not a multiplication by 1/d).
//
// There is one implementation for every architecture: the blendshape input is 146 x 2 floats, and
// with D = 2 coordinates per point no vector would be filled; the whole op costs well under a
// microsecond.
#pragma once

#include <cmath>

#include "common.hpp"

namespace facekit {
namespace kernels {

namespace ref {

/// D <= 4 (checked by the op layer).
inline void f32_point_normalize(const float* x, int points, int dims, float* y) {
  float mean[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < points; ++i)
    for (int k = 0; k < dims; ++k) mean[k] += x[std::size_t(i) * dims + k];
  for (int k = 0; k < dims; ++k) mean[k] /= float(points);
  float dist = 0.0f;
  for (int i = 0; i < points; ++i) {
    float sq = 0.0f;
    for (int k = 0; k < dims; ++k) {
      const float c = x[std::size_t(i) * dims + k] - mean[k];
      sq += c * c;
    }
    dist += std::sqrt(sq);
  }
  dist /= float(points);
  for (int i = 0; i < points; ++i)
    for (int k = 0; k < dims; ++k) {
      const std::size_t j = std::size_t(i) * dims + k;
      y[j] = (x[j] - mean[k]) / dist;
    }
}

}  // namespace ref

/// See the file comment; the same code for every Arch.
template <class Arch>
void f32_point_normalize(const float* x, int points, int dims, float* y) {
  ref::f32_point_normalize(x, points, dims, y);
}

}  // namespace kernels
}  // namespace facekit
