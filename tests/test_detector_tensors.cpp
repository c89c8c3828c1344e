// Tensor level: the converted BlazeFace network against the TFLite interpreter's own outputs
// (tests/data/detector, made by tests/gen/make_detector_golden.py with ai-edge-litert's
// reference kernels). Bound (issue 2): max abs error <= 1e-4 of the tensor's max magnitude.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "facekit/face_detector.hpp"
#include "npy.hpp"
#include "tensor_check.hpp"
#include "test_util.hpp"

using nlohmann::json;

namespace {

using tensor_check::fill_xorshift;
using tensor_check::relative_error;

// The library's own 8-bit -> float table (v * scale + offset with two float roundings, immune
// to FMA contraction), the conversion MediaPipe and the golden script use.
void fill_from_uint8(const npy::Array<uint8_t>& img, float* dst) {
  float lut[256];
  REQUIRE(facekit::value_lut(-1.0f, 1.0f, lut));
  for (std::size_t i = 0; i < img.data.size(); ++i) dst[i] = lut[img.data[i]];
}

}  // namespace

TEST_CASE("detector network matches the TFLite interpreter on real and random inputs") {
  auto det = facekit::FaceDetector::create_from_file(test_util::weights_path("face_detector.fkm"));
  REQUIRE_MESSAGE(det, det.status().message() << " (run tools/fetch-models.sh)");
  facekit::BackendSession& s = det->session();
  const std::string dir = test_util::source_path("tests/data/detector/");
  std::ifstream mf(dir + "manifest.json");
  REQUIRE(mf.good());
  const json manifest = json::parse(mf);
  REQUIRE(manifest.at("cases").size() >= 4);
  const std::size_t n_in = s.input_info(0).elements();
  REQUIRE(n_in == 128 * 128 * 3);
  double worst = 0;
  for (const json& c : manifest.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    if (c.at("kind") == "image") {
      auto img = npy::load<uint8_t>(dir + c.at("input").get<std::string>());
      REQUIRE_MESSAGE(img, img.status().message());
      REQUIRE(img->data.size() == n_in);
      fill_from_uint8(*img, s.input(0));
    } else {
      REQUIRE(c.at("kind") == "xorshift32");
      fill_xorshift(c.at("seed").get<uint32_t>(), n_in, s.input(0));
    }
    s.run();
    const char* outs[2] = {"regressors", "classificators"};
    for (int o = 0; o < 2; ++o) {
      auto ref = npy::load<float>(dir + c.at("outputs").at(outs[o]).get<std::string>());
      REQUIRE_MESSAGE(ref, ref.status().message());
      REQUIRE(ref->data.size() == s.output_info(o).elements());
      const double err = relative_error(s.output(o), ref->data);
      CAPTURE(outs[o]);
      CHECK(err <= 1e-4);
      worst = std::max(worst, err);
    }
  }
  MESSAGE("detector tensors vs TFLite: worst max-abs error / max |ref| = " << worst);
}
