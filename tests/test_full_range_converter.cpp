// The converter pieces the full-range detectors need, on small synthetic .tflite graphs:
// DENSIFY of sparse constants (CSR levels, block dimensions, a permuted traversal order, and the
// damaged encodings it must refuse), DEPTH_TO_SPACE, and RESIZE_BILINEAR's option flags.
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convert/converter.hpp"
#include "facekit/kernels/f32_resize_bilinear.hpp"
#include "facekit/runtime/executor.hpp"
#include "tflite_subset_generated.h"

using namespace facekit;
using namespace facekit::convert;
namespace tfl = facekit::tflite;

namespace {

// A minimal .tflite writer: tensors (optionally sparse), builtin ops.
class SparseGraph {
 public:
  SparseGraph() { buffers_.push_back(tfl::CreateBuffer(fb_)); }

  struct Level {
    bool csr;
    int dense_size;
    std::vector<uint8_t> segments, indices;  // CSR only (stored as Uint8Vector)
  };

  int tensor(const std::string& name, std::vector<int32_t> shape, const void* data = nullptr, std::size_t bytes = 0,
             flatbuffers::Offset<tfl::SparsityParameters> sp = 0, tfl::TensorType type = tfl::TensorType_FLOAT32) {
    uint32_t buffer = 0;
    if (data) {
      fb_.ForceVectorAlignment(bytes, 1, 16);
      buffers_.push_back(tfl::CreateBuffer(fb_, fb_.CreateVector(static_cast<const uint8_t*>(data), bytes)));
      buffer = uint32_t(buffers_.size() - 1);
    }
    tensors_.push_back(tfl::CreateTensorDirect(fb_, &shape, type, buffer, name.c_str(), false, sp));
    return int(tensors_.size() - 1);
  }
  int sparse(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& values,
             std::vector<int32_t> order, std::vector<int32_t> block_map, const std::vector<Level>& levels) {
    std::vector<flatbuffers::Offset<tfl::DimensionMetadata>> dims;
    for (const Level& l : levels) {
      if (!l.csr) {
        dims.push_back(tfl::CreateDimensionMetadata(fb_, tfl::DimensionType_DENSE, l.dense_size));
        continue;
      }
      auto seg = tfl::CreateUint8VectorDirect(fb_, &l.segments).Union();
      auto idx = tfl::CreateUint8VectorDirect(fb_, &l.indices).Union();
      dims.push_back(tfl::CreateDimensionMetadata(fb_, tfl::DimensionType_SPARSE_CSR, 0,
                                                  tfl::SparseIndexVector_Uint8Vector, seg,
                                                  tfl::SparseIndexVector_Uint8Vector, idx));
    }
    auto sp = tfl::CreateSparsityParametersDirect(fb_, &order, block_map.empty() ? nullptr : &block_map, &dims);
    return tensor(name, std::move(shape), values.data(), values.size() * 4, sp);
  }
  int ints(const std::string& name, const std::vector<int32_t>& v) {
    return tensor(name, {int32_t(v.size())}, v.data(), v.size() * 4, 0, tfl::TensorType_INT32);
  }
  void op(int builtin, std::vector<int32_t> in, std::vector<int32_t> out,
          tfl::BuiltinOptions opt_type = tfl::BuiltinOptions_NONE, flatbuffers::Offset<void> opt = 0) {
    if (!codes_.count(builtin)) {
      codes_[builtin] = int(code_list_.size());
      code_list_.push_back(tfl::CreateOperatorCodeDirect(fb_, int8_t(std::min(builtin, 127)), nullptr, 1, builtin));
    }
    ops_.push_back(tfl::CreateOperatorDirect(fb_, uint32_t(codes_[builtin]), &in, &out, opt_type, opt));
  }
  flatbuffers::FlatBufferBuilder& fb() { return fb_; }
  std::vector<uint8_t> finish(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    auto sg = tfl::CreateSubGraphDirect(fb_, &tensors_, &inputs, &outputs, &ops_, "main");
    std::vector<flatbuffers::Offset<tfl::SubGraph>> sgs{sg};
    auto model = tfl::CreateModelDirect(fb_, 3, &code_list_, &sgs, "synthetic", &buffers_);
    tfl::FinishModelBuffer(fb_, model);
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

struct Run {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Session> session;
  std::string error;
};

Run convert_and_load(const std::vector<uint8_t>& tflite) {
  Run r;
  auto c = convert_tflite(tflite, "synthetic.tflite");
  if (!c) {
    r.error = c.status().message();
    return r;
  }
  auto m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  r.model = std::make_shared<const Model>(std::move(*m));
  auto p = Program::create(r.model);
  REQUIRE_MESSAGE(p, p.status().message());
  r.session = std::make_unique<Session>(*p);
  return r;
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// x [1,1,1,3] -> CONV_2D 1x1 with DENSIFY(sparse w [2,1,1,3]) -> y [1,1,1,2]. The dense weights
// are always [[1, 0, 2], [0, 0, 3]]; each case encodes them differently.
std::vector<uint8_t> densify_conv(const std::vector<float>& values, std::vector<int32_t> order,
                                  std::vector<int32_t> block_map, const std::vector<SparseGraph::Level>& levels) {
  SparseGraph g;
  const int x = g.tensor("x", {1, 1, 1, 3});
  const int ws = g.sparse("w_sparse", {2, 1, 1, 3}, values, std::move(order), std::move(block_map), levels);
  const int w = g.tensor("w", {2, 1, 1, 3});
  const int y = g.tensor("y", {1, 1, 1, 2});
  g.op(124 /* DENSIFY */, {ws}, {w});
  g.op(3 /* CONV_2D */, {x, w, -1}, {y}, tfl::BuiltinOptions_Conv2DOptions,
       tfl::CreateConv2DOptions(g.fb(), tfl::Padding_VALID, 1, 1).Union());
  return g.finish({x}, {y});
}

using L = SparseGraph::Level;

}  // namespace

TEST_CASE("converter: DENSIFY folds TFLite's sparse format (CSR, blocks, traversal order)") {
  struct Case {
    const char* name;
    std::vector<float> values;
    std::vector<int32_t> order, block_map;
    std::vector<L> levels;
  };
  const Case cases[] = {
      // Rows dense, columns CSR: row 0 has columns 0 and 2, row 1 column 2 (the models' layout).
      {"csr", {1, 2, 3}, {0, 1, 2, 3}, {}, {{false, 2, {}, {}}, {false, 1, {}, {}}, {false, 1, {}, {}},
                                              {true, 0, {0, 2, 3}, {0, 2, 2}}}},
      // Dim 0 in blocks of 2: one block row, CSR over columns 0 and 2, each a dense 2-block.
      {"blocks", {1, 0, 2, 3}, {0, 1, 2, 3, 4}, {0}, {{false, 1, {}, {}}, {false, 1, {}, {}}, {false, 1, {}, {}},
                                                       {true, 0, {0, 2}, {0, 2}}, {false, 2, {}, {}}}},
      // All dense, columns first: values in column-major order.
      {"column-major", {1, 0, 0, 0, 2, 3}, {3, 0, 1, 2}, {}, {{false, 3, {}, {}}, {false, 2, {}, {}},
                                                              {false, 1, {}, {}}, {false, 1, {}, {}}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Run r = convert_and_load(densify_conv(c.values, c.order, c.block_map, c.levels));
    REQUIRE_MESSAGE(r.session, r.error);
    const float x[3] = {1.0f, 10.0f, 100.0f};
    std::copy(x, x + 3, r.session->input(0));
    r.session->run();
    CHECK(r.session->output(0)[0] == 201.0f);
    CHECK(r.session->output(0)[1] == 300.0f);
  }
}

TEST_CASE("converter: damaged sparse constants give errors naming the tensor") {
  const std::vector<L> dense3 = {{false, 2, {}, {}}, {false, 1, {}, {}}, {false, 1, {}, {}}};
  auto with = [&](L last) {
    std::vector<L> v = dense3;
    v.push_back(std::move(last));
    return v;
  };
  struct Case {
    const char* name;
    std::vector<float> values;
    std::vector<int32_t> order;
    std::vector<L> levels;
    const char* message;
  };
  const Case cases[] = {
      {"index past the dimension", {1, 2, 3}, {0, 1, 2, 3}, with({true, 0, {0, 2, 3}, {0, 5, 2}}),
       "level 3 index 5 is outside 0..2"},
      {"segment past the indices", {1, 2, 3}, {0, 1, 2, 3}, with({true, 0, {0, 2, 9}, {0, 2, 2}}),
       "is not inside its 3 indices"},
      {"too few segments", {1, 2, 3}, {0, 1, 2, 3}, with({true, 0, {0, 2}, {0, 2, 2}}), "segment bounds"},
      {"values left over", {1, 2, 3, 4}, {0, 1, 2, 3}, with({true, 0, {0, 2, 3}, {0, 2, 2}}),
       "the indices address 3 values, the buffer holds 4"},
      {"not a permutation", {1, 2, 3}, {0, 1, 1, 3}, with({true, 0, {0, 2, 3}, {0, 2, 2}}),
       "traversal order is not a permutation"},
      {"dense size mismatch", {1, 0, 2, 0, 0, 3}, {0, 1, 2, 3}, with({false, 4, {}, {}}),
       "dense level 3 has size 4, dimension 3 has 3"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Run r = convert_and_load(densify_conv(c.values, c.order, {}, c.levels));
    CHECK_FALSE(r.session);
    CHECK_MESSAGE(contains(r.error, "operator #0 DENSIFY"), r.error);
    CHECK_MESSAGE(contains(r.error, "sparse tensor 'w_sparse' [2,1,1,3]"), r.error);
    CHECK_MESSAGE(contains(r.error, c.message), r.error);
  }
}

TEST_CASE("converter: DEPTH_TO_SPACE moves channel groups to pixels (DCR order)") {
  const int H = 3, W = 2, C = 3, B = 2;
  SparseGraph g;
  const int x = g.tensor("x", {1, H, W, C * B * B});
  const int y = g.tensor("y", {1, H * B, W * B, C});
  g.op(5 /* DEPTH_TO_SPACE */, {x}, {y}, tfl::BuiltinOptions_DepthToSpaceOptions,
       tfl::CreateDepthToSpaceOptions(g.fb(), B).Union());
  Run r = convert_and_load(g.finish({x}, {y}));
  REQUIRE_MESSAGE(r.session, r.error);
  CHECK(r.model->op(0).type == OpType::depth_to_space);
  const int n = H * W * C * B * B;
  for (int i = 0; i < n; ++i) r.session->input(0)[i] = float(i);
  r.session->run();
  const float* out = r.session->output(0);
  for (int oy = 0; oy < H * B; ++oy)
    for (int ox = 0; ox < W * B; ++ox)
      for (int c = 0; c < C; ++c) {
        const int h = oy / B, by = oy % B, w = ox / B, bx = ox % B;
        const float want = float(((h * W + w) * B * B + by * B + bx) * C + c);
        CHECK(out[(oy * W * B + ox) * C + c] == want);
      }

  SparseGraph bad;  // channels not a multiple of b*b
  const int bx = bad.tensor("x", {1, 2, 2, 6});
  const int by = bad.tensor("y", {1, 4, 4, 1});
  bad.op(5, {bx}, {by}, tfl::BuiltinOptions_DepthToSpaceOptions, tfl::CreateDepthToSpaceOptions(bad.fb(), 2).Union());
  Run rb = convert_and_load(bad.finish({bx}, {by}));
  CHECK_MESSAGE(contains(rb.error, "operator #0 DEPTH_TO_SPACE: block size 2 does not divide the 6 input channels"),
                rb.error);
}

TEST_CASE("converter: RESIZE_BILINEAR reads align_corners and half_pixel_centers") {
  const int H = 3, W = 4, C = 5, OH = 7, OW = 5;
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);
    SparseGraph g;
    const int x = g.tensor("x", {1, H, W, C});
    const int size = g.ints("size", {OH, OW});
    const int y = g.tensor("y", {1, OH, OW, C});
    g.op(23 /* RESIZE_BILINEAR */, {x, size}, {y}, tfl::BuiltinOptions_ResizeBilinearOptions,
         tfl::CreateResizeBilinearOptions(g.fb(), mode == 1, mode == 2).Union());
    Run r = convert_and_load(g.finish({x}, {y}));
    REQUIRE_MESSAGE(r.session, r.error);
    const auto p = r.model->op(0).params.as<ResizeBilinearParams>();
    CHECK(p.align_corners == (mode == 1 ? 1 : 0));
    CHECK(p.half_pixel_centers == (mode == 2 ? 1 : 0));
    std::vector<float> in(std::size_t(H * W * C)), want(std::size_t(OH * OW * C));
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = std::sin(float(i));
    std::copy(in.begin(), in.end(), r.session->input(0));
    r.session->run();
    kernels::ref::f32_resize_bilinear({H, W, C, OH, OW, mode == 1, mode == 2}, in.data(), want.data());
    for (std::size_t i = 0; i < want.size(); ++i) CHECK(r.session->output(0)[i] == doctest::Approx(want[i]).epsilon(1e-6));
  }
  SparseGraph bad;
  const int x = bad.tensor("x", {1, H, W, C});
  const int size = bad.ints("size", {OH, OW});
  const int y = bad.tensor("y", {1, OH, OW, C});
  bad.op(23, {x, size}, {y}, tfl::BuiltinOptions_ResizeBilinearOptions,
         tfl::CreateResizeBilinearOptions(bad.fb(), true, true).Union());
  Run rb = convert_and_load(bad.finish({x}, {y}));
  CHECK_MESSAGE(contains(rb.error, "align_corners and half_pixel_centers are both set"), rb.error);
}

#endif  // FACEKIT_HAVE_CONVERTER
