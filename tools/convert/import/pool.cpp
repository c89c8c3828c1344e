// tools/convert/import/pool.cpp - MAX_POOL_2D -> maxpool2d with explicit padding.
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

Status import_max_pool(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  if (op.options.type != 5) return st.fail(op, strf("options are missing (union type %d)", op.options.type));
  FACEKIT_RETURN_IF_ERROR(st.need_nhwc(op, x, "input"));
  const auto& xs = st.shape(x);
  Pool2dParams p{};
  p.kernel_h = op.options.filter_h;
  p.kernel_w = op.options.filter_w;
  p.stride_h = op.options.stride_h;
  p.stride_w = op.options.stride_w;
  int oh = 0, ow = 0;
  Status s = explicit_padding(op.options.padding, xs[1], p.kernel_h, p.stride_h, 1, &p.pad_top, &p.pad_bottom, &oh);
  if (s) s = explicit_padding(op.options.padding, xs[2], p.kernel_w, p.stride_w, 1, &p.pad_left, &p.pad_right, &ow);
  if (!s) return st.fail(op, s.message());
  if (op.options.activation != kTfActNone)
    return st.fail(op, strf("fused activation %d on max pooling is not supported", op.options.activation));
  p.activation = Activation::none;
  const auto& ys = st.shape(y);
  if (ys != std::vector<int32_t>{1, oh, ow, xs[3]})
    return st.fail(op, strf("output '%s' has shape %s, the options give [1,%d,%d,%d]", st.tname(y),
                            shape_str(ys).c_str(), oh, ow, xs[3]));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::maxpool2d, p), {x}, y);
}

}  // namespace convert
}  // namespace facekit
