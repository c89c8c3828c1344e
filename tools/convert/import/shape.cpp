// tools/convert/import/shape.cpp - operators that move elements without computing on them:
// RESHAPE, CONCATENATION, PAD, TRANSPOSE (a view, see below), STRIDED_SLICE, DEPTH_TO_SPACE.
#include <algorithm>
#include <set>

#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

// Largest padding accepted from a PAD op (anything bigger is a broken or hostile file).
constexpr int64_t kMaxPad = 1 << 16;

}  // namespace

Status import_reshape(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 2, 1));  // the optional 2nd input is the shape
  const int x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  if (st.src.tensors[std::size_t(x)].elements != st.src.tensors[std::size_t(y)].elements)
    return st.fail(op, strf("input %s and output %s differ in element count", shape_str(st.shape(x)).c_str(),
                            shape_str(st.shape(y)).c_str()));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::reshape), {x}, y);
}

Status import_concat(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, std::size_t(kMaxOpInputs), 1));
  if (op.inputs.size() > std::size_t(kMaxOpInputs))
    return st.fail(op, strf("%zu inputs; at most %d are supported", op.inputs.size(), kMaxOpInputs));
  if (op.options.type != 10) return st.fail(op, strf("options are missing (union type %d)", op.options.type));
  const int y = op.outputs[0];
  const auto& ys = st.shape(y);
  const int rank = int(ys.size());
  int axis = op.options.axis;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return st.fail(op, strf("axis %d is outside rank %d", op.options.axis, rank));
  if (op.options.activation != kTfActNone)
    return st.fail(op, strf("fused activation %d on concatenation is not supported", op.options.activation));
  int64_t sum = 0;
  std::vector<Node> copies;
  for (std::size_t k = 0; k < op.inputs.size(); ++k) {
    const int x = op.inputs[k];
    if (st.constant[std::size_t(x)]) {
      // A constant operand (MLP-Mixer's extra token): a copy op materialises it as an
      // activation, which takes the constant's tensor id (constants are emitted separately).
      const std::vector<float>* cv = nullptr;
      FACEKIT_RETURN_IF_ERROR(st.const_floats(op, x, "constant input", &cv));
      if (st.shape(x).size() > 4 || cv->size() != st.src.tensors[std::size_t(x)].elements || cv->empty())
        return st.fail(op, strf("constant input '%s' has shape %s; expected rank 1..4", st.tname(x),
                                shape_str(st.shape(x)).c_str()));
      if (st.materialised.insert(x).second) {
        Node c = st.make_node(op, OpType::copy);
        c.name += strf("/const%zu", k);
        c.in = {Operand::plain(x, *cv)};
        c.out = x;
        copies.push_back(std::move(c));
      }
    } else {
      FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
    }
    const auto& xs = st.shape(x);
    bool ok = int(xs.size()) == rank;
    for (int d = 0; ok && d < rank; ++d) ok = d == axis || xs[std::size_t(d)] == ys[std::size_t(d)];
    if (!ok)
      return st.fail(op, strf("input '%s' %s does not match output %s off axis %d", st.tname(x),
                              shape_str(xs).c_str(), shape_str(ys).c_str(), axis));
    sum += xs[std::size_t(axis)];
  }
  if (sum != ys[std::size_t(axis)])
    return st.fail(op, strf("inputs sum to %lld along axis %d, output has %d", static_cast<long long>(sum), axis,
                            ys[std::size_t(axis)]));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  for (Node& c : copies) st.graph.nodes.push_back(std::move(c));
  return st.emit(st.make_node(op, OpType::concat, ConcatParams{axis}),
                 std::vector<int>(op.inputs.begin(), op.inputs.end()), y);
}

Status import_pad(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], pt = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  const auto& xs = st.shape(x);
  const auto& ys = st.shape(y);
  const std::size_t rank = xs.size();
  if (!st.constant[std::size_t(pt)] || !st.src.tensors[std::size_t(pt)].has_data)
    return st.fail(op, strf("paddings '%s' must be a constant", st.tname(pt)));
  std::vector<int64_t> pads;
  Status s = constant_as_ints(st.src, pt, &pads);
  if (!s) return st.fail(op, s.message());
  if (st.shape(pt) != std::vector<int32_t>{int32_t(rank), 2})
    return st.fail(op, strf("paddings '%s' has shape %s, expected [%zu,2]", st.tname(pt),
                            shape_str(st.shape(pt)).c_str(), rank));
  if (ys.size() != rank) return st.fail(op, strf("output rank %zu differs from input rank %zu", ys.size(), rank));
  PadParams p{};
  for (std::size_t d = 0; d < rank; ++d) {
    const int64_t before = pads[2 * d], after = pads[2 * d + 1];
    if (before < 0 || after < 0 || before > kMaxPad || after > kMaxPad)
      return st.fail(op, strf("padding (%lld, %lld) of dimension %zu is negative or too large",
                              static_cast<long long>(before), static_cast<long long>(after), d));
    if (xs[d] + before + after != ys[d])
      return st.fail(op, strf("dimension %zu: %d + %lld + %lld != output %d", d, xs[d],
                              static_cast<long long>(before), static_cast<long long>(after), ys[d]));
    p.before[d] = int32_t(before);
    p.after[d] = int32_t(after);
  }
  p.value = 0.0f;
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::pad, p), {x}, y);
}

// TRANSPOSE of the last two dims (leading dims 1): no op, the output is a view of the input
// (ImportState::alias / transposed). It gets its inputs as stored, views included.
Status import_transpose(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], pt = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, st.alias[std::size_t(x)], "input"));
  const auto& xs = st.src.tensors[std::size_t(x)].shape;  // the logical (TFLite) shape
  const std::size_t rank = xs.size();
  if (!st.src.tensors[std::size_t(pt)].has_data)
    return st.fail(op, strf("permutation '%s' must be a constant", st.tname(pt)));
  std::vector<int64_t> perm;
  Status s = constant_as_ints(st.src, pt, &perm);
  if (!s) return st.fail(op, s.message());
  bool swap_last2 = rank >= 2 && perm.size() == rank;
  for (std::size_t d = 0; swap_last2 && d < rank; ++d)
    swap_last2 = perm[d] == int64_t(d + 2 == rank ? rank - 1 : d + 1 == rank ? rank - 2 : d);
  for (std::size_t d = 0; swap_last2 && d + 2 < rank; ++d) swap_last2 = xs[d] == 1;
  if (!swap_last2)
    return st.fail(op, strf("permutation of '%s' %s is not supported: only swapping the last two dimensions of a "
                            "tensor whose other dimensions are 1", st.tname(x), shape_str(xs).c_str()));
  std::vector<int32_t> want = xs;
  std::swap(want[rank - 1], want[rank - 2]);
  const auto& ys = st.src.tensors[std::size_t(y)].shape;
  if (ys != want)
    return st.fail(op, strf("output '%s' has shape %s, expected %s", st.tname(y), shape_str(ys).c_str(),
                            shape_str(want).c_str()));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  st.alias[std::size_t(y)] = st.alias[std::size_t(x)];
  st.transposed[std::size_t(y)] = st.transposed[std::size_t(x)] ? 0 : 1;
  ++st.graph.stats.transposes_folded;
  return Status::ok();
}

// STRIDED_SLICE with unit strides: a reshape when it keeps every element (identity, or dropping
// size-1 dims), else a slice of the same rank. The reader does not decode the begin/end masks,
// so each dimension's start is inferred from the output shape: the extent must come out of
// begin-or-0 and end-or-size in exactly one way (else the op is refused as ambiguous).
Status import_strided_slice(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 4, 4, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "input"));
  const auto& xs = st.shape(x);
  const auto& ys = st.src.tensors[std::size_t(y)].shape;
  const std::size_t rank = xs.size();
  std::vector<int64_t> v[3];
  for (int i = 0; i < 3; ++i) {
    const int t = op.inputs[std::size_t(i + 1)];
    if (!st.src.tensors[std::size_t(t)].has_data) return st.fail(op, strf("'%s' must be a constant", st.tname(t)));
    Status s = constant_as_ints(st.src, t, &v[i]);
    if (!s) return st.fail(op, s.message());
    if (v[i].size() != rank)
      return st.fail(op, strf("'%s' has %zu values for an input of rank %zu", st.tname(t), v[i].size(), rank));
  }
  for (std::size_t d = 0; d < rank; ++d)
    if (v[2][d] != 1)
      return st.fail(op, strf("stride %lld in dimension %zu is not supported (only 1)",
                              static_cast<long long>(v[2][d]), d));
  if (st.src.tensors[std::size_t(y)].elements == st.src.tensors[std::size_t(x)].elements) {
    // Every element kept: only size-1 dims may differ, so it is a reshape.
    std::vector<int32_t> a, b;
    for (int32_t d : xs)
      if (d != 1) a.push_back(d);
    for (int32_t d : ys)
      if (d != 1) b.push_back(d);
    if (a != b)
      return st.fail(op, strf("output %s does not follow from input %s", shape_str(ys).c_str(),
                              shape_str(xs).c_str()));
    FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
    return st.emit(st.make_node(op, OpType::reshape), {x}, y);
  }
  if (ys.size() != rank)
    return st.fail(op, strf("slicing %s to %s changes the rank (shrink or new axes) while dropping elements; not "
                            "supported", shape_str(xs).c_str(), shape_str(ys).c_str()));
  SliceParams p{};
  for (std::size_t d = 0; d < rank; ++d) {
    const int64_t size = xs[d], want = ys[d];
    if (want == size) continue;  // whole dimension, whatever the masks say
    auto clampi = [&](int64_t i) { return std::min<int64_t>(std::max<int64_t>(i < 0 ? i + size : i, 0), size); };
    std::set<int64_t> starts;
    for (int64_t b : {clampi(v[0][d]), int64_t(0)})
      for (int64_t e : {clampi(v[1][d]), size})
        if (e - b == want) starts.insert(b);
    if (starts.size() != 1)
      return st.fail(op, strf("dimension %zu: begin %lld, end %lld cannot be read as extent %lld %s", d,
                              static_cast<long long>(v[0][d]), static_cast<long long>(v[1][d]),
                              static_cast<long long>(want), starts.empty() ? "" : "unambiguously"));
    p.begin[d] = int32_t(*starts.begin());
  }
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::slice, p), {x}, y);
}

// DEPTH_TO_SPACE (NHWC, DCR order): [1,H,W,C*b*b] -> [1,H*b,W*b,C].
Status import_depth_to_space(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_nhwc(op, x, "input"));
  if (op.options.type != 94)
    return st.fail(op, strf("options have union type %d, expected 94 (DepthToSpaceOptions)", op.options.type));
  const int b = op.options.block_size;
  const auto& xs = st.shape(x);
  const auto& ys = st.shape(y);
  if (b < 1 || b > 1024 || xs[3] % (b * b) != 0)
    return st.fail(op, strf("block size %d does not divide the %d input channels into b*b groups", b, xs[3]));
  if (ys != std::vector<int32_t>{1, xs[1] * b, xs[2] * b, xs[3] / (b * b)})
    return st.fail(op, strf("output '%s' has shape %s; block %d of input %s needs [1,%d,%d,%d]", st.tname(y),
                            shape_str(ys).c_str(), b, shape_str(xs).c_str(), xs[1] * b, xs[2] * b, xs[3] / (b * b)));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::depth_to_space, DepthToSpaceParams{b}), {x}, y);
}

}  // namespace convert
}  // namespace facekit
