// The op set (FACEKIT_OPS) is the one list of ops: names, codes, definition files and the
// dispatch all come from it.
#include <doctest/doctest.h>

#include <facekit/ops/op_table.hpp>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "test_util.hpp"

using namespace facekit;

namespace {

struct OpEntry {
  const char* name;
  uint32_t code;
};

const OpEntry kOpSet[] = {
#define FACEKIT_TEST_OP_ENTRY(name, code, P) {#name, code},
    FACEKIT_OPS(FACEKIT_TEST_OP_ENTRY)
#undef FACEKIT_TEST_OP_ENTRY
};

}  // namespace

TEST_CASE("op set: distinct codes, names from the table, one definition file per op") {
  std::set<uint32_t> codes;
  std::set<std::string> names;
  for (const OpEntry& e : kOpSet) {
    INFO("op " << e.name << " code " << e.code);
    CHECK(codes.insert(e.code).second);
    CHECK(names.insert(e.name).second);
    REQUIRE(op_type_name(OpType(e.code)) != nullptr);
    CHECK(std::strcmp(op_type_name(OpType(e.code)), e.name) == 0);
    // The op's name is its file: docs/architecture.md tells where to look for it.
    CHECK(std::filesystem::exists(test_util::source_path("include/facekit/ops/" + std::string(e.name) + ".hpp")));
  }
  // Codes outside the set (13 is retired) are unknown to the loader.
  CHECK(op_type_name(OpType(0)) == nullptr);
  CHECK(op_type_name(OpType(13)) == nullptr);
  CHECK(op_type_name(OpType(999)) == nullptr);
  CHECK(!ops::aliases_input(OpType::conv2d));
  CHECK(ops::aliases_input(OpType::reshape));
}

TEST_CASE("op set: every op of every converted model validates through the table") {
  for (const char* file : {"face_detector.fkm", "face_landmarks_detector.fkm", "face_blendshapes.fkm",
                           "face_landmark_with_attention.fkm", "face_detection_full_range_sparse.fkm"}) {
    const std::string path = test_util::weights_path(file);
    auto m = Model::load_file(path);
    REQUIRE_MESSAGE(m, path << ": " << m.status().message() << " (" << test_util::kFetchModels << ")");
    for (const OpInfo& op : m->ops()) {
      const Status st = ops::validate_op(*m, op);
      CHECK_MESSAGE(st, file << " op " << op.name << ": " << st.message());
    }
  }
}

TEST_CASE("op set: validation names the op, its type and the bad value") {
  auto m = Model::load_file(test_util::weights_path("face_detector.fkm"));
  REQUIRE_MESSAGE(m, test_util::kFetchModels);
  const OpInfo* conv = nullptr;
  for (const OpInfo& op : m->ops())
    if (op.type == OpType::conv2d && !conv) conv = &op;
  REQUIRE(conv);
  OpInfo bad = *conv;
  Conv2dParams p = bad.params.as<Conv2dParams>();
  p.stride_h = 0;
  bad.params = OpParams::from(p);
  const Status st = ops::validate_op(*m, bad);
  REQUIRE(!st);
  const std::string msg = st.message();
  CHECK(msg.find(conv->name) != std::string::npos);
  CHECK(msg.find("(conv2d)") != std::string::npos);
  CHECK(msg.find("stride 0x") != std::string::npos);
}
