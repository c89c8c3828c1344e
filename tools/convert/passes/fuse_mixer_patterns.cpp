// tools/convert/passes/fuse_mixer_patterns.cpp - the blendshape MLP-Mixer's normalisations,
// which TFLite stores as subgraphs of MEAN, SQUARED_DIFFERENCE, RSQRT, ..., recognised so that
// each imports as one layer_norm or point_normalize op (import/mixer.cpp).
#include <algorithm>

#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

namespace {

// The only op reading t, if exactly one (live) op does and t is not a graph output.
const SourceOp* sole_reader(const ImportState& st, int t) {
  if (t < 0 || st.source_output[std::size_t(t)] || st.readers[std::size_t(t)].size() != 1) return nullptr;
  return &st.src.ops[std::size_t(st.readers[std::size_t(t)][0])];
}

bool is_op(const SourceOp* op, int builtin, std::size_t n_in) {
  if (!op || op->builtin != builtin || op->inputs.size() != n_in || op->outputs.size() != 1) return false;
  for (int t : op->inputs)
    if (t < 0) return false;
  return true;
}

int other_operand(const SourceOp& op, int t) {
  return op.inputs[0] == t ? op.inputs[1] : op.inputs[1] == t ? op.inputs[0] : -1;
}

// Stored data, or the DEQUANTIZE of stored data.
bool source_constant(const ImportState& st, int t) {
  if (t < 0) return false;
  if (st.src.tensors[std::size_t(t)].has_data) return true;
  const int p = st.producer_op[std::size_t(t)];
  if (p < 0) return false;
  const SourceOp& op = st.src.ops[std::size_t(p)];
  return op.builtin == kTfDequantize && op.inputs.size() == 1 && op.inputs[0] >= 0 &&
         st.src.tensors[std::size_t(op.inputs[0])].has_data;
}

// MEAN/SUM over one constant axis with the reduced dim kept (the reader does not decode
// keep_dims; the output shape tells). Returns the axis, or -1.
int single_axis_reduction(const ImportState& st, const SourceOp& op) {
  if (op.inputs.size() != 2 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.inputs[1] < 0) return -1;
  const auto& xs = st.src.tensors[std::size_t(op.inputs[0])].shape;
  const auto& ys = st.src.tensors[std::size_t(op.outputs[0])].shape;
  const SourceTensor& at = st.src.tensors[std::size_t(op.inputs[1])];
  std::vector<int64_t> ax;
  if (!at.has_data || at.elements != 1 || !constant_as_ints(st.src, op.inputs[1], &ax) || ax.size() != 1) return -1;
  const int64_t rank = int64_t(xs.size());
  const int64_t a = ax[0] < 0 ? ax[0] + rank : ax[0];
  if (a < 0 || a >= rank || ys.size() != xs.size()) return -1;
  for (std::size_t d = 0; d < xs.size(); ++d)
    if (ys[d] != (int64_t(d) == a ? 1 : xs[d])) return -1;
  return int(a);
}

// Keras LayerNormalization as TFLite stores it (over the last axis, gamma/beta optional):
//   mu = MEAN(x); var = MEAN(SQUARED_DIFFERENCE(x, mu)); g = RSQRT(var + eps) [* gamma]
//   y = x * g + NEG(mu) * g               (no beta)
//   y = x * g + (beta - mu * g)           (beta)
bool match_layer_norm(const ImportState& st, const SourceOp& m0, Pattern* out) {
  const int x = m0.inputs[0], mu = m0.outputs[0];
  const auto& xs = st.src.tensors[std::size_t(x)].shape;
  if (xs.empty() || single_axis_reduction(st, m0) != int(xs.size()) - 1) return false;
  const int C = xs.back();
  if (st.source_output[std::size_t(mu)] || st.readers[std::size_t(mu)].size() != 2) return false;
  const SourceOp *sd = nullptr, *neg = nullptr, *mmu = nullptr;
  for (int r : st.readers[std::size_t(mu)]) {
    const SourceOp& op = st.src.ops[std::size_t(r)];
    if (is_op(&op, kTfSquaredDifference, 2) && other_operand(op, mu) == x)
      sd = &op;
    else if (is_op(&op, kTfNeg, 1))
      neg = &op;
    else if (is_op(&op, kTfMul, 2))
      mmu = &op;
  }
  if (!sd || (neg != nullptr) == (mmu != nullptr)) return false;
  const SourceOp* m1 = sole_reader(st, sd->outputs[0]);
  if (!is_op(m1, kTfMean, 2) || m1->inputs[0] != sd->outputs[0] ||
      single_axis_reduction(st, *m1) != int(xs.size()) - 1)
    return false;
  const SourceOp* add_eps = sole_reader(st, m1->outputs[0]);
  if (!is_op(add_eps, kTfAdd, 2) || add_eps->options.activation != kTfActNone) return false;
  const int eps = other_operand(*add_eps, m1->outputs[0]);
  if (!source_constant(st, eps) || st.src.tensors[std::size_t(eps)].elements != 1) return false;
  const SourceOp* rs = sole_reader(st, add_eps->outputs[0]);
  if (!is_op(rs, kTfRsqrt, 1)) return false;
  std::vector<int> members = {m0.index, sd->index, m1->index, add_eps->index, rs->index};
  int g = rs->outputs[0], gamma = -1;
  const SourceOp* mg = sole_reader(st, g);
  if (is_op(mg, kTfMul, 2) && source_constant(st, other_operand(*mg, g))) {
    gamma = other_operand(*mg, g);
    if (!st.is_channel_constant(gamma, C) || mg->options.activation != kTfActNone) return false;
    members.push_back(mg->index);
    g = mg->outputs[0];
  }
  const int mean_side = neg ? neg->outputs[0] : mu;
  if (st.source_output[std::size_t(g)] || st.readers[std::size_t(g)].size() != 2) return false;
  const SourceOp *mx = nullptr, *mm = nullptr;
  for (int r : st.readers[std::size_t(g)]) {
    const SourceOp& op = st.src.ops[std::size_t(r)];
    if (!is_op(&op, kTfMul, 2) || op.options.activation != kTfActNone) return false;
    const int o = other_operand(op, g);
    if (o == x)
      mx = &op;
    else if (o == mean_side)
      mm = &op;
  }
  if (!mx || !mm) return false;
  int shift = mm->outputs[0], beta = -1;
  if (neg) {
    if (neg->inputs[0] != mu || sole_reader(st, neg->outputs[0]) != mm) return false;
    members.push_back(neg->index);
  } else {
    const SourceOp* sub = sole_reader(st, shift);
    if (mmu != mm || !is_op(sub, kTfSub, 2) || sub->inputs[1] != shift) return false;
    beta = sub->inputs[0];
    if (!source_constant(st, beta) || !st.is_channel_constant(beta, C)) return false;
    members.push_back(sub->index);
    shift = sub->outputs[0];
  }
  members.push_back(mx->index);
  members.push_back(mm->index);
  const SourceOp* fin = sole_reader(st, mx->outputs[0]);
  if (!is_op(fin, kTfAdd, 2) || fin->options.activation != kTfActNone || sole_reader(st, shift) != fin ||
      other_operand(*fin, shift) != mx->outputs[0] || st.src.tensors[std::size_t(fin->outputs[0])].shape != xs)
    return false;
  members.push_back(fin->index);
  out->type = OpType::layer_norm;
  out->ops = members;
  out->x = x;
  out->y = fin->outputs[0];
  out->gamma = gamma;
  out->beta = beta;
  out->eps = eps;
  return true;
}

// The blendshape input normalisation over the points axis (rank-2) of x = [.., N, D]:
//   c = x - MEAN(x); d = MEAN(SQRT(SUM(c * c, last axis))); y = c / d
bool match_point_normalize(const ImportState& st, const SourceOp& m0, Pattern* out) {
  const int x = m0.inputs[0];
  const auto& xs = st.src.tensors[std::size_t(x)].shape;
  const int rank = int(xs.size());
  if (rank < 2 || single_axis_reduction(st, m0) != rank - 2) return false;
  const SourceOp* sub = sole_reader(st, m0.outputs[0]);
  if (!is_op(sub, kTfSub, 2) || sub->inputs[0] != x || sub->inputs[1] != m0.outputs[0]) return false;
  const int c = sub->outputs[0];
  if (st.source_output[std::size_t(c)] || st.readers[std::size_t(c)].size() != 2) return false;
  const SourceOp *sq = nullptr, *div = nullptr;
  for (int r : st.readers[std::size_t(c)]) {
    const SourceOp& op = st.src.ops[std::size_t(r)];
    if (is_op(&op, kTfMul, 2) && op.inputs[0] == c && op.inputs[1] == c && op.options.activation == kTfActNone)
      sq = &op;
    else if (is_op(&op, kTfDiv, 2) && op.inputs[0] == c)
      div = &op;
  }
  if (!sq || !div) return false;
  const SourceOp* sum = sole_reader(st, sq->outputs[0]);
  if (!is_op(sum, kTfSum, 2) || single_axis_reduction(st, *sum) != rank - 1) return false;
  const SourceOp* rt = sole_reader(st, sum->outputs[0]);
  if (!is_op(rt, kTfSqrt, 1)) return false;
  const SourceOp* m1 = sole_reader(st, rt->outputs[0]);
  if (!is_op(m1, kTfMean, 2) || single_axis_reduction(st, *m1) != rank - 2) return false;
  if (sole_reader(st, m1->outputs[0]) != div || div->inputs[1] != m1->outputs[0] ||
      st.src.tensors[std::size_t(div->outputs[0])].shape != xs)
    return false;
  out->type = OpType::point_normalize;
  out->ops = {m0.index, sub->index, sq->index, sum->index, rt->index, m1->index, div->index};
  out->x = x;
  out->y = div->outputs[0];
  return true;
}

}  // namespace

Status fuse_mixer_patterns(ImportState& st) {
  for (const SourceOp& op : st.src.ops) {
    if (!st.live_op[std::size_t(op.index)] || op.builtin != kTfMean || st.pattern_of[std::size_t(op.index)] >= 0)
      continue;
    Pattern p;
    if (!match_layer_norm(st, op, &p) && !match_point_normalize(st, op, &p)) continue;
    bool free = true;
    for (int i : p.ops) free = free && st.pattern_of[std::size_t(i)] < 0;
    if (!free) continue;
    std::sort(p.ops.begin(), p.ops.end());
    for (int i : p.ops) st.pattern_of[std::size_t(i)] = int(st.patterns.size());
    st.patterns.push_back(std::move(p));
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
