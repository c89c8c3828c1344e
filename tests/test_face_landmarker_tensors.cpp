// Tensor level: the converted Face Mesh V2 network against the TFLite interpreter's own outputs
// (tests/data/face_mesh_v2, made by tests/gen/make_v2_golden.py with ai-edge-litert's reference
// kernels) on two real face crops and one random input. Bound (issue 6): for each of the three
// outputs, max abs error <= 1e-4 of the tensor's max magnitude.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "facekit/face_landmarker.hpp"
#include "npy.hpp"
#include "tensor_check.hpp"
#include "test_util.hpp"

using nlohmann::json;

namespace {

// xorshift32 of the manifest, mapped to [0, 1).
void fill_xorshift_unit(uint32_t seed, std::size_t n, float* dst) { tensor_check::fill_xorshift(seed, n, dst, true); }

struct Error {
  double max_diff = 0, max_ref = 0;
  double relative() const { return max_diff / std::max(max_ref, 1e-30); }
};

Error compare(const float* a, const std::vector<float>& ref) {
  Error e;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    e.max_ref = std::max(e.max_ref, double(std::fabs(ref[i])));
    e.max_diff = std::max(e.max_diff, double(std::fabs(a[i] - ref[i])));
  }
  return e;
}

}  // namespace

TEST_CASE("face mesh v2 network matches the TFLite interpreter on real crops and a random input") {
  auto lm = facekit::FaceLandmarker::create_from_dir(FACEKIT_WEIGHTS_DIR);
  REQUIRE_MESSAGE(lm, lm.status().message() << " (run tools/fetch-models.sh)");
  facekit::BackendSession& s = lm->landmark_session();
  const std::string dir = test_util::source_path("tests/data/face_mesh_v2/");
  std::ifstream mf(dir + "manifest.json");
  REQUIRE_MESSAGE(mf.good(), "missing " << dir << "manifest.json");
  const json manifest = json::parse(mf);
  REQUIRE(manifest.at("cases").size() == 3);
  const json& outputs = manifest.at("outputs");
  REQUIRE(outputs.size() == 3);
  REQUIRE(s.model().outputs().size() == 3);
  const std::size_t n_in = s.input_info(0).elements();
  REQUIRE(n_in == 256 * 256 * 3);

  // The generator's self-check values pin the C++ port of the random stream.
  float first[4];
  fill_xorshift_unit(1, 4, first);
  const json& fv = manifest.at("random_generator").at("first_values_seed_1");
  for (int i = 0; i < 4; ++i) CHECK(first[i] == fv.at(std::size_t(i)).get<float>());

  float lut[256];
  REQUIRE(facekit::value_lut(0.0f, 1.0f, lut));
  double worst[3] = {0, 0, 0};
  for (const json& c : manifest.at("cases")) {
    const std::string name = c.at("name");
    CAPTURE(name);
    // The input is refilled before each run: the network's activations reuse its buffer.
    if (c.at("kind") == "image") {
      auto img = npy::load<uint8_t>(dir + c.at("input").get<std::string>());
      REQUIRE_MESSAGE(img, img.status().message());
      REQUIRE(img->data.size() == n_in);
      float* in = s.input(0);
      for (std::size_t i = 0; i < n_in; ++i) in[i] = lut[img->data[i]];
    } else {
      REQUIRE(c.at("kind") == "xorshift32");
      fill_xorshift_unit(c.at("seed").get<uint32_t>(), n_in, s.input(0));
    }
    s.run();
    for (int o = 0; o < 3; ++o) {
      const std::string out = outputs.at(std::size_t(o)).at("name");
      CAPTURE(out);
      auto ref = npy::load<float>(dir + c.at("outputs").at(out).get<std::string>());
      REQUIRE_MESSAGE(ref, ref.status().message());
      REQUIRE(ref->data.size() == s.output_info(o).elements());
      const Error e = compare(s.output(o), ref->data);
      CHECK(e.relative() <= 1e-4);
      worst[o] = std::max(worst[o], e.relative());
      MESSAGE(name << " " << out << ": max|diff| " << e.max_diff << ", max|ref| " << e.max_ref << ", relative "
                   << e.relative());
    }
  }
  MESSAGE("face mesh v2 tensors vs TFLite, worst max-abs error / max |ref|: landmarks "
          << worst[0] << ", presence " << worst[1] << ", tongue_out " << worst[2]);
}
