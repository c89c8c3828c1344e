// Drawing for --overlay: boxes, points and lines on an RGB8 image, written as PNG.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "facekit/image/image.hpp"

namespace facekit_cli {

struct Rgb {
  uint8_t r, g, b;
};

class Canvas {
 public:
  explicit Canvas(facekit::Image& img) : img_(img) {}

  void dot(float x, float y, int radius, Rgb c) {
    const int cx = int(std::lround(x)), cy = int(std::lround(y));
    for (int dy = -radius; dy <= radius; ++dy)
      for (int dx = -radius; dx <= radius; ++dx)
        if (dx * dx + dy * dy <= radius * radius) put(cx + dx, cy + dy, c);
  }
  void line(float x0, float y0, float x1, float y1, int thickness, Rgb c) {
    const float len = std::max(std::fabs(x1 - x0), std::fabs(y1 - y0));
    const int n = std::max(1, int(std::ceil(len)));
    for (int i = 0; i <= n; ++i) {
      const float t = float(i) / float(n);
      dot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, thickness / 2, c);
    }
  }
  void rect(float x, float y, float w, float h, int thickness, Rgb c) {
    line(x, y, x + w, y, thickness, c);
    line(x + w, y, x + w, y + h, thickness, c);
    line(x + w, y + h, x, y + h, thickness, c);
    line(x, y + h, x, y, thickness, c);
  }

 private:
  void put(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
    uint8_t* p = img_.pixels.data() + (std::size_t(y) * std::size_t(img_.width) + std::size_t(x)) * 3;
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
  facekit::Image& img_;
};

/// Writes RGB8 as PNG (stb_image_write, from Debian's libstb). Returns false on failure.
bool write_png(const std::string& path, const facekit::Image& img);

}  // namespace facekit_cli
