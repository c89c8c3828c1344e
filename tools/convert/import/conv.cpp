// tools/convert/import/conv.cpp - CONV_2D and DEPTHWISE_CONV_2D -> conv2d / dwconv2d, with
// SAME/VALID turned into explicit padding and the fused activation kept.
#include <algorithm>

#include "convert/import/importer.hpp"
#include "facekit/kernels/pack.hpp"

namespace facekit {
namespace convert {

Status import_conv(ImportState& st, const SourceOp& op) {
  const bool dw = op.builtin == kTfDepthwiseConv2d;
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 3, 1));
  const int x = op.inputs[0], w = op.inputs[1], b = op.inputs.size() > 2 ? op.inputs[2] : -1, y = op.outputs[0];
  const int want_opts = dw ? 2 : 1;
  if (op.options.type != want_opts)
    return st.fail(op, strf("options are missing (union type %d, expected %d)", op.options.type, want_opts));
  FACEKIT_RETURN_IF_ERROR(st.need_nhwc(op, x, "input"));
  const std::vector<float>* wv = nullptr;
  const std::vector<float>* bv = nullptr;
  FACEKIT_RETURN_IF_ERROR(st.const_floats(op, w, "filter", &wv));
  if (b >= 0) FACEKIT_RETURN_IF_ERROR(st.const_floats(op, b, "bias", &bv));
  const auto& xs = st.shape(x);
  const auto& ws = st.shape(w);
  if (ws.size() != 4 || ws[0] < 1 || ws[1] < 1 || ws[2] < 1 || ws[3] < 1)
    return st.fail(op, strf("filter '%s' has shape %s; expected 4 positive dims", st.tname(w), shape_str(ws).c_str()));
  const int in_c = xs[3];
  const int out_c = dw ? ws[3] : ws[0];
  if (dw) {
    if (ws[0] != 1)
      return st.fail(op, strf("filter '%s' has shape %s; expected [1,KH,KW,C]", st.tname(w), shape_str(ws).c_str()));
    if (ws[3] != in_c || op.options.depth_multiplier > 1)
      return st.fail(op, strf("depth multiplier %d (input %d channels, filter %d) is not supported; only 1 is",
                              std::max(op.options.depth_multiplier, ws[3] / std::max(in_c, 1)), in_c, ws[3]));
  } else if (ws[3] != in_c) {
    return st.fail(op, strf("filter '%s' %s expects %d input channels, input '%s' has %d (grouped convolution is "
                            "not supported)", st.tname(w), shape_str(ws).c_str(), ws[3], st.tname(x), in_c));
  }
  // Packing pads channels to whole tiles; refuse shapes whose packed form would be absurd.
  const std::size_t packed = dw ? kernels::f32_dwconv2d_packed_size(ws[1], ws[2], ws[3])
                                : kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]);
  if (packed > (std::size_t(1) << 28))
    return st.fail(op, strf("filter '%s' %s packs into %zu floats, more than the 2^28 accepted", st.tname(w),
                            shape_str(ws).c_str(), packed));
  if (bv && st.shape(b) != std::vector<int32_t>{out_c})
    return st.fail(op, strf("bias '%s' has shape %s, expected [%d]", st.tname(b), shape_str(st.shape(b)).c_str(),
                            out_c));
  Conv2dParams p{};
  p.kernel_h = ws[1];
  p.kernel_w = ws[2];
  p.stride_h = op.options.stride_h;
  p.stride_w = op.options.stride_w;
  p.dilation_h = op.options.dilation_h;
  p.dilation_w = op.options.dilation_w;
  int oh = 0, ow = 0;
  Status s = explicit_padding(op.options.padding, xs[1], p.kernel_h, p.stride_h, p.dilation_h, &p.pad_top,
                              &p.pad_bottom, &oh);
  if (s) s = explicit_padding(op.options.padding, xs[2], p.kernel_w, p.stride_w, p.dilation_w, &p.pad_left,
                              &p.pad_right, &ow);
  if (s) s = activation_of(op.options.activation, &p.activation);
  if (!s) return st.fail(op, s.message());
  const auto& ys = st.shape(y);
  if (ys != std::vector<int32_t>{1, oh, ow, out_c})
    return st.fail(op, strf("output '%s' has shape %s, the options give [1,%d,%d,%d]", st.tname(y),
                            shape_str(ys).c_str(), oh, ow, out_c));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, dw ? OpType::dwconv2d : OpType::conv2d, p), {x}, y,
                 {dw ? Operand::dw_weights(w, b) : Operand::conv_weights(w, b)});
}

}  // namespace convert
}  // namespace facekit
