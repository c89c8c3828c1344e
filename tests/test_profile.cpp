// The per-op profile: BackendSession::run_profiled and `facekit profile`.
#include <doctest/doctest.h>

#include <facekit/runtime/executor.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace facekit;

namespace {

std::shared_ptr<const Model> load(const std::string& file) {
  auto m = Model::load_file(test_util::weights_path(file));
  REQUIRE_MESSAGE(m, m.status().message() << " (" << test_util::kFetchModels << ")");
  return std::make_shared<const Model>(std::move(*m));
}

}  // namespace

TEST_CASE("profile: run_profiled gives run()'s outputs bit for bit, a time per op, each op's FLOPs") {
  auto model = load("face_detector.fkm");
  auto program = Program::create(model);
  REQUIRE(program);
  Session a(*program), b(*program);
  const std::size_t n = a.input_info(0).elements();
  for (std::size_t k = 0; k < n; ++k) a.input(0)[k] = b.input(0)[k] = float(k % 251) / 125.0f - 1.0f;
  a.run();
  std::vector<double> seconds(std::size_t(model->op_count()), 0.0);
  REQUIRE(b.run_profiled(seconds.data()));
  for (int o = 0; o < 2; ++o)
    CHECK(std::memcmp(a.output(o), b.output(o), a.output_info(o).size_bytes) == 0);
  double flops = 0.0;
  for (std::size_t i = 0; i < seconds.size(); ++i) {
    CHECK(seconds[i] >= 0.0);
    flops += ops::op_flops(*model, model->op(int(i)));
  }
  // BlazeFace short range: its first conv alone, 5x5 s2 from 128x128x3 to 64x64x24, is
  // 2 * 64 * 64 * 24 * 25 * 3 FLOPs.
  const OpInfo& first = model->op((*program)->steps()[0].op_index);
  REQUIRE(first.type == OpType::conv2d);
  CHECK(ops::op_flops(*model, first) == 2.0 * 64 * 64 * 24 * 25 * 3);
  CHECK(flops > 20e6);   // the whole network: tens of MFLOPs
  CHECK(flops < 200e6);
}

#ifdef FACEKIT_CLI
TEST_CASE("facekit profile lists every op of the model, with totals") {
  auto model = load("face_blendshapes.fkm");
  auto program = Program::create(model);
  REQUIRE(program);
  const std::string cmd =
      std::string(FACEKIT_CLI) + " profile " + test_util::weights_path("face_blendshapes.fkm") + " --runs 3 2>&1";
  std::string out;
  CHECK(test_util::run_command(cmd, &out) == 0);
  for (const CpuStep& s : (*program)->steps()) {
    std::string name = s.name;
    if (name.size() > 40) name = name.substr(0, 37);
    CHECK_MESSAGE(out.find(name) != std::string::npos, name);
  }
  CHECK(out.find("per type:") != std::string::npos);
  CHECK(out.find("total: ") != std::string::npos);
  const std::string bad = std::string(FACEKIT_CLI) + " profile /nonexistent/model.fkm 2>&1";
  out.clear();
  CHECK(test_util::run_command(bad, &out) != 0);
  CHECK(out.find("/nonexistent/model.fkm") != std::string::npos);
}

TEST_CASE("facekit profile --pipeline splits detect() into its stages, then profiles each network") {
  const std::string cli = std::string(FACEKIT_CLI) + " profile --models " + FACEKIT_WEIGHTS_DIR + " --pipeline ";
  std::string out;
  CHECK(test_util::run_command(cli + test_util::image_path("skimage_astronaut.png") + " --runs 2 --threads 2 2>&1",
                               &out) == 0);
  for (const char* row : {"detector: network", "mesh: network", "blendshapes: network", "transformation matrix",
                          "detect() total", "2 thread(s)", "face_detector.fkm", "face_landmarks_detector.fkm",
                          "face_blendshapes.fkm", "per type:"})
    CHECK_MESSAGE(out.find(row) != std::string::npos, row);
  out.clear();
  // The stages need a face to time the mesh on.
  CHECK(test_util::run_command(cli + test_util::image_path("crop_no_face.png") + " --runs 1 2>&1", &out) != 0);
  CHECK(out.find("no face found") != std::string::npos);
}
#endif
