// Inputs and error measures shared by the tests that compare our tensors with the TFLite
// interpreter's (tests/gen/make_*_golden.py make the same inputs from the same seeds).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tensor_check {

/// xorshift32 from `seed`; value (x >> 8) * 2^-23 - 1 in [-1, 1), or (x >> 8) * 2^-24 in [0, 1)
/// with `unit`; both exact in float32.
inline void fill_xorshift(uint32_t seed, std::size_t n, float* dst, bool unit = false) {
  uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    dst[i] = unit ? float(x >> 8) * (1.0f / 16777216.0f) : float(x >> 8) * (1.0f / 8388608.0f) - 1.0f;
  }
}

/// max |a - ref| / max |ref|
inline double relative_error(const float* a, const std::vector<float>& ref) {
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, double(std::fabs(ref[i])));
    max_diff = std::max(max_diff, double(std::fabs(a[i] - ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

}  // namespace tensor_check
