// tools/convert/import/resize.cpp - RESIZE_BILINEAR with a constant output size.
#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

// The output shape must agree with the constant size [OH, OW].
Status import_resize_bilinear(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], sz = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_nhwc(op, x, "input"));
  if (op.options.type != 15 && op.options.type != 0)
    return st.fail(op, strf("options have union type %d, expected 15 (ResizeBilinearOptions)", op.options.type));
  if (!st.constant[std::size_t(sz)] || !st.src.tensors[std::size_t(sz)].has_data)
    return st.fail(op, strf("size '%s' must be a constant (a run-time output size is not supported)", st.tname(sz)));
  std::vector<int64_t> size;
  Status s = constant_as_ints(st.src, sz, &size);
  if (!s) return st.fail(op, s.message());
  if (size.size() != 2)
    return st.fail(op, strf("size '%s' has %zu values, expected 2 (height, width)", st.tname(sz), size.size()));
  const auto& xs = st.shape(x);
  const auto& ys = st.shape(y);
  if (ys.size() != 4 || ys[0] != 1 || ys[1] != size[0] || ys[2] != size[1] || ys[3] != xs[3])
    return st.fail(op, strf("output '%s' has shape %s; size %lld x %lld of input %s needs [1,%lld,%lld,%d]",
                            st.tname(y), shape_str(ys).c_str(), static_cast<long long>(size[0]),
                            static_cast<long long>(size[1]), shape_str(xs).c_str(), static_cast<long long>(size[0]),
                            static_cast<long long>(size[1]), xs[3]));
  if (op.options.align_corners && op.options.half_pixel_centers)
    return st.fail(op, "align_corners and half_pixel_centers are both set (TFLite allows at most one)");
  ResizeBilinearParams p{};
  p.align_corners = op.options.align_corners ? 1 : 0;
  p.half_pixel_centers = op.options.half_pixel_centers ? 1 : 0;
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::resize_bilinear, p), {x}, y);
}

}  // namespace convert
}  // namespace facekit
