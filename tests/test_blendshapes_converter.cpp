// The converter's MLP-Mixer lowering: the real blendshape network (ops, fusions, metadata), and
// small synthetic graphs for the pattern variants the real network does not contain (layer norm
// with beta, without gamma) and for the graphs it must refuse with a clear message.
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convert/converter.hpp"
#include "convert/task_bundle.hpp"
#include "facekit/runtime/executor.hpp"
#include "test_util.hpp"
#include "tflite_subset_generated.h"

using namespace facekit;
using namespace facekit::convert;
namespace tfl = facekit::tflite;

namespace {

// TFLite builtin codes used below (tflite_reader.hpp names only some of them).
constexpr int kAdd = 0, kConcat = 2, kConv = 3, kDequantize = 6, kMul = 18, kRelu = 19, kReshape = 22,
              kTranspose = 39, kMean = 40, kSub = 41, kDiv = 42, kStridedSlice = 45, kNeg = 59, kSum = 74,
              kSqrt = 75, kRsqrt = 76, kSquaredDifference = 99;

// A minimal .tflite writer (the subset schema's builders), enough for the mixer patterns.
class Graph {
 public:
  Graph() { buffers_.push_back(tfl::CreateBuffer(fb_)); }
  int tensor(const std::string& name, std::vector<int32_t> shape, tfl::TensorType type = tfl::TensorType_FLOAT32,
             const void* data = nullptr, std::size_t bytes = 0) {
    uint32_t buffer = 0;
    if (data) {
      fb_.ForceVectorAlignment(bytes, 1, 16);
      buffers_.push_back(tfl::CreateBuffer(fb_, fb_.CreateVector(static_cast<const uint8_t*>(data), bytes)));
      buffer = uint32_t(buffers_.size() - 1);
    }
    tensors_.push_back(tfl::CreateTensorDirect(fb_, &shape, type, buffer, name.c_str()));
    return int(tensors_.size() - 1);
  }
  int constant(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& v) {
    return tensor(name, std::move(shape), tfl::TensorType_FLOAT32, v.data(), v.size() * 4);
  }
  int ints(const std::string& name, const std::vector<int32_t>& v) {
    return tensor(name, {int32_t(v.size())}, tfl::TensorType_INT32, v.data(), v.size() * 4);
  }
  void op(int builtin, std::vector<int32_t> in, std::vector<int32_t> out,
          tfl::BuiltinOptions opt_type = tfl::BuiltinOptions_NONE,
          flatbuffers::Offset<void> opt = flatbuffers::Offset<void>()) {
    if (!codes_.count(builtin)) {
      codes_[builtin] = int(code_list_.size());
      code_list_.push_back(tfl::CreateOperatorCodeDirect(fb_, int8_t(std::min(builtin, 127)), nullptr, 1, builtin));
    }
    ops_.push_back(tfl::CreateOperatorDirect(fb_, uint32_t(codes_[builtin]), &in, &out, opt_type, opt));
  }
  void conv(int x, int w, int b, int y, tfl::ActivationFunctionType act) {
    op(kConv, {x, w, b}, {y}, tfl::BuiltinOptions_Conv2DOptions,
       tfl::CreateConv2DOptions(fb_, tfl::Padding_VALID, 1, 1, act).Union());
  }
  void add(int a, int b, int y) {
    op(kAdd, {a, b}, {y}, tfl::BuiltinOptions_AddOptions, tfl::CreateAddOptions(fb_).Union());
  }
  void mul(int a, int b, int y) {
    op(kMul, {a, b}, {y}, tfl::BuiltinOptions_MulOptions, tfl::CreateMulOptions(fb_).Union());
  }
  std::vector<uint8_t> finish(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    auto sg = tfl::CreateSubGraphDirect(fb_, &tensors_, &inputs, &outputs, &ops_, "main");
    std::vector<flatbuffers::Offset<tfl::SubGraph>> sgs{sg};
    tfl::FinishModelBuffer(fb_, tfl::CreateModelDirect(fb_, 3, &code_list_, &sgs, "synthetic", &buffers_));
    return std::vector<uint8_t>(fb_.GetBufferPointer(), fb_.GetBufferPointer() + fb_.GetSize());
  }

 private:
  flatbuffers::FlatBufferBuilder fb_;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors_;
  std::vector<flatbuffers::Offset<tfl::Operator>> ops_;
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> code_list_;
  std::map<int, int> codes_;
};

std::vector<float> ramp(std::size_t n, float a, float b) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = a + b * float((i * 7) % 11);
  return v;
}

// y = layer_norm(x) over the last axis, as Keras exports it: with gamma (MUL) or not, with beta
// (MUL(mean, g), SUB(beta, .)) or without (NEG(mean) * g).
std::vector<uint8_t> layer_norm_graph(int rows, int C, bool gamma, bool beta, float eps) {
  Graph b;
  const std::vector<int32_t> xs{1, 1, rows, C}, rs{1, 1, rows, 1};
  const int x = b.tensor("x", xs);
  const int axis = b.ints("axis", {-1});
  const int mu = b.tensor("mu", rs), sd = b.tensor("sd", xs), var = b.tensor("var", rs);
  const int e = b.constant("eps", {}, {eps});
  const int ve = b.tensor("ve", rs), r = b.tensor("r", rs);
  b.op(kMean, {x, axis}, {mu});
  b.op(kSquaredDifference, {x, mu}, {sd});
  b.op(kMean, {sd, axis}, {var});
  b.add(var, e, ve);
  b.op(kRsqrt, {ve}, {r});
  int g = r;
  if (gamma) {
    const int gm = b.constant("gamma", {C}, ramp(std::size_t(C), 0.5f, 0.1f));
    g = b.tensor("g", xs);
    b.mul(r, gm, g);
  }
  const int xg = b.tensor("xg", xs), y = b.tensor("y", xs);
  b.mul(x, g, xg);
  if (beta) {
    const int bt = b.constant("beta", {C}, ramp(std::size_t(C), -0.3f, 0.05f));
    const int mg = b.tensor("mg", xs), sh = b.tensor("shift", xs);
    b.mul(mu, g, mg);
    b.op(kSub, {bt, mg}, {sh});
    b.add(xg, sh, y);
  } else {
    const int nm = b.tensor("nm", rs), mg = b.tensor("mg", xs);
    b.op(kNeg, {mu}, {nm});
    b.mul(nm, g, mg);
    b.add(xg, mg, y);
  }
  return b.finish({x}, {y});
}

std::unique_ptr<Session> session_for(const std::vector<uint8_t>& tflite, std::shared_ptr<const Model>* keep) {
  Expected<Converted> c = convert_tflite(tflite, "synthetic.tflite");
  REQUIRE_MESSAGE(c, c.status().message());
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  *keep = std::make_shared<const Model>(std::move(*m));
  auto p = Program::create(*keep);
  REQUIRE_MESSAGE(p, p.status().message());
  return std::make_unique<Session>(*p);
}

std::string convert_error(const std::vector<uint8_t>& tflite) {
  Expected<Converted> c = convert_tflite(tflite, "synthetic.tflite");
  return c ? std::string() : std::string(c.status().message());
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("converter: the blendshape network lowers to layer_norm / token_dense / conv2d") {
  const std::string task = test_util::original_model_path("face_landmarker.task");
  REQUIRE_MESSAGE(std::filesystem::exists(task), task << " is missing: " << test_util::kFetchModels);
  Expected<std::vector<BundleMember>> members = read_task_bundle(task);
  REQUIRE_MESSAGE(members, members.status().message());
  const BundleMember* bs = nullptr;
  for (const BundleMember& m : *members)
    if (m.name == "face_blendshapes.tflite") bs = &m;
  REQUIRE(bs);
  Expected<Converted> c = convert_tflite(bs->bytes, "face_blendshapes.tflite");
  REQUIRE_MESSAGE(c, c.status().message());
  CHECK(c->kind == "face_blendshapes");
  const std::map<std::string, int> want = {
      {"concat", 1}, {"conv2d", 10}, {"copy", 1},        {"layer_norm", 8}, {"logistic", 1},
      {"mul", 1},    {"point_normalize", 1}, {"reshape", 4}, {"slice", 3},   {"token_dense", 9}};
  CHECK(c->op_counts == want);
  // The head keeps token 0 of the last block: its second token_dense, layer_norm, both channel
  // convs and the head's first slice compute one row; one slice takes that row of the residual.
  CHECK(c->stats.rows_pruned_ops == 5);
  CHECK(c->stats.source_ops == 182);
  CHECK(c->stats.dequantize_folded == 49);
  CHECK(c->stats.layer_norms_fused == 8);
  CHECK(c->stats.point_normalizations_fused == 1);
  CHECK(c->stats.transposes_folded == 10);
  CHECK(c->stats.residual_adds_fused == 8);
  CHECK(c->stats.dead_ops == 0);
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  CHECK(m->meta_string("model.kind") == "face_blendshapes");
  CHECK(m->meta_string("input.meaning") == "146 selected landmarks (x, y) in image pixels");
  CHECK(m->meta_string("output.0.name") == "blendshapes");
  REQUIRE(m->inputs().size() == 1);
  REQUIRE(m->outputs().size() == 1);
  const TensorInfo& in = m->tensor(m->inputs()[0]);
  CHECK((in.rank == 3 && in.dims[1] == 146 && in.dims[2] == 2));
  CHECK(m->tensor(m->outputs()[0]).elements() == 52);
  // The first op is the whole input normalisation; token mixing reads token-major tensors.
  CHECK(m->op(0).type == OpType::point_normalize);
  CHECK(std::string(m->op(0).name) == "MEAN#0+SUB#1+MUL#2+SUM#3+SQRT#4+MEAN#5+DIV#6");
  for (const OpInfo& op : m->ops())
    if (op.type == OpType::token_dense) {
      const TensorInfo &x = m->tensor(op.inputs[0]), &y = m->tensor(op.outputs[0]);
      CHECK(x.dims[x.rank - 1] == y.dims[y.rank - 1]);  // channels (2 in the stem, else 64) unchanged
    }
  // A fresh Program accepts it.
  auto p = Program::create(std::make_shared<const Model>(std::move(*m)));
  CHECK_MESSAGE(p, p.status().message());
}

TEST_CASE("converter: layer norm variants (gamma, beta) compute the layer norm") {
  const int rows = 3, C = 20;
  const float eps = 1e-3f;
  for (int variant = 0; variant < 4; ++variant) {
    const bool gamma = variant & 1, beta = variant & 2;
    CAPTURE(gamma);
    CAPTURE(beta);
    std::shared_ptr<const Model> keep;
    auto s = session_for(layer_norm_graph(rows, C, gamma, beta, eps), &keep);
    REQUIRE(keep->op_count() == 1);
    const OpInfo& op = keep->op(0);
    CHECK(op.type == OpType::layer_norm);
    CHECK(op.params.as<LayerNormParams>().epsilon == eps);
    CHECK((op.input(1) != kNoTensor) == gamma);
    CHECK((op.input(2) != kNoTensor) == beta);
    std::vector<float> x(std::size_t(rows) * C);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i)) * 3.0f + float(i % 3);
    std::copy(x.begin(), x.end(), s->input(0));
    s->run();
    const std::vector<float> gm = ramp(std::size_t(C), 0.5f, 0.1f), bt = ramp(std::size_t(C), -0.3f, 0.05f);
    double worst = 0;
    for (int r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int c = 0; c < C; ++c) mean += x[std::size_t(r * C + c)];
      mean /= C;
      for (int c = 0; c < C; ++c) var += std::pow(x[std::size_t(r * C + c)] - mean, 2);
      var /= C;
      for (int c = 0; c < C; ++c) {
        const double want = (x[std::size_t(r * C + c)] - mean) / std::sqrt(var + eps) * (gamma ? gm[std::size_t(c)] : 1.0) +
                            (beta ? bt[std::size_t(c)] : 0.0);
        worst = std::max(worst, std::fabs(want - s->output(0)[r * C + c]));
      }
    }
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("converter: MLP-Mixer ops outside the recognised patterns are refused by name") {
  SUBCASE("a lone MEAN") {
    Graph b;
    const int x = b.tensor("x", {1, 4, 8});
    const int axis = b.ints("axis", {-1});
    const int y = b.tensor("y", {1, 4, 1});
    b.op(kMean, {x, axis}, {y});
    const std::string e = convert_error(b.finish({x}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 MEAN: is supported only as part of a layer normalisation"), e);
  }
  SUBCASE("a layer norm whose mean has another reader") {
    std::vector<uint8_t> ok = layer_norm_graph(2, 8, true, false, 1e-6f);
    CHECK(convert_error(ok).empty());
    Graph b;
    const int x = b.tensor("x", {1, 1, 2, 8});
    const int axis = b.ints("axis", {-1});
    const int mu = b.tensor("mu", {1, 1, 2, 1}), sd = b.tensor("sd", {1, 1, 2, 8});
    b.op(kMean, {x, axis}, {mu});
    b.op(kSquaredDifference, {x, mu}, {sd});
    const std::string e = convert_error(b.finish({x}, {sd, mu}));
    CHECK_MESSAGE(contains(e, "operator #0 MEAN: is supported only as part of"), e);
  }
  SUBCASE("a transposed view read by something other than a 1x1 conv") {
    Graph b;
    const int x = b.tensor("x", {1, 1, 5, 3});
    const int perm = b.ints("perm", {0, 1, 3, 2});
    const int t = b.tensor("t", {1, 1, 3, 5}), y = b.tensor("y", {1, 1, 3, 5});
    b.op(kTranspose, {x, perm}, {t});
    b.op(kRelu, {t}, {y});
    const std::string e = convert_error(b.finish({x}, {y}));
    CHECK_MESSAGE(contains(e, "operator #1 RELU: input 't' is a transposed view"), e);
  }
  SUBCASE("a transpose of other dimensions") {
    Graph b;
    const int x = b.tensor("x", {1, 2, 5, 3});
    const int perm = b.ints("perm", {0, 2, 1, 3});
    const int y = b.tensor("y", {1, 5, 2, 3});
    b.op(kTranspose, {x, perm}, {y});
    const std::string e = convert_error(b.finish({x}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 TRANSPOSE: permutation of 'x' [1,2,5,3] is not supported"), e);
  }
  SUBCASE("MUL of two activations") {
    Graph b;
    const int x = b.tensor("x", {1, 4, 8}), y = b.tensor("y", {1, 4, 8});
    b.mul(x, x, y);
    const std::string e = convert_error(b.finish({x}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 MUL: multiplies two activations"), e);
  }
  SUBCASE("a strided slice with a stride") {
    Graph b;
    const int x = b.tensor("x", {1, 8, 4});
    const int bg = b.ints("begin", {0, 0, 0}), en = b.ints("end", {1, 8, 4}), st = b.ints("strides", {1, 2, 1});
    const int y = b.tensor("y", {1, 4, 4});
    b.op(kStridedSlice, {x, bg, en, st}, {y});
    const std::string e = convert_error(b.finish({x}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 STRIDED_SLICE: stride 2 in dimension 1 is not supported"), e);
  }
  SUBCASE("strided slice starts are inferred from the output shape, or refused when ambiguous") {
    // The reader does not decode the begin/end masks. begin 2, end 4 of 8 rows -> 2 rows: only
    // "as given" fits (masked begin 0..4 or masked end 2..8 would give 4 or 6 rows).
    Graph b;
    const int x = b.tensor("x", {1, 8, 4});
    const int bg = b.ints("begin", {0, 2, 0}), en = b.ints("end", {1, 4, 4}), st = b.ints("strides", {1, 1, 1});
    const int y = b.tensor("y", {1, 2, 4});
    b.op(kStridedSlice, {x, bg, en, st}, {y});
    std::shared_ptr<const Model> keep;
    auto s = session_for(b.finish({x}, {y}), &keep);
    REQUIRE(keep->op(0).type == OpType::slice);
    CHECK(keep->op(0).params.as<SliceParams>().begin[1] == 2);
    for (int i = 0; i < 32; ++i) s->input(0)[i] = float(i);
    s->run();
    for (int i = 0; i < 8; ++i) CHECK(s->output(0)[i] == float(8 + i));
    // begin 4, end 4 -> 4 rows: rows 4..8 (end masked) or 0..4 (begin masked) both fit.
    Graph c;
    const int xc = c.tensor("x", {1, 8, 4});
    const int bc = c.ints("begin", {0, 4, 0}), ec = c.ints("end", {1, 4, 4}), sc = c.ints("strides", {1, 1, 1});
    const int yc = c.tensor("y", {1, 4, 4});
    c.op(kStridedSlice, {xc, bc, ec, sc}, {yc});
    const std::string e = convert_error(c.finish({xc}, {yc}));
    CHECK_MESSAGE(contains(e, "cannot be read as extent 4 unambiguously"), e);
  }
  SUBCASE("DEQUANTIZE'd constants still qualify") {
    // Not an error: eps behind a (float32) DEQUANTIZE is found as a constant by the matcher.
    Graph b;
    const int x = b.tensor("x", {1, 1, 2, 4});
    const int axis = b.ints("axis", {-1});
    const int mu = b.tensor("mu", {1, 1, 2, 1}), sd = b.tensor("sd", {1, 1, 2, 4}), var = b.tensor("var", {1, 1, 2, 1});
    const int e16 = b.constant("eps_src", {}, {1e-6f});
    const int e = b.tensor("eps", {});
    const int ve = b.tensor("ve", {1, 1, 2, 1}), r = b.tensor("r", {1, 1, 2, 1});
    const int nm = b.tensor("nm", {1, 1, 2, 1}), xg = b.tensor("xg", {1, 1, 2, 4}), mg = b.tensor("mg", {1, 1, 2, 4});
    const int y = b.tensor("y", {1, 1, 2, 4});
    b.op(kDequantize, {e16}, {e});
    b.op(kMean, {x, axis}, {mu});
    b.op(kSquaredDifference, {mu, x}, {sd});  // operands swapped: still the pattern
    b.op(kMean, {sd, axis}, {var});
    b.add(e, var, ve);
    b.op(kRsqrt, {ve}, {r});
    b.op(kNeg, {mu}, {nm});
    b.mul(r, x, xg);
    b.mul(r, nm, mg);
    b.add(mg, xg, y);
    std::shared_ptr<const Model> keep;
    auto s = session_for(b.finish({x}, {y}), &keep);
    REQUIRE(keep->op_count() == 1);
    CHECK(keep->op(0).type == OpType::layer_norm);
    CHECK(keep->op(0).input_count == 1);
  }
  (void)kConcat;
  (void)kReshape;
  (void)kDiv;
  (void)kSum;
  (void)kSqrt;
}

#endif  // FACEKIT_HAVE_CONVERTER
