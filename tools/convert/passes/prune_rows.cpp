// tools/convert/passes/prune_rows.cpp - the blendshape head keeps one token (row) of the last
// mixer block's [1,1,T,C] output, so most of that block need not run.
//
// A backward sweep finds, per [1,1,R,C] tensor, the rows its readers need: a row-wise op
// (layer_norm, add, mul, relu, logistic, pointwise conv2d; any residual) needs the rows of its
// output, a row slice those rows shifted, a token_dense all of its x, any other op everything. A
// row-wise op, token_dense (through a slice of its weights) or row slice whose output needs fewer
// rows then computes only those; where an input holds more rows than its reader takes, a slice
// node cuts them out. Needs the nodes topologically sorted.
#include <algorithm>

#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

namespace {

struct RowRange {
  int lo = 0, hi = -1;  // hi < 0: nothing needed (yet)
};

// [1,1,R,C]: R rows.
bool row_shaped(const LoweringGraph& g, int t, int* rows) {
  const auto& s = g.shape(t);
  if (s.size() != 4 || s[0] != 1 || s[1] != 1) return false;
  *rows = s[2];
  return true;
}

// n's ordinary inputs hold the rows of its output (row-shaped tensors assumed).
bool row_wise(const Node& n) {
  switch (n.type) {
    case OpType::layer_norm:
    case OpType::add:
    case OpType::mul:
    case OpType::relu:
    case OpType::logistic: return true;
    case OpType::conv2d: {
      const Conv2dParams c = n.params.as<Conv2dParams>();
      return c.kernel_h == 1 && c.kernel_w == 1 && c.stride_h == 1 && c.stride_w == 1 && c.pad_top == 0 &&
             c.pad_left == 0 && c.pad_bottom == 0 && c.pad_right == 0;
    }
    default: return false;
  }
}

// A slice of whole rows of a [1,1,R,C] tensor.
bool row_slice(const LoweringGraph& g, const Node& n) {
  int ro = 0, ri = 0;
  if (n.type != OpType::slice) return false;
  const SliceParams s = n.params.as<SliceParams>();
  return row_shaped(g, n.out, &ro) && row_shaped(g, n.in[0].tensor, &ri) && s.begin[0] == 0 && s.begin[1] == 0 &&
         s.begin[3] == 0 && g.shape(n.out)[3] == g.shape(n.in[0].tensor)[3];
}

// How input t of n (its residual if `residual`) relates to n's rows: 0 all rows of t are read,
// 1 the output's rows, 2 the output's rows shifted by the slice's begin.
int row_relation(const LoweringGraph& g, const Node& n, int t, bool residual) {
  int ro = 0, ri = 0;
  if (!row_shaped(g, n.out, &ro) || !row_shaped(g, t, &ri)) return 0;
  if (residual) return ro == ri && (n.type == OpType::conv2d || n.type == OpType::token_dense) ? 1 : 0;
  if (row_slice(g, n)) return 2;
  return ro == ri && row_wise(n) ? 1 : 0;
}

// The first row a row slice reads.
int slice_row(const Node& n) { return n.params.as<SliceParams>().begin[2]; }

bool can_prune(const LoweringGraph& g, const Node& n) {
  return row_wise(n) || n.type == OpType::token_dense || row_slice(g, n);
}

}  // namespace

Status prune_rows(LoweringGraph& g) {
  std::vector<RowRange> need(g.tensor_count());
  auto want = [&](int t, int lo, int hi) {
    RowRange& r = need[std::size_t(t)];
    if (r.hi < 0) {
      r = {lo, hi};
    } else {
      r.lo = std::min(r.lo, lo);
      r.hi = std::max(r.hi, hi);
    }
  };
  auto want_all = [&](int t) {
    int rows = 0;
    if (row_shaped(g, t, &rows)) want(t, 0, rows);
  };
  for (int t : g.outputs) want_all(t);
  for (std::size_t i = g.nodes.size(); i-- > 0;) {  // topologically sorted: readers come first
    const Node& n = g.nodes[i];
    int ro = 0;
    if (n.dead) continue;
    if (!row_shaped(g, n.out, &ro)) {
      for (int t : activation_inputs(n)) want_all(t);
      continue;
    }
    if (need[std::size_t(n.out)].hi < 0) continue;  // unread: remove_dead drops it
    if (!can_prune(g, n)) want_all(n.out);
    const RowRange d = need[std::size_t(n.out)];
    for (std::size_t k = 0; k < n.in.size(); ++k) {
      if (n.in[k].kind != OperandKind::activation) continue;
      const int t = n.in[k].tensor;
      const int rel = row_relation(g, n, t, int(k) == residual_slot(n.type));
      if (rel == 1)
        want(t, d.lo, d.hi);
      else if (rel == 2)
        want(t, d.lo + slice_row(n), d.hi + slice_row(n));
      else
        want_all(t);
    }
  }
  for (int t : g.source->inputs) want_all(t);  // from here on, need[t] = the rows t holds
  std::vector<Node> out;
  for (Node& n : g.nodes) {
    int ro = 0;
    if (n.dead || !row_shaped(g, n.out, &ro) || need[std::size_t(n.out)].hi < 0) {
      out.push_back(std::move(n));
      continue;
    }
    const RowRange d = need[std::size_t(n.out)];
    // Relations are taken before any shape changes (an input may already be pruned).
    std::vector<int> rel(n.in.size(), 0);
    for (std::size_t k = 0; k < n.in.size(); ++k)
      if (n.in[k].kind == OperandKind::activation)
        rel[k] = row_relation(g, n, n.in[k].tensor, int(k) == residual_slot(n.type));
    for (std::size_t k = 0; k < n.in.size(); ++k) {
      int& t = n.in[k].tensor;
      if (rel[k] == 0) continue;
      const RowRange h = need[std::size_t(t)];  // the rows t holds (all, unless pruned)
      if (rel[k] == 2) {
        SliceParams s = n.params.as<SliceParams>();
        s.begin[2] += d.lo - h.lo;
        n.params = OpParams::from(s);
        continue;
      }
      if (h.lo == d.lo && h.hi == d.hi) continue;
      // t holds more rows than n reads: slice them out.
      Node sl;
      sl.type = OpType::slice;
      sl.params = OpParams::from(SliceParams{{0, 0, d.lo - h.lo, 0}});
      sl.src = n.src;
      sl.name = n.name + "/rows";
      sl.in = {Operand::activation(t)};
      std::vector<int32_t> s = g.shape(t);
      s[2] = d.hi - d.lo;
      sl.out = g.add_tensor(g.tensor_name(t) + strf("/rows_%d_%d", d.lo, d.hi), std::move(s));
      need.push_back(d);
      t = sl.out;
      out.push_back(std::move(sl));
    }
    if (d.lo != 0 || d.hi != ro) {
      if (n.type == OpType::token_dense) {  // its packed weights keep only these rows
        n.row_lo = d.lo;
        n.row_hi = d.hi;
      }
      std::vector<int32_t> s = g.shape(n.out);
      s[2] = d.hi - d.lo;
      g.stored_shape[n.out] = s;
      ++g.stats.rows_pruned_ops;
    }
    out.push_back(std::move(n));
  }
  g.nodes = std::move(out);
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
