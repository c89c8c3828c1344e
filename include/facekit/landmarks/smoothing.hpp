// facekit/landmarks/smoothing.hpp - the one-euro landmark filter of MediaPipe Tasks' VIDEO mode
// (docs/pipeline.md 5.1 step 6; mediapipe/util/filtering/one_euro_filter.cc, low_pass_filter.cc).
//
//   facekit::LandmarkSmoother smoother;                       // MediaPipe's face settings
//   smoother.apply(landmarks.data(), 478, W, H, timestamp_us); // in place
//   smoother.reset();                                         // on a frame without a face
//
// Each coordinate of each landmark has its own one-euro filter, fed pixels (x W, y H, z W) and
// scaled by 1 / (object size), the mean of the landmarks' bounding-box width and height. The
// arithmetic follows MediaPipe's OneEuroFilter and LowPassFilter type by type (double for the
// filter maths, float for the low-pass state), including two quirks that shape the first frames:
// a fresh filter's last time is -1, and the sampling frequency is only re-estimated when neither
// the last nor the new timestamp is 0. Fixed-size state: nothing is allocated per frame.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "../kernels/fp.hpp"
#include "face_mesh_v2.hpp"

namespace facekit {

/// MediaPipe's LowPassFilter: float state, the first value passes through.
struct LowPassFilter {
  float alpha = 0, raw = 0, stored = 0;
  bool initialized = false;

  float apply(float value, float new_alpha) noexcept {
    if (new_alpha >= 0.0f && new_alpha <= 1.0f) alpha = new_alpha;  // out of range: keep the old one
    float result = value;
    // float product plus a double product, rounded to float once at the end, as MediaPipe writes it.
    if (initialized) result = float(double(fp::mul(alpha, value)) + fp::mul(1.0 - double(alpha), double(stored)));
    initialized = true;
    raw = value;
    stored = result;
    return result;
  }
};

struct OneEuroOptions {
  // The face landmarker's settings (float proto fields, widened to double by MediaPipe).
  double frequency = 30.0, min_cutoff = double(0.05f), beta = double(80.0f), derivate_cutoff = double(1.0f);
};

/// MediaPipe's OneEuroFilter (Create(): last time -1, derivative from the last raw value).
struct OneEuroFilter {
  double frequency = 30.0;
  int64_t last_time_ns = -1;
  LowPassFilter x, dx;

  double alpha(double cutoff) const noexcept {
    const double te = 1.0 / frequency;
    const double tau = 1.0 / (2 * 3.14159265358979323846 * cutoff);
    return 1.0 / (1.0 + tau / te);
  }

  double apply(const OneEuroOptions& o, int64_t t_ns, double value, double value_scale) noexcept {
    if (last_time_ns >= t_ns) return value;  // MediaPipe returns the raw value for a non-increasing time
    if (last_time_ns != 0 && t_ns != 0) frequency = 1.0 / (double(t_ns - last_time_ns) * 1e-9);
    last_time_ns = t_ns;
    double dvalue = 0.0;
    if (x.initialized) dvalue = (value - double(x.raw)) * value_scale * frequency;
    const double edvalue = dx.apply(float(dvalue), float(alpha(o.derivate_cutoff)));
    const double cutoff = o.min_cutoff + fp::mul(1.0 * o.beta, std::fabs(edvalue));
    return x.apply(float(value), float(alpha(cutoff)));
  }
};

/// LandmarksSmoothingCalculator with a one-euro filter over kFaceMeshV2Landmarks points.
class LandmarkSmoother {
 public:
  explicit LandmarkSmoother(const OneEuroOptions& options = {}) : options_(options) { reset(); }

  /// Forgets every filter (MediaPipe's EMPTY_LANDMARKS_POLICY_RESET on a frame without landmarks).
  void reset() noexcept {
    OneEuroFilter fresh;
    fresh.frequency = options_.frequency;
    filters_.fill(fresh);
  }

  /// Filters `n` (<= kFaceMeshV2Landmarks) image-normalised landmarks in place; `timestamp_us` is
  /// the frame's time in microseconds.
  void apply(NormalizedLandmark* lm, int n, int image_w, int image_h, int64_t timestamp_us) noexcept {
    n = std::min(n, kFaceMeshV2Landmarks);
    if (n <= 0) return;
    const float fw = float(image_w), fh = float(image_h);
    float x_min = lm[0].x * fw, x_max = x_min, y_min = lm[0].y * fh, y_max = y_min;
    for (int i = 1; i < n; ++i) {
      x_min = std::min(x_min, lm[i].x * fw);
      x_max = std::max(x_max, lm[i].x * fw);
      y_min = std::min(y_min, lm[i].y * fh);
      y_max = std::max(y_max, lm[i].y * fh);
    }
    const float object_scale = ((x_max - x_min) + (y_max - y_min)) / 2.0f;
    if (object_scale < 1e-6f) return;  // min_allowed_object_scale: passed through unfiltered
    const double value_scale = double(1.0f / object_scale);
    const int64_t t_ns = timestamp_us * 1000;
    for (int i = 0; i < n; ++i) {
      OneEuroFilter* f = &filters_[std::size_t(i) * 3];
      const float x = float(f[0].apply(options_, t_ns, double(lm[i].x * fw), value_scale));
      const float y = float(f[1].apply(options_, t_ns, double(lm[i].y * fh), value_scale));
      const float z = float(f[2].apply(options_, t_ns, double(lm[i].z * fw), value_scale));
      lm[i] = {x / fw, y / fh, z / fw};
    }
  }

 private:
  OneEuroOptions options_;
  std::array<OneEuroFilter, std::size_t(kFaceMeshV2Landmarks) * 3> filters_;
};

}  // namespace facekit
