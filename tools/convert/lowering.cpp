// tools/convert/lowering.cpp - TFLite ops -> facekit ops, with MediaPipe's patterns fused.
#include "convert/lowering.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <queue>

#include "facekit/kernels/pack.hpp"

namespace facekit {
namespace convert {

namespace {

std::string strf(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

std::string shape_str(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// Largest padding accepted from a PAD op (anything bigger is a broken or hostile file).
constexpr int64_t kMaxPad = 1 << 16;

enum class Kind { conv2d, dwconv2d, maxpool2d, add, relu, relu6, prelu, reshape, concat, pad, logistic };

// A facekit op under construction. Tensor ids are SourceGraph tensor indices.
struct Node {
  Kind kind = Kind::relu;
  int src = 0;             // source operator index (the first one, for ordering)
  std::string name;        // "CONV_2D#17", grows as ops are fused in
  bool dead = false;
  std::vector<int> in;     // activation inputs: x | a, b | x0..xn
  int out = -1;
  // conv2d / dwconv2d
  int filter = -1, bias = -1;
  Conv2dParams conv{};
  int residual = -1;
  // fused activation (conv2d, dwconv2d, add) and PReLU slopes (also the prelu op's own)
  Activation act = Activation::none;
  int alpha_src = -1;      // source tensor of the slopes (its name names the packed tensor)
  std::vector<float> alpha;
  Pool2dParams pool{};
  PadParams pad{};
  int axis = 0;
};

class Lowering {
 public:
  Lowering(const SourceGraph& g, LoweringStats* stats) : g_(g), stats_(stats) {}

  Expected<OutModel> run() {
    const std::size_t nt = g_.tensors.size();
    constant_.assign(nt, 0);
    values_.resize(nt);
    defined_.assign(nt, 0);
    graph_output_.assign(nt, 0);
    for (std::size_t t = 0; t < nt; ++t) constant_[t] = g_.tensors[t].has_data ? 1 : 0;
    for (int t : g_.outputs) graph_output_[std::size_t(t)] = 1;
    stats_->source_ops = int(g_.ops.size());

    FACEKIT_RETURN_IF_ERROR(check_graph_io());
    FACEKIT_RETURN_IF_ERROR(find_live_ops());
    FACEKIT_RETURN_IF_ERROR(check_supported());
    for (const SourceOp& op : g_.ops) {
      if (!live_op_[std::size_t(op.index)]) continue;
      FACEKIT_RETURN_IF_ERROR(lower_op(op));
    }
    for (int t : g_.outputs)
      if (!defined_[std::size_t(t)])
        return fail_model(strf("graph output '%s' is never written", tname(t)));

    absorb_channel_pads();
    FACEKIT_RETURN_IF_ERROR(fuse_activations());
    fuse_residual_adds();
    fold_spatial_pads();
    FACEKIT_RETURN_IF_ERROR(topo_sort());
    remove_dead();
    return emit();
  }

 private:
  // ---- messages ---------------------------------------------------------------------------------
  const char* tname(int t) const { return g_.tensors[std::size_t(t)].name.c_str(); }
  Status fail_model(const std::string& msg) const { return Status::error("%s: %s", g_.source.c_str(), msg.c_str()); }
  Status fail(const SourceOp& op, const std::string& msg) const {
    return Status::error("%s: operator #%d %s: %s", g_.source.c_str(), op.index, op.type_name.c_str(), msg.c_str());
  }
  const std::vector<int32_t>& shape(int t) const { return g_.tensors[std::size_t(t)].shape; }

  // ---- whole-graph checks -----------------------------------------------------------------------
  Status check_graph_io() {
    for (int t : g_.inputs) {
      const SourceTensor& st = g_.tensors[std::size_t(t)];
      if (st.has_data) return fail_model(strf("graph input '%s' is a constant", st.name.c_str()));
      if (st.type != kTfFloat32)
        return fail_model(strf("graph input '%s' has type %s; facekit models take FLOAT32 inputs", st.name.c_str(),
                               tf_type_name(st.type).c_str()));
      if (st.shape.empty() || st.shape.size() > 4)
        return fail_model(strf("graph input '%s' has rank %zu; expected 1..4", st.name.c_str(), st.shape.size()));
      if (st.shape.size() >= 2 && st.shape[0] != 1)
        return fail_model(strf("graph input '%s' has batch %d (shape %s); only batch 1 is supported", st.name.c_str(),
                               st.shape[0], shape_str(st.shape).c_str()));
      for (std::size_t d = 1; d < st.shape.size(); ++d)
        if (st.shape[d] <= 0)
          return fail_model(strf("graph input '%s' has an empty dimension (shape %s)", st.name.c_str(),
                                 shape_str(st.shape).c_str()));
      defined_[std::size_t(t)] = 1;
    }
    for (int t : g_.outputs) {
      const SourceTensor& st = g_.tensors[std::size_t(t)];
      if (st.has_data) return fail_model(strf("graph output '%s' is a constant", st.name.c_str()));
    }
    return Status::ok();
  }

  // An op is live if a graph output depends on it. Ops are stored in execution order, so one
  // backward sweep finds them.
  Status find_live_ops() {
    std::vector<uint8_t> needed(g_.tensors.size(), 0);
    for (int t : g_.outputs) needed[std::size_t(t)] = 1;
    live_op_.assign(g_.ops.size(), 0);
    for (std::size_t i = g_.ops.size(); i-- > 0;) {
      const SourceOp& op = g_.ops[i];
      bool live = false;
      for (int t : op.outputs) live = live || needed[std::size_t(t)];
      if (!live) {
        ++stats_->dead_ops;
        continue;
      }
      live_op_[i] = 1;
      for (int t : op.inputs)
        if (t >= 0) needed[std::size_t(t)] = 1;
    }
    return Status::ok();
  }

  static bool supported(const SourceOp& op) {
    switch (op.builtin) {
      case kTfDequantize:
      case kTfConv2d:
      case kTfDepthwiseConv2d:
      case kTfMaxPool2d:
      case kTfAdd:
      case kTfRelu:
      case kTfRelu6:
      case kTfPrelu:
      case kTfReshape:
      case kTfConcatenation:
      case kTfPad:
      case kTfLogistic: return true;
      default: return false;
    }
  }

  // Names the first unsupported op, and lists the other unsupported types so that one run shows
  // everything a model still needs.
  Status check_supported() {
    const SourceOp* first = nullptr;
    std::map<std::string, int> others;
    for (const SourceOp& op : g_.ops) {
      if (!live_op_[std::size_t(op.index)] || supported(op)) continue;
      if (!first)
        first = &op;
      else
        ++others[op.type_name];
    }
    if (!first) return Status::ok();
    std::string msg = strf("%s: operator #%d %s is not supported yet", g_.source.c_str(), first->index,
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

  // ---- per-op lowering --------------------------------------------------------------------------
  Status need_inputs(const SourceOp& op, std::size_t min_in, std::size_t max_in, std::size_t outs) const {
    if (op.inputs.size() < min_in || op.inputs.size() > max_in)
      return fail(op, strf("has %zu inputs, expected %zu..%zu", op.inputs.size(), min_in, max_in));
    if (op.outputs.size() != outs) return fail(op, strf("has %zu outputs, expected %zu", op.outputs.size(), outs));
    for (std::size_t i = 0; i < min_in; ++i)
      if (op.inputs[i] < 0) return fail(op, strf("required input %zu is missing", i));
    return Status::ok();
  }

  // A float32 activation already written by an earlier op (or a graph input).
  Status need_activation(const SourceOp& op, int t, const char* what) const {
    const SourceTensor& st = g_.tensors[std::size_t(t)];
    if (constant_[std::size_t(t)])
      return fail(op, strf("%s '%s' is a constant; facekit ops take constants only as weights", what,
                           st.name.c_str()));
    if (st.type != kTfFloat32)
      return fail(op, strf("%s '%s' has type %s; activations must be FLOAT32", what, st.name.c_str(),
                           tf_type_name(st.type).c_str()));
    if (st.shape.size() > 4)
      return fail(op, strf("%s '%s' has rank %zu; at most 4 is supported", what, st.name.c_str(), st.shape.size()));
    if (st.elements == 0) return fail(op, strf("%s '%s' is empty (shape %s)", what, st.name.c_str(),
                                               shape_str(st.shape).c_str()));
    if (!defined_[std::size_t(t)])
      return fail(op, strf("%s '%s' is read before any operator writes it", what, st.name.c_str()));
    return Status::ok();
  }

  Status need_nhwc(const SourceOp& op, int t, const char* what) const {
    FACEKIT_RETURN_IF_ERROR(need_activation(op, t, what));
    const auto& s = shape(t);
    if (s.size() != 4 || s[0] != 1)
      return fail(op, strf("%s '%s' has shape %s; expected NHWC with batch 1", what, tname(t), shape_str(s).c_str()));
    return Status::ok();
  }

  // Marks an op output as written (once), float32, rank <= 4.
  Status define_output(const SourceOp& op, int t) {
    const SourceTensor& st = g_.tensors[std::size_t(t)];
    if (constant_[std::size_t(t)] || defined_[std::size_t(t)])
      return fail(op, strf("output '%s' is a constant, a graph input or written twice", st.name.c_str()));
    if (st.type != kTfFloat32)
      return fail(op, strf("output '%s' has type %s; activations must be FLOAT32", st.name.c_str(),
                           tf_type_name(st.type).c_str()));
    if (st.shape.size() > 4)
      return fail(op, strf("output '%s' has rank %zu; at most 4 is supported", st.name.c_str(), st.shape.size()));
    if (st.elements == 0) return fail(op, strf("output '%s' is empty (shape %s)", st.name.c_str(),
                                               shape_str(st.shape).c_str()));
    defined_[std::size_t(t)] = 1;
    return Status::ok();
  }

  // Float values of a constant (a float32 constant, or a folded DEQUANTIZE result).
  Status const_floats(const SourceOp& op, int t, const char* what, const std::vector<float>** out) {
    if (!constant_[std::size_t(t)])
      return fail(op, strf("%s '%s' must be a constant (weights computed at run time are not supported)", what,
                           tname(t)));
    if (g_.tensors[std::size_t(t)].has_data && values_[std::size_t(t)].empty() &&
        g_.tensors[std::size_t(t)].elements > 0) {
      const SourceTensor& st = g_.tensors[std::size_t(t)];
      if (st.sparse) return fail(op, strf("%s '%s' is a sparse tensor (needs DENSIFY)", what, st.name.c_str()));
      if (st.type != kTfFloat32)
        return fail(op, strf("%s '%s' has type %s; expected FLOAT32 (or FLOAT16 behind DEQUANTIZE)", what,
                             st.name.c_str(), tf_type_name(st.type).c_str()));
      Status s = constant_as_floats(g_, t, &values_[std::size_t(t)]);
      if (!s) return fail(op, s.message());
    }
    *out = &values_[std::size_t(t)];
    return Status::ok();
  }

  static Status activation_of(int tf_act, Activation* out) {
    switch (tf_act) {
      case kTfActNone: *out = Activation::none; return Status::ok();
      case kTfActRelu: *out = Activation::relu; return Status::ok();
      case kTfActRelu6: *out = Activation::relu6; return Status::ok();
      case kTfActReluN1To1: return Status::error("fused activation RELU_N1_TO_1 is not supported");
      case kTfActTanh: return Status::error("fused activation TANH is not supported");
      case kTfActSignBit: return Status::error("fused activation SIGN_BIT is not supported");
      default: return Status::error("unknown fused activation %d", tf_act);
    }
  }

  // TFLite's SAME/VALID rule along one axis: explicit before/after padding and the output size.
  static Status explicit_padding(int padding, int in, int k, int stride, int dilation, int* before, int* after,
                                 int* out) {
    if (stride < 1 || dilation < 1 || k < 1 || stride > 1024 || dilation > 1024 || k > 1024)
      return Status::error("kernel %d, stride %d, dilation %d out of range", k, stride, dilation);
    const int ext = (k - 1) * dilation + 1;
    if (padding == kTfPadSame) {
      *out = (in + stride - 1) / stride;
      const int total = std::max((*out - 1) * stride + ext - in, 0);
      *before = total / 2;
      *after = total - *before;
    } else if (padding == kTfPadValid) {
      if (in < ext) return Status::error("input size %d is smaller than the kernel extent %d (VALID)", in, ext);
      *out = (in - ext) / stride + 1;
      *before = *after = 0;
    } else {
      return Status::error("unknown padding %d", padding);
    }
    return Status::ok();
  }

  Status lower_op(const SourceOp& op) {
    switch (op.builtin) {
      case kTfDequantize: return lower_dequantize(op);
      case kTfConv2d:
      case kTfDepthwiseConv2d: return lower_conv(op);
      case kTfMaxPool2d: return lower_pool(op);
      case kTfAdd: return lower_add(op);
      case kTfRelu:
      case kTfRelu6:
      case kTfLogistic: return lower_unary(op);
      case kTfPrelu: return lower_prelu(op);
      case kTfReshape: return lower_reshape(op);
      case kTfConcatenation: return lower_concat(op);
      case kTfPad: return lower_pad(op);
      default: return fail(op, "is not supported yet");
    }
  }

  Node make_node(const SourceOp& op, Kind k) const {
    Node n;
    n.kind = k;
    n.src = op.index;
    n.name = op.type_name + "#" + std::to_string(op.index);
    return n;
  }

  Status lower_dequantize(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    const SourceTensor &xt = g_.tensors[std::size_t(x)], &yt = g_.tensors[std::size_t(y)];
    if (!xt.has_data)
      return fail(op, strf("input '%s' is not a constant; only constant weights can be dequantized (folded)",
                           xt.name.c_str()));
    if (xt.sparse) return fail(op, strf("input '%s' is a sparse tensor (needs DENSIFY)", xt.name.c_str()));
    if (xt.type != kTfFloat16 && xt.type != kTfFloat32)
      return fail(op, strf("input '%s' has type %s; only FLOAT16 weights are supported (quantized models are not)",
                           xt.name.c_str(), tf_type_name(xt.type).c_str()));
    if (yt.type != kTfFloat32)
      return fail(op, strf("output '%s' has type %s, expected FLOAT32", yt.name.c_str(),
                           tf_type_name(yt.type).c_str()));
    if (yt.elements != xt.elements)
      return fail(op, strf("output '%s' %s and input '%s' %s differ in size", yt.name.c_str(),
                           shape_str(yt.shape).c_str(), xt.name.c_str(), shape_str(xt.shape).c_str()));
    if (constant_[std::size_t(y)] || defined_[std::size_t(y)])
      return fail(op, strf("output '%s' is a constant or written twice", yt.name.c_str()));
    Status s = constant_as_floats(g_, x, &values_[std::size_t(y)]);
    if (!s) return fail(op, s.message());
    constant_[std::size_t(y)] = 1;
    defined_[std::size_t(y)] = 1;
    ++stats_->dequantize_folded;
    return Status::ok();
  }

  Status lower_conv(const SourceOp& op) {
    const bool dw = op.builtin == kTfDepthwiseConv2d;
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 3, 1));
    const int x = op.inputs[0], w = op.inputs[1], b = op.inputs.size() > 2 ? op.inputs[2] : -1, y = op.outputs[0];
    const int want_opts = dw ? 2 : 1;
    if (op.options.type != want_opts)
      return fail(op, strf("options are missing (union type %d, expected %d)", op.options.type, want_opts));
    FACEKIT_RETURN_IF_ERROR(need_nhwc(op, x, "input"));
    const std::vector<float>* wv = nullptr;
    const std::vector<float>* bv = nullptr;
    FACEKIT_RETURN_IF_ERROR(const_floats(op, w, "filter", &wv));
    if (b >= 0) FACEKIT_RETURN_IF_ERROR(const_floats(op, b, "bias", &bv));
    const auto& xs = shape(x);
    const auto& ws = shape(w);
    if (ws.size() != 4 || ws[0] < 1 || ws[1] < 1 || ws[2] < 1 || ws[3] < 1)
      return fail(op, strf("filter '%s' has shape %s; expected 4 positive dims", tname(w), shape_str(ws).c_str()));
    const int in_c = xs[3];
    const int out_c = dw ? ws[3] : ws[0];
    if (dw) {
      if (ws[0] != 1) return fail(op, strf("filter '%s' has shape %s; expected [1,KH,KW,C]", tname(w),
                                           shape_str(ws).c_str()));
      if (ws[3] != in_c || op.options.depth_multiplier > 1)
        return fail(op, strf("depth multiplier %d (input %d channels, filter %d) is not supported; only 1 is",
                             std::max(op.options.depth_multiplier, ws[3] / std::max(in_c, 1)), in_c, ws[3]));
    } else if (ws[3] != in_c) {
      return fail(op, strf("filter '%s' %s expects %d input channels, input '%s' has %d (grouped convolution is not "
                           "supported)", tname(w), shape_str(ws).c_str(), ws[3], tname(x), in_c));
    }
    if (bv && shape(b) != std::vector<int32_t>{out_c})
      return fail(op, strf("bias '%s' has shape %s, expected [%d]", tname(b), shape_str(shape(b)).c_str(), out_c));
    Node n = make_node(op, dw ? Kind::dwconv2d : Kind::conv2d);
    Conv2dParams& p = n.conv;
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
    if (s) s = activation_of(op.options.activation, &n.act);
    if (!s) return fail(op, s.message());
    const auto& ys = shape(y);
    if (ys != std::vector<int32_t>{1, oh, ow, out_c})
      return fail(op, strf("output '%s' has shape %s, the options give [1,%d,%d,%d]", tname(y), shape_str(ys).c_str(),
                           oh, ow, out_c));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    p.activation = n.act;
    n.in = {x};
    n.filter = w;
    n.bias = b;
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_pool(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    if (op.options.type != 5) return fail(op, strf("options are missing (union type %d)", op.options.type));
    FACEKIT_RETURN_IF_ERROR(need_nhwc(op, x, "input"));
    const auto& xs = shape(x);
    Node n = make_node(op, Kind::maxpool2d);
    Pool2dParams& p = n.pool;
    p.kernel_h = op.options.filter_h;
    p.kernel_w = op.options.filter_w;
    p.stride_h = op.options.stride_h;
    p.stride_w = op.options.stride_w;
    int oh = 0, ow = 0;
    Status s = explicit_padding(op.options.padding, xs[1], p.kernel_h, p.stride_h, 1, &p.pad_top, &p.pad_bottom, &oh);
    if (s) s = explicit_padding(op.options.padding, xs[2], p.kernel_w, p.stride_w, 1, &p.pad_left, &p.pad_right, &ow);
    if (!s) return fail(op, s.message());
    if (op.options.activation != kTfActNone)
      return fail(op, strf("fused activation %d on max pooling is not supported", op.options.activation));
    p.activation = Activation::none;
    const auto& ys = shape(y);
    if (ys != std::vector<int32_t>{1, oh, ow, xs[3]})
      return fail(op, strf("output '%s' has shape %s, the options give [1,%d,%d,%d]", tname(y), shape_str(ys).c_str(),
                           oh, ow, xs[3]));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    n.in = {x};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_add(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, a, "input"));
    FACEKIT_RETURN_IF_ERROR(need_activation(op, b, "input"));
    if (shape(a) != shape(b) || shape(a) != shape(y))
      return fail(op, strf("shapes %s + %s -> %s: broadcasting is not supported", shape_str(shape(a)).c_str(),
                           shape_str(shape(b)).c_str(), shape_str(shape(y)).c_str()));
    Node n = make_node(op, Kind::add);
    Status s = activation_of(op.options.activation, &n.act);
    if (!s) return fail(op, s.message());
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    n.in = {a, b};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_unary(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    if (shape(x) != shape(y))
      return fail(op, strf("input %s and output %s differ in shape", shape_str(shape(x)).c_str(),
                           shape_str(shape(y)).c_str()));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node n = make_node(op, op.builtin == kTfRelu ? Kind::relu : op.builtin == kTfRelu6 ? Kind::relu6 : Kind::logistic);
    n.in = {x};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_prelu(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], al = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    if (shape(x) != shape(y))
      return fail(op, strf("input %s and output %s differ in shape", shape_str(shape(x)).c_str(),
                           shape_str(shape(y)).c_str()));
    const std::vector<float>* av = nullptr;
    FACEKIT_RETURN_IF_ERROR(const_floats(op, al, "alpha", &av));
    // facekit applies one slope per channel: alpha must be [.., 1, C] or a single value.
    const auto& xs = shape(x);
    const int c = xs.empty() ? 1 : xs.back();
    const auto& as = shape(al);
    bool per_channel = as.size() <= xs.size();
    for (std::size_t d = 0; per_channel && d + 1 < as.size(); ++d) per_channel = as[d] == 1;
    const int alpha_c = as.empty() ? 1 : as.back();
    per_channel = per_channel && (alpha_c == c || alpha_c == 1);
    if (!per_channel)
      return fail(op, strf("alpha '%s' has shape %s; only one slope per channel (of %d) is supported", tname(al),
                           shape_str(as).c_str(), c));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node n = make_node(op, Kind::prelu);
    n.alpha.resize(std::size_t(c));
    for (int i = 0; i < c; ++i) n.alpha[std::size_t(i)] = (*av)[alpha_c == 1 ? 0 : std::size_t(i)];
    n.alpha_src = al;
    n.act = Activation::prelu;
    n.in = {x};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_reshape(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 2, 1));  // the optional 2nd input is the shape
    const int x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    if (g_.tensors[std::size_t(x)].elements != g_.tensors[std::size_t(y)].elements)
      return fail(op, strf("input %s and output %s differ in element count", shape_str(shape(x)).c_str(),
                           shape_str(shape(y)).c_str()));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node n = make_node(op, Kind::reshape);
    n.in = {x};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_concat(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, std::size_t(kMaxOpInputs), 1));
    if (op.inputs.size() > std::size_t(kMaxOpInputs))
      return fail(op, strf("%zu inputs; at most %d are supported", op.inputs.size(), kMaxOpInputs));
    if (op.options.type != 10) return fail(op, strf("options are missing (union type %d)", op.options.type));
    const int y = op.outputs[0];
    const auto& ys = shape(y);
    const int rank = int(ys.size());
    int axis = op.options.axis;
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return fail(op, strf("axis %d is outside rank %d", op.options.axis, rank));
    if (op.options.activation != kTfActNone)
      return fail(op, strf("fused activation %d on concatenation is not supported", op.options.activation));
    int64_t sum = 0;
    for (int x : op.inputs) {
      FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
      const auto& xs = shape(x);
      bool ok = int(xs.size()) == rank;
      for (int d = 0; ok && d < rank; ++d) ok = d == axis || xs[std::size_t(d)] == ys[std::size_t(d)];
      if (!ok)
        return fail(op, strf("input '%s' %s does not match output %s off axis %d", tname(x), shape_str(xs).c_str(),
                             shape_str(ys).c_str(), axis));
      sum += xs[std::size_t(axis)];
    }
    if (sum != ys[std::size_t(axis)])
      return fail(op, strf("inputs sum to %lld along axis %d, output has %d", static_cast<long long>(sum), axis,
                           ys[std::size_t(axis)]));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node n = make_node(op, Kind::concat);
    n.in.assign(op.inputs.begin(), op.inputs.end());
    n.axis = axis;
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  Status lower_pad(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], pt = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    const auto& xs = shape(x);
    const auto& ys = shape(y);
    const std::size_t rank = xs.size();
    if (!constant_[std::size_t(pt)] || !g_.tensors[std::size_t(pt)].has_data)
      return fail(op, strf("paddings '%s' must be a constant", tname(pt)));
    std::vector<int64_t> pads;
    Status s = constant_as_ints(g_, pt, &pads);
    if (!s) return fail(op, s.message());
    if (shape(pt) != std::vector<int32_t>{int32_t(rank), 2})
      return fail(op, strf("paddings '%s' has shape %s, expected [%zu,2]", tname(pt), shape_str(shape(pt)).c_str(),
                           rank));
    if (ys.size() != rank) return fail(op, strf("output rank %zu differs from input rank %zu", ys.size(), rank));
    Node n = make_node(op, Kind::pad);
    for (std::size_t d = 0; d < rank; ++d) {
      const int64_t before = pads[2 * d], after = pads[2 * d + 1];
      if (before < 0 || after < 0 || before > kMaxPad || after > kMaxPad)
        return fail(op, strf("padding (%lld, %lld) of dimension %zu is negative or too large",
                             static_cast<long long>(before), static_cast<long long>(after), d));
      if (xs[d] + before + after != ys[d])
        return fail(op, strf("dimension %zu: %d + %lld + %lld != output %d", d, xs[d], static_cast<long long>(before),
                             static_cast<long long>(after), ys[d]));
      n.pad.before[d] = int32_t(before);
      n.pad.after[d] = int32_t(after);
    }
    n.pad.value = 0.0f;
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    n.in = {x};
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  // ---- graph rewriting --------------------------------------------------------------------------
  // Uses of tensor t by live nodes; a graph output counts as a use that can never be fused away.
  int uses(int t) const {
    int n = graph_output_[std::size_t(t)] ? 1000000 : 0;
    for (const Node& nd : nodes_) {
      if (nd.dead) continue;
      for (int i : nd.in) n += i == t;
      n += nd.residual == t;
    }
    return n;
  }

  Node* producer(int t) {
    for (Node& nd : nodes_)
      if (!nd.dead && nd.out == t) return &nd;
    return nullptr;
  }

  static bool is_conv(const Node* n) { return n && (n->kind == Kind::conv2d || n->kind == Kind::dwconv2d); }

  // A PAD that only appends zero channels (NHWC): its input can stand in as add's operand b.
  static bool is_channel_pad(const Node& n) {
    if (n.kind != Kind::pad) return false;
    for (int d = 0; d < 4; ++d) {
      const bool last = d == 3;
      if (n.pad.before[d] != 0) return false;
      if (!last && n.pad.after[d] != 0) return false;
      if (last && n.pad.after[d] <= 0) return false;
    }
    return true;
  }

  // A PAD that adds zeros only along H and W of an NHWC tensor.
  bool is_spatial_pad(const Node& n) const {
    if (n.kind != Kind::pad || shape(n.in[0]).size() != 4) return false;
    return n.pad.before[0] == 0 && n.pad.after[0] == 0 && n.pad.before[3] == 0 && n.pad.after[3] == 0 &&
           (n.pad.before[1] | n.pad.after[1] | n.pad.before[2] | n.pad.after[2]) != 0;
  }

  // ADD(PAD_channels(x), y) -> ADD(y, x) with x zero-extended (MediaPipe's residual shortcut).
  void absorb_channel_pads() {
    for (Node& n : nodes_) {
      if (n.dead || n.kind != Kind::add || shape(n.out).size() != 4) continue;
      for (int k = 0; k < 2; ++k) {
        Node* p = producer(n.in[std::size_t(k)]);
        if (!p || !is_channel_pad(*p)) continue;
        const int narrow = p->in[0];
        const int other = n.in[std::size_t(1 - k)];
        n.in = {other, narrow};  // the narrower operand must be b
        n.name += "(" + p->name + ")";
        if (uses(p->out) == 0) p->dead = true;
        ++stats_->channel_pads_absorbed;
        break;  // at most one operand can be the narrower one
      }
    }
  }

  // conv2d/dwconv2d/add -> RELU/RELU6/PRELU becomes one op with a fused activation.
  Status fuse_activations() {
    for (Node& n : nodes_) {
      if (n.dead || (n.kind != Kind::relu && n.kind != Kind::relu6 && n.kind != Kind::prelu)) continue;
      Node* p = producer(n.in[0]);
      const bool can = p && (is_conv(p) || p->kind == Kind::add) && p->act == Activation::none &&
                       uses(n.in[0]) == 1;
      if (!can) {
        if (n.kind == Kind::relu6)
          return Status::error("%s: operator #%d RELU6 cannot be fused into its producer, and facekit has no "
                               "standalone relu6 op", g_.source.c_str(), n.src);
        continue;
      }
      p->act = n.kind == Kind::relu ? Activation::relu : n.kind == Kind::relu6 ? Activation::relu6 : Activation::prelu;
      if (n.kind == Kind::prelu) {
        p->alpha = n.alpha;
        p->alpha_src = n.alpha_src;
      }
      p->out = n.out;
      p->name += "+" + n.name;
      n.dead = true;
      ++stats_->activations_fused;
    }
    return Status::ok();
  }

  // ADD(conv(x), r) [+ activation] -> conv(x) with residual r: the ADD costs no extra pass over
  // memory. Legal when the conv has no activation of its own and nothing else reads its output.
  void fuse_residual_adds() {
    for (Node& n : nodes_) {
      if (n.dead || n.kind != Kind::add) continue;
      Node* best = nullptr;
      int best_k = -1;
      for (int k = 0; k < 2; ++k) {
        const int t = n.in[std::size_t(k)];
        Node* p = producer(t);
        if (!is_conv(p) || p->act != Activation::none || p->residual >= 0 || uses(t) != 1) continue;
        if (shape(t) != shape(n.out)) continue;  // the conv must produce the full-width operand
        if (!best || p->src > best->src) {
          best = p;
          best_k = k;
        }
      }
      if (!best) continue;
      best->residual = n.in[std::size_t(1 - best_k)];
      best->act = n.act;
      best->alpha = n.alpha;
      best->alpha_src = n.alpha_src;
      best->out = n.out;
      best->name += "+" + n.name;
      n.dead = true;
      ++stats_->residual_adds_fused;
    }
  }

  // PAD(zeros along H, W) -> conv2d/dwconv2d: the conv's own padding grows instead. Not into max
  // pooling: its padded taps are ignored, not zeros.
  void fold_spatial_pads() {
    for (Node& d : nodes_) {
      if (d.dead || !is_spatial_pad(d) || uses(d.out) != 1) continue;
      Node* c = nullptr;
      for (Node& n : nodes_)
        if (!n.dead && is_conv(&n) && n.in[0] == d.out) c = &n;
      if (!c) continue;
      Conv2dParams p = c->conv;
      p.pad_top += d.pad.before[1];
      p.pad_bottom += d.pad.after[1];
      p.pad_left += d.pad.before[2];
      p.pad_right += d.pad.after[2];
      const int ext_h = (p.kernel_h - 1) * p.dilation_h + 1, ext_w = (p.kernel_w - 1) * p.dilation_w + 1;
      // A pad as wide as the kernel would make whole output rows of padding only: keep the PAD.
      if (p.pad_top >= ext_h || p.pad_bottom >= ext_h || p.pad_left >= ext_w || p.pad_right >= ext_w) continue;
      c->conv = p;
      c->in[0] = d.in[0];
      c->name = d.name + "+" + c->name;
      d.dead = true;
      ++stats_->spatial_pads_folded;
    }
  }

  // Fusion can make a conv read a residual that the source computes after the conv: order the
  // nodes again, keeping the source order wherever the dependencies allow.
  Status topo_sort() {
    std::vector<int> live;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i].dead) live.push_back(int(i));
    std::map<int, int> prod;  // tensor -> position in `live`
    for (std::size_t k = 0; k < live.size(); ++k) prod[nodes_[std::size_t(live[k])].out] = int(k);
    std::vector<std::vector<int>> users(live.size());
    std::vector<int> pending(live.size(), 0);
    for (std::size_t k = 0; k < live.size(); ++k) {
      const Node& n = nodes_[std::size_t(live[k])];
      std::vector<int> deps = n.in;
      if (n.residual >= 0) deps.push_back(n.residual);
      for (int t : deps) {
        auto it = prod.find(t);
        if (it == prod.end()) continue;
        users[std::size_t(it->second)].push_back(int(k));
        ++pending[k];
      }
    }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (std::size_t k = 0; k < live.size(); ++k)
      if (pending[k] == 0) ready.push(int(k));
    std::vector<Node> sorted;
    while (!ready.empty()) {
      const int k = ready.top();
      ready.pop();
      sorted.push_back(std::move(nodes_[std::size_t(live[std::size_t(k)])]));
      for (int u : users[std::size_t(k)])
        if (--pending[std::size_t(u)] == 0) ready.push(u);
    }
    if (sorted.size() != live.size())
      return fail_model("internal error: the fused graph has a cycle");
    nodes_ = std::move(sorted);
    return Status::ok();
  }

  // Drops nodes no graph output needs (e.g. a PAD whose only reader took its input instead).
  void remove_dead() {
    std::vector<uint8_t> needed(g_.tensors.size(), 0);
    for (int t : g_.outputs) needed[std::size_t(t)] = 1;
    for (std::size_t i = nodes_.size(); i-- > 0;) {
      Node& n = nodes_[i];
      if (!needed[std::size_t(n.out)]) {
        n.dead = true;
        continue;
      }
      for (int t : n.in) needed[std::size_t(t)] = 1;
      if (n.residual >= 0) needed[std::size_t(n.residual)] = 1;
    }
    nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(), [](const Node& n) { return n.dead; }), nodes_.end());
  }

  // ---- output graph -----------------------------------------------------------------------------
  uint32_t activation_id(int t) {
    auto it = act_ids_.find(t);
    if (it != act_ids_.end()) return it->second;
    OutTensor ot;
    ot.name = g_.tensors[std::size_t(t)].name;
    ot.dims = shape(t);
    const uint32_t id = uint32_t(out_.tensors.size());
    out_.tensors.push_back(std::move(ot));
    act_ids_.emplace(t, id);
    return id;
  }

  uint32_t add_constant(const std::string& name, std::vector<int32_t> dims, format::Layout layout,
                        std::vector<float> data) {
    OutTensor ot;
    ot.name = name;
    ot.dims = std::move(dims);
    ot.kind = format::TensorKind::constant;
    ot.layout = layout;
    ot.data = std::move(data);
    out_.tensors.push_back(std::move(ot));
    return uint32_t(out_.tensors.size() - 1);
  }

  uint32_t alpha_id(const Node& n) {
    auto it = alpha_ids_.find(n.alpha_src);
    if (it != alpha_ids_.end()) return it->second;
    std::vector<float> packed(kernels::f32_channel_padded_size(int(n.alpha.size())));
    kernels::pack_f32_channel_padded(n.alpha.data(), int(n.alpha.size()), packed.data());
    const uint32_t id = add_constant(g_.tensors[std::size_t(n.alpha_src)].name, {int32_t(n.alpha.size())},
                                     format::Layout::channel_padded, std::move(packed));
    alpha_ids_.emplace(n.alpha_src, id);
    return id;
  }

  uint32_t weights_id(const Node& n) {
    const auto key = std::make_pair(n.filter, n.bias);
    auto it = weight_ids_.find(key);
    if (it != weight_ids_.end()) return it->second;
    const auto& ws = shape(n.filter);
    const float* w = values_[std::size_t(n.filter)].data();
    const float* b = n.bias >= 0 ? values_[std::size_t(n.bias)].data() : nullptr;
    std::vector<float> packed;
    uint32_t id;
    if (n.kind == Kind::conv2d) {
      packed.resize(kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]));
      kernels::pack_f32_conv2d(w, b, ws[0], ws[1], ws[2], ws[3], packed.data());
      id = add_constant(g_.tensors[std::size_t(n.filter)].name, ws, format::Layout::conv2d_oc_tile, std::move(packed));
    } else {
      packed.resize(kernels::f32_dwconv2d_packed_size(ws[1], ws[2], ws[3]));
      kernels::pack_f32_dwconv2d(w, b, ws[1], ws[2], ws[3], packed.data());
      id = add_constant(g_.tensors[std::size_t(n.filter)].name, ws, format::Layout::dwconv2d_c_tile,
                        std::move(packed));
    }
    weight_ids_.emplace(key, id);
    return id;
  }

  Expected<OutModel> emit() {
    for (int t : g_.inputs) out_.inputs.push_back(activation_id(t));
    for (const Node& n : nodes_) {
      OutOp op;
      op.name = n.name;
      switch (n.kind) {
        case Kind::conv2d:
        case Kind::dwconv2d: {
          op.type = n.kind == Kind::conv2d ? OpType::conv2d : OpType::dwconv2d;
          Conv2dParams p = n.conv;
          p.activation = n.act;
          op.params = OpParams::from(p);
          op.inputs = {activation_id(n.in[0]), weights_id(n)};
          if (n.act == Activation::prelu || n.residual >= 0)
            op.inputs.push_back(n.act == Activation::prelu ? alpha_id(n) : kNoTensor);
          if (n.residual >= 0) op.inputs.push_back(activation_id(n.residual));
          break;
        }
        case Kind::maxpool2d:
          op.type = OpType::maxpool2d;
          op.params = OpParams::from(n.pool);
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::add:
          op.type = OpType::add;
          op.params = OpParams::from(AddParams{n.act});
          op.inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
          if (n.act == Activation::prelu) op.inputs.push_back(alpha_id(n));
          break;
        case Kind::relu:
          op.type = OpType::relu;
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::prelu:
          op.type = OpType::prelu;
          op.inputs = {activation_id(n.in[0]), alpha_id(n)};
          break;
        case Kind::logistic:
          op.type = OpType::logistic;
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::reshape:
          op.type = OpType::reshape;
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::concat:
          op.type = OpType::concat;
          op.params = OpParams::from(ConcatParams{n.axis});
          for (int t : n.in) op.inputs.push_back(activation_id(t));
          break;
        case Kind::pad:
          op.type = OpType::pad;
          op.params = OpParams::from(n.pad);
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::relu6:
          return fail_model(strf("internal error: %s was not fused", n.name.c_str()));
      }
      op.outputs = {activation_id(n.out)};
      out_.ops.push_back(std::move(op));
    }
    for (int t : g_.outputs) out_.outputs.push_back(activation_id(t));
    return std::move(out_);
  }

  const SourceGraph& g_;
  LoweringStats* stats_;
  std::vector<uint8_t> constant_;           // per source tensor: has constant values
  std::vector<std::vector<float>> values_;  // float values of constants (filled on demand)
  std::vector<uint8_t> defined_;            // written by an op seen so far, or a graph input
  std::vector<uint8_t> graph_output_;
  std::vector<uint8_t> live_op_;
  std::vector<Node> nodes_;
  OutModel out_;
  std::map<int, uint32_t> act_ids_;
  std::map<int, uint32_t> alpha_ids_;
  std::map<std::pair<int, int>, uint32_t> weight_ids_;
};

}  // namespace

Expected<OutModel> lower_graph(const SourceGraph& g, LoweringStats* stats) {
  LoweringStats local;
  Lowering l(g, stats ? stats : &local);
  return l.run();
}

}  // namespace convert
}  // namespace facekit
