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
  switch (n.kind) {
    case NodeKind::layer_norm:
    case NodeKind::add:
    case NodeKind::mul:
    case NodeKind::relu:
    case NodeKind::logistic: return true;
    case NodeKind::conv2d:
      return n.conv.kernel_h == 1 && n.conv.kernel_w == 1 && n.conv.stride_h == 1 && n.conv.stride_w == 1 &&
             n.conv.pad_top == 0 && n.conv.pad_left == 0 && n.conv.pad_bottom == 0 && n.conv.pad_right == 0;
    default: return false;
  }
}

// A slice of whole rows of a [1,1,R,C] tensor.
bool row_slice(const LoweringGraph& g, const Node& n) {
  int ro = 0, ri = 0;
  return n.kind == NodeKind::slice && row_shaped(g, n.out, &ro) && row_shaped(g, n.in[0], &ri) &&
         n.slice.begin[0] == 0 && n.slice.begin[1] == 0 && n.slice.begin[3] == 0 &&
         g.shape(n.out)[3] == g.shape(n.in[0])[3];
}

// How input t of n (its residual if `residual`) relates to n's rows: 0 all rows of t are read,
// 1 the output's rows, 2 the output's rows shifted by the slice's begin.
int row_relation(const LoweringGraph& g, const Node& n, int t, bool residual) {
  int ro = 0, ri = 0;
  if (!row_shaped(g, n.out, &ro) || !row_shaped(g, t, &ri)) return 0;
  if (residual) return ro == ri && (n.kind == NodeKind::conv2d || n.kind == NodeKind::token_dense) ? 1 : 0;
  if (row_slice(g, n)) return 2;
  return ro == ri && row_wise(n) ? 1 : 0;
}

bool can_prune(const LoweringGraph& g, const Node& n) {
  return row_wise(n) || n.kind == NodeKind::token_dense || row_slice(g, n);
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
      for (int t : n.in) want_all(t);
      if (n.residual >= 0) want_all(n.residual);
      continue;
    }
    if (need[std::size_t(n.out)].hi < 0) continue;  // unread: remove_dead drops it
    if (!can_prune(g, n)) want_all(n.out);
    const RowRange d = need[std::size_t(n.out)];
    for (std::size_t k = 0; k <= n.in.size(); ++k) {
      const bool res = k == n.in.size();
      const int t = res ? n.residual : n.in[k];
      if (t < 0) continue;
      const int rel = row_relation(g, n, t, res);
      if (rel == 1)
        want(t, d.lo, d.hi);
      else if (rel == 2)
        want(t, d.lo + n.slice.begin[2], d.hi + n.slice.begin[2]);
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
    std::vector<int> rel(n.in.size() + 1, 0);
    for (std::size_t k = 0; k <= n.in.size(); ++k) {
      const int t = k == n.in.size() ? n.residual : n.in[k];
      if (t >= 0) rel[k] = row_relation(g, n, t, k == n.in.size());
    }
    for (std::size_t k = 0; k <= n.in.size(); ++k) {
      int& t = k == n.in.size() ? n.residual : n.in[k];
      if (t < 0 || rel[k] == 0) continue;
      const RowRange h = need[std::size_t(t)];  // the rows t holds (all, unless pruned)
      if (rel[k] == 2) {
        n.slice.begin[2] += d.lo - h.lo;
        continue;
      }
      if (h.lo == d.lo && h.hi == d.hi) continue;
      // t holds more rows than n reads: slice them out.
      Node sl;
      sl.kind = NodeKind::slice;
      sl.src = n.src;
      sl.name = n.name + "/rows";
      sl.slice = SliceParams{{0, 0, d.lo - h.lo, 0}};
      sl.in = {t};
      std::vector<int32_t> s = g.shape(t);
      s[2] = d.hi - d.lo;
      sl.out = g.add_tensor(g.tensor_name(t) + strf("/rows_%d_%d", d.lo, d.hi), std::move(s));
      need.push_back(d);
      t = sl.out;
      out.push_back(std::move(sl));
    }
    if (d.lo != 0 || d.hi != ro) {
      if (n.kind == NodeKind::token_dense) {
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
