// The one table of kernel shapes: tests/test_kernels.cpp checks every case, bench/bench_kernels.cpp
// times the cases marked `bench` (real BlazeFace / Face Mesh layers). Awkward shapes on purpose:
// channels below/at/above the vector widths 4, 8, 16; odd spatial sizes; SAME padding that is
// asymmetric; 1x1 images where everything is border.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <facekit/kernels/common.hpp>

namespace kernel_cases {

using facekit::Activation;

/// TFLite SAME padding for one dimension: out = ceil(in / s), the extra pad going after.
inline void same_pad(int in, int k, int s, int d, int* before, int* after) {
  const int ext = (k - 1) * d + 1, out = (in + s - 1) / s;
  const int total = (out - 1) * s + ext - in > 0 ? (out - 1) * s + ext - in : 0;
  *before = total / 2;
  *after = total - total / 2;
}

struct ConvCase {
  std::string name;
  bool depthwise = false;
  int in_h = 1, in_w = 1, in_c = 1, out_c = 1;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool bench = false;                     // a real model layer: benchmarked too
  Activation bench_act = Activation::none;
  int bench_residual_c = 0;               // 0: no residual in the benchmark

  int out_h() const { return (in_h + pad_top + pad_bottom - ((kernel_h - 1) * dilation_h + 1)) / stride_h + 1; }
  int out_w() const { return (in_w + pad_left + pad_right - ((kernel_w - 1) * dilation_w + 1)) / stride_w + 1; }
  facekit::kernels::Conv2dGeometry geometry() const {
    return {in_h,     in_w,     in_c,     out_h(),    out_w(),    out_c,   kernel_h,
            kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left};
  }
  /// Multiply-adds times two.
  double flops() const {
    const double taps = depthwise ? double(kernel_h) * kernel_w : double(kernel_h) * kernel_w * in_c;
    return 2.0 * out_h() * out_w() * out_c * taps;
  }
};

enum class Pad { valid, same };

inline ConvCase make_conv(bool dw, int h, int w, int ci, int co, int kh, int kw, int s, Pad pad, int dil = 1) {
  ConvCase c;
  c.depthwise = dw;
  c.in_h = h;
  c.in_w = w;
  c.in_c = ci;
  c.out_c = dw ? ci : co;
  c.kernel_h = kh;
  c.kernel_w = kw;
  c.stride_h = c.stride_w = s;
  c.dilation_h = c.dilation_w = dil;
  if (pad == Pad::same) {
    same_pad(h, kh, s, dil, &c.pad_top, &c.pad_bottom);
    same_pad(w, kw, s, dil, &c.pad_left, &c.pad_right);
  }
  c.name = std::string(dw ? "dw " : "conv ") + std::to_string(kh) + "x" + std::to_string(kw) + " s" +
           std::to_string(s) + (dil > 1 ? " d" + std::to_string(dil) : "") + (pad == Pad::same ? " same " : " valid ") +
           std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(ci) + (dw ? "" : "->" + std::to_string(co));
  return c;
}

inline ConvCase bench_case(ConvCase c, const char* model, Activation act, int residual_c) {
  c.bench = true;
  c.bench_act = act;
  c.bench_residual_c = residual_c;
  c.name = std::string(model) + " " + c.name;
  return c;
}

inline ConvCase explicit_pads(ConvCase c, int top, int left, int bottom, int right) {
  c.pad_top = top;
  c.pad_left = left;
  c.pad_bottom = bottom;
  c.pad_right = right;
  c.name += " pads " + std::to_string(top) + "," + std::to_string(left) + "," + std::to_string(bottom) + "," +
            std::to_string(right);
  return c;
}

constexpr int kChannels[] = {1, 3, 7, 8, 15, 16, 17, 28, 42};
constexpr int kSizes[][2] = {{1, 1}, {5, 7}, {13, 9}};

inline const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = [] {
    std::vector<ConvCase> v;
    const Activation relu = Activation::relu, prelu = Activation::prelu;
    // Pointwise (the GEMM path), channel pairs crossing every vector width.
    const int pw[][2] = {{1, 1}, {3, 7}, {7, 8}, {8, 15}, {15, 16}, {16, 17}, {17, 28}, {28, 42}, {42, 3}};
    for (int i = 0; i < 9; ++i) {
      const int h = kSizes[i % 3][0] + (i / 3) * 2, w = kSizes[i % 3][1] + (i / 3);
      v.push_back(make_conv(false, h, w, pw[i][0], pw[i][1], 1, 1, 1, Pad::valid));
    }
    v.push_back(make_conv(false, 1, 1, 32, 142, 1, 1, 1, Pad::valid));  // one pixel, many channels
    // General conv: kernel-row path, tap path (dilation, big in_c, > 1024 in_c), all-border images.
    v.push_back(make_conv(false, 5, 7, 3, 8, 3, 3, 1, Pad::same));
    v.push_back(make_conv(false, 13, 9, 3, 16, 3, 3, 2, Pad::same));
    v.push_back(make_conv(false, 13, 9, 3, 24, 5, 5, 2, Pad::same));
    v.push_back(make_conv(false, 5, 7, 7, 17, 5, 5, 1, Pad::same));
    v.push_back(make_conv(false, 1, 1, 1, 7, 3, 3, 2, Pad::same));
    v.push_back(make_conv(false, 2, 2, 32, 10, 2, 2, 1, Pad::valid));
    v.push_back(make_conv(false, 3, 3, 32, 15, 3, 3, 1, Pad::valid));
    v.push_back(make_conv(false, 13, 9, 17, 28, 1, 1, 2, Pad::valid));
    v.push_back(explicit_pads(make_conv(false, 5, 7, 8, 16, 3, 1, 1, Pad::valid), 2, 0, 0, 0));
    v.push_back(explicit_pads(make_conv(false, 13, 9, 15, 42, 3, 3, 2, Pad::valid), 2, 0, 1, 2));
    v.push_back(make_conv(false, 13, 9, 7, 15, 3, 3, 1, Pad::same, 2));
    v.push_back(make_conv(false, 5, 7, 160, 17, 3, 3, 1, Pad::same));
    v.push_back(make_conv(false, 5, 7, 1100, 5, 1, 1, 2, Pad::valid));
    // Depthwise: every channel count through each specialised kernel, then the generic one.
    const int kk[][2] = {{3, 1}, {3, 2}, {5, 1}, {5, 2}};
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 4; ++j) {
        const int* s = kSizes[(i + j) % 3];
        v.push_back(make_conv(true, s[0], s[1], kChannels[i], 0, kk[j][0], kk[j][0], kk[j][1], Pad::same));
      }
    v.push_back(make_conv(true, 13, 9, 17, 0, 3, 3, 1, Pad::same, 2));
    v.push_back(make_conv(true, 5, 7, 28, 0, 2, 2, 1, Pad::valid));
    v.push_back(make_conv(true, 13, 9, 8, 0, 3, 3, 3, Pad::same));
    v.push_back(make_conv(true, 13, 9, 42, 0, 4, 4, 2, Pad::same));
    v.push_back(explicit_pads(make_conv(true, 13, 9, 15, 0, 3, 3, 1, Pad::valid), 2, 0, 0, 2));
    v.push_back(explicit_pads(make_conv(true, 13, 9, 16, 0, 5, 5, 2, Pad::valid), 0, 4, 3, 0));
    // Real layers (also benchmarked). BlazeFace short range: relu everywhere, channel-padding
    // residuals fused into the 1x1 convs. Face Mesh: prelu.
    v.push_back(bench_case(make_conv(false, 128, 128, 3, 24, 5, 5, 2, Pad::same), "blazeface", relu, 0));
    v.push_back(bench_case(make_conv(false, 64, 64, 24, 24, 1, 1, 1, Pad::valid), "blazeface", relu, 24));
    v.push_back(bench_case(make_conv(false, 64, 64, 24, 28, 1, 1, 1, Pad::valid), "blazeface", relu, 24));
    v.push_back(bench_case(make_conv(false, 32, 32, 28, 32, 1, 1, 1, Pad::valid), "blazeface", relu, 28));
    v.push_back(bench_case(make_conv(false, 16, 16, 80, 88, 1, 1, 1, Pad::valid), "blazeface", relu, 80));
    v.push_back(bench_case(make_conv(false, 8, 8, 88, 96, 1, 1, 1, Pad::valid), "blazeface", relu, 88));
    v.push_back(bench_case(make_conv(false, 8, 8, 96, 96, 1, 1, 1, Pad::valid), "blazeface", relu, 96));
    v.push_back(bench_case(make_conv(true, 64, 64, 24, 0, 3, 3, 1, Pad::same), "blazeface", Activation::none, 0));
    v.push_back(bench_case(make_conv(true, 64, 64, 28, 0, 3, 3, 2, Pad::same), "blazeface", Activation::none, 0));
    v.push_back(bench_case(make_conv(true, 32, 32, 42, 0, 3, 3, 2, Pad::same), "blazeface", Activation::none, 0));
    v.push_back(bench_case(make_conv(true, 16, 16, 88, 0, 3, 3, 1, Pad::same), "blazeface", Activation::none, 0));
    v.push_back(bench_case(make_conv(false, 192, 192, 3, 16, 3, 3, 2, Pad::same), "facemesh", prelu, 0));
    v.push_back(bench_case(make_conv(false, 96, 96, 16, 16, 1, 1, 1, Pad::valid), "facemesh", prelu, 16));
    v.push_back(bench_case(make_conv(true, 96, 96, 16, 0, 3, 3, 1, Pad::same), "facemesh", Activation::none, 0));
    v.push_back(bench_case(make_conv(false, 3, 3, 32, 1404, 3, 3, 1, Pad::valid), "facemesh", Activation::none, 0));
    return v;
  }();
  return cases;
}

struct PoolCase {
  std::string name;
  int in_h, in_w, channels;
  int kernel, stride;
  int pad_top, pad_left, pad_bottom, pad_right;
  bool bench;
  int out_h() const { return (in_h + pad_top + pad_bottom - kernel) / stride + 1; }
  int out_w() const { return (in_w + pad_left + pad_right - kernel) / stride + 1; }
  facekit::kernels::Pool2dGeometry geometry() const {
    return {in_h, in_w, channels, out_h(), out_w(), kernel, kernel, stride, stride, pad_top, pad_left};
  }
};

inline PoolCase make_pool(int h, int w, int c, int k, int s, Pad pad, bool bench = false) {
  PoolCase p{"", h, w, c, k, s, 0, 0, 0, 0, bench};
  if (pad == Pad::same) {
    same_pad(h, k, s, 1, &p.pad_top, &p.pad_bottom);
    same_pad(w, k, s, 1, &p.pad_left, &p.pad_right);
  }
  p.name = std::string(bench ? "blazeface " : "") + "maxpool " + std::to_string(k) + "x" + std::to_string(k) + " s" +
           std::to_string(s) + (pad == Pad::same ? " same " : " valid ") + std::to_string(h) + "x" +
           std::to_string(w) + "x" + std::to_string(c);
  return p;
}

inline const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases = [] {
    std::vector<PoolCase> v;
    for (int i = 0; i < 9; ++i) {
      const int* s = kSizes[i % 3];
      v.push_back(make_pool(s[0] + 1, s[1] + 1, kChannels[i], 2, 2, Pad::valid));
      v.push_back(make_pool(s[0], s[1], kChannels[i], 2, 2, Pad::same));
      v.push_back(make_pool(s[0], s[1], kChannels[(i + 4) % 9], 3, 2, Pad::same));
      v.push_back(make_pool(s[0], s[1], kChannels[(i + 2) % 9], 3, 1, Pad::same));
    }
    v.push_back(make_pool(64, 64, 28, 2, 2, Pad::valid, true));
    v.push_back(make_pool(32, 32, 42, 2, 2, Pad::valid, true));
    v.push_back(make_pool(16, 16, 88, 2, 2, Pad::valid, true));
    return v;
  }();
  return cases;
}

/// add / relu / prelu / logistic over [pixels][channels]; b has b_c channels (add only).
struct EltCase {
  std::string name;
  int pixels, channels, b_c;
  bool bench;
};

inline const std::vector<EltCase>& elt_cases() {
  static const std::vector<EltCase> cases = [] {
    std::vector<EltCase> v;
    const int pixels[] = {1, 35, 117};
    for (int i = 0; i < 9; ++i) {
      const int c = kChannels[i], p = pixels[i % 3];
      v.push_back({"elt " + std::to_string(p) + "x" + std::to_string(c), p, c, c, false});
      const int bc = c > 1 ? c * 2 / 3 : 1;
      v.push_back({"elt " + std::to_string(p) + "x" + std::to_string(c) + " b" + std::to_string(bc), p, c, bc, false});
    }
    v.push_back({"blazeface elt 64x64x24", 4096, 24, 24, true});
    v.push_back({"blazeface elt 64x64x28 b24", 4096, 28, 24, true});
    v.push_back({"blazeface elt 16x16x88 b80", 256, 88, 80, true});
    return v;
  }();
  return cases;
}

/// resize_bilinear: upscale x2 (the full-range detector's feature pyramid), non-integer factors
/// up and down, identity and 1-pixel edges; channels across the vector widths. Every case runs
/// with each of the three sampling rules (plain, align_corners, half_pixel_centers). Tested only
/// (bench/bench_kernels.cpp does not time these).
struct ResizeCase {
  std::string name;
  int in_h, in_w, channels, out_h, out_w;
};

inline const std::vector<ResizeCase>& resize_cases() {
  static const std::vector<ResizeCase> cases = [] {
    std::vector<ResizeCase> v;
    const int shapes[][4] = {{6, 6, 12, 12}, {5, 7, 11, 13}, {7, 5, 3, 4}, {1, 1, 4, 3},
                             {3, 4, 3, 4},   {2, 9, 5, 2},   {4, 4, 1, 1}};
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 7; j += 1 + (i % 2)) {
        const int* sh = shapes[j];
        const int c = kChannels[i];
        v.push_back({"resize " + std::to_string(sh[0]) + "x" + std::to_string(sh[1]) + "x" + std::to_string(c) + "->" +
                         std::to_string(sh[2]) + "x" + std::to_string(sh[3]),
                     sh[0], sh[1], c, sh[2], sh[3]});
      }
    // The full-range detector's three upsamplings.
    v.push_back({"resize 6x6x96->12x12", 6, 6, 96, 12, 12});
    v.push_back({"resize 12x12x64->24x24", 12, 12, 64, 24, 24});
    v.push_back({"resize 24x24x48->48x48", 24, 24, 48, 48, 48});
    return v;
  }();
  return cases;
}

/// pad and slice: a tensor of rank 1..4 with `lo` / `hi` counts per dimension; pad adds them
/// around it, slice (where every extent dims - lo - hi stays >= 1) cuts them off (begin = lo).
/// Tested only (bench/bench_kernels.cpp does not time these).
struct PadSliceCase {
  std::string name;
  std::vector<int> dims, lo, hi;
};

inline const std::vector<PadSliceCase>& pad_slice_cases() {
  static const std::vector<PadSliceCase> cases = {
      {"4d 1x5x7x3", {1, 5, 7, 3}, {0, 1, 0, 2}, {0, 2, 1, 1}},
      {"4d spatial 1x13x9x17", {1, 13, 9, 17}, {0, 2, 1, 0}, {0, 1, 2, 0}},
      {"4d channels 1x4x3x24", {1, 4, 3, 24}, {0, 0, 0, 0}, {0, 0, 0, 4}},
      {"4d 1x1x1x1", {1, 1, 1, 1}, {0, 1, 1, 0}, {0, 1, 0, 2}},
      {"4d batch 3x2x2x8", {3, 2, 2, 8}, {1, 0, 1, 0}, {1, 1, 0, 7}},
      {"3d 1x33x8", {1, 33, 8}, {0, 3, 1}, {0, 2, 0}},
      {"2d 7x42", {7, 42}, {1, 5}, {2, 0}},
      {"1d 100", {100}, {3}, {17}},
  };
  return cases;
}

/// concat: inputs equal to `dims` except along `axis`, where they have `parts` (up to
/// kMaxOpInputs of them).
struct ConcatCase {
  std::string name;
  std::vector<int> dims;
  int axis;
  std::vector<int> parts;
};

inline const std::vector<ConcatCase>& concat_cases() {
  static const std::vector<ConcatCase> cases = {
      {"channels 1x5x7 (1,4,2)", {1, 5, 7, 0}, 3, {1, 4, 2}},
      {"channels 1x13x9 (16,17,3)", {1, 13, 9, 0}, 3, {16, 17, 3}},
      {"channels 1x3x5 (1..8)", {1, 3, 5, 0}, 3, {1, 2, 3, 4, 5, 6, 7, 8}},
      {"rows 1x_x3x8 (2,5)", {1, 0, 3, 8}, 1, {2, 5}},
      {"3d points 1x_x3 (468,10,1)", {1, 0, 3}, 1, {468, 10, 1}},
      {"2d outer _x42 (3,1,7)", {0, 42}, 0, {3, 1, 7}},
  };
  return cases;
}

/// depth_to_space: input in_h x in_w x (out_c * block * block).
struct DepthToSpaceCase {
  int in_h, in_w, out_c, block;
};

inline const std::vector<DepthToSpaceCase>& depth_to_space_cases() {
  static const std::vector<DepthToSpaceCase> cases = {
      {1, 1, 1, 2}, {3, 2, 3, 2}, {2, 5, 17, 2}, {4, 3, 1, 3}, {24, 24, 16, 2}};
  return cases;
}

/// The blendshape network's token_dense (tests/test_blendshapes_kernels.cpp runs every
/// combination; the OpenCL tests a walk through them): tokens, channels across the vector widths
/// and the tile, outputs leaving partial row blocks and packed tiles.
constexpr int kTokenDenseTokens[] = {1, 3, 17, 97};
constexpr int kTokenDenseChannels[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65};
constexpr int kTokenDenseOutputs[] = {1, 3, 4, 5, 16, 17, 52, 97};

/// token_dense on the network's own shapes (97 -> 384 -> 97 tokens of 64 channels, the second
/// with the block input as residual, 384 -> 1) and odd neighbours: long reductions.
struct TokenDenseShape {
  int T, C, O;
  bool residual;
};
constexpr TokenDenseShape kTokenDenseModelShapes[] = {{97, 64, 384, false}, {384, 64, 97, true}, {384, 64, 1, true},
                                                      {385, 67, 13, true},  {97, 67, 383, false}, {385, 33, 5, false}};

/// layer_norm: channels across the vector widths (the mixer's 64 among them), 1, 3 and 97 rows.
constexpr int kLayerNormChannels[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65, 100};
constexpr int kLayerNormRows[] = {1, 3, 97};

/// transform_tensor_bilinear: input h x w -> output h x w, and channel counts across the widths.
struct BilinearShape {
  int ih, iw, oh, ow;
};
constexpr BilinearShape kBilinearShapes[] = {{13, 9, 5, 7}, {48, 48, 16, 16}, {1, 1, 3, 3}, {7, 11, 13, 9}};
constexpr int kBilinearChannels[] = {1, 3, 4, 7, 8, 15, 16, 17, 28, 32, 33};

/// Row-major 4x4 affine matrix: rotation by `a`, scale (sx, sy), then translation (tx, ty).
inline std::vector<float> affine4(double a, double sx, double sy, double tx, double ty) {
  const double c = std::cos(a), s = std::sin(a);
  return {float(c * sx), float(-s * sy), 0, float(tx), float(s * sx), float(c * sy), 0, float(ty),
          0, 0, 1, 0, 0, 0, 0, 1};
}

}  // namespace kernel_cases
