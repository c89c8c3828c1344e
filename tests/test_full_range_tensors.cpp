// Tensor level: the full-range BlazeFace networks, converted in memory from weights/originals,
// against the TFLite interpreter's reference-kernel outputs (tests/data/full_range/<variant>,
// made by tests/gen/make_full_range_golden.py). Bound: max abs error <= 1e-4 of the tensor's
// max magnitude, on a letterboxed photo and on a random input.
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "convert/converter.hpp"
#include "facekit/face_detector.hpp"
#include "facekit/runtime/executor.hpp"
#include "npy.hpp"
#include "tensor_check.hpp"
#include "test_util.hpp"

using nlohmann::json;

namespace {

using tensor_check::fill_xorshift;
using tensor_check::relative_error;

/// Converts weights/originals/<file>, runs every case of tests/data/full_range/<variant>; returns
/// the op counts of the converted model.
std::map<std::string, int> check_variant(const std::string& file, const std::string& variant) {
  const auto tflite = test_util::read_original_model(file);
  auto c = facekit::convert::convert_tflite(tflite, file);
  REQUIRE_MESSAGE(c, c.status().message());
  auto m = facekit::Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  auto p = facekit::Program::create(std::make_shared<const facekit::Model>(std::move(*m)));
  REQUIRE_MESSAGE(p, p.status().message());
  facekit::Session s(*p);
  REQUIRE(s.input_info(0).elements() == 192 * 192 * 3);
  // Outputs in the converted model's order; tell them apart by size.
  int reg = -1, cls = -1;
  for (int o = 0; o < 2; ++o) (s.output_info(o).elements() == 2304 * 16 ? reg : cls) = o;
  REQUIRE((reg >= 0 && cls >= 0 && s.output_info(cls).elements() == 2304));

  const std::string dir = test_util::source_path("tests/data/full_range/" + variant + "/");
  std::ifstream mf(dir + "manifest.json");
  REQUIRE(mf.good());
  const json manifest = json::parse(mf);
  REQUIRE(manifest.at("cases").size() >= 2);
  float lut[256];
  REQUIRE(facekit::value_lut(-1.0f, 1.0f, lut));
  double worst = 0;
  for (const json& cs : manifest.at("cases")) {
    const std::string name = cs.at("name");
    CAPTURE(name);
    if (cs.at("kind") == "image") {
      auto img = npy::load<uint8_t>(dir + cs.at("input").get<std::string>());
      REQUIRE_MESSAGE(img, img.status().message());
      REQUIRE(img->data.size() == s.input_info(0).elements());
      for (std::size_t i = 0; i < img->data.size(); ++i) s.input(0)[i] = lut[img->data[i]];
    } else {
      REQUIRE(cs.at("kind") == "xorshift32");
      fill_xorshift(cs.at("seed").get<uint32_t>(), s.input_info(0).elements(), s.input(0));
    }
    s.run();
    const std::pair<const char*, int> outs[2] = {{"regressors", reg}, {"classificators", cls}};
    for (const auto& o : outs) {
      auto ref = npy::load<float>(dir + cs.at("outputs").at(o.first).get<std::string>());
      REQUIRE_MESSAGE(ref, ref.status().message());
      REQUIRE(ref->data.size() == s.output_info(o.second).elements());
      const double err = relative_error(s.output(o.second), ref->data);
      CAPTURE(o.first);
      CHECK(err <= 1e-4);
      worst = std::max(worst, err);
    }
  }
  MESSAGE(file << " vs TFLite: max error " << worst << " of the tensor's max magnitude");
  return c->op_counts;
}

}  // namespace

#if FACEKIT_TEST_DENSE_FULL_RANGE  // only its official URL has the dense model (tests/CMakeLists.txt)
TEST_CASE("full-range detector (dense): converts, and matches the TFLite interpreter") {
  const auto ops = check_variant("face_detection_full_range.tflite", "dense");
  CHECK(ops.at("resize_bilinear") == 3);
}
#endif

TEST_CASE("full-range detector (sparse): DENSIFY folds, and it matches the TFLite interpreter") {
  const auto ops = check_variant("face_detection_full_range_sparse.tflite", "sparse");
  CHECK(ops.at("resize_bilinear") == 3);
  CHECK(ops.at("depth_to_space") == 2);
}

#endif  // FACEKIT_HAVE_CONVERTER
