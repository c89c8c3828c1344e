// The converter (.tflite / .task -> .fkm): every shared model converts or fails naming the op,
// damaged inputs give clear errors, and a converted graph computes what the TFLite graph computes
// (two naive reference evaluators, one per graph, compared on random inputs).
#ifdef FACEKIT_HAVE_CONVERTER

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "convert/converter.hpp"
#include "convert/model_info.hpp"
#include "convert/task_bundle.hpp"
#include "convert/tflite_reader.hpp"
#include "facekit/kernels/pack.hpp"
#include "facekit/model/model.hpp"
#include "test_util.hpp"
#include "tflite_subset_generated.h"

using namespace facekit;
using namespace facekit::convert;
namespace fs = std::filesystem;
namespace tfl = facekit::tflite;

namespace {

using test_util::original_model_path;
using test_util::read_original_model;

/// The tests that hand the converter a path check first that the originals are there.
void require_models() {
  REQUIRE_MESSAGE(fs::exists(original_model_path("face_landmarker.task")),
                  original_model_path("face_landmarker.task") << " is missing: " << test_util::kFetchModels);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path = fs::temp_directory_path() / ("facekit_test_" + tag + "_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// The named member of the .task bundle (read with the converter's own zip reader).
std::vector<uint8_t> task_member(const std::string& name) {
  Expected<std::vector<BundleMember>> members = read_task_bundle(original_model_path("face_landmarker.task"));
  REQUIRE_MESSAGE(members, members.status().message());
  for (BundleMember& m : *members)
    if (m.name == name) return std::move(m.bytes);
  FAIL("no member " << name);
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// =================================================================================================
// Reference evaluation. Both evaluators are deliberately naive and share only the convolution
// loop (explicit padding, no layout tricks): the TFLite side derives its padding from SAME/VALID
// and reads the original weights; the facekit side reads the packed weights through the
// documented layouts. Agreement checks the lowering, the fusions and the packing.
// =================================================================================================

struct Act {
  std::vector<int> shape;
  std::vector<float> v;
};

struct ConvGeom {
  int kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};

// x: NHWC [1,H,W,C]; w: OHWI (dense) or [KH][KW][C] (depthwise); returns conv + bias.
Act ref_conv(const Act& x, const std::vector<float>& w, const std::vector<float>& bias, int out_c, const ConvGeom& g,
             bool depthwise) {
  const int H = x.shape[1], W = x.shape[2], C = x.shape[3];
  const int oh = (H + g.pt + g.pb - ((g.kh - 1) * g.dh + 1)) / g.sh + 1;
  const int ow = (W + g.pl + g.pr - ((g.kw - 1) * g.dw + 1)) / g.sw + 1;
  Act y{{1, oh, ow, out_c}, std::vector<float>(std::size_t(oh) * ow * out_c)};
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int o = 0; o < out_c; ++o) {
        double acc = bias.empty() ? 0.0 : bias[std::size_t(o)];
        for (int ky = 0; ky < g.kh; ++ky) {
          const int iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= H) continue;
          for (int kx = 0; kx < g.kw; ++kx) {
            const int ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= W) continue;
            const float* px = &x.v[(std::size_t(iy) * W + ix) * C];
            if (depthwise) {
              acc += double(px[o]) * w[(std::size_t(ky) * g.kw + kx) * C + std::size_t(o)];
            } else {
              const float* pw = &w[((std::size_t(o) * g.kh + ky) * g.kw + kx) * C];
              for (int c = 0; c < C; ++c) acc += double(px[c]) * pw[c];
            }
          }
        }
        y.v[(std::size_t(oy) * ow + ox) * out_c + std::size_t(o)] = float(acc);
      }
  return y;
}

Act ref_maxpool(const Act& x, int kh, int kw, int sh, int sw, int pt, int pl, int oh, int ow) {
  const int H = x.shape[1], W = x.shape[2], C = x.shape[3];
  Act y{{1, oh, ow, C}, std::vector<float>(std::size_t(oh) * ow * C)};
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int c = 0; c < C; ++c) {
        float m = -INFINITY;
        for (int ky = 0; ky < kh; ++ky)
          for (int kx = 0; kx < kw; ++kx) {
            const int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) m = std::max(m, x.v[(std::size_t(iy) * W + ix) * C + c]);
          }
        y.v[(std::size_t(oy) * ow + ox) * C + c] = m;
      }
  return y;
}

float ref_act(float v, Activation a, float alpha) {
  switch (a) {
    case Activation::relu: return std::max(v, 0.0f);
    case Activation::relu6: return std::min(std::max(v, 0.0f), 6.0f);
    case Activation::prelu: return v >= 0.0f ? v : v * alpha;
    default: return v;
  }
}

void apply_act(Act* y, Activation a, const float* alpha) {
  const std::size_t C = std::size_t(y->shape.back());
  for (std::size_t i = 0; i < y->v.size(); ++i) y->v[i] = ref_act(y->v[i], a, alpha ? alpha[i % C] : 0.0f);
}

Act ref_pad(const Act& x, const std::vector<int>& before, const std::vector<int>& oshape) {
  Act y{oshape, std::vector<float>()};
  std::size_t n = 1;
  for (int d : oshape) n *= std::size_t(d);
  y.v.assign(n, 0.0f);
  const int rank = int(x.shape.size());
  std::vector<int> idx(std::size_t(rank), 0);
  for (std::size_t i = 0; i < x.v.size(); ++i) {
    std::size_t rem = i, off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      idx[std::size_t(d)] = int(rem % std::size_t(x.shape[std::size_t(d)]));
      rem /= std::size_t(x.shape[std::size_t(d)]);
    }
    for (int d = 0; d < rank; ++d) off = off * std::size_t(oshape[std::size_t(d)]) + std::size_t(idx[std::size_t(d)] + before[std::size_t(d)]);
    y.v[off] = x.v[i];
  }
  return y;
}

Act ref_concat(const std::vector<const Act*>& xs, int axis, const std::vector<int>& oshape) {
  Act y{oshape, {}};
  std::size_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= std::size_t(oshape[std::size_t(d)]);
  for (std::size_t o = 0; o < outer; ++o)
    for (const Act* x : xs) {
      const std::size_t chunk = x->v.size() / outer;
      y.v.insert(y.v.end(), x->v.begin() + std::ptrdiff_t(o * chunk), x->v.begin() + std::ptrdiff_t((o + 1) * chunk));
    }
  return y;
}

std::vector<int> to_int(const std::vector<int32_t>& s) { return std::vector<int>(s.begin(), s.end()); }

// TFLite's SAME/VALID rule, written independently of the converter.
void tf_pad(int padding, int in, int k, int s, int d, int* before, int* after) {
  const int ext = (k - 1) * d + 1;
  if (padding == kTfPadValid) {
    *before = *after = 0;
    return;
  }
  const int out = (in + s - 1) / s;
  const int total = std::max(0, (out - 1) * s + ext - in);
  *before = total / 2;
  *after = total - total / 2;
}

Activation tf_act(int a) {
  return a == kTfActRelu ? Activation::relu : a == kTfActRelu6 ? Activation::relu6 : Activation::none;
}

std::vector<std::vector<float>> run_tflite_reference(const SourceGraph& g, const std::vector<float>& input) {
  std::map<int, Act> v;
  std::map<int, std::vector<float>> consts;
  auto cf = [&](int t) -> const std::vector<float>& {
    auto it = consts.find(t);
    if (it != consts.end()) return it->second;
    std::vector<float> f;
    REQUIRE(constant_as_floats(g, t, &f).is_ok());
    return consts[t] = f;
  };
  v[g.inputs[0]] = Act{to_int(g.tensors[std::size_t(g.inputs[0])].shape), input};
  for (const SourceOp& op : g.ops) {
    const int y = op.outputs[0];
    const std::vector<int> ys = to_int(g.tensors[std::size_t(y)].shape);
    const SourceOptions& o = op.options;
    switch (op.builtin) {
      case kTfDequantize: consts[y] = cf(op.inputs[0]); continue;
      case kTfConv2d:
      case kTfDepthwiseConv2d: {
        const bool dw = op.builtin == kTfDepthwiseConv2d;
        const Act& x = v.at(op.inputs[0]);
        const auto& ws = g.tensors[std::size_t(op.inputs[1])].shape;
        ConvGeom geo{ws[1], ws[2], o.stride_h, o.stride_w, o.dilation_h, o.dilation_w, 0, 0, 0, 0};
        tf_pad(o.padding, x.shape[1], geo.kh, geo.sh, geo.dh, &geo.pt, &geo.pb);
        tf_pad(o.padding, x.shape[2], geo.kw, geo.sw, geo.dw, &geo.pl, &geo.pr);
        const std::vector<float> none;
        const std::vector<float>& bias = op.inputs.size() > 2 && op.inputs[2] >= 0 ? cf(op.inputs[2]) : none;
        Act r = ref_conv(x, cf(op.inputs[1]), bias, dw ? ws[3] : ws[0], geo, dw);
        apply_act(&r, tf_act(o.activation), nullptr);
        v[y] = std::move(r);
        break;
      }
      case kTfMaxPool2d: {
        const Act& x = v.at(op.inputs[0]);
        int pt, pb, pl, pr;
        tf_pad(o.padding, x.shape[1], o.filter_h, o.stride_h, 1, &pt, &pb);
        tf_pad(o.padding, x.shape[2], o.filter_w, o.stride_w, 1, &pl, &pr);
        v[y] = ref_maxpool(x, o.filter_h, o.filter_w, o.stride_h, o.stride_w, pt, pl, ys[1], ys[2]);
        break;
      }
      case kTfAdd: {
        Act r = v.at(op.inputs[0]);
        const Act& b = v.at(op.inputs[1]);
        for (std::size_t i = 0; i < r.v.size(); ++i) r.v[i] += b.v[i];
        apply_act(&r, tf_act(o.activation), nullptr);
        v[y] = std::move(r);
        break;
      }
      case kTfRelu:
      case kTfRelu6: {
        Act r = v.at(op.inputs[0]);
        apply_act(&r, op.builtin == kTfRelu ? Activation::relu : Activation::relu6, nullptr);
        v[y] = std::move(r);
        break;
      }
      case kTfPrelu: {
        Act r = v.at(op.inputs[0]);
        const std::vector<float>& al = cf(op.inputs[1]);
        for (std::size_t i = 0; i < r.v.size(); ++i) r.v[i] = ref_act(r.v[i], Activation::prelu, al[i % al.size()]);
        v[y] = std::move(r);
        break;
      }
      case kTfLogistic: {
        Act r = v.at(op.inputs[0]);
        for (float& f : r.v) f = 1.0f / (1.0f + std::exp(-f));
        v[y] = std::move(r);
        break;
      }
      case kTfReshape: v[y] = Act{ys, v.at(op.inputs[0]).v}; break;
      case kTfConcatenation: {
        std::vector<const Act*> xs;
        for (int t : op.inputs) xs.push_back(&v.at(t));
        v[y] = ref_concat(xs, o.axis < 0 ? o.axis + int(ys.size()) : o.axis, ys);
        break;
      }
      case kTfPad: {
        std::vector<int64_t> p;
        REQUIRE(constant_as_ints(g, op.inputs[1], &p).is_ok());
        std::vector<int> before;
        for (std::size_t d = 0; d < p.size() / 2; ++d) before.push_back(int(p[2 * d]));
        v[y] = ref_pad(v.at(op.inputs[0]), before, ys);
        break;
      }
      default: FAIL("reference: unsupported op " << op.type_name);
    }
  }
  std::vector<std::vector<float>> outs;
  for (int t : g.outputs) outs.push_back(v.at(t).v);
  return outs;
}

// Unpacks conv2d_oc_tile / dwconv2d_c_tile weights as docs/model-format.md describes them.
void unpack_conv(const TensorInfo& t, bool dw, std::vector<float>* w, std::vector<float>* bias) {
  const int T = kPackTile;
  const int O = dw ? t.dims[3] : t.dims[0], KH = t.dims[1], KW = t.dims[2], I = dw ? 1 : t.dims[3];
  const std::size_t taps = std::size_t(KH) * KW * I;
  const float* p = t.f32();
  w->assign(std::size_t(O) * taps, 0.0f);
  bias->assign(std::size_t(O), 0.0f);
  for (int o = 0; o < O; ++o) {
    const float* tile = p + std::size_t(o / T) * T * (1 + taps);
    (*bias)[std::size_t(o)] = tile[o % T];
    for (std::size_t k = 0; k < taps; ++k) {
      const float val = tile[T + k * T + std::size_t(o % T)];
      if (dw)
        (*w)[k * std::size_t(O) + std::size_t(o)] = val;  // [KH][KW][C]
      else
        (*w)[std::size_t(o) * taps + k] = val;  // OHWI
    }
  }
}

std::vector<std::vector<float>> run_fkm_reference(const Model& m, const std::vector<float>& input) {
  std::map<uint32_t, Act> v;
  auto shape_of = [&](uint32_t t) {
    const TensorInfo& ti = m.tensor(t);
    return std::vector<int>(ti.dims, ti.dims + ti.rank);
  };
  v[m.inputs()[0]] = Act{shape_of(m.inputs()[0]), input};
  for (const OpInfo& op : m.ops()) {
    const uint32_t y = op.outputs[0];
    const std::vector<int> ys = shape_of(y);
    switch (op.type) {
      case OpType::conv2d:
      case OpType::dwconv2d: {
        const bool dw = op.type == OpType::dwconv2d;
        const auto p = op.params.as<Conv2dParams>();
        std::vector<float> w, bias;
        unpack_conv(m.tensor(op.inputs[kConvWeights]), dw, &w, &bias);
        const ConvGeom geo{p.kernel_h,   p.kernel_w, p.stride_h, p.stride_w,  p.dilation_h,
                           p.dilation_w, p.pad_top,  p.pad_left, p.pad_bottom, p.pad_right};
        Act r = ref_conv(v.at(op.inputs[kConvX]), w, bias, ys[3], geo, dw);
        const uint32_t res = op.input(kConvResidual);
        if (res != kNoTensor) {
          const Act& rv = v.at(res);
          const std::size_t rc = std::size_t(rv.shape[3]), oc = std::size_t(ys[3]);
          for (std::size_t px = 0; px < rv.v.size() / rc; ++px)
            for (std::size_t c = 0; c < rc; ++c) r.v[px * oc + c] += rv.v[px * rc + c];
        }
        const uint32_t al = op.input(kConvAlpha);
        apply_act(&r, p.activation, al != kNoTensor ? m.tensor(al).f32() : nullptr);
        v[y] = std::move(r);
        break;
      }
      case OpType::maxpool2d: {
        const auto p = op.params.as<Pool2dParams>();
        v[y] = ref_maxpool(v.at(op.inputs[0]), p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                           ys[1], ys[2]);
        break;
      }
      case OpType::add: {
        Act r = v.at(op.inputs[0]);
        const Act& b = v.at(op.inputs[1]);
        const std::size_t bc = std::size_t(b.shape.back()), oc = std::size_t(ys.back());
        for (std::size_t px = 0; px < b.v.size() / bc; ++px)
          for (std::size_t c = 0; c < bc; ++c) r.v[px * oc + c] += b.v[px * bc + c];
        const uint32_t al = op.input(2);
        apply_act(&r, op.params.as<AddParams>().activation, al != kNoTensor ? m.tensor(al).f32() : nullptr);
        v[y] = std::move(r);
        break;
      }
      case OpType::relu: {
        Act r = v.at(op.inputs[0]);
        apply_act(&r, Activation::relu, nullptr);
        v[y] = std::move(r);
        break;
      }
      case OpType::prelu: {
        Act r = v.at(op.inputs[0]);
        apply_act(&r, Activation::prelu, m.tensor(op.inputs[1]).f32());
        v[y] = std::move(r);
        break;
      }
      case OpType::logistic: {
        Act r = v.at(op.inputs[0]);
        for (float& f : r.v) f = 1.0f / (1.0f + std::exp(-f));
        v[y] = std::move(r);
        break;
      }
      case OpType::reshape: v[y] = Act{ys, v.at(op.inputs[0]).v}; break;
      case OpType::concat: {
        std::vector<const Act*> xs;
        for (int i = 0; i < op.input_count; ++i) xs.push_back(&v.at(op.inputs[i]));
        v[y] = ref_concat(xs, op.params.as<ConcatParams>().axis, ys);
        break;
      }
      case OpType::pad: {
        const auto p = op.params.as<PadParams>();
        const std::size_t rank = ys.size();
        v[y] = ref_pad(v.at(op.inputs[0]), std::vector<int>(p.before, p.before + rank), ys);
        break;
      }
      default: FAIL("reference: unsupported facekit op " << op_type_name(op.type));
    }
  }
  std::vector<std::vector<float>> outs;
  for (uint32_t t : m.outputs()) outs.push_back(v.at(t).v);
  return outs;
}

// Converts `tflite` and checks that both graphs agree on a random input.
void check_equivalent(const std::vector<uint8_t>& tflite, const std::string& name, unsigned seed) {
  Expected<Converted> c = convert_tflite(tflite, name);
  REQUIRE_MESSAGE(c, c.status().message());
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  Expected<SourceGraph> g = read_tflite(tflite, name);
  REQUIRE_MESSAGE(g, g.status().message());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(g->tensors[std::size_t(g->inputs[0])].elements);
  for (float& f : x) f = u(rng);
  const auto ref = run_tflite_reference(*g, x);
  const auto got = run_fkm_reference(*m, x);
  REQUIRE(ref.size() == got.size());
  for (std::size_t o = 0; o < ref.size(); ++o) {
    REQUIRE(ref[o].size() == got[o].size());
    float max_ref = 0.0f, max_diff = 0.0f;
    for (std::size_t i = 0; i < ref[o].size(); ++i) {
      max_ref = std::max(max_ref, std::fabs(ref[o][i]));
      max_diff = std::max(max_diff, std::fabs(ref[o][i] - got[o][i]));
    }
    INFO(name << " output " << o << ": max |diff| " << max_diff << ", max |ref| " << max_ref);
    CHECK(max_diff <= 1e-5f * (1.0f + max_ref));
  }
}

// =================================================================================================
// A tiny TFLite writer for synthetic graphs (built with the subset schema's generated builders).
// =================================================================================================

class TinyTflite {
 public:
  TinyTflite() { buffers_.push_back(tfl::CreateBuffer(fb_)); }  // buffer 0: the empty sentinel

  int tensor(const std::string& name, std::vector<int32_t> shape, tfl::TensorType type = tfl::TensorType_FLOAT32,
             const void* data = nullptr, std::size_t bytes = 0) {
    uint32_t buffer = 0;
    if (data) {
      fb_.ForceVectorAlignment(bytes, 1, 16);
      auto vec = fb_.CreateVector(static_cast<const uint8_t*>(data), bytes);
      buffers_.push_back(tfl::CreateBuffer(fb_, vec));
      buffer = uint32_t(buffers_.size() - 1);
    }
    tensors_.push_back(tfl::CreateTensorDirect(fb_, &shape, type, buffer, name.c_str()));
    return int(tensors_.size() - 1);
  }
  int constant(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& v) {
    return tensor(name, std::move(shape), tfl::TensorType_FLOAT32, v.data(), v.size() * 4);
  }
  int ints(const std::string& name, std::vector<int32_t> shape, const std::vector<int32_t>& v) {
    return tensor(name, std::move(shape), tfl::TensorType_INT32, v.data(), v.size() * 4);
  }

  void op(int builtin, std::vector<int32_t> in, std::vector<int32_t> out,
          tfl::BuiltinOptions opt_type = tfl::BuiltinOptions_NONE,
          flatbuffers::Offset<void> opt = flatbuffers::Offset<void>(), const std::string& custom = "") {
    const auto key = std::make_pair(builtin, custom);
    if (!codes_.count(key)) {
      const int idx = int(code_list_.size());
      codes_[key] = idx;
      code_list_.push_back(tfl::CreateOperatorCodeDirect(fb_, int8_t(std::min(builtin, 127)),
                                                         custom.empty() ? nullptr : custom.c_str(), 1, builtin));
    }
    ops_.push_back(tfl::CreateOperatorDirect(fb_, uint32_t(codes_[key]), &in, &out, opt_type, opt));
  }

  flatbuffers::Offset<void> conv_opts(tfl::Padding pad, int stride, tfl::ActivationFunctionType act) {
    return tfl::CreateConv2DOptions(fb_, pad, stride, stride, act).Union();
  }
  flatbuffers::Offset<void> dw_opts(tfl::Padding pad, int stride, int mult, tfl::ActivationFunctionType act) {
    return tfl::CreateDepthwiseConv2DOptions(fb_, pad, stride, stride, mult, act).Union();
  }
  flatbuffers::Offset<void> pool_opts(tfl::Padding pad, int stride, int k) {
    return tfl::CreatePool2DOptions(fb_, pad, stride, stride, k, k).Union();
  }
  flatbuffers::Offset<void> add_opts(tfl::ActivationFunctionType act) {
    return tfl::CreateAddOptions(fb_, act).Union();
  }
  flatbuffers::Offset<void> concat_opts(int axis) { return tfl::CreateConcatenationOptions(fb_, axis).Union(); }

  std::vector<uint8_t> finish(std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
    auto sg = tfl::CreateSubGraphDirect(fb_, &tensors_, &inputs, &outputs, &ops_, "main");
    std::vector<flatbuffers::Offset<tfl::SubGraph>> sgs{sg};
    auto model = tfl::CreateModelDirect(fb_, 3, &code_list_, &sgs, "synthetic", &buffers_);
    tfl::FinishModelBuffer(fb_, model);
    return std::vector<uint8_t>(fb_.GetBufferPointer(), fb_.GetBufferPointer() + fb_.GetSize());
  }

 private:
  flatbuffers::FlatBufferBuilder fb_;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors_;
  std::vector<flatbuffers::Offset<tfl::Operator>> ops_;
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> code_list_;
  std::map<std::pair<int, std::string>, int> codes_;
};

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = u(rng);
  return v;
}

std::string convert_error(const std::vector<uint8_t>& tflite, const std::string& name = "synthetic.tflite") {
  Expected<Converted> c = convert_tflite(tflite, name);
  return c ? std::string() : std::string(c.status().message());
}

const OpInfo* find_op(const Model& m, OpType t, int nth = 0) {
  for (const OpInfo& op : m.ops())
    if (op.type == t && nth-- == 0) return &op;
  return nullptr;
}

// One graph with every pattern the lowering rewrites:
//   in [1,9,9,4] -> PAD(H,W by 1) -> CONV_2D 3x3/2 VALID -> c1 [1,5,5,8]
//   c1 -> DEPTHWISE 3x3 SAME, fused RELU6 -> CONV_2D 1x1 (8->12) -> c2
//   ADD(PAD_channels(c1 -> 12), c2) -> PRELU -> out0 [1,5,5,12]
//   in -> PAD(bottom/right 1) -> MAX_POOL 2x2/2 VALID -> pool [1,5,5,4]   (the PAD must stay)
//   RESHAPE(out0)[1,300] ++ RESHAPE(pool)[1,100] -> CONCAT -> LOGISTIC -> out1 [1,400]
//   in -> RELU -> (unused)                                                (dead)
std::vector<uint8_t> fusion_graph() {
  TinyTflite b;
  const int in = b.tensor("in", {1, 9, 9, 4});
  const int pads_hw = b.ints("pads_hw", {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
  const int padded = b.tensor("padded", {1, 11, 11, 4});
  const int w1 = b.constant("w1", {8, 3, 3, 4}, random_floats(8 * 9 * 4, 1));
  const int b1 = b.constant("b1", {8}, random_floats(8, 2));
  const int c1 = b.tensor("c1", {1, 5, 5, 8});
  const int wd = b.constant("wd", {1, 3, 3, 8}, random_floats(9 * 8, 3));
  const int bd = b.constant("bd", {8}, random_floats(8, 4));
  const int d1 = b.tensor("d1", {1, 5, 5, 8});
  const int w2 = b.constant("w2", {12, 1, 1, 8}, random_floats(12 * 8, 5));
  const int b2 = b.constant("b2", {12}, random_floats(12, 6));
  const int c2 = b.tensor("c2", {1, 5, 5, 12});
  const int pads_c = b.ints("pads_c", {4, 2}, {0, 0, 0, 0, 0, 0, 0, 4});
  const int c1p = b.tensor("c1_padded", {1, 5, 5, 12});
  const int sum = b.tensor("sum", {1, 5, 5, 12});
  const int alpha = b.constant("alpha", {1, 1, 12}, random_floats(12, 7));
  const int out0 = b.tensor("out0", {1, 5, 5, 12});
  const int pads_br = b.ints("pads_br", {4, 2}, {0, 0, 0, 1, 0, 1, 0, 0});
  const int padded2 = b.tensor("padded2", {1, 10, 10, 4});
  const int pool = b.tensor("pool", {1, 5, 5, 4});
  const int r0 = b.tensor("r0", {1, 300});
  const int r1 = b.tensor("r1", {1, 100});
  const int cat = b.tensor("cat", {1, 400});
  const int out1 = b.tensor("out1", {1, 400});
  const int unused = b.tensor("unused", {1, 9, 9, 4});
  b.op(kTfPad, {in, pads_hw}, {padded});
  b.op(kTfConv2d, {padded, w1, b1}, {c1}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_VALID, 2, tfl::ActivationFunctionType_NONE));
  b.op(kTfRelu, {in}, {unused});
  b.op(kTfDepthwiseConv2d, {c1, wd, bd}, {d1}, tfl::BuiltinOptions_DepthwiseConv2DOptions,
       b.dw_opts(tfl::Padding_SAME, 1, 1, tfl::ActivationFunctionType_RELU6));
  b.op(kTfConv2d, {d1, w2, b2}, {c2}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_SAME, 1, tfl::ActivationFunctionType_NONE));
  b.op(kTfPad, {c1, pads_c}, {c1p});
  b.op(kTfAdd, {c1p, c2}, {sum}, tfl::BuiltinOptions_AddOptions, b.add_opts(tfl::ActivationFunctionType_NONE));
  b.op(kTfPrelu, {sum, alpha}, {out0});
  b.op(kTfPad, {in, pads_br}, {padded2});
  b.op(kTfMaxPool2d, {padded2}, {pool}, tfl::BuiltinOptions_Pool2DOptions, b.pool_opts(tfl::Padding_VALID, 2, 2));
  b.op(kTfReshape, {out0}, {r0});
  b.op(kTfReshape, {pool}, {r1});
  b.op(kTfConcatenation, {r0, r1}, {cat}, tfl::BuiltinOptions_ConcatenationOptions, b.concat_opts(-1));
  b.op(kTfLogistic, {cat}, {out1});
  return b.finish({in}, {out0, out1});
}

}  // namespace

// =================================================================================================

TEST_CASE("converter: every fetched model converts or names the op it cannot lower") {
  require_models();
  TempDir dir("convert_all");
  struct Expect {
    const char* file;
    int networks;
    int converted;
  };
  const Expect expect[] = {
      {"face_detection_short_range.tflite", 1, 1}, {"face_detection_full_range_sparse.tflite", 1, 1},
      {"face_landmark_with_attention.tflite", 1, 1},
      {"face_landmarker.task", 4, 4},  // 3 networks + the face geometry
  };
  // Unsupported networks: the error names the model, the operator index and its type.
  const std::map<std::string, std::string> unsupported = {};
  for (const Expect& e : expect) {
    CAPTURE(e.file);
    ConvertResult r = convert_path(original_model_path(e.file), dir.path.string());
    REQUIRE_MESSAGE(r.status, r.status.message());
    CHECK(int(r.networks.size()) == e.networks);
    CHECK(r.converted() == e.converted);
    for (const NetworkResult& n : r.networks) {
      std::printf("  [convert] %s\n", describe(n).c_str());
      if (n.status) {
        CHECK(fs::file_size(n.output_path) == n.file_size);
        auto m = Model::load_file(n.output_path);
        CHECK_MESSAGE(m, m.status().message());
      } else {
        const auto it = unsupported.find(n.source);
        REQUIRE_MESSAGE(it != unsupported.end(), "unexpected failure: " << n.status.message());
        CHECK_MESSAGE(contains(n.status.message(), it->second), n.status.message());
      }
    }
    if (std::string(e.file) == "face_landmarker.task") CHECK(r.skipped.empty());  // the geometry converts too
  }
  // The attention mesh converts with its MediaPipe custom ops lowered (details in
  // test_attention_model.cpp).
  ConvertResult att = convert_path(original_model_path("face_landmark_with_attention.tflite"), dir.path.string());
  REQUIRE(att.networks.size() == 1);
  CHECK(att.networks[0].kind == "face_landmarks_attention");
  CHECK(att.networks[0].op_counts["landmarks_to_transform_matrix"] == 3);
  CHECK(att.networks[0].op_counts["transform_tensor_bilinear"] == 3);
  CHECK(att.networks[0].op_counts["transform_landmarks"] == 5);
}

TEST_CASE("converter: convert_file on the .task writes the convertible networks and reports the rest") {
  require_models();
  TempDir dir("convert_task");
  std::vector<std::string> written;
  std::string log;
  Status s = convert_file(original_model_path("face_landmarker.task"), dir / "out", &written, &log);
  CHECK_MESSAGE(s, s.message());
  REQUIRE(written.size() == 4);
  CHECK(fs::exists(dir / "out/face_detector.fkm"));
  CHECK(fs::exists(dir / "out/face_landmarks_detector.fkm"));
  CHECK(fs::exists(dir / "out/face_blendshapes.fkm"));
  CHECK(fs::exists(dir / "out/face_geometry.fkm"));
  CHECK(contains(log, "geometry_pipeline_metadata_landmarks.binarypb -> "));
  for (const auto& entry : fs::directory_iterator(dir.path / "out"))
    CHECK_MESSAGE(entry.path().extension() == ".fkm", "left behind: " << entry.path());

  // A network it cannot lower: reported, nothing written for it.
  written.clear();
  log.clear();
  {
    TinyTflite b;  // every shared model converts now: a synthetic one with a custom op
    const int in = b.tensor("in", {1, 4, 4, 2});
    const int y = b.tensor("y", {1, 4, 4, 2});
    b.op(kTfCustom, {in}, {y}, tfl::BuiltinOptions_NONE, {}, "MyCustomOp");
    write_bytes(dir / "unsupported.tflite", b.finish({in}, {y}));
  }
  s = convert_file(dir / "unsupported.tflite", dir / "out", &written, &log);
  CHECK_FALSE(s);
  CHECK(contains(s.message(), "0 of 1 networks converted"));
  CHECK(contains(s.message(), "unsupported.tflite: operator #0 MyCustomOp"));
  CHECK(written.empty());
  CHECK_FALSE(fs::exists(dir / "out/unsupported.fkm"));

  // A single convertible .tflite: ok.
  written.clear();
  log.clear();
  s = convert_file(original_model_path("face_detection_short_range.tflite"), dir / "out", &written, &log);
  CHECK_MESSAGE(s, s.message());
  REQUIRE(written.size() == 1);
  CHECK(written[0] == dir / "out/face_detection_short_range.fkm");
}

TEST_CASE("converter: the converted short-range detector (ops, fusion, metadata)") {
  require_models();
  for (const bool from_task : {true, false}) {
    CAPTURE(from_task);
    const std::vector<uint8_t> src = from_task ? task_member("face_detector.tflite")
                                               : read_original_model("face_detection_short_range.tflite");
    Expected<Converted> c = convert_tflite(src, "face_detector.tflite");
    REQUIRE_MESSAGE(c, c.status().message());
    CHECK(c->kind == "face_detector");
    // 21 CONV_2D, 16 DEPTHWISE_CONV_2D, 3 MAX_POOL_2D, 4 RESHAPE, 2 CONCATENATION survive; the 74
    // DEQUANTIZE, 17 RELU, 16 ADD and 11 channel PAD ops are folded or fused away.
    const std::map<std::string, int> want = {
        {"conv2d", 21}, {"dwconv2d", 16}, {"maxpool2d", 3}, {"reshape", 4}, {"concat", 2}};
    CHECK(c->op_counts == want);
    CHECK(c->stats.dequantize_folded == 74);
    CHECK(c->stats.activations_fused == 17);
    CHECK(c->stats.residual_adds_fused == 16);
    CHECK(c->stats.channel_pads_absorbed == 11);
    CHECK(c->stats.dead_ops == 0);

    Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
    REQUIRE_MESSAGE(m, m.status().message());
    CHECK(m->kind() == "face_detector");
    CHECK(m->meta_string("model.source") == "face_detector.tflite");
    REQUIRE(m->inputs().size() == 1);
    REQUIRE(m->outputs().size() == 2);
    const TensorInfo& in = m->tensor(m->inputs()[0]);
    CHECK(in.rank == 4);
    CHECK(in.dims[1] == 128);
    CHECK(in.dims[3] == 3);
    const TensorInfo& reg = m->tensor(m->outputs()[0]);
    const TensorInfo& cls = m->tensor(m->outputs()[1]);
    CHECK(std::string(reg.name) == "regressors");
    CHECK(std::string(cls.name) == "classificators");
    CHECK((reg.rank == 3 && reg.dims[1] == 896 && reg.dims[2] == 16));
    CHECK((cls.rank == 3 && cls.dims[1] == 896 && cls.dims[2] == 1));
    CHECK(m->meta_string("output.0.name") == "regressors");
    CHECK(m->meta_string("output.1.name") == "classificators");
    CHECK_FALSE(m->meta_string("output.0.meaning").empty());

    int32_t i = 0;
    float f = 0;
    CHECK((m->meta_i32("input.width", &i) && i == 128));
    CHECK((m->meta_i32("input.height", &i) && i == 128));
    auto range = m->meta_f32_array("input.range");
    REQUIRE(range.second == 2);
    CHECK(range.first[0] == -1.0f);
    CHECK(range.first[1] == 1.0f);
    CHECK((m->meta_i32("detector.num_boxes", &i) && i == 896));
    CHECK((m->meta_i32("detector.num_coords", &i) && i == 16));
    CHECK((m->meta_i32("detector.num_keypoints", &i) && i == 6));
    CHECK((m->meta_f32("detector.box_scale", &f) && f == 128.0f));
    CHECK((m->meta_f32("detector.score_clipping", &f) && f == 100.0f));
    CHECK((m->meta_i32("anchors.num_layers", &i) && i == 4));
    auto strides = m->meta_i32_array("anchors.strides");
    REQUIRE(strides.second == 4);
    CHECK(std::vector<int32_t>(strides.first, strides.first + 4) == std::vector<int32_t>{8, 16, 16, 16});
    CHECK((m->meta_f32("anchors.min_scale", &f) && f == 0.1484375f));
    CHECK((m->meta_f32("anchors.max_scale", &f) && f == 0.75f));
    CHECK((m->meta_f32("anchors.offset_x", &f) && f == 0.5f));
    CHECK((m->meta_f32("anchors.offset_y", &f) && f == 0.5f));
    CHECK((m->meta_f32("anchors.interpolated_scale_aspect_ratio", &f) && f == 1.0f));
    CHECK((m->meta_i32("anchors.fixed_anchor_size", &i) && i == 1));
    CHECK(detector_anchor_count(128) == 896);
    CHECK(detector_anchor_count(192) == 2304);

    // The first op is the 5x5/2 stem conv: TFLite SAME on 128 -> 64 needs 3 rows of padding, the
    // odd one at the bottom/right.
    const OpInfo& stem = m->op(0);
    REQUIRE(stem.type == OpType::conv2d);
    const auto p = stem.params.as<Conv2dParams>();
    CHECK(p.kernel_h == 5);
    CHECK(p.stride_h == 2);
    CHECK(p.pad_top == 1);
    CHECK(p.pad_left == 1);
    CHECK(p.pad_bottom == 2);
    CHECK(p.pad_right == 2);
    CHECK(p.activation == Activation::relu);
    CHECK(contains(stem.name, "CONV_2D#2"));
    CHECK(contains(stem.name, "RELU#3"));
    // Every residual block is one conv with a residual input and a fused ReLU.
    int residual_convs = 0;
    for (const OpInfo& op : m->ops())
      if (op.type == OpType::conv2d && op.input(kConvResidual) != kNoTensor) {
        ++residual_convs;
        CHECK(op.params.as<Conv2dParams>().activation == Activation::relu);
      }
    CHECK(residual_convs == 16);
    // Weights are packed with the format's tile.
    const TensorInfo& w = m->tensor(stem.inputs[kConvWeights]);
    CHECK(w.layout == format::Layout::conv2d_oc_tile);
    CHECK(w.size_bytes == kernels::f32_conv2d_packed_size(24, 5, 5, 3) * 4);
  }
}

TEST_CASE("converter: Face Mesh V2 converts fully (PReLU and residuals fused)") {
  require_models();
  Expected<Converted> c = convert_tflite(task_member("face_landmarks_detector.tflite"), "face_landmarks_detector.tflite",
                                         "face_landmarker.task/face_landmarks_detector.tflite");
  REQUIRE_MESSAGE(c, c.status().message());
  CHECK(c->kind == "face_landmarks_v2");
  const std::map<std::string, int> want = {
      {"conv2d", 72}, {"dwconv2d", 34}, {"maxpool2d", 6}, {"logistic", 1}, {"reshape", 1}};
  CHECK(c->op_counts == want);
  CHECK(c->stats.activations_fused == 69);
  CHECK(c->stats.residual_adds_fused == 34);
  CHECK(c->stats.channel_pads_absorbed == 3);
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  CHECK(m->meta_string("model.source") == "face_landmarker.task/face_landmarks_detector.tflite");
  CHECK(m->meta_string("output.0.name") == "landmarks");
  CHECK(m->meta_string("output.1.name") == "presence");
  auto range = m->meta_f32_array("input.range");
  REQUIRE(range.second == 2);
  CHECK(range.first[0] == 0.0f);
  CHECK(range.first[1] == 1.0f);
  REQUIRE(m->outputs().size() == 3);
  CHECK(m->tensor(m->outputs()[0]).dims[3] == 1434);
  // PReLU slopes ride along as channel-padded constants.
  int prelu_convs = 0;
  for (const OpInfo& op : m->ops())
    if ((op.type == OpType::conv2d || op.type == OpType::dwconv2d) &&
        op.params.as<Conv2dParams>().activation == Activation::prelu) {
      ++prelu_convs;
      CHECK(m->tensor(op.input(kConvAlpha)).layout == format::Layout::channel_padded);
    }
  CHECK(prelu_convs == 69);
}

TEST_CASE("converter: converted graphs compute what the TFLite graphs compute") {
  SUBCASE("synthetic graph with every rewrite") { check_equivalent(fusion_graph(), "fusion.tflite", 11); }
  require_models();
  SUBCASE("short-range detector") {
    check_equivalent(read_original_model("face_detection_short_range.tflite"), "short_range.tflite", 12);
  }
  SUBCASE("Face Mesh V2") {
    check_equivalent(task_member("face_landmarks_detector.tflite"), "face_landmarks_detector.tflite", 13);
  }
}

TEST_CASE("converter: synthetic graph lowering (pads, fusion, dead ops)") {
  Expected<Converted> c = convert_tflite(fusion_graph(), "fusion.tflite");
  REQUIRE_MESSAGE(c, c.status().message());
  CHECK(c->kind == "generic");
  const std::map<std::string, int> want = {{"conv2d", 2}, {"dwconv2d", 1}, {"pad", 1},     {"maxpool2d", 1},
                                           {"reshape", 2}, {"concat", 1},  {"logistic", 1}};
  CHECK(c->op_counts == want);
  CHECK(c->stats.spatial_pads_folded == 1);
  CHECK(c->stats.channel_pads_absorbed == 1);
  CHECK(c->stats.residual_adds_fused == 1);
  CHECK(c->stats.activations_fused == 1);  // the PRELU (RELU6 was already fused by TFLite)
  CHECK(c->stats.dead_ops == 1);
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());

  const OpInfo* c1 = find_op(*m, OpType::conv2d, 0);
  REQUIRE(c1);
  CHECK(std::string(c1->name) == "PAD#0+CONV_2D#1");
  const auto p1 = c1->params.as<Conv2dParams>();
  CHECK((p1.pad_top == 1 && p1.pad_left == 1 && p1.pad_bottom == 1 && p1.pad_right == 1));
  CHECK(std::string(m->tensor(c1->inputs[kConvX]).name) == "in");

  const OpInfo* dw = find_op(*m, OpType::dwconv2d);
  REQUIRE(dw);
  const auto pd = dw->params.as<Conv2dParams>();
  CHECK(pd.activation == Activation::relu6);
  CHECK((pd.pad_top == 1 && pd.pad_bottom == 1));

  const OpInfo* c2 = find_op(*m, OpType::conv2d, 1);
  REQUIRE(c2);
  CHECK(std::string(c2->name) == "CONV_2D#4+ADD#6(PAD#5)+PRELU#7");
  CHECK(c2->params.as<Conv2dParams>().activation == Activation::prelu);
  REQUIRE(c2->input(kConvResidual) != kNoTensor);
  CHECK(std::string(m->tensor(c2->input(kConvResidual)).name) == "c1");  // 8 channels, zero-extended
  CHECK(m->tensor(c2->input(kConvAlpha)).dims[0] == 12);
  CHECK(std::string(m->tensor(c2->outputs[0]).name) == "out0");

  // Zero padding is not "ignored taps": the PAD before the max pool stays a PAD.
  const OpInfo* pad = find_op(*m, OpType::pad);
  REQUIRE(pad);
  const auto pp = pad->params.as<PadParams>();
  CHECK((pp.before[1] == 0 && pp.after[1] == 1 && pp.after[2] == 1 && pp.after[3] == 0));
  const OpInfo* concat = find_op(*m, OpType::concat);
  REQUIRE(concat);
  CHECK(concat->params.as<ConcatParams>().axis == 1);
  CHECK(m->find_tensor("unused") == kNoTensor);
}

TEST_CASE("converter: a residual ADD is not fused when the conv output has other readers") {
  TinyTflite b;
  const int in = b.tensor("in", {1, 4, 4, 8});
  const int w = b.constant("w", {8, 1, 1, 8}, random_floats(64, 1));
  const int c = b.tensor("c", {1, 4, 4, 8});
  const int sum = b.tensor("sum", {1, 4, 4, 8});
  const int r = b.tensor("r", {1, 4, 4, 8});
  b.op(kTfConv2d, {in, w, -1}, {c}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_SAME, 1, tfl::ActivationFunctionType_NONE));
  b.op(kTfAdd, {in, c}, {sum}, tfl::BuiltinOptions_AddOptions, b.add_opts(tfl::ActivationFunctionType_RELU));
  b.op(kTfRelu, {c}, {r});
  const auto bytes = b.finish({in}, {sum, r});
  Expected<Converted> conv = convert_tflite(bytes, "shared.tflite");
  REQUIRE_MESSAGE(conv, conv.status().message());
  const std::map<std::string, int> want = {{"conv2d", 1}, {"add", 1}, {"relu", 1}};
  CHECK(conv->op_counts == want);
  check_equivalent(bytes, "shared.tflite", 3);
}

TEST_CASE("converter: a fused conv moves after the op that computes its residual") {
  // Source order: conv(x) -> c, relu(x) -> r, add(c, r). Fused, the conv reads r, so it must run
  // after the relu; the loader checks the order.
  TinyTflite b;
  const int in = b.tensor("in", {1, 3, 3, 4});
  const int w = b.constant("w", {4, 3, 3, 4}, random_floats(144, 8));
  const int c = b.tensor("c", {1, 3, 3, 4});
  const int r = b.tensor("r", {1, 3, 3, 4});
  const int y = b.tensor("y", {1, 3, 3, 4});
  b.op(kTfConv2d, {in, w, -1}, {c}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_SAME, 1, tfl::ActivationFunctionType_NONE));
  b.op(kTfRelu, {in}, {r});
  b.op(kTfAdd, {c, r}, {y}, tfl::BuiltinOptions_AddOptions, b.add_opts(tfl::ActivationFunctionType_RELU6));
  const auto bytes = b.finish({in}, {y});
  Expected<Converted> conv = convert_tflite(bytes, "order.tflite");
  REQUIRE_MESSAGE(conv, conv.status().message());
  Expected<Model> m = Model::copy_from_bytes(conv->bytes.data(), conv->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  REQUIRE(m->op_count() == 2);
  CHECK(m->op(0).type == OpType::relu);
  CHECK(m->op(1).type == OpType::conv2d);
  CHECK(m->op(1).params.as<Conv2dParams>().activation == Activation::relu6);
  CHECK(std::string(m->op(1).name) == "CONV_2D#0+ADD#2");
  check_equivalent(bytes, "order.tflite", 4);
}

TEST_CASE("converter: graphs it cannot lower give errors naming the operator") {
  SUBCASE("depth multiplier 2") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 2});
    const int w = b.constant("w", {1, 3, 3, 4}, random_floats(36, 1));
    const int y = b.tensor("y", {1, 4, 4, 4});
    b.op(kTfDepthwiseConv2d, {in, w, -1}, {y}, tfl::BuiltinOptions_DepthwiseConv2DOptions,
         b.dw_opts(tfl::Padding_SAME, 1, 2, tfl::ActivationFunctionType_NONE));
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "synthetic.tflite: operator #0 DEPTHWISE_CONV_2D: depth multiplier 2"), e);
  }
  SUBCASE("custom op") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 2});
    const int y = b.tensor("y", {1, 4, 4, 2});
    const int z = b.tensor("z", {1, 4, 4, 2});
    b.op(kTfRelu, {in}, {y});
    b.op(kTfCustom, {y}, {z}, tfl::BuiltinOptions_NONE, {}, "MyCustomOp");
    const std::string e = convert_error(b.finish({in}, {z}));
    CHECK_MESSAGE(contains(e, "synthetic.tflite: operator #1 MyCustomOp is not supported yet (custom op)"), e);
  }
  SUBCASE("batch 2") {
    TinyTflite b;
    const int in = b.tensor("in", {2, 4, 4, 3});
    const int y = b.tensor("y", {2, 4, 4, 3});
    b.op(kTfRelu, {in}, {y});
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "graph input 'in' has batch 2"), e);
  }
  SUBCASE("int8 activations") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3}, tfl::TensorType_INT8);
    const int y = b.tensor("y", {1, 4, 4, 3}, tfl::TensorType_INT8);
    b.op(kTfRelu, {in}, {y});
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "graph input 'in' has type INT8"), e);
  }
  SUBCASE("fused TANH") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const int w = b.constant("w", {2, 1, 1, 3}, random_floats(6, 1));
    const int y = b.tensor("y", {1, 4, 4, 2});
    b.op(kTfConv2d, {in, w}, {y}, tfl::BuiltinOptions_Conv2DOptions,
         b.conv_opts(tfl::Padding_VALID, 1, tfl::ActivationFunctionType_TANH));
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 CONV_2D: fused activation TANH is not supported"), e);
  }
  SUBCASE("conv output shape disagreeing with the options") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 8, 8, 3});
    const int w = b.constant("w", {2, 3, 3, 3}, random_floats(54, 1));
    const int y = b.tensor("y", {1, 8, 8, 2});  // SAME stride 2 gives 4x4
    b.op(kTfConv2d, {in, w}, {y}, tfl::BuiltinOptions_Conv2DOptions,
         b.conv_opts(tfl::Padding_SAME, 2, tfl::ActivationFunctionType_NONE));
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "output 'y' has shape [1,8,8,2], the options give [1,4,4,2]"), e);
  }
  SUBCASE("broadcasting ADD") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const int in2 = b.tensor("in2", {1, 1, 1, 3});
    const int y = b.tensor("y", {1, 4, 4, 3});
    b.op(kTfAdd, {in, in2}, {y}, tfl::BuiltinOptions_AddOptions, b.add_opts(tfl::ActivationFunctionType_NONE));
    const std::string e = convert_error(b.finish({in, in2}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 ADD: shapes [1,4,4,3] + [1,1,1,3] -> [1,4,4,3]: broadcasting"), e);
  }
  SUBCASE("standalone RELU6") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const int y = b.tensor("y", {1, 4, 4, 3});
    b.op(kTfRelu6, {in}, {y});
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "operator #0 RELU6 cannot be fused"), e);
  }
  SUBCASE("ops out of order") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const int y = b.tensor("y", {1, 4, 4, 3});
    const int z = b.tensor("z", {1, 4, 4, 3});
    b.op(kTfRelu, {y}, {z});
    b.op(kTfRelu, {in}, {y});
    const std::string e = convert_error(b.finish({in}, {z}));
    CHECK_MESSAGE(contains(e, "operator #0 RELU: input 'y' is read before any operator writes it"), e);
  }
  SUBCASE("tensor index out of range") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const int y = b.tensor("y", {1, 4, 4, 3});
    b.op(kTfRelu, {in + 40}, {y});
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "input #0 refers to tensor 40, but there are 2 tensors"), e);
  }
  SUBCASE("constant with the wrong byte count") {
    TinyTflite b;
    const int in = b.tensor("in", {1, 4, 4, 3});
    const std::vector<float> few(5, 1.0f);
    const int w = b.tensor("w", {2, 1, 1, 3}, tfl::TensorType_FLOAT32, few.data(), few.size() * 4);
    const int y = b.tensor("y", {1, 4, 4, 2});
    b.op(kTfConv2d, {in, w}, {y}, tfl::BuiltinOptions_Conv2DOptions,
         b.conv_opts(tfl::Padding_VALID, 1, tfl::ActivationFunctionType_NONE));
    const std::string e = convert_error(b.finish({in}, {y}));
    CHECK_MESSAGE(contains(e, "constant tensor #1 'w' (FLOAT32 [2,1,1,3]) has 20 data bytes, its shape needs 24"), e);
  }
}

TEST_CASE("converter: a network with a NaN weight is refused and nothing is written") {
  TinyTflite b;
  const int in = b.tensor("in", {1, 4, 4, 2});
  std::vector<float> wv = random_floats(3 * 3 * 2 * 4, 7);
  wv[10] = std::numeric_limits<float>::quiet_NaN();
  const int w = b.constant("w", {4, 3, 3, 2}, wv);
  const int y = b.tensor("y", {1, 4, 4, 4});
  b.op(kTfConv2d, {in, w, -1}, {y}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_SAME, 1, tfl::ActivationFunctionType_NONE));
  const std::vector<uint8_t> tflite = b.finish({in}, {y});
  const std::string e = convert_error(tflite);
  CHECK_MESSAGE(contains(e, "synthetic.tflite: the converted model fails the loader's checks: tensor 'w'"), e);
  CHECK_MESSAGE(contains(e, "nan"), e);
  // Through convert_path: the failure is reported and no .fkm (nor temporary) appears.
  TempDir dir("nan_weight");
  write_bytes(dir / "nan.tflite", tflite);
  const ConvertResult r = convert_path(dir / "nan.tflite", dir / "out");
  REQUIRE(r.networks.size() == 1);
  CHECK_FALSE(r.networks[0].status);
  CHECK_FALSE(fs::exists(dir / "out/nan.fkm"));
  CHECK_FALSE(fs::exists(dir / "out/nan.fkm.tmp"));
}

TEST_CASE("converter: float16 weights behind DEQUANTIZE are folded exactly") {
  CHECK(f16_to_f32(0x3C00) == 1.0f);
  CHECK(f16_to_f32(0xC000) == -2.0f);
  CHECK(f16_to_f32(0x3555) == 0.333251953125f);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(f16_to_f32(0x7BFF) == 65504.0f);
  CHECK(std::isinf(f16_to_f32(0x7C00)));
  CHECK(std::isnan(f16_to_f32(0x7E00)));
  CHECK(std::signbit(f16_to_f32(0x8000)));

  TinyTflite b;
  const int in = b.tensor("in", {1, 2, 2, 2});
  const std::vector<uint16_t> halves = {0x3C00, 0xC000, 0x3800, 0x0001};  // 1, -2, 0.5, 2^-24
  const int wh = b.tensor("w_f16", {2, 1, 1, 2}, tfl::TensorType_FLOAT16, halves.data(), halves.size() * 2);
  const int w = b.tensor("w", {2, 1, 1, 2});
  const int y = b.tensor("y", {1, 2, 2, 2});
  b.op(kTfDequantize, {wh}, {w});
  b.op(kTfConv2d, {in, w}, {y}, tfl::BuiltinOptions_Conv2DOptions,
       b.conv_opts(tfl::Padding_VALID, 1, tfl::ActivationFunctionType_NONE));
  const auto bytes = b.finish({in}, {y});
  Expected<Converted> c = convert_tflite(bytes, "f16.tflite");
  REQUIRE_MESSAGE(c, c.status().message());
  CHECK(c->stats.dequantize_folded == 1);
  CHECK(c->op_counts.size() == 1);
  Expected<Model> m = Model::copy_from_bytes(c->bytes.data(), c->bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  const float* packed = m->tensor(m->op(0).inputs[kConvWeights]).f32();
  // Tile layout: bias[16], then for each input channel the 16 output channels.
  CHECK(packed[0] == 0.0f);
  CHECK(packed[16 + 0] == 1.0f);    // o0, i0
  CHECK(packed[16 + 1] == 0.5f);    // o1, i0
  CHECK(packed[32 + 0] == -2.0f);   // o0, i1
  CHECK(packed[32 + 1] == std::ldexp(1.0f, -24));
  CHECK(packed[16 + 2] == 0.0f);    // padded channel
  check_equivalent(bytes, "f16.tflite", 5);
}

TEST_CASE("converter: damaged and foreign inputs give clear errors, never a crash") {
  TempDir dir("convert_bad");
  const std::vector<uint8_t> good = read_original_model("face_detection_short_range.tflite");

  SUBCASE("wrong magic") {
    auto b = good;
    std::memcpy(b.data() + 4, "XYZ1", 4);
    const std::string e = convert_error(b, "magic.tflite");
    CHECK_MESSAGE(contains(e, "magic.tflite: not a TFLite model: file identifier is 'XYZ1', expected 'TFL3'"), e);
  }
  SUBCASE("truncated") {
    // Not size - 1: the mediapipe wheel's copy ends in 16 bytes that no reader needs (the TFLite
    // interpreter loads it without them too).
    for (std::size_t cut : {std::size_t(0), std::size_t(7), std::size_t(8), std::size_t(100), std::size_t(4096),
                            good.size() / 3, good.size() / 2, good.size() - 100, good.size() - 24}) {
      CAPTURE(cut);
      const std::vector<uint8_t> t(good.begin(), good.begin() + std::ptrdiff_t(cut));
      const std::string e = convert_error(t, "cut.tflite");
      CHECK_MESSAGE(contains(e, "cut.tflite: "), e);
      CHECK((contains(e, "truncated") || contains(e, "too small")));
    }
  }
  SUBCASE("bit flips and overwritten bytes") {
    // Flips in weight bytes convert fine; flips in the flatbuffer structure must fail cleanly.
    std::mt19937 rng(99);
    int failed = 0;
    for (int i = 0; i < 300; ++i) {
      auto b = good;
      const int hits = 1 + int(rng() % 4);
      for (int h = 0; h < hits; ++h) {
        // Half of the damage goes to the first and last 16 KiB, where the tables and vtables live.
        std::size_t pos = rng() % b.size();
        if (i % 2 == 0) pos = (rng() % 2 ? rng() % 16384 : b.size() - 1 - rng() % 16384);
        if (i % 3 == 0)
          b[pos] = uint8_t(rng());
        else
          b[pos] ^= uint8_t(1u << (rng() % 8));
      }
      Expected<Converted> c = convert_tflite(b, "flip.tflite");
      if (!c) {
        ++failed;
        CHECK_MESSAGE(contains(c.status().message(), "flip.tflite"), c.status().message());
      }
    }
    MESSAGE(failed << " of 300 damaged files were rejected, the rest converted");
  }
  SUBCASE("not a zip") {
    write_bytes(dir / "fake.task", std::vector<uint8_t>(1000, 0x41));
    ConvertResult r = convert_path(dir / "fake.task", dir / "out");
    REQUIRE_FALSE(r.status);
    CHECK_MESSAGE(contains(r.status.message(), "fake.task: not a zip archive"), r.status.message());
    CHECK(r.networks.empty());
  }
  SUBCASE("truncated zip") {
    const auto task = read_original_model("face_landmarker.task");
    write_bytes(dir / "cut.task", std::vector<uint8_t>(task.begin(), task.begin() + std::ptrdiff_t(task.size() / 2)));
    ConvertResult r = convert_path(dir / "cut.task", dir / "out");
    REQUIRE_FALSE(r.status);
    CHECK_MESSAGE(contains(r.status.message(), "cut.task: not a zip archive"), r.status.message());
  }
  SUBCASE("zip member that is not a TFLite file") {
    zipFile z = zipOpen64((dir / "mixed.task").c_str(), APPEND_STATUS_CREATE);
    REQUIRE(z);
    auto add = [&](const char* name, const std::vector<uint8_t>& data) {
      zip_fileinfo zi;
      std::memset(&zi, 0, sizeof zi);
      REQUIRE(zipOpenNewFileInZip(z, name, &zi, nullptr, 0, nullptr, 0, nullptr, Z_DEFLATED, 6) == ZIP_OK);
      REQUIRE(zipWriteInFileInZip(z, data.data(), unsigned(data.size())) == ZIP_OK);
      REQUIRE(zipCloseFileInZip(z) == ZIP_OK);
    };
    add("nested/face_detector.tflite", good);
    add("broken.tflite", std::vector<uint8_t>(good.begin(), good.begin() + 5000));
    add("notes.txt", std::vector<uint8_t>(10, 'x'));
    REQUIRE(zipClose(z, nullptr) == ZIP_OK);
    std::vector<std::string> written;
    std::string log;
    Status s = convert_file(dir / "mixed.task", dir / "out", &written, &log);
    CHECK_FALSE(s);
    CHECK_MESSAGE(contains(s.message(), "1 of 2 networks converted; broken.tflite: "), s.message());
    REQUIRE(written.size() == 1);
    CHECK(written[0] == dir / "out/face_detector.fkm");
    CHECK(contains(log, "notes.txt: not a network"));
  }
  SUBCASE("missing file") {
    ConvertResult r = convert_path(dir / "nope.tflite", dir / "out");
    REQUIRE_FALSE(r.status);
    CHECK(contains(r.status.message(), "cannot read"));
  }
}

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The names in a directory, sorted: no temporary file may be left there.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("converter: a failed conversion leaves an existing .fkm byte for byte and no temporary file") {
  TempDir dir("convert_keep");
  const std::vector<uint8_t> good = read_original_model("face_detection_short_range.tflite");
  std::vector<uint8_t> previous(4000);
  std::mt19937 rng(5);
  for (uint8_t& b : previous) b = uint8_t(rng());
  fs::create_directories(dir / "out");
  fs::create_directories(dir / "bad");
  const std::string target = dir / "out/face_detection_short_range.fkm";
  write_bytes(target, previous);
  const std::vector<std::string> before = listing(dir / "out");

  // The input fails to convert: nothing is written.
  const std::string bad = dir / "bad/face_detection_short_range.tflite";
  write_bytes(bad, std::vector<uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2)));
  ConvertResult r = convert_path(bad, dir / "out");
  REQUIRE(r.networks.size() == 1);
  CHECK_FALSE(r.networks[0].status);
  CHECK(read_bytes(target) == previous);
  CHECK(listing(dir / "out") == before);

  // The write itself fails (the target is a directory, so the rename fails): the temporary
  // file is removed.
  fs::create_directories(dir / "out2/face_detection_short_range.fkm");
  write_bytes(dir / "good.tflite", good);
  fs::copy_file(dir / "good.tflite", dir / "face_detection_short_range.tflite");
  r = convert_path(dir / "face_detection_short_range.tflite", dir / "out2");
  REQUIRE(r.networks.size() == 1);
  CHECK_FALSE(r.networks[0].status);
  CHECK_MESSAGE(contains(r.networks[0].status.message(), "cannot write"), r.networks[0].status.message());
  CHECK(listing(dir / "out2") == std::vector<std::string>{"face_detection_short_range.fkm"});

  // A successful conversion replaces the file and keeps its mode.
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  r = convert_path(dir / "face_detection_short_range.tflite", dir / "out");
  REQUIRE(r.networks.size() == 1);
  REQUIRE_MESSAGE(r.networks[0].status, r.networks[0].status.message());
  CHECK(read_bytes(target) != previous);
  CHECK(Model::load_file(target));
  CHECK(fs::status(target).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK(listing(dir / "out") == before);

#ifdef FACEKIT_CLI
  const std::vector<uint8_t> converted = read_bytes(target);
  std::string out;
  // The command: a bad input names it, exits 1 and leaves the output alone.
  int status = test_util::run_command(std::string(FACEKIT_CLI) + " convert " + bad + " -o " + (dir / "out") + " 2>&1",
                                      &out);
  CHECK(status != 0);
  CHECK_MESSAGE(contains(out, "facekit convert: " + bad + ": "), out);
  CHECK(read_bytes(target) == converted);
  CHECK(listing(dir / "out") == before);
  // Interrupted by the file size limit halfway through the write (64 blocks, less than the
  // model): the error names the input, the previous file stays and no partial file is left.
  out.clear();
  const std::string input = dir / "face_detection_short_range.tflite";
  write_bytes(target, previous);
  status = test_util::run_command("ulimit -f 64 && " + std::string(FACEKIT_CLI) + " convert " + input + " -o " +
                                      (dir / "out") + " 2>&1",
                                  &out);
  CHECK(status != 0);
  CHECK_MESSAGE(contains(out, "facekit convert: " + input + ": "), out);
  CHECK_MESSAGE(contains(out, "cannot write"), out);
  CHECK(read_bytes(target) == previous);
  CHECK(listing(dir / "out") == before);
#endif
}

#ifdef FACEKIT_CLI
TEST_CASE("converter: facekit convert goes on past bad inputs, reports each and exits non-zero") {
  TempDir dir("convert_several");
  const std::vector<uint8_t> good = read_original_model("face_detection_short_range.tflite");
  write_bytes(dir / "a.tflite", good);
  write_bytes(dir / "c.tflite", std::vector<uint8_t>(good.begin(), good.begin() + 5000));
  write_bytes(dir / "d.tflite", good);
  const std::string missing = dir / "missing.tflite";
  std::string out;
  const int status = test_util::run_command(std::string(FACEKIT_CLI) + " convert " + (dir / "a.tflite") + " " +
                                                missing + " " + (dir / "c.tflite") + " " + (dir / "d.tflite") +
                                                " -o " + (dir / "out") + " 2>&1",
                                            &out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_MESSAGE(contains(out, "facekit convert: " + missing + ": cannot read"), out);
  CHECK_MESSAGE(contains(out, "facekit convert: " + (dir / "c.tflite") + ": FAILED c.tflite: "), out);
  CHECK_MESSAGE(contains(out, "a.tflite -> "), out);
  CHECK_MESSAGE(contains(out, "d.tflite -> "), out);
  CHECK(listing(dir / "out") == std::vector<std::string>{"a.fkm", "d.fkm"});
  // The good inputs alone: exit 0.
  out.clear();
  CHECK(test_util::run_command(std::string(FACEKIT_CLI) + " convert " + (dir / "a.tflite") + " -o " + (dir / "out") +
                                   " 2>&1",
                               &out) == 0);
}
#endif

#endif  // FACEKIT_HAVE_CONVERTER
