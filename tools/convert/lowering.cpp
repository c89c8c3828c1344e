// tools/convert/lowering.cpp - TFLite ops -> facekit ops, with MediaPipe's patterns fused.
#include "convert/lowering.hpp"

#include <algorithm>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include <flatbuffers/flexbuffers.h>

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

// Builtin codes of the ops only the MLP-Mixer lowering handles (tflite_reader.hpp names the rest).
constexpr int kTfTranspose = 39, kTfMean = 40, kTfSub = 41, kTfDiv = 42, kTfStridedSlice = 45, kTfNeg = 59,
              kTfSum = 74, kTfSqrt = 75, kTfRsqrt = 76, kTfSquaredDifference = 99;

enum class Kind {
  conv2d, dwconv2d, maxpool2d, add, relu, relu6, prelu, reshape, concat, pad, logistic,
  token_dense, layer_norm, point_normalize, mul, slice, copy,
  landmarks_to_transform_matrix, transform_tensor_bilinear, transform_landmarks, resize_bilinear, depth_to_space
};

// MediaPipe's custom ops (custom codes as stored in the model).
constexpr const char* kCustomL2T = "Landmarks2TransformMatrix";
constexpr const char* kCustomTTB = "TransformTensorBilinear";
constexpr const char* kCustomTL = "TransformLandmarks";

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
  // fused activation (conv2d, dwconv2d, add, token_dense) and PReLU slopes (also the prelu op's
  // own, and mul's per-channel factors)
  Activation act = Activation::none;
  int alpha_src = -1;      // source tensor of the slopes (its name names the packed tensor)
  std::vector<float> alpha;
  Pool2dParams pool{};
  PadParams pad{};
  int axis = 0;
  // layer_norm: optional gamma / beta (source tensors and values), epsilon
  int gamma_src = -1, beta_src = -1;
  std::vector<float> gamma, beta;
  float eps = 0.0f;
  // slice
  SliceParams slice{};
  // token_dense computing only output rows [row_lo, row_hi) of its weights (row_hi < 0: all)
  int row_lo = 0, row_hi = -1;
  // copy: the constant it materialises (also its output tensor, see lower_concat)
  int const_src = -1;
  // custom ops: typed params; landmarks_to_transform_matrix's subset (in[1] is unused, the
  // indices become a constant); transform_landmarks' optional constant factor
  LandmarksToTransformMatrixParams l2t{};
  std::vector<float> subset;
  TransformTensorBilinearParams ttb{};
  TransformLandmarksParams tl{};
  int factor_src = -1;
  std::vector<float> factor;
  ResizeBilinearParams resize{};
  DepthToSpaceParams d2s{};
};

// A multi-op subgraph recognised as one facekit op (layer norm, point normalisation).
struct Pattern {
  Kind kind = Kind::layer_norm;
  std::vector<int> ops;    // member source ops, ascending
  int x = -1, y = -1;      // input and output tensors
  int gamma = -1, beta = -1, eps = -1;
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

    alias_.resize(nt);
    for (std::size_t t = 0; t < nt; ++t) alias_[t] = int(t);
    transposed_.assign(nt, 0);

    FACEKIT_RETURN_IF_ERROR(check_graph_io());
    FACEKIT_RETURN_IF_ERROR(find_live_ops());
    FACEKIT_RETURN_IF_ERROR(check_supported());
    index_graph();
    match_patterns();
    for (const SourceOp& op : g_.ops) {
      if (!live_op_[std::size_t(op.index)]) continue;
      const int pi = pattern_of_[std::size_t(op.index)];
      if (pi < 0) {
        FACEKIT_RETURN_IF_ERROR(lower_op(op));
      } else if (patterns_[std::size_t(pi)].ops.back() == op.index) {
        // Emitted where its last member stood: every input and constant is defined by then.
        FACEKIT_RETURN_IF_ERROR(lower_pattern(patterns_[std::size_t(pi)], op));
      }
    }
    // Graph outputs are looked up through the aliases that TRANSPOSE views introduce.
    std::fill(graph_output_.begin(), graph_output_.end(), 0);
    for (int t : g_.outputs) {
      if (!defined_[std::size_t(t)]) return fail_model(strf("graph output '%s' is never written", tname(t)));
      if (transposed_[std::size_t(t)])
        return fail_model(strf("graph output '%s' is a TRANSPOSE result, which facekit does not materialise", tname(t)));
      const int r = alias_[std::size_t(t)];
      if (constant_[std::size_t(r)]) return fail_model(strf("graph output '%s' is a constant", tname(t)));
      outputs_.push_back(r);
      graph_output_[std::size_t(r)] = 1;
    }

    absorb_channel_pads();
    FACEKIT_RETURN_IF_ERROR(fuse_activations());
    fuse_residual_adds();
    fold_spatial_pads();
    FACEKIT_RETURN_IF_ERROR(topo_sort());
    prune_rows();
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
  // The shape a tensor is stored with: its TFLite shape, except for token_dense outputs, which are
  // kept token-major (the transpose of the TFLite shape, see lower_token_dense).
  const std::vector<int32_t>& shape(int t) const {
    auto it = stored_shape_.find(t);
    return it != stored_shape_.end() ? it->second : g_.tensors[std::size_t(t)].shape;
  }

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
    if (op.builtin == kTfCustom)
      return op.custom_code == kCustomL2T || op.custom_code == kCustomTTB || op.custom_code == kCustomTL;
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
      case kTfLogistic:
      case kTfMul:
      case kTfResizeBilinear:
      case kTfDensify:
      case kTfDepthToSpace:
      case kTfTranspose:
      case kTfStridedSlice:
      // Only inside the patterns of match_patterns(); lower_op names any that is left over.
      case kTfMean:
      case kTfSub:
      case kTfDiv:
      case kTfNeg:
      case kTfSum:
      case kTfSqrt:
      case kTfRsqrt:
      case kTfSquaredDifference: return true;
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

  // Appends a lowered node with its activation inputs and output.
  Status emit(Node n, std::vector<int> in, int out) {
    n.in = std::move(in);
    n.out = out;
    nodes_.push_back(std::move(n));
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
    // 64-bit: a hostile input size near INT_MAX must not overflow.
    const int64_t ext = int64_t(k - 1) * dilation + 1;
    if (padding == kTfPadSame) {
      const int64_t o = (int64_t(in) + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((o - 1) * stride + ext - in, 0);
      *out = int(o);
      *before = int(total / 2);
      *after = int(total - total / 2);
    } else if (padding == kTfPadValid) {
      if (in < ext)
        return Status::error("input size %d is smaller than the kernel extent %lld (VALID)", in,
                             static_cast<long long>(ext));
      *out = int((in - ext) / stride + 1);
      *before = *after = 0;
    } else {
      return Status::error("unknown padding %d", padding);
    }
    return Status::ok();
  }

  Status lower_op(const SourceOp& src) {
    if (src.builtin == kTfTranspose) return lower_transpose(src);
    // Inputs are read through the aliases of TRANSPOSE views; a view that is still transposed
    // can only feed a token-mixing 1x1 CONV_2D.
    SourceOp op = src;
    int view = -1;
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
      const int t = op.inputs[i];
      if (t < 0) continue;
      if (transposed_[std::size_t(t)]) {
        if (op.builtin != kTfConv2d || i != 0)
          return fail(op, strf("input '%s' is a transposed view (TRANSPOSE of the last two dimensions); facekit "
                               "supports it only as the input of a 1x1 CONV_2D or of another TRANSPOSE",
                               tname(t)));
        view = t;
      }
      op.inputs[i] = alias_[std::size_t(t)];
    }
    if (view >= 0) return lower_token_dense(op, view);
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
      case kTfResizeBilinear: return lower_resize_bilinear(op);
      case kTfDensify: return lower_densify(op);
      case kTfDepthToSpace: return lower_depth_to_space(op);
      case kTfMul: return lower_mul(op);
      case kTfStridedSlice: return lower_strided_slice(op);
      case kTfCustom: return lower_custom(op);
      case kTfMean:
      case kTfSub:
      case kTfDiv:
      case kTfNeg:
      case kTfSum:
      case kTfSqrt:
      case kTfRsqrt:
      case kTfSquaredDifference:
        return fail(op, "is supported only as part of a layer normalisation or point normalisation subgraph, and "
                        "this one does not match those patterns");
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
    const bool folded = !xt.has_data && constant_[std::size_t(x)];  // a densified constant
    if (!xt.has_data && !folded)
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
    if (folded) {
      values_[std::size_t(y)] = values_[std::size_t(x)];  // float16 -> float32 is exact
    } else {
      Status s = constant_as_floats(g_, x, &values_[std::size_t(y)]);
      if (!s) return fail(op, s.message());
    }
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
    // Packing pads channels to whole tiles; refuse shapes whose packed form would be absurd.
    const std::size_t packed = dw ? kernels::f32_dwconv2d_packed_size(ws[1], ws[2], ws[3])
                                  : kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]);
    if (packed > (std::size_t(1) << 28))
      return fail(op, strf("filter '%s' %s packs into %zu floats, more than the 2^28 accepted", tname(w),
                           shape_str(ws).c_str(), packed));
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
    return emit(std::move(n), {x}, y);
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
    return emit(std::move(n), {a, b}, y);
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
    return emit(std::move(n), {x}, y);
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
    return emit(std::move(n), {x}, y);
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
    return emit(std::move(n), {x}, y);
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
    std::vector<Node> copies;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      const int x = op.inputs[k];
      if (constant_[std::size_t(x)]) {
        // A constant operand (MLP-Mixer's extra token): a copy op materialises it as an
        // activation, which takes the constant's tensor id (constants are emitted separately).
        const std::vector<float>* cv = nullptr;
        FACEKIT_RETURN_IF_ERROR(const_floats(op, x, "constant input", &cv));
        if (shape(x).size() > 4 || cv->size() != g_.tensors[std::size_t(x)].elements || cv->empty())
          return fail(op, strf("constant input '%s' has shape %s; expected rank 1..4", tname(x),
                               shape_str(shape(x)).c_str()));
        if (materialised_.insert(x).second) {
          Node c = make_node(op, Kind::copy);
          c.name += strf("/const%zu", k);
          c.const_src = x;
          c.out = x;
          copies.push_back(std::move(c));
        }
      } else {
        FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
      }
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
    for (Node& c : copies) nodes_.push_back(std::move(c));
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
    return emit(std::move(n), {x}, y);
  }

  // DENSIFY of a sparse constant: folded into a dense constant (values_ of the output).
  Status lower_densify(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    const SourceTensor &xt = g_.tensors[std::size_t(x)], &yt = g_.tensors[std::size_t(y)];
    if (!xt.has_data || !xt.sparse)
      return fail(op, strf("input '%s' is not a sparse constant; only constant weights can be densified",
                           xt.name.c_str()));
    if (yt.type != xt.type || yt.shape != xt.shape)
      return fail(op, strf("output '%s' (%s %s) differs from input '%s' (%s %s)", yt.name.c_str(),
                           tf_type_name(yt.type).c_str(), shape_str(yt.shape).c_str(), xt.name.c_str(),
                           tf_type_name(xt.type).c_str(), shape_str(xt.shape).c_str()));
    if (constant_[std::size_t(y)] || defined_[std::size_t(y)])
      return fail(op, strf("output '%s' is a constant or written twice", yt.name.c_str()));
    Status s = densify_as_floats(g_, x, &values_[std::size_t(y)]);
    if (!s) return fail(op, s.message());
    constant_[std::size_t(y)] = 1;
    defined_[std::size_t(y)] = 1;
    ++stats_->densify_folded;
    return Status::ok();
  }

  // DEPTH_TO_SPACE (NHWC, DCR order): [1,H,W,C*b*b] -> [1,H*b,W*b,C].
  Status lower_depth_to_space(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_nhwc(op, x, "input"));
    if (op.options.type != 94)
      return fail(op, strf("options have union type %d, expected 94 (DepthToSpaceOptions)", op.options.type));
    const int b = op.options.block_size;
    const auto& xs = shape(x);
    const auto& ys = shape(y);
    if (b < 1 || b > 1024 || xs[3] % (b * b) != 0)
      return fail(op, strf("block size %d does not divide the %d input channels into b*b groups", b, xs[3]));
    if (ys != std::vector<int32_t>{1, xs[1] * b, xs[2] * b, xs[3] / (b * b)})
      return fail(op, strf("output '%s' has shape %s; block %d of input %s needs [1,%d,%d,%d]", tname(y),
                           shape_str(ys).c_str(), b, shape_str(xs).c_str(), xs[1] * b, xs[2] * b, xs[3] / (b * b)));
    Node n = make_node(op, Kind::depth_to_space);
    n.d2s.block_size = b;
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    return emit(std::move(n), {x}, y);
  }

  // RESIZE_BILINEAR with a constant size [OH, OW]; the output shape must agree with it.
  Status lower_resize_bilinear(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], st = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_nhwc(op, x, "input"));
    if (op.options.type != 15 && op.options.type != 0)
      return fail(op, strf("options have union type %d, expected 15 (ResizeBilinearOptions)", op.options.type));
    if (!constant_[std::size_t(st)] || !g_.tensors[std::size_t(st)].has_data)
      return fail(op, strf("size '%s' must be a constant (a run-time output size is not supported)", tname(st)));
    std::vector<int64_t> size;
    Status s = constant_as_ints(g_, st, &size);
    if (!s) return fail(op, s.message());
    if (size.size() != 2)
      return fail(op, strf("size '%s' has %zu values, expected 2 (height, width)", tname(st), size.size()));
    const auto& xs = shape(x);
    const auto& ys = shape(y);
    if (ys.size() != 4 || ys[0] != 1 || ys[1] != size[0] || ys[2] != size[1] || ys[3] != xs[3])
      return fail(op, strf("output '%s' has shape %s; size %lld x %lld of input %s needs [1,%lld,%lld,%d]", tname(y),
                           shape_str(ys).c_str(), static_cast<long long>(size[0]), static_cast<long long>(size[1]),
                           shape_str(xs).c_str(), static_cast<long long>(size[0]), static_cast<long long>(size[1]),
                           xs[3]));
    if (op.options.align_corners && op.options.half_pixel_centers)
      return fail(op, "align_corners and half_pixel_centers are both set (TFLite allows at most one)");
    Node n = make_node(op, Kind::resize_bilinear);
    n.resize.align_corners = op.options.align_corners ? 1 : 0;
    n.resize.half_pixel_centers = op.options.half_pixel_centers ? 1 : 0;
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    return emit(std::move(n), {x}, y);
  }

  // ---- MLP-Mixer ops -------------------------------------------------------------------------------
  // TRANSPOSE of the last two dims (leading dims 1): no op, the output is a view of the input.
  Status lower_transpose(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], pt = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, alias_[std::size_t(x)], "input"));
    const auto& xs = g_.tensors[std::size_t(x)].shape;  // the logical (TFLite) shape
    const std::size_t rank = xs.size();
    if (!g_.tensors[std::size_t(pt)].has_data) return fail(op, strf("permutation '%s' must be a constant", tname(pt)));
    std::vector<int64_t> perm;
    Status s = constant_as_ints(g_, pt, &perm);
    if (!s) return fail(op, s.message());
    bool swap_last2 = rank >= 2 && perm.size() == rank;
    for (std::size_t d = 0; swap_last2 && d < rank; ++d)
      swap_last2 = perm[d] == int64_t(d + 2 == rank ? rank - 1 : d + 1 == rank ? rank - 2 : d);
    for (std::size_t d = 0; swap_last2 && d + 2 < rank; ++d) swap_last2 = xs[d] == 1;
    if (!swap_last2)
      return fail(op, strf("permutation of '%s' %s is not supported: only swapping the last two dimensions of a "
                           "tensor whose other dimensions are 1", tname(x), shape_str(xs).c_str()));
    std::vector<int32_t> want = xs;
    std::swap(want[rank - 1], want[rank - 2]);
    if (g_.tensors[std::size_t(y)].shape != want)
      return fail(op, strf("output '%s' has shape %s, expected %s", tname(y),
                           shape_str(g_.tensors[std::size_t(y)].shape).c_str(), shape_str(want).c_str()));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    alias_[std::size_t(y)] = alias_[std::size_t(x)];
    transposed_[std::size_t(y)] = transposed_[std::size_t(x)] ? 0 : 1;
    ++stats_->transposes_folded;
    return Status::ok();
  }

  // A 1x1 CONV_2D over a transposed view: TFLite computes conv(transpose(x)) with x = [1,1,T,C]
  // stored token-major; token_dense computes the same numbers as [1,1,O,C] directly. The conv's
  // output tensor is stored in that shape and marked transposed, so that the TRANSPOSE that
  // normally follows is again a free view.
  Status lower_token_dense(const SourceOp& op, int view) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 3, 1));
    if (op.options.type != 1)
      return fail(op, strf("options are missing (union type %d, expected 1)", op.options.type));
    const int x = op.inputs[0], w = op.inputs[1], b = op.inputs.size() > 2 ? op.inputs[2] : -1, y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    const auto& vs = g_.tensors[std::size_t(view)].shape;
    if (vs.size() != 4 || vs[0] != 1 || vs[1] != 1)
      return fail(op, strf("transposed input '%s' has shape %s; expected [1,1,C,T]", tname(view),
                           shape_str(vs).c_str()));
    const int C = vs[2], T = vs[3];
    const std::vector<float>* wv = nullptr;
    const std::vector<float>* bv = nullptr;
    FACEKIT_RETURN_IF_ERROR(const_floats(op, w, "filter", &wv));
    if (b >= 0) FACEKIT_RETURN_IF_ERROR(const_floats(op, b, "bias", &bv));
    const auto& ws = shape(w);
    if (ws.size() != 4 || ws[0] < 1 || ws[1] != 1 || ws[2] != 1 || ws[3] != T)
      return fail(op, strf("filter '%s' has shape %s; a token-mixing conv needs [O,1,1,%d]", tname(w),
                           shape_str(ws).c_str(), T));
    const int O = ws[0];
    if (kernels::f32_conv2d_packed_size(O, 1, 1, T) > (std::size_t(1) << 28))
      return fail(op, strf("filter '%s' %s is too large", tname(w), shape_str(ws).c_str()));
    if (bv && shape(b) != std::vector<int32_t>{O})
      return fail(op, strf("bias '%s' has shape %s, expected [%d]", tname(b), shape_str(shape(b)).c_str(), O));
    if (op.options.stride_h != 1 || op.options.stride_w != 1)
      return fail(op, strf("stride %dx%d on a token-mixing conv is not supported", op.options.stride_h,
                           op.options.stride_w));
    Node n = make_node(op, Kind::token_dense);
    Status s = activation_of(op.options.activation, &n.act);
    if (!s) return fail(op, s.message());
    if (g_.tensors[std::size_t(y)].shape != std::vector<int32_t>{1, 1, C, O})
      return fail(op, strf("output '%s' has shape %s, expected [1,1,%d,%d]", tname(y),
                           shape_str(g_.tensors[std::size_t(y)].shape).c_str(), C, O));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    stored_shape_[y] = {1, 1, O, C};
    transposed_[std::size_t(y)] = 1;
    n.in = {x};
    n.filter = w;
    n.bias = b;
    n.out = y;
    nodes_.push_back(std::move(n));
    return Status::ok();
  }

  // A constant of `channels` values, shaped [C] or [1, .., 1, C].
  bool is_channel_constant(int t, int channels) const {
    const auto& s = g_.tensors[std::size_t(t)].shape;
    if (g_.tensors[std::size_t(t)].elements != std::size_t(channels) || s.empty() || s.back() != channels) return false;
    for (std::size_t d = 0; d + 1 < s.size(); ++d)
      if (s[d] != 1) return false;
    return true;
  }

  // MUL by a constant scalar or per-channel vector (anything else is refused).
  Status lower_mul(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int a = op.inputs[0], b = op.inputs[1], y = op.outputs[0];
    const bool ca = constant_[std::size_t(a)] != 0, cb = constant_[std::size_t(b)] != 0;
    if (ca == cb)
      return fail(op, ca ? std::string("multiplies two constants (not folded)")
                         : std::string("multiplies two activations; facekit's mul takes one constant operand (MUL of "
                                       "activations is supported only inside a layer normalisation)"));
    const int x = ca ? b : a, k = ca ? a : b;
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    if (op.options.activation != kTfActNone)
      return fail(op, strf("fused activation %d on MUL is not supported", op.options.activation));
    if (shape(x) != g_.tensors[std::size_t(y)].shape)
      return fail(op, strf("input %s and output %s differ in shape (broadcasting the activation is not supported)",
                           shape_str(shape(x)).c_str(), shape_str(g_.tensors[std::size_t(y)].shape).c_str()));
    const std::vector<float>* kv = nullptr;
    FACEKIT_RETURN_IF_ERROR(const_floats(op, k, "factor", &kv));
    const int c = shape(x).empty() ? 1 : shape(x).back();
    const bool scalar = g_.tensors[std::size_t(k)].elements == 1;
    if (!scalar && !is_channel_constant(k, c) && is_matrix_factor(op, x, k)) {
      FACEKIT_RETURN_IF_ERROR(define_output(op, y));
      matrix_factor_[y] = {x, k};
      return Status::ok();
    }
    if (!scalar && !is_channel_constant(k, c))
      return fail(op, strf("factor '%s' has shape %s; only a scalar or one value per channel (of %d) is supported",
                           tname(k), shape_str(shape(k)).c_str(), c));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node n = make_node(op, Kind::mul);
    n.alpha.resize(std::size_t(c));
    for (int i = 0; i < c; ++i) n.alpha[std::size_t(i)] = (*kv)[scalar ? 0 : std::size_t(i)];
    n.alpha_src = k;
    return emit(std::move(n), {x}, y);
  }

  // STRIDED_SLICE with unit strides: a reshape when it keeps every element (identity, or dropping
  // size-1 dims), else a slice of the same rank. The reader does not decode the begin/end masks,
  // so each dimension's start is inferred from the output shape: the extent must come out of
  // begin-or-0 and end-or-size in exactly one way (else the op is refused as ambiguous).
  Status lower_strided_slice(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 4, 4, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "input"));
    const auto& xs = shape(x);
    const auto& ys = g_.tensors[std::size_t(y)].shape;
    const std::size_t rank = xs.size();
    std::vector<int64_t> v[3];
    for (int i = 0; i < 3; ++i) {
      const int t = op.inputs[std::size_t(i + 1)];
      if (!g_.tensors[std::size_t(t)].has_data) return fail(op, strf("'%s' must be a constant", tname(t)));
      Status s = constant_as_ints(g_, t, &v[i]);
      if (!s) return fail(op, s.message());
      if (v[i].size() != rank)
        return fail(op, strf("'%s' has %zu values for an input of rank %zu", tname(t), v[i].size(), rank));
    }
    for (std::size_t d = 0; d < rank; ++d)
      if (v[2][d] != 1) return fail(op, strf("stride %lld in dimension %zu is not supported (only 1)",
                                             static_cast<long long>(v[2][d]), d));
    if (g_.tensors[std::size_t(y)].elements == g_.tensors[std::size_t(x)].elements) {
      // Every element kept: only size-1 dims may differ, so it is a reshape.
      std::vector<int32_t> a, b;
      for (int32_t d : xs) if (d != 1) a.push_back(d);
      for (int32_t d : ys) if (d != 1) b.push_back(d);
      if (a != b) return fail(op, strf("output %s does not follow from input %s", shape_str(ys).c_str(),
                                       shape_str(xs).c_str()));
      FACEKIT_RETURN_IF_ERROR(define_output(op, y));
      Node n = make_node(op, Kind::reshape);
      return emit(std::move(n), {x}, y);
    }
    if (ys.size() != rank)
      return fail(op, strf("slicing %s to %s changes the rank (shrink or new axes) while dropping elements; not "
                           "supported", shape_str(xs).c_str(), shape_str(ys).c_str()));
    Node n = make_node(op, Kind::slice);
    for (std::size_t d = 0; d < rank; ++d) {
      const int64_t size = xs[d], want = ys[d];
      if (want == size) continue;  // whole dimension, whatever the masks say
      auto clampi = [&](int64_t i) { return std::min<int64_t>(std::max<int64_t>(i < 0 ? i + size : i, 0), size); };
      std::set<int64_t> starts;
      for (int64_t b : {clampi(v[0][d]), int64_t(0)})
        for (int64_t e : {clampi(v[1][d]), size})
          if (e - b == want) starts.insert(b);
      if (starts.size() != 1)
        return fail(op, strf("dimension %zu: begin %lld, end %lld cannot be read as extent %lld %s", d,
                             static_cast<long long>(v[0][d]), static_cast<long long>(v[1][d]),
                             static_cast<long long>(want), starts.empty() ? "" : "unambiguously"));
      n.slice.begin[d] = int32_t(*starts.begin());
    }
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    return emit(std::move(n), {x}, y);
  }

  // ---- MediaPipe custom ops ------------------------------------------------------------------------
  // Custom options are a FlexBuffer map; a blob that fails the FlexBuffers verifier, is not a
  // map, or lacks a key or has it with the wrong type gives an error naming the op.
  Status custom_map(const SourceOp& op, flexbuffers::Map* out) const {
    const std::size_t n = op.custom_options_size;
    if (n == 0) return fail(op, "custom options are missing (expected a FlexBuffer map)");
    const uint8_t* p = g_.bytes.data() + op.custom_options_offset;
    std::vector<uint8_t> reuse;
    if (!flexbuffers::VerifyBuffer(p, n, &reuse))
      return fail(op, strf("custom options (%zu bytes) are not a valid FlexBuffer (damaged or truncated)", n));
    const flexbuffers::Reference root = flexbuffers::GetRoot(p, n);
    if (!root.IsMap()) return fail(op, strf("custom options are not a FlexBuffer map (root type %d)", int(root.GetType())));
    *out = root.AsMap();
    return Status::ok();
  }

  Status opt_int(const SourceOp& op, const flexbuffers::Map& m, const char* key, int64_t lo, int64_t hi,
                 int32_t* v) const {
    const flexbuffers::Reference r = m[key];
    if (r.IsNull()) return fail(op, strf("custom option '%s' is missing", key));
    if (!r.IsIntOrUint()) return fail(op, strf("custom option '%s' has FlexBuffer type %d, expected an integer", key,
                                               int(r.GetType())));
    const int64_t x = r.AsInt64();
    if (x < lo || x > hi)
      return fail(op, strf("custom option '%s' is %lld, outside [%lld, %lld]", key, static_cast<long long>(x),
                           static_cast<long long>(lo), static_cast<long long>(hi)));
    *v = int32_t(x);
    return Status::ok();
  }

  // A float option; `dflt` (if not null) is used when the key is absent.
  Status opt_float(const SourceOp& op, const flexbuffers::Map& m, const char* key, const float* dflt, float* v) const {
    const flexbuffers::Reference r = m[key];
    if (r.IsNull() && dflt) {
      *v = *dflt;
      return Status::ok();
    }
    if (r.IsNull()) return fail(op, strf("custom option '%s' is missing", key));
    if (!r.IsNumeric()) return fail(op, strf("custom option '%s' has FlexBuffer type %d, expected a number", key,
                                             int(r.GetType())));
    *v = float(r.AsDouble());
    if (!std::isfinite(*v)) return fail(op, strf("custom option '%s' is %g, not a finite number", key, double(*v)));
    return Status::ok();
  }

  Status opt_int_vector(const SourceOp& op, const flexbuffers::Map& m, const char* key, int64_t lo, int64_t hi,
                        std::vector<float>* v) const {
    const flexbuffers::Reference r = m[key];
    if (r.IsNull()) return fail(op, strf("custom option '%s' is missing", key));
    auto read = [&](const auto& vec) -> Status {
      for (std::size_t i = 0; i < vec.size(); ++i) {
        const flexbuffers::Reference e = vec[i];
        if (!e.IsIntOrUint()) return fail(op, strf("custom option '%s'[%zu] is not an integer", key, i));
        const int64_t x = e.AsInt64();
        if (x < lo || x > hi)
          return fail(op, strf("custom option '%s'[%zu] is %lld, outside [%lld, %lld]", key, i,
                               static_cast<long long>(x), static_cast<long long>(lo), static_cast<long long>(hi)));
        v->push_back(float(x));
      }
      return Status::ok();
    };
    if (r.IsTypedVector()) return read(r.AsTypedVector());
    if (r.IsVector() && !r.IsMap()) return read(r.AsVector());
    return fail(op, strf("custom option '%s' has FlexBuffer type %d, expected a vector of integers", key,
                         int(r.GetType())));
  }

  Status lower_custom(const SourceOp& op) {
    // Version 1 of these names is a different kernel with other options (docs/pipeline.md 4).
    if (op.version != 2)
      return fail(op, strf("version %d is not supported; facekit implements version 2 (the kernel MediaPipe "
                           "registers for this name)", op.version));
    ++stats_->custom_ops_lowered;
    if (op.custom_code == kCustomL2T) return lower_landmarks_to_transform_matrix(op);
    if (op.custom_code == kCustomTTB) return lower_transform_tensor_bilinear(op);
    return lower_transform_landmarks(op);
  }

  // [1, N, D] (leading dims 1) -> N, D.
  bool points_shape(int t, int* n, int* d) const {
    const auto& s = shape(t);
    if (s.size() < 2) return false;
    for (std::size_t k = 0; k + 2 < s.size(); ++k)
      if (s[k] != 1) return false;
    *n = s[s.size() - 2];
    *d = s.back();
    return true;
  }

  Status need_matrix_output(const SourceOp& op, int y) {
    if (g_.tensors[std::size_t(y)].elements != 16)
      return fail(op, strf("output '%s' has shape %s; expected a 4x4 matrix ([1,4,4])", tname(y),
                           shape_str(shape(y)).c_str()));
    return define_output(op, y);
  }

  Status lower_landmarks_to_transform_matrix(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 1, 1, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "landmarks"));
    int n = 0, d = 0;
    // MediaPipe reads landmark i at 3i: the input must hold (x, y, z) triples.
    if (!points_shape(x, &n, &d) || d != 3)
      return fail(op, strf("landmarks '%s' have shape %s; expected [1,N,3]", tname(x), shape_str(shape(x)).c_str()));
    flexbuffers::Map m = flexbuffers::Map::EmptyMap();
    FACEKIT_RETURN_IF_ERROR(custom_map(op, &m));
    Node node = make_node(op, Kind::landmarks_to_transform_matrix);
    LandmarksToTransformMatrixParams& p = node.l2t;
    const float zero = 0.0f;
    FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "left_rotation_idx", 0, n - 1, &p.left_rotation_idx));
    FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "right_rotation_idx", 0, n - 1, &p.right_rotation_idx));
    FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "output_width", 1, 1 << 16, &p.output_width));
    FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "output_height", 1, 1 << 16, &p.output_height));
    FACEKIT_RETURN_IF_ERROR(opt_float(op, m, "scale_x", nullptr, &p.scale_x));
    FACEKIT_RETURN_IF_ERROR(opt_float(op, m, "scale_y", nullptr, &p.scale_y));
    FACEKIT_RETURN_IF_ERROR(opt_float(op, m, "target_rotation_radians", &zero, &p.target_rotation_radians));
    if (!(p.scale_x > 0.0f) || !(p.scale_y > 0.0f))
      return fail(op, strf("custom options scale_x %g, scale_y %g must be positive", double(p.scale_x),
                           double(p.scale_y)));
    // MediaPipe reads the indices as pairs (an odd last one paired with itself); only the
    // bounding box of the points matters, so the list is kept as stored.
    FACEKIT_RETURN_IF_ERROR(opt_int_vector(op, m, "subset_idxs", 0, n - 1, &node.subset));
    if (node.subset.empty()) return fail(op, "custom option 'subset_idxs' is empty");
    FACEKIT_RETURN_IF_ERROR(need_matrix_output(op, y));
    node.in = {x};
    node.out = y;
    nodes_.push_back(std::move(node));
    return Status::ok();
  }

  Status lower_transform_tensor_bilinear(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], mt = op.inputs[1], y = op.outputs[0];
    FACEKIT_RETURN_IF_ERROR(need_nhwc(op, x, "input"));
    FACEKIT_RETURN_IF_ERROR(need_activation(op, mt, "matrix"));
    if (g_.tensors[std::size_t(mt)].elements != 16)
      return fail(op, strf("matrix '%s' has shape %s; expected a 4x4 matrix", tname(mt), shape_str(shape(mt)).c_str()));
    const auto& ys = shape(y);
    if (ys.size() != 4 || ys[0] != 1 || ys[3] != shape(x)[3])
      return fail(op, strf("output '%s' has shape %s; expected [1,OH,OW,%d]", tname(y), shape_str(ys).c_str(),
                           shape(x)[3]));
    // The kernel takes the size from the output tensor; the options, when present, must agree.
    if (op.custom_options_size > 0) {
      flexbuffers::Map m = flexbuffers::Map::EmptyMap();
      FACEKIT_RETURN_IF_ERROR(custom_map(op, &m));
      int32_t oh = 0, ow = 0;
      FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "output_height", 1, 1 << 16, &oh));
      FACEKIT_RETURN_IF_ERROR(opt_int(op, m, "output_width", 1, 1 << 16, &ow));
      if (oh != ys[1] || ow != ys[2])
        return fail(op, strf("custom options give an output of %d x %d, the output tensor '%s' is %s", oh, ow,
                             tname(y), shape_str(ys).c_str()));
    }
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    Node node = make_node(op, Kind::transform_tensor_bilinear);
    node.ttb.pixel_centers = 1;  // version 2
    node.in = {x, mt};
    node.out = y;
    nodes_.push_back(std::move(node));
    return Status::ok();
  }

  Status lower_transform_landmarks(const SourceOp& op) {
    FACEKIT_RETURN_IF_ERROR(need_inputs(op, 2, 2, 1));
    const int x = op.inputs[0], y = op.outputs[0];
    int mt = op.inputs[1];
    FACEKIT_RETURN_IF_ERROR(need_activation(op, x, "points"));
    int n = 0, d = 0;
    if (!points_shape(x, &n, &d) || (d != 2 && d != 3))
      return fail(op, strf("points '%s' have shape %s; expected [1,N,2] or [1,N,3]", tname(x),
                           shape_str(shape(x)).c_str()));
    if (g_.tensors[std::size_t(y)].shape != shape(x))
      return fail(op, strf("output '%s' has shape %s, the points %s", tname(y),
                           shape_str(g_.tensors[std::size_t(y)].shape).c_str(), shape_str(shape(x)).c_str()));
    // Version 2 has no options (dimensions come from the output, the scale is 1): any blob is ignored.
    Node node = make_node(op, Kind::transform_landmarks);
    auto f = matrix_factor_.find(mt);
    if (f != matrix_factor_.end()) {
      const std::vector<float>* kv = nullptr;
      FACEKIT_RETURN_IF_ERROR(const_floats(op, f->second.second, "matrix factor", &kv));
      node.factor = *kv;
      node.factor_src = f->second.second;
      node.name += "(MUL#" + std::to_string(producer_op_[std::size_t(mt)]) + ")";
      mt = f->second.first;
      ++stats_->matrix_factors_fused;
    }
    FACEKIT_RETURN_IF_ERROR(need_activation(op, mt, "matrix"));
    if (g_.tensors[std::size_t(mt)].elements != 16)
      return fail(op, strf("matrix '%s' has shape %s; expected a 4x4 matrix", tname(mt), shape_str(shape(mt)).c_str()));
    FACEKIT_RETURN_IF_ERROR(define_output(op, y));
    node.tl.translation_scale = 1.0f;
    node.in = {x, mt};
    node.out = y;
    nodes_.push_back(std::move(node));
    return Status::ok();
  }

  // MUL(matrix, constant of the same 16 elements) whose every reader is a TransformLandmarks
  // taking it as the matrix: it becomes those ops' factor input (the attention mesh scales its
  // crop matrices from the 16 x 16 crop to the heads' 64 x 64 frame this way).
  bool is_matrix_factor(const SourceOp& op, int x, int k) const {
    const int y = op.outputs[0];
    if (g_.tensors[std::size_t(x)].elements != 16 || g_.tensors[std::size_t(k)].elements != 16 ||
        g_.tensors[std::size_t(x)].shape != g_.tensors[std::size_t(k)].shape || graph_output_[std::size_t(y)] ||
        readers_[std::size_t(y)].empty())
      return false;
    for (int r : readers_[std::size_t(y)]) {
      const SourceOp& u = g_.ops[std::size_t(r)];
      if (u.builtin != kTfCustom || u.custom_code != kCustomTL || u.inputs.size() != 2 || u.inputs[1] != y ||
          u.inputs[0] == y)
        return false;
    }
    return true;
  }

  // ---- subgraph patterns ----------------------------------------------------------------------------
  void index_graph() {
    const std::size_t nt = g_.tensors.size();
    producer_op_.assign(nt, -1);
    readers_.assign(nt, {});
    pattern_of_.assign(g_.ops.size(), -1);
    for (const SourceOp& op : g_.ops) {
      if (!live_op_[std::size_t(op.index)]) continue;
      for (int t : op.outputs) producer_op_[std::size_t(t)] = op.index;
      for (int t : op.inputs) {
        if (t < 0) continue;
        auto& r = readers_[std::size_t(t)];
        if (r.empty() || r.back() != op.index) r.push_back(op.index);
      }
    }
  }

  // The only op reading t, if exactly one (live) op does and t is not a graph output.
  const SourceOp* sole_reader(int t) const {
    if (t < 0 || graph_output_[std::size_t(t)] || readers_[std::size_t(t)].size() != 1) return nullptr;
    return &g_.ops[std::size_t(readers_[std::size_t(t)][0])];
  }

  static bool is_op(const SourceOp* op, int builtin, std::size_t n_in) {
    if (!op || op->builtin != builtin || op->inputs.size() != n_in || op->outputs.size() != 1) return false;
    for (int t : op->inputs)
      if (t < 0) return false;
    return true;
  }

  static int other_operand(const SourceOp& op, int t) {
    return op.inputs[0] == t ? op.inputs[1] : op.inputs[1] == t ? op.inputs[0] : -1;
  }

  // Stored data, or the DEQUANTIZE of stored data (folded later, when the ops are lowered).
  bool source_constant(int t) const {
    if (t < 0) return false;
    if (g_.tensors[std::size_t(t)].has_data) return true;
    const int p = producer_op_[std::size_t(t)];
    if (p < 0) return false;
    const SourceOp& op = g_.ops[std::size_t(p)];
    return op.builtin == kTfDequantize && op.inputs.size() == 1 && op.inputs[0] >= 0 &&
           g_.tensors[std::size_t(op.inputs[0])].has_data;
  }

  // MEAN/SUM over one constant axis with the reduced dim kept (the reader does not decode
  // keep_dims; the output shape tells). Returns the axis, or -1.
  int single_axis_reduction(const SourceOp& op) const {
    if (op.inputs.size() != 2 || op.outputs.size() != 1 || op.inputs[0] < 0 || op.inputs[1] < 0) return -1;
    const auto& xs = g_.tensors[std::size_t(op.inputs[0])].shape;
    const auto& ys = g_.tensors[std::size_t(op.outputs[0])].shape;
    const SourceTensor& at = g_.tensors[std::size_t(op.inputs[1])];
    std::vector<int64_t> ax;
    if (!at.has_data || at.elements != 1 || !constant_as_ints(g_, op.inputs[1], &ax) || ax.size() != 1) return -1;
    const int64_t rank = int64_t(xs.size());
    const int64_t a = ax[0] < 0 ? ax[0] + rank : ax[0];
    if (a < 0 || a >= rank || ys.size() != xs.size()) return -1;
    for (std::size_t d = 0; d < xs.size(); ++d)
      if (ys[d] != (int64_t(d) == a ? 1 : xs[d])) return -1;
    return int(a);
  }

  void match_patterns() {
    for (const SourceOp& op : g_.ops) {
      if (!live_op_[std::size_t(op.index)] || op.builtin != kTfMean || pattern_of_[std::size_t(op.index)] >= 0)
        continue;
      Pattern p;
      if (!match_layer_norm(op, &p) && !match_point_normalize(op, &p)) continue;
      bool free = true;
      for (int i : p.ops) free = free && pattern_of_[std::size_t(i)] < 0;
      if (!free) continue;
      std::sort(p.ops.begin(), p.ops.end());
      for (int i : p.ops) pattern_of_[std::size_t(i)] = int(patterns_.size());
      patterns_.push_back(std::move(p));
    }
  }

  // Keras LayerNormalization as TFLite stores it (over the last axis, gamma/beta optional):
  //   mu = MEAN(x); var = MEAN(SQUARED_DIFFERENCE(x, mu)); g = RSQRT(var + eps) [* gamma]
  //   y = x * g + NEG(mu) * g               (no beta)
  //   y = x * g + (beta - mu * g)           (beta)
  bool match_layer_norm(const SourceOp& m0, Pattern* out) const {
    const int x = m0.inputs[0], mu = m0.outputs[0];
    const auto& xs = g_.tensors[std::size_t(x)].shape;
    if (xs.empty() || single_axis_reduction(m0) != int(xs.size()) - 1) return false;
    const int C = xs.back();
    if (graph_output_[std::size_t(mu)] || readers_[std::size_t(mu)].size() != 2) return false;
    const SourceOp *sd = nullptr, *neg = nullptr, *mmu = nullptr;
    for (int r : readers_[std::size_t(mu)]) {
      const SourceOp& op = g_.ops[std::size_t(r)];
      if (is_op(&op, kTfSquaredDifference, 2) && other_operand(op, mu) == x)
        sd = &op;
      else if (is_op(&op, kTfNeg, 1))
        neg = &op;
      else if (is_op(&op, kTfMul, 2))
        mmu = &op;
    }
    if (!sd || (neg != nullptr) == (mmu != nullptr)) return false;
    const SourceOp* m1 = sole_reader(sd->outputs[0]);
    if (!is_op(m1, kTfMean, 2) || m1->inputs[0] != sd->outputs[0] || single_axis_reduction(*m1) != int(xs.size()) - 1)
      return false;
    const SourceOp* add_eps = sole_reader(m1->outputs[0]);
    if (!is_op(add_eps, kTfAdd, 2) || add_eps->options.activation != kTfActNone) return false;
    const int eps = other_operand(*add_eps, m1->outputs[0]);
    if (!source_constant(eps) || g_.tensors[std::size_t(eps)].elements != 1) return false;
    const SourceOp* rs = sole_reader(add_eps->outputs[0]);
    if (!is_op(rs, kTfRsqrt, 1)) return false;
    std::vector<int> members = {m0.index, sd->index, m1->index, add_eps->index, rs->index};
    int g = rs->outputs[0], gamma = -1;
    const SourceOp* mg = sole_reader(g);
    if (is_op(mg, kTfMul, 2) && source_constant(other_operand(*mg, g))) {
      gamma = other_operand(*mg, g);
      if (!is_channel_constant(gamma, C) || mg->options.activation != kTfActNone) return false;
      members.push_back(mg->index);
      g = mg->outputs[0];
    }
    const int mean_side = neg ? neg->outputs[0] : mu;
    if (graph_output_[std::size_t(g)] || readers_[std::size_t(g)].size() != 2) return false;
    const SourceOp *mx = nullptr, *mm = nullptr;
    for (int r : readers_[std::size_t(g)]) {
      const SourceOp& op = g_.ops[std::size_t(r)];
      if (!is_op(&op, kTfMul, 2) || op.options.activation != kTfActNone) return false;
      const int o = other_operand(op, g);
      if (o == x) mx = &op;
      else if (o == mean_side) mm = &op;
    }
    if (!mx || !mm) return false;
    int shift = mm->outputs[0], beta = -1;
    if (neg) {
      if (neg->inputs[0] != mu || sole_reader(neg->outputs[0]) != mm) return false;
      members.push_back(neg->index);
    } else {
      const SourceOp* sub = sole_reader(shift);
      if (mmu != mm || !is_op(sub, kTfSub, 2) || sub->inputs[1] != shift) return false;
      beta = sub->inputs[0];
      if (!source_constant(beta) || !is_channel_constant(beta, C)) return false;
      members.push_back(sub->index);
      shift = sub->outputs[0];
    }
    members.push_back(mx->index);
    members.push_back(mm->index);
    const SourceOp* fin = sole_reader(mx->outputs[0]);
    if (!is_op(fin, kTfAdd, 2) || fin->options.activation != kTfActNone || sole_reader(shift) != fin ||
        other_operand(*fin, shift) != mx->outputs[0] || g_.tensors[std::size_t(fin->outputs[0])].shape != xs)
      return false;
    members.push_back(fin->index);
    out->kind = Kind::layer_norm;
    out->ops = members;
    out->x = x;
    out->y = fin->outputs[0];
    out->gamma = gamma;
    out->beta = beta;
    out->eps = eps;
    return true;
  }

  // The blendshape input normalisation over the points axis (rank-2) of x = [.., N, D]:
  //   c = x - MEAN(x); d = MEAN(SQRT(SUM(c * c, last axis))); y = c / d
  bool match_point_normalize(const SourceOp& m0, Pattern* out) const {
    const int x = m0.inputs[0];
    const auto& xs = g_.tensors[std::size_t(x)].shape;
    const int rank = int(xs.size());
    if (rank < 2 || single_axis_reduction(m0) != rank - 2) return false;
    const SourceOp* sub = sole_reader(m0.outputs[0]);
    if (!is_op(sub, kTfSub, 2) || sub->inputs[0] != x || sub->inputs[1] != m0.outputs[0]) return false;
    const int c = sub->outputs[0];
    if (graph_output_[std::size_t(c)] || readers_[std::size_t(c)].size() != 2) return false;
    const SourceOp *sq = nullptr, *div = nullptr;
    for (int r : readers_[std::size_t(c)]) {
      const SourceOp& op = g_.ops[std::size_t(r)];
      if (is_op(&op, kTfMul, 2) && op.inputs[0] == c && op.inputs[1] == c && op.options.activation == kTfActNone)
        sq = &op;
      else if (is_op(&op, kTfDiv, 2) && op.inputs[0] == c)
        div = &op;
    }
    if (!sq || !div) return false;
    const SourceOp* sum = sole_reader(sq->outputs[0]);
    if (!is_op(sum, kTfSum, 2) || single_axis_reduction(*sum) != rank - 1) return false;
    const SourceOp* rt = sole_reader(sum->outputs[0]);
    if (!is_op(rt, kTfSqrt, 1)) return false;
    const SourceOp* m1 = sole_reader(rt->outputs[0]);
    if (!is_op(m1, kTfMean, 2) || single_axis_reduction(*m1) != rank - 2) return false;
    if (sole_reader(m1->outputs[0]) != div || div->inputs[1] != m1->outputs[0] ||
        g_.tensors[std::size_t(div->outputs[0])].shape != xs)
      return false;
    out->kind = Kind::point_normalize;
    out->ops = {m0.index, sub->index, sq->index, sum->index, rt->index, m1->index, div->index};
    out->x = x;
    out->y = div->outputs[0];
    return true;
  }

  Status lower_pattern(const Pattern& p, const SourceOp& last) {
    const int x = p.x;
    if (transposed_[std::size_t(x)])
      return fail(last, strf("input '%s' is a transposed view, which a normalisation cannot read", tname(x)));
    const int xr = alias_[std::size_t(x)];
    FACEKIT_RETURN_IF_ERROR(need_activation(last, xr, "input"));
    FACEKIT_RETURN_IF_ERROR(define_output(last, p.y));
    Node n;
    n.kind = p.kind;
    n.src = p.ops.front();
    for (int i : p.ops) {
      const SourceOp& op = g_.ops[std::size_t(i)];
      n.name += (n.name.empty() ? "" : "+") + op.type_name + "#" + std::to_string(op.index);
    }
    if (p.kind == Kind::layer_norm) {
      const std::vector<float>* v = nullptr;
      FACEKIT_RETURN_IF_ERROR(const_floats(last, p.eps, "epsilon", &v));
      n.eps = (*v)[0];
      if (!(n.eps >= 0.0f) || !std::isfinite(n.eps))
        return fail(last, strf("epsilon '%s' is %g; expected a finite value >= 0", tname(p.eps), double(n.eps)));
      if (p.gamma >= 0) {
        FACEKIT_RETURN_IF_ERROR(const_floats(last, p.gamma, "gamma", &v));
        n.gamma = *v;
        n.gamma_src = p.gamma;
      }
      if (p.beta >= 0) {
        FACEKIT_RETURN_IF_ERROR(const_floats(last, p.beta, "beta", &v));
        n.beta = *v;
        n.beta_src = p.beta;
      }
      ++stats_->layer_norms_fused;
    } else {
      const auto& xs = shape(xr);
      for (std::size_t d = 0; d + 2 < xs.size(); ++d)
        if (xs[d] != 1) return fail(last, strf("points '%s' %s: leading dimensions must be 1", tname(x),
                                               shape_str(xs).c_str()));
      if (xs.back() > 4)
        return fail(last, strf("points '%s' have %d coordinates; at most 4 are supported", tname(x), xs.back()));
      ++stats_->point_normalizations_fused;
    }
    return emit(std::move(n), {xr}, p.y);
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
        const bool token = p && p->kind == Kind::token_dense;
        if (!(is_conv(p) || token) || p->act != Activation::none || p->residual >= 0 || uses(t) != 1) continue;
        if (shape(t) != shape(n.out)) continue;  // the conv must produce the full-width operand
        // token_dense adds a residual of its own shape only, and has no PReLU.
        if (token && (shape(n.in[std::size_t(1 - k)]) != shape(n.out) || n.act == Activation::prelu)) continue;
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
    std::vector<uint8_t> needed(tensor_count(), 0);
    for (int t : outputs_) needed[std::size_t(t)] = 1;
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

  // ---- row pruning ------------------------------------------------------------------------------
  // The blendshape head keeps one token (row) of the last mixer block's [1,1,T,C] output, so most
  // of that block need not run. A backward sweep finds, per [1,1,R,C] tensor, the rows its readers
  // need: a row-wise op (layer_norm, add, mul, relu, logistic, pointwise conv2d; any residual)
  // needs the rows of its output, a row slice those rows shifted, a token_dense all of its x, any
  // other op everything. A row-wise op, token_dense (through a slice of its weights) or row slice
  // whose output needs fewer rows then computes only those; where an input holds more rows than
  // its reader takes, a slice node cuts them out.
  struct RowRange {
    int lo = 0, hi = -1;  // hi < 0: nothing needed (yet)
  };

  std::size_t tensor_count() const { return g_.tensors.size() + extra_names_.size(); }
  std::string tensor_name(int t) const {
    return std::size_t(t) < g_.tensors.size() ? g_.tensors[std::size_t(t)].name
                                              : extra_names_[std::size_t(t) - g_.tensors.size()];
  }

  // [1,1,R,C]: R rows.
  bool row_shaped(int t, int* rows) const {
    const auto& s = shape(t);
    if (s.size() != 4 || s[0] != 1 || s[1] != 1) return false;
    *rows = s[2];
    return true;
  }

  // n's ordinary inputs hold the rows of its output (row-shaped tensors assumed).
  static bool row_wise(const Node& n) {
    switch (n.kind) {
      case Kind::layer_norm:
      case Kind::add:
      case Kind::mul:
      case Kind::relu:
      case Kind::logistic: return true;
      case Kind::conv2d:
        return n.conv.kernel_h == 1 && n.conv.kernel_w == 1 && n.conv.stride_h == 1 && n.conv.stride_w == 1 &&
               n.conv.pad_top == 0 && n.conv.pad_left == 0 && n.conv.pad_bottom == 0 && n.conv.pad_right == 0;
      default: return false;
    }
  }

  // A slice of whole rows of a [1,1,R,C] tensor.
  bool row_slice(const Node& n) const {
    int ro = 0, ri = 0;
    return n.kind == Kind::slice && row_shaped(n.out, &ro) && row_shaped(n.in[0], &ri) && n.slice.begin[0] == 0 &&
           n.slice.begin[1] == 0 && n.slice.begin[3] == 0 && shape(n.out)[3] == shape(n.in[0])[3];
  }

  // How input t of n (its residual if `residual`) relates to n's rows: 0 all rows of t are read,
  // 1 the output's rows, 2 the output's rows shifted by the slice's begin.
  int row_relation(const Node& n, int t, bool residual) const {
    int ro = 0, ri = 0;
    if (!row_shaped(n.out, &ro) || !row_shaped(t, &ri)) return 0;
    if (residual) return ro == ri && (n.kind == Kind::conv2d || n.kind == Kind::token_dense) ? 1 : 0;
    if (row_slice(n)) return 2;
    return ro == ri && row_wise(n) ? 1 : 0;
  }

  bool can_prune(const Node& n) const { return row_wise(n) || n.kind == Kind::token_dense || row_slice(n); }

  void prune_rows() {
    std::vector<RowRange> need(tensor_count());
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
      if (row_shaped(t, &rows)) want(t, 0, rows);
    };
    for (int t : outputs_) want_all(t);
    for (std::size_t i = nodes_.size(); i-- > 0;) {  // topologically sorted: readers come first
      const Node& n = nodes_[i];
      int ro = 0;
      if (n.dead) continue;
      if (!row_shaped(n.out, &ro)) {
        for (int t : n.in) want_all(t);
        if (n.residual >= 0) want_all(n.residual);
        continue;
      }
      if (need[std::size_t(n.out)].hi < 0) continue;  // unread: remove_dead drops it
      if (!can_prune(n)) want_all(n.out);
      const RowRange d = need[std::size_t(n.out)];
      for (std::size_t k = 0; k <= n.in.size(); ++k) {
        const bool res = k == n.in.size();
        const int t = res ? n.residual : n.in[k];
        if (t < 0) continue;
        const int rel = row_relation(n, t, res);
        if (rel == 1) want(t, d.lo, d.hi);
        else if (rel == 2) want(t, d.lo + n.slice.begin[2], d.hi + n.slice.begin[2]);
        else want_all(t);
      }
    }
    for (int t : g_.inputs) want_all(t);  // from here on, need[t] = the rows t holds
    std::vector<Node> out;
    for (Node& n : nodes_) {
      int ro = 0;
      if (n.dead || !row_shaped(n.out, &ro) || need[std::size_t(n.out)].hi < 0) {
        out.push_back(std::move(n));
        continue;
      }
      const RowRange d = need[std::size_t(n.out)];
      // Relations are taken before any shape changes (an input may already be pruned).
      std::vector<int> rel(n.in.size() + 1, 0);
      for (std::size_t k = 0; k <= n.in.size(); ++k) {
        const int t = k == n.in.size() ? n.residual : n.in[k];
        if (t >= 0) rel[k] = row_relation(n, t, k == n.in.size());
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
        sl.kind = Kind::slice;
        sl.src = n.src;
        sl.name = n.name + "/rows";
        sl.slice = SliceParams{{0, 0, d.lo - h.lo, 0}};
        sl.in = {t};
        sl.out = int(tensor_count());
        extra_names_.push_back(tensor_name(t) + strf("/rows_%d_%d", d.lo, d.hi));
        std::vector<int32_t> s = shape(t);
        s[2] = d.hi - d.lo;
        stored_shape_[sl.out] = s;
        need.push_back(d);
        t = sl.out;
        out.push_back(std::move(sl));
      }
      if (d.lo != 0 || d.hi != ro) {
        if (n.kind == Kind::token_dense) {
          n.row_lo = d.lo;
          n.row_hi = d.hi;
        }
        std::vector<int32_t> s = shape(n.out);
        s[2] = d.hi - d.lo;
        stored_shape_[n.out] = s;
        ++stats_->rows_pruned_ops;
      }
      out.push_back(std::move(n));
    }
    nodes_ = std::move(out);
  }

  // ---- output graph -----------------------------------------------------------------------------
  uint32_t activation_id(int t) {
    auto it = act_ids_.find(t);
    if (it != act_ids_.end()) return it->second;
    OutTensor ot;
    ot.name = tensor_name(t);
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

  uint32_t alpha_id(const Node& n) { return channel_vector_id(n.alpha_src, n.alpha); }

  // transform_landmarks' matrix factor: one plain constant per source tensor.
  uint32_t factor_id(const Node& n) {
    auto it = factor_ids_.find(n.factor_src);
    if (it != factor_ids_.end()) return it->second;
    const uint32_t id = add_constant(g_.tensors[std::size_t(n.factor_src)].name, shape(n.factor_src),
                                     format::Layout::plain, n.factor);
    factor_ids_.emplace(n.factor_src, id);
    return id;
  }

  // A per-channel constant (PReLU slopes, mul factors, layer norm gamma/beta), channel_padded.
  uint32_t channel_vector_id(int src, const std::vector<float>& v) {
    // Keyed by channel count too: a single-slope alpha expands to each user's width.
    const auto key = std::make_pair(src, int(v.size()));
    auto it = alpha_ids_.find(key);
    if (it != alpha_ids_.end()) return it->second;
    std::vector<float> packed(kernels::f32_channel_padded_size(int(v.size())));
    kernels::pack_f32_channel_padded(v.data(), int(v.size()), packed.data());
    const uint32_t id = add_constant(g_.tensors[std::size_t(src)].name, {int32_t(v.size())},
                                     format::Layout::channel_padded, std::move(packed));
    alpha_ids_.emplace(key, id);
    return id;
  }

  uint32_t weights_id(const Node& n) {
    const auto key = std::make_tuple(n.filter, n.bias, n.row_lo, n.row_hi);
    auto it = weight_ids_.find(key);
    if (it != weight_ids_.end()) return it->second;
    std::vector<int32_t> ws = shape(n.filter);
    const float* w = values_[std::size_t(n.filter)].data();
    const float* b = n.bias >= 0 ? values_[std::size_t(n.bias)].data() : nullptr;
    std::string name = g_.tensors[std::size_t(n.filter)].name;
    if (n.row_hi >= 0) {  // token_dense rows [row_lo, row_hi) only (prune_rows)
      w += std::size_t(n.row_lo) * std::size_t(ws[1]) * std::size_t(ws[2]) * std::size_t(ws[3]);
      if (b) b += n.row_lo;
      ws[0] = n.row_hi - n.row_lo;
      name += strf("/rows_%d_%d", n.row_lo, n.row_hi);
    }
    std::vector<float> packed;
    uint32_t id;
    if (n.kind == Kind::conv2d || n.kind == Kind::token_dense) {  // token_dense: [O,1,1,T], a 1x1 conv's layout
      packed.resize(kernels::f32_conv2d_packed_size(ws[0], ws[1], ws[2], ws[3]));
      kernels::pack_f32_conv2d(w, b, ws[0], ws[1], ws[2], ws[3], packed.data());
      id = add_constant(name, ws, format::Layout::conv2d_oc_tile, std::move(packed));
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
        case Kind::token_dense:
          op.type = OpType::token_dense;
          op.params = OpParams::from(TokenDenseParams{n.act});
          op.inputs = {activation_id(n.in[0]), weights_id(n)};
          if (n.residual >= 0) op.inputs.push_back(activation_id(n.residual));
          break;
        case Kind::layer_norm:
          op.type = OpType::layer_norm;
          op.params = OpParams::from(LayerNormParams{n.eps});
          op.inputs = {activation_id(n.in[0]), n.gamma_src >= 0 ? channel_vector_id(n.gamma_src, n.gamma) : kNoTensor};
          if (n.beta_src >= 0) op.inputs.push_back(channel_vector_id(n.beta_src, n.beta));
          if (n.gamma_src < 0 && n.beta_src < 0) op.inputs.pop_back();
          break;
        case Kind::point_normalize:
          op.type = OpType::point_normalize;
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::mul:
          op.type = OpType::mul;
          op.inputs = {activation_id(n.in[0]), alpha_id(n)};
          break;
        case Kind::slice:
          op.type = OpType::slice;
          op.params = OpParams::from(n.slice);
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::copy:
          op.type = OpType::copy;
          op.inputs = {add_constant(g_.tensors[std::size_t(n.const_src)].name, shape(n.const_src),
                                    format::Layout::plain, values_[std::size_t(n.const_src)])};
          break;
        case Kind::landmarks_to_transform_matrix:
          op.type = OpType::landmarks_to_transform_matrix;
          op.params = OpParams::from(n.l2t);
          op.inputs = {activation_id(n.in[0]), add_constant(n.name + "/subset_idxs", {int32_t(n.subset.size())},
                                                            format::Layout::plain, n.subset)};
          break;
        case Kind::transform_tensor_bilinear:
          op.type = OpType::transform_tensor_bilinear;
          op.params = OpParams::from(n.ttb);
          op.inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
          break;
        case Kind::transform_landmarks:
          op.type = OpType::transform_landmarks;
          op.params = OpParams::from(n.tl);
          op.inputs = {activation_id(n.in[0]), activation_id(n.in[1])};
          if (n.factor_src >= 0) op.inputs.push_back(factor_id(n));
          break;
        case Kind::resize_bilinear:
          op.type = OpType::resize_bilinear;
          op.params = OpParams::from(n.resize);
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::depth_to_space:
          op.type = OpType::depth_to_space;
          op.params = OpParams::from(n.d2s);
          op.inputs = {activation_id(n.in[0])};
          break;
        case Kind::relu6:
          return fail_model(strf("internal error: %s was not fused", n.name.c_str()));
      }
      op.outputs = {activation_id(n.out)};
      out_.ops.push_back(std::move(op));
    }
    for (int t : outputs_) out_.outputs.push_back(activation_id(t));
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
  std::map<std::pair<int, int>, uint32_t> alpha_ids_;
  std::map<std::tuple<int, int, int, int>, uint32_t> weight_ids_;
  std::vector<std::string> extra_names_;  // tensors made by prune_rows: ids g_.tensors.size() + k
  // MLP-Mixer support. A TRANSPOSE of the last two dims emits nothing: its output becomes a view,
  // alias_[t] naming the tensor that holds the data and transposed_[t] saying whether t is the
  // transpose of what that tensor stores.
  std::vector<int> alias_;
  std::vector<uint8_t> transposed_;
  std::map<int, std::vector<int32_t>> stored_shape_;  // tensors stored in another shape than TFLite's
  std::vector<int> outputs_;                          // graph outputs after aliasing
  std::set<int> materialised_;                        // constants a copy op turned into activations
  std::vector<int> producer_op_;                      // per tensor: the live source op writing it
  std::vector<std::vector<int>> readers_;             // per tensor: live source ops reading it
  std::vector<Pattern> patterns_;
  std::vector<int> pattern_of_;                       // per source op: its pattern, or -1
  std::map<int, std::pair<int, int>> matrix_factor_;  // MUL output -> (matrix, constant factor), see is_matrix_factor
  std::map<int, uint32_t> factor_ids_;
};

}  // namespace

Expected<OutModel> lower_graph(const SourceGraph& g, LoweringStats* stats) {
  LoweringStats local;
  Lowering l(g, stats ? stats : &local);
  return l.run();
}

}  // namespace convert
}  // namespace facekit
