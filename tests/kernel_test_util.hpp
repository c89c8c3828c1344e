// tests/kernel_test_util.hpp - buffers and random data shared by the kernel tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ktest {

/// Written into output slack to detect stores past the end.
constexpr float kSentinel = -7777.25f;

/// 64-byte aligned floats followed by 64 bytes of slack (as in the arena), everything set to `fill`.
class Buf {
 public:
  Buf(std::size_t n, float fill) : n_(n), storage_(n + 16 + 16 + 16, fill) {
    const auto addr = reinterpret_cast<std::uintptr_t>(storage_.data());
    p_ = storage_.data() + ((64 - addr % 64) % 64) / sizeof(float);
  }
  float* data() { return p_; }
  const float* data() const { return p_; }
  std::size_t size() const { return n_; }
  float& operator[](std::size_t i) { return p_[i]; }
  float operator[](std::size_t i) const { return p_[i]; }
  /// Sets the data and the slack to v.
  void reset(float v) { std::fill(p_, p_ + n_ + 16, v); }
  /// True if the 16 floats after the data still hold `slack` (bitwise).
  bool slack_intact(float slack) const {
    for (int i = 0; i < 16; ++i)
      if (std::memcmp(&p_[n_ + i], &slack, sizeof(float)) != 0) return false;
    return true;
  }

 private:
  std::size_t n_;
  std::vector<float> storage_;
  float* p_;
};

/// A small LCG: the same values on every platform.
struct Rng {
  uint32_t s;
  float next(float lo, float hi) {
    s = s * 1664525u + 1013904223u;
    return lo + (hi - lo) * float(s >> 8) * (1.0f / 16777216.0f);
  }
  void fill(float* p, std::size_t n, float lo, float hi) {
    for (std::size_t i = 0; i < n; ++i) p[i] = next(lo, hi);
  }
};

}  // namespace ktest
