// tools/convert/passes/fold_dequantize.cpp - float16 weights behind DEQUANTIZE and sparse
// weights behind DENSIFY become float32 constants before the import, so that every importer
// reads them as weights (import/quantize.cpp checks and converts each operator).
#include "convert/passes/passes.hpp"

namespace facekit {
namespace convert {

Status fold_dequantize(ImportState& st) {
  // Source order: a DEQUANTIZE of a DENSIFY result comes after it.
  for (const SourceOp& op : st.src.ops) {
    if (!st.live_op[std::size_t(op.index)] || (op.builtin != kTfDequantize && op.builtin != kTfDensify)) continue;
    FACEKIT_RETURN_IF_ERROR(fold_constant_op(st, op));
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
