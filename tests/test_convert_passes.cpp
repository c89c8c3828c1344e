// The converter's passes (tools/convert/passes/), each alone on a tiny hand-built graph: the
// graph before, the graph the pass's meaning asks for after. The whole lowering on real and
// synthetic models is test_converter.cpp's.
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "convert/emit.hpp"
#include "convert/graph.hpp"
#include "convert/import/importer.hpp"
#include "convert/lowering.hpp"
#include "convert/passes/passes.hpp"

using namespace facekit;
using namespace facekit::convert;

namespace {

// A source graph of tensors only (the passes after the import never read its operators), plus
// constants' bytes and operators for the source-level passes.
struct Source {
  SourceGraph g;

  Source() { g.source = "tiny.tflite"; }

  int tensor(const std::string& name, std::vector<int32_t> shape, int type = kTfFloat32) {
    SourceTensor t;
    t.name = name;
    t.type = type;
    t.elements = 1;
    for (int32_t d : shape) t.elements *= std::size_t(d);
    t.shape = std::move(shape);
    g.tensors.push_back(std::move(t));
    return int(g.tensors.size() - 1);
  }

  template <typename T>
  int constant(const std::string& name, std::vector<int32_t> shape, int type, const std::vector<T>& data) {
    const int t = tensor(name, std::move(shape), type);
    SourceTensor& st = g.tensors[std::size_t(t)];
    st.has_data = true;
    st.data_offset = g.bytes.size();
    st.data_size = data.size() * sizeof(T);
    g.bytes.resize(g.bytes.size() + st.data_size);
    std::memcpy(g.bytes.data() + st.data_offset, data.data(), st.data_size);
    return t;
  }

  int axis(const std::string& name, int32_t a) { return constant(name, {1}, kTfInt32, std::vector<int32_t>{a}); }

  void op(int builtin, const std::string& type_name, std::vector<int32_t> in, std::vector<int32_t> out) {
    SourceOp o;
    o.index = int(g.ops.size());
    o.builtin = builtin;
    o.type_name = type_name;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    g.ops.push_back(std::move(o));
  }
};

// A node of `type` reading the activations `in`.
Node node(OpType type, const std::string& name, int src, std::vector<int> in, int out) {
  Node n;
  n.type = type;
  n.name = name;
  n.src = src;
  for (int t : in) n.in.push_back(Operand::activation(t));
  n.out = out;
  return n;
}

template <class P>
Node node(OpType type, const std::string& name, int src, std::vector<int> in, int out, const P& params) {
  Node n = node(type, name, src, std::move(in), out);
  n.params = OpParams::from(params);
  return n;
}

Conv2dParams conv_params(int kernel) {
  Conv2dParams p{};
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
  return p;
}

Node conv1x1(const std::string& name, int src, int x, int w, int out) {
  Node n = node(OpType::conv2d, name, src, {x}, out, conv_params(1));
  n.in.push_back(Operand::conv_weights(w, -1));
  return n;
}

template <class P, class F>
void edit_params(Node& n, F f) {
  P p = n.params.as<P>();
  f(p);
  n.params = OpParams::from(p);
}

void set_outputs(LoweringGraph& g, std::vector<int> outs) {
  for (int t : outs) g.is_output[std::size_t(t)] = 1;
  g.outputs = std::move(outs);
}

std::vector<std::string> live_names(const LoweringGraph& g) {
  std::vector<std::string> r;
  for (const Node& n : g.nodes)
    if (!n.dead) r.push_back(n.name);
  return r;
}

// IEEE half bits of a few exact values.
constexpr uint16_t kHalfOne = 0x3C00, kHalfMinus2p5 = 0xC100, kHalfQuarter = 0x3400;

}  // namespace

TEST_CASE("convert pass fold_dequantize: float16 weights become float32 constants") {
  Source s;
  const int in = s.tensor("in", {1, 3});
  const int w16 = s.constant("w16", {3}, kTfFloat16, std::vector<uint16_t>{kHalfOne, kHalfMinus2p5, kHalfQuarter});
  const int w = s.tensor("w", {3});
  const int y = s.tensor("y", {1, 3});
  s.op(kTfDequantize, "DEQUANTIZE", {w16}, {w});
  s.op(kTfMul, "MUL", {in, w}, {y});
  s.g.inputs = {in};
  s.g.outputs = {y};
  LoweringGraph g(s.g);
  ImportState st(g);
  REQUIRE(fold_dequantize(st));
  CHECK(st.constant[std::size_t(w)] == 1);
  CHECK(st.defined[std::size_t(w)] == 1);
  CHECK(g.values[std::size_t(w)] == std::vector<float>{1.0f, -2.5f, 0.25f});
  CHECK(g.stats.dequantize_folded == 1);
  CHECK(g.nodes.empty());  // no op is made for it

  SUBCASE("a DEQUANTIZE of an activation is refused, naming the operator") {
    Source b;
    const int x = b.tensor("x", {3}, kTfFloat16);
    const int z = b.tensor("z", {3});
    b.op(kTfDequantize, "DEQUANTIZE", {x}, {z});
    LoweringGraph gb(b.g);
    ImportState sb(gb);
    const Status e = fold_dequantize(sb);
    REQUIRE(!e);
    CHECK(std::string(e.message()).find("tiny.tflite: operator #0 DEQUANTIZE: input 'x' is not a constant") !=
          std::string::npos);
  }
}

TEST_CASE("convert pass fuse_mixer_patterns: a point normalisation subgraph becomes one pattern") {
  // c = x - MEAN(x, points); y = c / MEAN(SQRT(SUM(c * c, coords)), points)
  Source s;
  const int x = s.tensor("x", {1, 5, 3});
  const int ax_points = s.axis("axis_points", 1), ax_coords = s.axis("axis_coords", -1);
  const int mu = s.tensor("mu", {1, 1, 3}), c = s.tensor("c", {1, 5, 3}), sq = s.tensor("sq", {1, 5, 3});
  const int sum = s.tensor("sum", {1, 5, 1}), rt = s.tensor("rt", {1, 5, 1}), d = s.tensor("d", {1, 1, 1});
  const int y = s.tensor("y", {1, 5, 3});
  s.op(kTfMean, "MEAN", {x, ax_points}, {mu});
  s.op(kTfSub, "SUB", {x, mu}, {c});
  s.op(kTfMul, "MUL", {c, c}, {sq});
  s.op(kTfSum, "SUM", {sq, ax_coords}, {sum});
  s.op(kTfSqrt, "SQRT", {sum}, {rt});
  s.op(kTfMean, "MEAN", {rt, ax_points}, {d});
  s.op(kTfDiv, "DIV", {c, d}, {y});
  s.g.inputs = {x};

  SUBCASE("matched") {
    s.g.outputs = {y};
    LoweringGraph g(s.g);
    ImportState st(g);
    REQUIRE(prepare_import(st));  // the producer/reader index the matcher walks
    REQUIRE(fuse_mixer_patterns(st));
    REQUIRE(st.patterns.size() == 1);
    const Pattern& p = st.patterns[0];
    CHECK(p.type == OpType::point_normalize);
    CHECK(p.ops == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
    CHECK(p.x == x);
    CHECK(p.y == y);
    for (int i = 0; i < 7; ++i) CHECK(st.pattern_of[std::size_t(i)] == 0);
  }
  SUBCASE("not matched when an inner result is also a graph output") {
    s.g.outputs = {y, c};
    LoweringGraph g(s.g);
    ImportState st(g);
    REQUIRE(prepare_import(st));
    REQUIRE(fuse_mixer_patterns(st));
    CHECK(st.patterns.empty());
    for (int i = 0; i < 7; ++i) CHECK(st.pattern_of[std::size_t(i)] == -1);
  }
}

TEST_CASE("convert pass fuse_mixer_patterns: a Keras layer normalisation subgraph becomes one pattern") {
  // mu = MEAN(x); g = RSQRT(MEAN(SQUARED_DIFFERENCE(x, mu)) + eps); y = x * g + NEG(mu) * g
  Source s;
  const int x = s.tensor("x", {1, 4, 8});
  const int ax = s.axis("axis", -1);
  const int eps = s.constant("eps", {}, kTfFloat32, std::vector<float>{1e-6f});
  const int mu = s.tensor("mu", {1, 4, 1}), sd = s.tensor("sd", {1, 4, 8}), var = s.tensor("var", {1, 4, 1});
  const int ve = s.tensor("ve", {1, 4, 1}), g = s.tensor("g", {1, 4, 1}), nm = s.tensor("nm", {1, 4, 1});
  const int mx = s.tensor("mx", {1, 4, 8}), mm = s.tensor("mm", {1, 4, 1}), y = s.tensor("y", {1, 4, 8});
  s.op(kTfMean, "MEAN", {x, ax}, {mu});
  s.op(kTfSquaredDifference, "SQUARED_DIFFERENCE", {x, mu}, {sd});
  s.op(kTfMean, "MEAN", {sd, ax}, {var});
  s.op(kTfAdd, "ADD", {var, eps}, {ve});
  s.op(kTfRsqrt, "RSQRT", {ve}, {g});
  s.op(kTfNeg, "NEG", {mu}, {nm});
  s.op(kTfMul, "MUL", {x, g}, {mx});
  s.op(kTfMul, "MUL", {nm, g}, {mm});
  s.op(kTfAdd, "ADD", {mx, mm}, {y});
  s.g.inputs = {x};
  s.g.outputs = {y};
  LoweringGraph lg(s.g);
  ImportState st(lg);
  REQUIRE(prepare_import(st));
  REQUIRE(fuse_mixer_patterns(st));
  REQUIRE(st.patterns.size() == 1);
  const Pattern& p = st.patterns[0];
  CHECK(p.type == OpType::layer_norm);
  CHECK(p.ops == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(p.x == x);
  CHECK(p.y == y);
  CHECK(p.eps == eps);
  CHECK(p.gamma == -1);
  CHECK(p.beta == -1);
}

TEST_CASE("convert pass absorb_channel_pads: ADD reads the narrow operand instead of its zero-padded copy") {
  Source s;
  const int x = s.tensor("x", {1, 4, 4, 8}), w = s.tensor("w", {12, 1, 1, 8});
  const int c = s.tensor("c", {1, 4, 4, 12}), p = s.tensor("p", {1, 4, 4, 12}), y = s.tensor("y", {1, 4, 4, 12});
  LoweringGraph g(s.g);
  g.nodes.push_back(conv1x1("CONV_2D#0", 0, x, w, c));
  PadParams channel_pad{};
  channel_pad.after[3] = 4;
  g.nodes.push_back(node(OpType::pad, "PAD#1", 1, {x}, p, channel_pad));
  g.nodes.push_back(node(OpType::add, "ADD#2", 2, {p, c}, y, AddParams{}));
  set_outputs(g, {y});

  SUBCASE("channel pad") {
    REQUIRE(absorb_channel_pads(g));
    const Node& add = g.nodes[2];
    CHECK(activation_inputs(add) == std::vector<int>{c, x});  // the narrower operand is b
    CHECK(add.name == "ADD#2(PAD#1)");
    CHECK(g.nodes[1].dead);
    CHECK(live_names(g) == std::vector<std::string>{"CONV_2D#0", "ADD#2(PAD#1)"});
    CHECK(g.stats.channel_pads_absorbed == 1);
  }
  SUBCASE("a pad that also pads H is not a channel pad") {
    edit_params<PadParams>(g.nodes[1], [](PadParams& q) { q.after[1] = 1; });
    REQUIRE(absorb_channel_pads(g));
    CHECK(activation_inputs(g.nodes[2]) == std::vector<int>{p, c});
    CHECK(!g.nodes[1].dead);
    CHECK(g.stats.channel_pads_absorbed == 0);
  }
  SUBCASE("a pad with another reader stays, the ADD still reads the narrow operand") {
    set_outputs(g, {y, p});
    REQUIRE(absorb_channel_pads(g));
    CHECK(activation_inputs(g.nodes[2]) == std::vector<int>{c, x});
    CHECK(!g.nodes[1].dead);
  }
}

TEST_CASE("convert pass fuse_activations: an activation joins the conv or add that produces its input") {
  Source s;
  const int x = s.tensor("x", {1, 2, 2, 4}), w = s.tensor("w", {4, 1, 1, 4}), al = s.tensor("alpha", {4});
  const int c = s.tensor("c", {1, 2, 2, 4}), y = s.tensor("y", {1, 2, 2, 4});
  LoweringGraph g(s.g);
  g.nodes.push_back(conv1x1("CONV_2D#0", 0, x, w, c));

  SUBCASE("PRELU: the slopes move with it") {
    Node pr = node(OpType::prelu, "PRELU#1", 1, {c}, y);
    pr.in.push_back(Operand::channel_vector(al, {0.1f, 0.2f, 0.3f, 0.4f}));
    g.nodes.push_back(pr);
    set_outputs(g, {y});
    REQUIRE(fuse_activations(g));
    const Node& cv = g.nodes[0];
    CHECK(fused_activation(cv) == Activation::prelu);
    CHECK(cv.params.as<Conv2dParams>().activation == Activation::prelu);  // as the file stores it
    REQUIRE(cv.in.size() == 3);  // x, weights, alpha
    CHECK(cv.in[kConvAlpha].kind == OperandKind::channel_vector);
    CHECK(cv.in[kConvAlpha].values == std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f});
    CHECK(cv.in[kConvAlpha].tensor == al);
    CHECK(cv.out == y);
    CHECK(cv.name == "CONV_2D#0+PRELU#1");
    CHECK(g.nodes[1].dead);
    CHECK(g.stats.activations_fused == 1);
  }
  SUBCASE("RELU after an add") {
    const int a = s.tensor("a", {1, 2, 2, 4});
    LoweringGraph ga(s.g);
    ga.nodes.push_back(node(OpType::add, "ADD#0", 0, {x, x}, a, AddParams{}));
    ga.nodes.push_back(node(OpType::relu, "RELU#1", 1, {a}, y));
    set_outputs(ga, {y});
    REQUIRE(fuse_activations(ga));
    CHECK(ga.nodes[0].params.as<AddParams>().activation == Activation::relu);
    CHECK(ga.nodes[0].out == y);
    CHECK(live_names(ga) == std::vector<std::string>{"ADD#0+RELU#1"});
  }
  SUBCASE("not when the conv output has another reader") {
    g.nodes.push_back(node(OpType::relu, "RELU#1", 1, {c}, y));
    set_outputs(g, {y, c});
    REQUIRE(fuse_activations(g));
    CHECK(fused_activation(g.nodes[0]) == Activation::none);
    CHECK(g.nodes[0].out == c);
    CHECK(!g.nodes[1].dead);
    CHECK(g.stats.activations_fused == 0);
  }
  SUBCASE("a RELU6 that cannot be fused is an error naming the operator") {
    Node r6 = node(OpType::relu, "RELU6#1", 1, {c}, y);
    r6.pending = PendingOp::relu6;
    g.nodes.push_back(r6);
    set_outputs(g, {y, c});
    const Status e = fuse_activations(g);
    REQUIRE(!e);
    CHECK(std::string(e.message()).find("tiny.tflite: operator #1 RELU6 cannot be fused") != std::string::npos);
  }
}

TEST_CASE("convert pass fuse_residual_adds: ADD(conv(x), r) becomes conv(x) with residual r") {
  Source s;
  const int x = s.tensor("x", {1, 2, 2, 4}), w = s.tensor("w", {4, 1, 1, 4});
  const int r = s.tensor("r", {1, 2, 2, 4}), c = s.tensor("c", {1, 2, 2, 4}), y = s.tensor("y", {1, 2, 2, 4});
  LoweringGraph g(s.g);

  SUBCASE("the add's activation moves to the conv") {
    g.nodes.push_back(conv1x1("CONV_2D#0", 0, x, w, c));
    g.nodes.push_back(node(OpType::add, "ADD#1", 1, {r, c}, y, AddParams{Activation::relu6}));
    set_outputs(g, {y});
    REQUIRE(fuse_residual_adds(g));
    const Node& cv = g.nodes[0];
    CHECK(residual_input(cv) == r);
    REQUIRE(cv.in.size() == 4);  // x, weights, no alpha, residual
    CHECK(cv.in[kConvAlpha].kind == OperandKind::none);
    CHECK(cv.in[kConvResidual].tensor == r);
    CHECK(fused_activation(cv) == Activation::relu6);
    CHECK(cv.out == y);
    CHECK(cv.name == "CONV_2D#0+ADD#1");
    CHECK(g.nodes[1].dead);
    CHECK(g.stats.residual_adds_fused == 1);
  }
  SUBCASE("of two convs, the later one takes the add; the earlier one's output is its residual") {
    g.nodes.push_back(conv1x1("CONV_2D#0", 0, x, w, r));
    g.nodes.push_back(conv1x1("CONV_2D#1", 1, x, w, c));
    g.nodes.push_back(node(OpType::add, "ADD#2", 2, {r, c}, y, AddParams{}));
    set_outputs(g, {y});
    REQUIRE(fuse_residual_adds(g));
    CHECK(residual_input(g.nodes[1]) == r);
    CHECK(g.nodes[1].out == y);
    CHECK(residual_input(g.nodes[0]) == -1);
    CHECK(g.nodes[0].out == r);
    CHECK(live_names(g) == std::vector<std::string>{"CONV_2D#0", "CONV_2D#1+ADD#2"});
  }
  SUBCASE("not into a conv that already has an activation") {
    g.nodes.push_back(conv1x1("CONV_2D#0", 0, x, w, c));
    set_fused_activation(g.nodes[0], Activation::relu);
    g.nodes.push_back(node(OpType::add, "ADD#1", 1, {r, c}, y, AddParams{}));
    set_outputs(g, {y});
    REQUIRE(fuse_residual_adds(g));
    CHECK(residual_input(g.nodes[0]) == -1);
    CHECK(!g.nodes[1].dead);
  }
}

TEST_CASE("convert pass fold_spatial_pads: a zero PAD of H and W becomes the conv's own padding") {
  Source s;
  const int x = s.tensor("x", {1, 4, 4, 2}), w = s.tensor("w", {2, 3, 3, 2});
  const int p = s.tensor("p", {1, 6, 6, 2}), y = s.tensor("y", {1, 4, 4, 2});
  LoweringGraph g(s.g);
  PadParams spatial_pad{};
  spatial_pad.before[1] = spatial_pad.after[1] = spatial_pad.before[2] = spatial_pad.after[2] = 1;
  g.nodes.push_back(node(OpType::pad, "PAD#0", 0, {x}, p, spatial_pad));
  Node cv = node(OpType::conv2d, "CONV_2D#1", 1, {p}, y, conv_params(3));  // VALID on the padded input
  cv.in.push_back(Operand::conv_weights(w, -1));
  g.nodes.push_back(cv);
  set_outputs(g, {y});

  SUBCASE("into a 3x3 conv") {
    REQUIRE(fold_spatial_pads(g));
    const Conv2dParams q = g.nodes[1].params.as<Conv2dParams>();
    CHECK((q.pad_top == 1 && q.pad_bottom == 1 && q.pad_left == 1 && q.pad_right == 1));
    CHECK(g.nodes[1].in[0].tensor == x);
    CHECK(g.nodes[1].name == "PAD#0+CONV_2D#1");
    CHECK(g.nodes[0].dead);
    CHECK(g.stats.spatial_pads_folded == 1);
  }
  SUBCASE("not into a 1x1 conv: the padding would be whole rows of zeros") {
    g.nodes[1].params = OpParams::from(conv_params(1));
    REQUIRE(fold_spatial_pads(g));
    CHECK(g.nodes[1].in[0].tensor == p);
    CHECK(!g.nodes[0].dead);
  }
  SUBCASE("not into max pooling: its padded taps are ignored, not zeros") {
    g.nodes[1].type = OpType::maxpool2d;
    REQUIRE(fold_spatial_pads(g));
    CHECK(!g.nodes[0].dead);
  }
  SUBCASE("not a channel pad") {
    edit_params<PadParams>(g.nodes[0], [](PadParams& q) { q.after[3] = 2; });
    REQUIRE(fold_spatial_pads(g));
    CHECK(!g.nodes[0].dead);
  }
}

TEST_CASE("convert pass topo_sort: a node moves after the producer of its residual, the rest keep their order") {
  Source s;
  const int x = s.tensor("x", {1, 2, 2, 4}), w = s.tensor("w", {4, 1, 1, 4});
  const int a = s.tensor("a", {1, 2, 2, 4}), r = s.tensor("r", {1, 2, 2, 4}), y = s.tensor("y", {1, 2, 2, 4});
  const int z = s.tensor("z", {1, 2, 2, 4});
  LoweringGraph g(s.g);
  g.nodes.push_back(node(OpType::logistic, "LOGISTIC#0", 0, {x}, a));
  Node cv = conv1x1("CONV_2D#1+ADD#3", 1, a, w, y);
  set_input(cv, kConvResidual, Operand::activation(r));  // computed by the RELU below
  g.nodes.push_back(cv);
  Node gone = node(OpType::relu, "RELU#2", 2, {x}, z);
  gone.dead = true;
  g.nodes.push_back(gone);
  g.nodes.push_back(node(OpType::relu, "RELU#4", 4, {x}, r));
  set_outputs(g, {y});
  REQUIRE(topo_sort(g));
  CHECK(live_names(g) == std::vector<std::string>{"LOGISTIC#0", "RELU#4", "CONV_2D#1+ADD#3"});
  CHECK(g.nodes.size() == 3);  // dead nodes are left behind

  SUBCASE("a cycle is an internal error") {
    LoweringGraph gc(s.g);
    gc.nodes.push_back(node(OpType::relu, "RELU#0", 0, {r}, a));
    gc.nodes.push_back(node(OpType::relu, "RELU#1", 1, {a}, r));
    CHECK(!topo_sort(gc));
  }
}

TEST_CASE("convert pass prune_rows: ops compute only the rows (tokens) an output needs") {
  // x [1,1,4,8] -> RELU -> a -> slice of row 3 -> y [1,1,1,8]
  Source s;
  const int x = s.tensor("x", {1, 1, 4, 8}), a = s.tensor("a", {1, 1, 4, 8}), y = s.tensor("y", {1, 1, 1, 8});
  s.g.inputs = {x};
  LoweringGraph g(s.g);
  g.nodes.push_back(node(OpType::relu, "RELU#0", 0, {x}, a));
  g.nodes.push_back(node(OpType::slice, "STRIDED_SLICE#1", 1, {a}, y, SliceParams{{0, 0, 3, 0}}));
  set_outputs(g, {y});
  REQUIRE(prune_rows(g));
  // The RELU runs on row 3 only: a new slice cuts it out of x (a graph input holds every row),
  // and the final slice now starts at the RELU's only row.
  REQUIRE(g.nodes.size() == 3);
  const Node& cut = g.nodes[0];
  CHECK(cut.type == OpType::slice);
  CHECK(cut.name == "RELU#0/rows");
  CHECK(activation_inputs(cut) == std::vector<int>{x});
  CHECK(cut.params.as<SliceParams>().begin[2] == 3);
  CHECK(g.tensor_name(cut.out) == "x/rows_3_4");
  CHECK(g.shape(cut.out) == std::vector<int32_t>{1, 1, 1, 8});
  CHECK(g.nodes[1].name == "RELU#0");
  CHECK(activation_inputs(g.nodes[1]) == std::vector<int>{cut.out});
  CHECK(g.shape(a) == std::vector<int32_t>{1, 1, 1, 8});
  CHECK(g.nodes[2].params.as<SliceParams>().begin[2] == 0);
  CHECK(g.shape(y) == std::vector<int32_t>{1, 1, 1, 8});
  CHECK(g.stats.rows_pruned_ops == 1);

  SUBCASE("nothing changes when the output needs every row") {
    LoweringGraph ga(s.g);
    ga.nodes.push_back(node(OpType::relu, "RELU#0", 0, {x}, a));
    set_outputs(ga, {a});
    REQUIRE(prune_rows(ga));
    CHECK(live_names(ga) == std::vector<std::string>{"RELU#0"});
    CHECK(ga.shape(a) == std::vector<int32_t>{1, 1, 4, 8});
    CHECK(ga.stats.rows_pruned_ops == 0);
  }
}

TEST_CASE("convert pass remove_dead: only nodes some graph output needs remain") {
  Source s;
  const int x = s.tensor("x", {1, 2}), a = s.tensor("a", {1, 2}), b = s.tensor("b", {1, 2});
  const int c = s.tensor("c", {1, 2}), y = s.tensor("y", {1, 2});
  LoweringGraph g(s.g);
  g.nodes.push_back(node(OpType::relu, "RELU#0", 0, {x}, a));
  g.nodes.push_back(node(OpType::logistic, "LOGISTIC#1", 1, {x}, b));  // read only by the unread node
  g.nodes.push_back(node(OpType::relu, "RELU#2", 2, {b}, c));          // unread
  g.nodes.push_back(node(OpType::logistic, "LOGISTIC#3", 3, {a}, y));
  Node fused = node(OpType::relu, "RELU#4", 4, {a}, y);
  fused.dead = true;  // fused away by an earlier pass
  g.nodes.push_back(fused);
  set_outputs(g, {y});
  REQUIRE(remove_dead(g));
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].name == "RELU#0");
  CHECK(g.nodes[1].name == "LOGISTIC#3");
}

TEST_CASE("convert import table: one list gives both the importers and the supported check") {
  SourceOp op;
  op.builtin = kTfConv2d;
  const OpImporter* conv = find_importer(op);
  REQUIRE(conv);
  CHECK(bool(conv->import_view));  // a 1x1 CONV_2D over a transposed view is token mixing
  op.builtin = kTfTranspose;
  REQUIRE(find_importer(op));
  CHECK(find_importer(op)->reads_views);
  op.builtin = 1;  // AVERAGE_POOL_2D
  CHECK(find_importer(op) == nullptr);
  op.builtin = kTfCustom;
  op.custom_code = kCustomTransformLandmarks;
  CHECK(find_importer(op) != nullptr);
  op.custom_code = "MyCustomOp";
  CHECK(find_importer(op) == nullptr);
}

TEST_CASE("convert pass list: the import splits source passes from graph passes; every pass is named once") {
  const std::vector<Pass>& list = pass_list();
  bool imported = false;
  std::vector<std::string> names;
  for (const Pass& p : list) {
    CHECK(bool(p.on_source) != bool(p.on_graph));
    if (imported) CHECK_MESSAGE(bool(p.on_graph), p.name);  // nothing on source ops after the import
    if (p.on_source == import_ops) imported = true;
    for (const std::string& n : names) CHECK(n != p.name);
    names.push_back(p.name);
  }
  CHECK(imported);
}

TEST_CASE("convert dump_graph: live nodes with op names, tensor shapes, fused parts and params") {
  Source s;
  const int x = s.tensor("x", {1, 2, 2, 4}), w = s.tensor("w", {4, 1, 1, 4}), y = s.tensor("y", {1, 2, 2, 4});
  LoweringGraph g(s.g);
  Node cv = conv1x1("CONV_2D#0+RELU#1", 0, x, w, y);
  set_fused_activation(cv, Activation::relu);
  g.nodes.push_back(cv);
  Node gone = node(OpType::relu, "RELU#1", 1, {x}, y);
  gone.dead = true;
  g.nodes.push_back(gone);
  g.stats.activations_fused = 1;
  const std::string d = dump_graph(g);
  CHECK_MESSAGE(d.find("conv2d") != std::string::npos, d);
  CHECK_MESSAGE(d.find("CONV_2D#0+RELU#1: 'x'[1,2,2,4] -> 'y'[1,2,2,4]; weights 'w'[4,1,1,4]; activation relu") !=
                    std::string::npos,
                d);
  CHECK_MESSAGE(d.find("kernel 1x1 stride 1x1") != std::string::npos, d);  // the op's params
  CHECK_MESSAGE(d.find("  1 relu") == std::string::npos, d);  // dead nodes are not listed
  CHECK_MESSAGE(d.find("activations fused 1") != std::string::npos, d);
}

TEST_CASE("convert emit_model: a node's type and params as they are, its operands as tensor ids by their kind") {
  Source s;
  const int x = s.tensor("x", {1, 2, 2, 4}), w = s.tensor("w", {4, 1, 1, 4}), al = s.tensor("alpha", {4});
  const int a = s.tensor("a", {1, 2, 2, 4}), y = s.tensor("y", {1, 2, 2, 4});
  s.g.inputs = {x};
  LoweringGraph g(s.g);
  g.values[std::size_t(w)].assign(16, 0.5f);
  Node c0 = conv1x1("CONV_2D#0", 0, x, w, a);
  set_input(c0, kConvResidual, Operand::activation(x));  // x, weights, (no alpha), residual
  g.nodes.push_back(c0);
  Node c1 = conv1x1("CONV_2D#1", 1, a, w, y);  // the same weights: one packed constant
  set_fused_activation(c1, Activation::prelu);
  set_input(c1, kConvAlpha, Operand::channel_vector(al, {0.1f, 0.2f, 0.3f, 0.4f}));
  g.nodes.push_back(c1);
  set_outputs(g, {y});

  SUBCASE("emitted") {
    Expected<OutModel> m = emit_model(g);
    REQUIRE_MESSAGE(m, m.status().message());
    REQUIRE(m->ops.size() == 2);
    REQUIRE(m->tensors.size() == 5);  // x, w (packed), a, alpha, y
    CHECK(m->ops[0].type == OpType::conv2d);
    CHECK(std::memcmp(&m->ops[1].params, &c1.params, sizeof(OpParams)) == 0);
    CHECK(m->ops[0].inputs == std::vector<uint32_t>{0, 1, kNoTensor, 0});
    CHECK(m->ops[0].outputs == std::vector<uint32_t>{2});
    CHECK(m->ops[1].inputs == std::vector<uint32_t>{2, 1, 3});
    CHECK(m->ops[1].outputs == std::vector<uint32_t>{4});
    CHECK(m->tensors[1].name == "w");
    CHECK(m->tensors[1].layout == format::Layout::conv2d_oc_tile);
    CHECK(m->tensors[3].name == "alpha");
    CHECK(m->tensors[3].layout == format::Layout::channel_padded);
    CHECK(m->tensors[3].kind == format::TensorKind::constant);
    CHECK(m->inputs == std::vector<uint32_t>{0});
    CHECK(m->outputs == std::vector<uint32_t>{4});
  }
  SUBCASE("a step still pending (an unfused RELU6) is an internal error") {
    Node r6 = node(OpType::relu, "RELU6#2", 2, {y}, a);
    r6.pending = PendingOp::relu6;
    g.nodes.push_back(r6);
    Expected<OutModel> m = emit_model(g);
    REQUIRE(!m);
    CHECK(std::string(m.status().message()).find("RELU6#2 was not fused") != std::string::npos);
  }
}

TEST_CASE("convert lower_graph: the observer (--dump-passes) sees each pass's graph and where the import stops") {
  Source s;
  const int x = s.tensor("x", {1, 4}), a = s.tensor("a", {1, 4}), z = s.tensor("z", {1, 4});
  const int y = s.tensor("y", {1, 4});
  s.op(kTfRelu, "RELU", {x}, {a});
  s.g.inputs = {x};
  std::vector<std::string> seen;
  std::vector<std::size_t> live;
  auto observe = [&](const char* pass, const LoweringGraph& g) {
    seen.push_back(pass);
    live.push_back(live_names(g).size());
  };

  SUBCASE("converted") {
    s.op(kTfLogistic, "LOGISTIC", {a}, {y});
    s.g.outputs = {y};
    LoweringStats stats;
    Expected<OutModel> m = lower_graph(s.g, &stats, observe);
    REQUIRE_MESSAGE(m, m.status().message());
    std::vector<std::string> want;
    for (const Pass& p : pass_list()) want.push_back(p.name);
    CHECK(seen == want);
    CHECK(live.back() == 2);
    CHECK(m->ops.size() == 2);
  }
  SUBCASE("the import fails: the observer gets what it imported before the error") {
    s.op(kTfLogistic, "LOGISTIC", {z}, {y});  // z is never written
    s.g.outputs = {a, y};
    Expected<OutModel> m = lower_graph(s.g, nullptr, observe);
    REQUIRE(!m);
    CHECK_MESSAGE(std::string(m.status().message()).find("tiny.tflite: operator #1 LOGISTIC: input 'z' is read "
                                                         "before any operator writes it") != std::string::npos,
                  m.status().message());
    REQUIRE(!seen.empty());
    CHECK(seen.back() == "import (stopped by the error)");
    CHECK(live.back() == 1);  // the RELU
  }
}

#endif  // FACEKIT_HAVE_CONVERTER
