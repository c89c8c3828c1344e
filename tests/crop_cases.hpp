// tests/crop_cases.hpp - the crop cases of tests/data/crops/cases.json (written by
// tests/gen/make_crop_golden.py) and the synthetic images they crop: shared by the CPU crop tests
// (test_image.cpp) and the device crop's (test_opencl_mesh_ops.cpp).
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "facekit/image/geometry.hpp"
#include "facekit/image/image.hpp"
#include "facekit/image/image_to_tensor.hpp"
#include "test_util.hpp"

namespace crop_data {

using facekit::BorderMode;
using facekit::Image;
using facekit::PixelFormat;
using facekit::RotatedRect;
using nlohmann::json;

inline json crop_cases() {
  std::ifstream in(test_util::source_path("tests/data/crops/cases.json"));
  REQUIRE_MESSAGE(in.good(), "missing tests/data/crops/cases.json (run tests/gen/make_crop_golden.py)");
  return json::parse(in);
}

inline RotatedRect roi_of(const json& c) {
  const json& r = c.at("roi");
  return {r.at("cx").get<float>(), r.at("cy").get<float>(), r.at("w").get<float>(), r.at("h").get<float>(),
          r.at("angle_rad").get<float>()};
}

inline BorderMode border_of(const json& c) {
  return c.at("border").get<std::string>() == "zero" ? BorderMode::zero : BorderMode::replicate;
}

// The pattern of make_crop_golden.py synthetic_image().
inline Image synthetic(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const uint32_t v = uint32_t(x) * 2654435761u + uint32_t(y) * 40503u + uint32_t(c) * 977u;
        img.pixels[(std::size_t(y) * std::size_t(w) + std::size_t(x)) * 3 + std::size_t(c)] = uint8_t((v >> 13) & 255);
      }
  return img;
}

// The same pixels as another format, with `pad` spare bytes at the end of each row.
inline std::vector<uint8_t> convert(const Image& img, PixelFormat f, int pad) {
  const int cn = facekit::channels_of(f);
  const std::size_t stride = std::size_t(img.width * cn + pad);
  std::vector<uint8_t> out(stride * std::size_t(img.height), 0xEE);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* s = img.pixels.data() + (std::size_t(y) * std::size_t(img.width) + std::size_t(x)) * 3;
      uint8_t* d = out.data() + std::size_t(y) * stride + std::size_t(x * cn);
      d[0] = f == PixelFormat::bgr8 ? s[2] : s[0];
      d[1] = s[1];
      d[2] = f == PixelFormat::bgr8 ? s[0] : s[2];
      if (cn == 4) d[3] = uint8_t(x * 7 + y);  // alpha must be ignored
    }
  return out;
}

/// Awkward crops: odd and 1-pixel image sizes, output sizes with block and chunk remainders, and
/// ROIs (awkward_rois) inside, rotated, larger than, partly and wholly outside the image, and
/// smaller than a pixel.
constexpr std::array<int, 2> kAwkwardImageSizes[] = {{1, 1}, {2, 1}, {1, 3}, {2, 2}, {5, 3}, {37, 23}, {130, 67}};
constexpr std::array<int, 2> kAwkwardOutputSizes[] = {{1, 1}, {7, 5}, {67, 3}, {200, 2}, {33, 17}};

inline std::vector<RotatedRect> awkward_rois(int iw, int ih) {
  const float w = float(iw), h = float(ih);
  return {
      {w * 0.5f, h * 0.5f, w, h, 0.0f},                         // the whole image, affine
      {w * 0.4f, h * 0.6f, w * 0.7f, h * 0.5f, 0.6f},           // rotated, inside
      {w * 0.5f, h * 0.5f, w * 1.6f, h * 1.3f, -2.2f},          // rotated, larger than the image
      {w * 0.9f, h * 0.1f, w * 0.8f, h * 0.9f, 0.3f},           // partly outside
      {-w * 2.0f, h * 3.0f, w * 0.5f + 1, h * 0.5f + 1, 1.0f},  // wholly outside
      {w * 0.5f, h * 0.5f, 0.7f, 0.4f, 0.1f},                   // smaller than a pixel
  };
}

}  // namespace crop_data
