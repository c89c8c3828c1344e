// tools/convert/import/quantize.cpp - DEQUANTIZE and DENSIFY: operators on constants only.
// fold_constant_op() turns one into a float32 constant (run by passes/fold_dequantize.cpp,
// before the import, so that every importer sees the weights as constants); the importer itself
// only checks that this happened.
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

// DEQUANTIZE of a float16 (or densified) constant: float16 -> float32 is exact.
Status fold_dequantize(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  const SourceTensor &xt = st.src.tensors[std::size_t(x)], &yt = st.src.tensors[std::size_t(y)];
  const bool folded = !xt.has_data && st.constant[std::size_t(x)];  // a densified constant
  if (!xt.has_data && !folded)
    return st.fail(op, strf("input '%s' is not a constant; only constant weights can be dequantized (folded)",
                            xt.name.c_str()));
  if (xt.sparse) return st.fail(op, strf("input '%s' is a sparse tensor (needs DENSIFY)", xt.name.c_str()));
  if (xt.type != kTfFloat16 && xt.type != kTfFloat32)
    return st.fail(op, strf("input '%s' has type %s; only FLOAT16 weights are supported (quantized models are not)",
                            xt.name.c_str(), tf_type_name(xt.type).c_str()));
  if (yt.type != kTfFloat32)
    return st.fail(op, strf("output '%s' has type %s, expected FLOAT32", yt.name.c_str(),
                            tf_type_name(yt.type).c_str()));
  if (yt.elements != xt.elements)
    return st.fail(op, strf("output '%s' %s and input '%s' %s differ in size", yt.name.c_str(),
                            shape_str(yt.shape).c_str(), xt.name.c_str(), shape_str(xt.shape).c_str()));
  if (st.constant[std::size_t(y)] || st.defined[std::size_t(y)])
    return st.fail(op, strf("output '%s' is a constant or written twice", yt.name.c_str()));
  std::vector<std::vector<float>>& values = st.graph.values;
  if (folded) {
    values[std::size_t(y)] = values[std::size_t(x)];
  } else {
    Status s = constant_as_floats(st.src, x, &values[std::size_t(y)]);
    if (!s) return st.fail(op, s.message());
  }
  st.constant[std::size_t(y)] = 1;
  st.defined[std::size_t(y)] = 1;
  ++st.graph.stats.dequantize_folded;
  return Status::ok();
}

// DENSIFY of a sparse constant: a dense constant.
Status fold_densify(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  const SourceTensor &xt = st.src.tensors[std::size_t(x)], &yt = st.src.tensors[std::size_t(y)];
  if (!xt.has_data || !xt.sparse)
    return st.fail(op, strf("input '%s' is not a sparse constant; only constant weights can be densified",
                            xt.name.c_str()));
  if (yt.type != xt.type || yt.shape != xt.shape)
    return st.fail(op, strf("output '%s' (%s %s) differs from input '%s' (%s %s)", yt.name.c_str(),
                            tf_type_name(yt.type).c_str(), shape_str(yt.shape).c_str(), xt.name.c_str(),
                            tf_type_name(xt.type).c_str(), shape_str(xt.shape).c_str()));
  if (st.constant[std::size_t(y)] || st.defined[std::size_t(y)])
    return st.fail(op, strf("output '%s' is a constant or written twice", yt.name.c_str()));
  Status s = densify_as_floats(st.src, x, &st.graph.values[std::size_t(y)]);
  if (!s) return st.fail(op, s.message());
  st.constant[std::size_t(y)] = 1;
  st.defined[std::size_t(y)] = 1;
  ++st.graph.stats.densify_folded;
  return Status::ok();
}

}  // namespace

Status fold_constant_op(ImportState& st, const SourceOp& op) {
  return op.builtin == kTfDensify ? fold_densify(st, op) : fold_dequantize(st, op);
}

Status import_folded_constant(ImportState& st, const SourceOp& op) {
  if (op.outputs.size() != 1 || !st.constant[std::size_t(op.outputs[0])])
    return st.fail(op, "internal error: not folded into a constant (the fold_dequantize pass runs before the import)");
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
