// tools/convert/lowering.cpp - runs the pass list (passes/pass_list.cpp) and the emitter.
#include "convert/lowering.hpp"

#include "convert/emit.hpp"
#include "convert/graph.hpp"
#include "convert/import/importer.hpp"
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Expected<OutModel> lower_graph(const SourceGraph& g, LoweringStats* stats, const PassObserver& after_pass) {
  LoweringGraph graph(g);
  ImportState st(graph);
  // The counters so far, also when a pass fails.
  auto done = [&](Expected<OutModel> r) {
    if (stats) *stats = graph.stats;
    return r;
  };
  Status s = prepare_import(st);
  if (!s) return done(s);
  for (const Pass& p : pass_list()) {
    s = p.on_source ? p.on_source(st) : p.on_graph(graph);
    if (!s) {
      // What the import made before the failing operator is what a reader needs to see.
      if (after_pass && p.on_source == import_ops) after_pass("import (stopped by the error)", graph);
      return done(s);
    }
    if (after_pass) after_pass(p.name, graph);
  }
  return done(emit_model(graph));
}

}  // namespace convert
}  // namespace facekit
