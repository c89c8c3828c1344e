// One tests/data/golden/*.json file with the image it describes, for the end-to-end tests.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "facekit/image/image.hpp"
#include "test_util.hpp"

namespace golden {

struct Case {
  nlohmann::json json;
  std::string image;   ///< file name in tests/data/images
  facekit::Image pixels;
};

/// Parses `path` and loads its image (stb_image, as the golden run did); the decoded size must be
/// the recorded one. REQUIREs: call inside a test case.
inline Case load(const std::string& path) {
  Case c;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path << ": cannot open");
  c.json = nlohmann::json::parse(in);
  c.image = c.json.at("image").get<std::string>();
  auto img = facekit::load_image(test_util::image_path(c.image));
  REQUIRE_MESSAGE(img, img.status().message());
  c.pixels = std::move(*img);
  REQUIRE(c.pixels.width == c.json.at("width").get<int>());
  REQUIRE(c.pixels.height == c.json.at("height").get<int>());
  return c;
}

}  // namespace golden
