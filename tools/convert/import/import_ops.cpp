// tools/convert/import/import_ops.cpp - the import driver: whole-graph checks, then each live
// TFLite operator through its importer (table.cpp), in source order.
#include <algorithm>
#include <map>

#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

Status check_graph_io(ImportState& st) {
  const LoweringGraph& g = st.graph;
  for (int t : st.src.inputs) {
    const SourceTensor& s = st.src.tensors[std::size_t(t)];
    if (s.has_data) return g.fail_model(strf("graph input '%s' is a constant", s.name.c_str()));
    if (s.type != kTfFloat32)
      return g.fail_model(strf("graph input '%s' has type %s; facekit models take FLOAT32 inputs", s.name.c_str(),
                               tf_type_name(s.type).c_str()));
    if (s.shape.empty() || s.shape.size() > 4)
      return g.fail_model(strf("graph input '%s' has rank %zu; expected 1..4", s.name.c_str(), s.shape.size()));
    if (s.shape.size() >= 2 && s.shape[0] != 1)
      return g.fail_model(strf("graph input '%s' has batch %d (shape %s); only batch 1 is supported",
                               s.name.c_str(), s.shape[0], shape_str(s.shape).c_str()));
    for (std::size_t d = 1; d < s.shape.size(); ++d)
      if (s.shape[d] <= 0)
        return g.fail_model(strf("graph input '%s' has an empty dimension (shape %s)", s.name.c_str(),
                                 shape_str(s.shape).c_str()));
    st.defined[std::size_t(t)] = 1;
  }
  for (int t : st.src.outputs) {
    const SourceTensor& s = st.src.tensors[std::size_t(t)];
    if (s.has_data) return g.fail_model(strf("graph output '%s' is a constant", s.name.c_str()));
  }
  return Status::ok();
}

// An op is live if a graph output depends on it. Ops are stored in execution order, so one
// backward sweep finds them.
void find_live_ops(ImportState& st) {
  std::vector<uint8_t> needed(st.src.tensors.size(), 0);
  for (int t : st.src.outputs) needed[std::size_t(t)] = 1;
  st.live_op.assign(st.src.ops.size(), 0);
  for (std::size_t i = st.src.ops.size(); i-- > 0;) {
    const SourceOp& op = st.src.ops[i];
    bool live = false;
    for (int t : op.outputs) live = live || needed[std::size_t(t)];
    if (!live) {
      ++st.graph.stats.dead_ops;
      continue;
    }
    st.live_op[i] = 1;
    for (int t : op.inputs)
      if (t >= 0) needed[std::size_t(t)] = 1;
  }
}

// Names the first unsupported op, and lists the other unsupported types so that one run shows
// everything a model still needs.
Status check_supported(const ImportState& st) {
  const SourceOp* first = nullptr;
  std::map<std::string, int> others;
  for (const SourceOp& op : st.src.ops) {
    if (!st.live_op[std::size_t(op.index)] || find_importer(op)) continue;
    if (!first)
      first = &op;
    else
      ++others[op.type_name];
  }
  if (!first) return Status::ok();
  std::string msg = strf("%s: operator #%d %s is not supported yet", st.src.source.c_str(), first->index,
                         first->type_name.c_str());
  if (first->builtin == kTfCustom) msg += " (custom op)";
  if (!others.empty()) {
    msg += "; also unsupported:";
    const char* sep = " ";
    for (const auto& kv : others) {
      msg += strf("%s%s x%d", sep, kv.first.c_str(), kv.second);
      sep = ", ";
    }
  }
  return Status::error("%s", msg.c_str());
}

void index_graph(ImportState& st) {
  for (const SourceOp& op : st.src.ops) {
    if (!st.live_op[std::size_t(op.index)]) continue;
    for (int t : op.outputs) st.producer_op[std::size_t(t)] = op.index;
    for (int t : op.inputs) {
      if (t < 0) continue;
      auto& r = st.readers[std::size_t(t)];
      if (r.empty() || r.back() != op.index) r.push_back(op.index);
    }
  }
}

// One operator. Inputs are read through the aliases of TRANSPOSE views; a view that is still
// transposed can only feed an importer that takes views (a token-mixing 1x1 CONV_2D).
Status import_op(ImportState& st, const SourceOp& src) {
  const OpImporter* imp = find_importer(src);
  if (!imp) return st.fail(src, "is not supported yet");
  if (imp->reads_views) return imp->import(st, src);
  SourceOp op = src;
  int view = -1;
  for (std::size_t i = 0; i < op.inputs.size(); ++i) {
    const int t = op.inputs[i];
    if (t < 0) continue;
    if (st.transposed[std::size_t(t)]) {
      if (!imp->import_view || i != 0)
        return st.fail(op, strf("input '%s' is a transposed view (TRANSPOSE of the last two dimensions); facekit "
                                "supports it only as the input of a 1x1 CONV_2D or of another TRANSPOSE",
                                st.tname(t)));
      view = t;
    }
    op.inputs[i] = st.alias[std::size_t(t)];
  }
  if (view >= 0) return imp->import_view(st, op, view);
  return imp->import(st, op);
}

}  // namespace

Status prepare_import(ImportState& st) {
  st.graph.stats.source_ops = int(st.src.ops.size());
  FACEKIT_RETURN_IF_ERROR(check_graph_io(st));
  find_live_ops(st);
  FACEKIT_RETURN_IF_ERROR(check_supported(st));
  index_graph(st);
  return Status::ok();
}

Status import_ops(ImportState& st) {
  for (const SourceOp& op : st.src.ops) {
    if (!st.live_op[std::size_t(op.index)]) continue;
    const int pi = st.pattern_of[std::size_t(op.index)];
    if (pi < 0) {
      FACEKIT_RETURN_IF_ERROR(import_op(st, op));
    } else if (st.patterns[std::size_t(pi)].ops.back() == op.index) {
      // Emitted where its last member stood: every input and constant is defined by then.
      FACEKIT_RETURN_IF_ERROR(import_pattern(st, st.patterns[std::size_t(pi)], op));
    }
  }
  // Graph outputs are looked up through the aliases that TRANSPOSE views introduce.
  LoweringGraph& g = st.graph;
  for (int t : st.src.outputs) {
    if (!st.defined[std::size_t(t)]) return g.fail_model(strf("graph output '%s' is never written", st.tname(t)));
    if (st.transposed[std::size_t(t)])
      return g.fail_model(
          strf("graph output '%s' is a TRANSPOSE result, which facekit does not materialise", st.tname(t)));
    const int r = st.alias[std::size_t(t)];
    if (st.constant[std::size_t(r)]) return g.fail_model(strf("graph output '%s' is a constant", st.tname(t)));
    g.outputs.push_back(r);
    g.is_output[std::size_t(r)] = 1;
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
