// facekit/op_types.hpp - facekit's op set: the op codes and typed parameters stored in model
// files (docs/model-format.md). Shared by the converter, the loader and the executor.
//
// Every op has up to kMaxOpInputs inputs and kMaxOpOutputs outputs (tensor indices; kNoTensor
// marks an absent optional input) and a fixed 64-byte parameter block whose meaning depends on
// the op code. Activations are NHWC float32 with batch 1.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace facekit {

/// Op codes. Values are part of the file format: never renumber, only append.
enum class OpType : uint32_t {
  conv2d = 1,     ///< in: x, packed weights (conv2d_oc_tile), [prelu alpha], [residual]
  dwconv2d = 2,   ///< in: x, packed weights (dwconv2d_c_tile), [prelu alpha], [residual]
  maxpool2d = 3,  ///< in: x
  add = 4,        ///< in: a, b (b may have fewer channels: it is zero-extended), [prelu alpha]
  relu = 5,       ///< in: x
  prelu = 6,      ///< in: x, alpha (channel_padded)
  reshape = 7,    ///< in: x (the output shares x's memory)
  concat = 8,     ///< in: x0..xn along Concat::axis
  pad = 9,        ///< in: x; constant padding per NHWC dimension
  logistic = 10,  ///< in: x
  mul = 11,         ///< in: x, b (channel_padded [C]): y = x * b[c]
  layer_norm = 12,  ///< in: x, [gamma], [beta] (channel_padded [C]); LayerNormParams
  // Reserved for later work (attention mesh custom ops); the numbers are taken so that the
  // format does not change when they land. 13 stays unused: the blendshape MLP-Mixer lowers to
  // layer_norm + token_dense + conv2d instead of one fused block.
  mlp_mixer_block = 13,
  landmarks_to_transform_matrix = 14,  ///< in: landmarks [1,N,D], subset (plain [K]); out [1,4,4]
  transform_tensor_bilinear = 15,      ///< in: x [1,H,W,C], matrix [.., 16]; out [1,OH,OW,C]
  transform_landmarks = 16,            ///< in: points [1,N,D], matrix [.., 16], [factor (plain [16])]
  token_dense = 17,      ///< in: x [.., T, C], packed weights (conv2d_oc_tile [O,1,1,T]), [residual [.., O, C]]
  point_normalize = 18,  ///< in: x [.., N, D]: centre the N points, divide by their mean distance
  slice = 19,            ///< in: x; SliceParams; the output's dims are the extents
  copy = 20,             ///< in: x (constant or activation): y = x (materialises a constant)
  resize_bilinear = 21,  ///< in: x [1,H,W,C]; out [1,OH,OW,C]; ResizeBilinearParams
  depth_to_space = 22,   ///< in: x [1,H,W,C*b*b]; out [1,H*b,W*b,C]; DepthToSpaceParams
};

inline const char* op_type_name(OpType t) noexcept {
  switch (t) {
    case OpType::conv2d: return "conv2d";
    case OpType::dwconv2d: return "dwconv2d";
    case OpType::maxpool2d: return "maxpool2d";
    case OpType::add: return "add";
    case OpType::relu: return "relu";
    case OpType::prelu: return "prelu";
    case OpType::reshape: return "reshape";
    case OpType::concat: return "concat";
    case OpType::pad: return "pad";
    case OpType::logistic: return "logistic";
    case OpType::mul: return "mul";
    case OpType::layer_norm: return "layer_norm";
    case OpType::mlp_mixer_block: return "mlp_mixer_block";
    case OpType::landmarks_to_transform_matrix: return "landmarks_to_transform_matrix";
    case OpType::transform_tensor_bilinear: return "transform_tensor_bilinear";
    case OpType::transform_landmarks: return "transform_landmarks";
    case OpType::token_dense: return "token_dense";
    case OpType::point_normalize: return "point_normalize";
    case OpType::slice: return "slice";
    case OpType::copy: return "copy";
    case OpType::resize_bilinear: return "resize_bilinear";
    case OpType::depth_to_space: return "depth_to_space";
  }
  return nullptr;
}

/// Activation fused into the end of an op (after bias and residual).
enum class Activation : uint32_t { none = 0, relu = 1, relu6 = 2, prelu = 3 };

constexpr uint32_t kNoTensor = 0xFFFFFFFFu;
constexpr int kMaxOpInputs = 8;
constexpr int kMaxOpOutputs = 2;
constexpr int kOpParamWords = 16;

/// Input slots of conv2d / dwconv2d.
enum ConvInput : int { kConvX = 0, kConvWeights = 1, kConvAlpha = 2, kConvResidual = 3 };

/// conv2d and dwconv2d. Output = act(conv(x) + bias + residual), where the residual (if present)
/// has out_c or fewer channels and is zero-extended (MediaPipe's channel-padding shortcut).
struct Conv2dParams {
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  Activation activation;
};

/// maxpool2d. Padded taps are ignored (TFLite semantics).
struct Pool2dParams {
  int32_t kernel_h, kernel_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  Activation activation;
};

/// add: out = act(a + zero_extend(b)).
struct AddParams {
  Activation activation;
};

/// concat along `axis` (0..rank-1 of the output).
struct ConcatParams {
  int32_t axis;
};

/// pad: before/after counts for each of the 4 NHWC dimensions, constant value.
struct PadParams {
  int32_t before[4];
  int32_t after[4];
  float value;
};

/// layer_norm over the last dimension (C) of each row:
/// y = (x - mean) * gamma[c] / sqrt(var + epsilon) + beta[c], var the biased variance; a missing
/// gamma is 1, a missing beta 0.
struct LayerNormParams {
  float epsilon;
};

/// Input slots of token_dense.
enum TokenDenseInput : int { kTokenDenseX = 0, kTokenDenseWeights = 1, kTokenDenseResidual = 2 };

/// token_dense: a dense layer across the second-to-last dimension (MLP-Mixer token mixing).
/// x viewed as a [T][C] matrix, w as [O][T] with bias[O]:
/// y[o][c] = act(bias[o] + sum_t w[o][t] * x[t][c] + residual[o][c]). Activation none, relu or relu6.
struct TokenDenseParams {
  Activation activation;
};

/// slice: y = x[begin[d] .. begin[d] + y.dims[d]) along each dimension d < rank (stride 1).
struct SliceParams {
  int32_t begin[4];
};

/// resize_bilinear (TFLite RESIZE_BILINEAR, float): output pixel (X, Y) samples the input at
/// (X * sx, Y * sy), or ((X + 0.5) sx - 0.5, (Y + 0.5) sy - 0.5) with half_pixel_centers, where
/// s = in / out, or (in - 1) / (out - 1) with align_corners (and out > 1). Neighbours are clamped
/// to the image (kernels/f32_resize_bilinear.hpp). Each flag is 0 or 1; not both 1.
struct ResizeBilinearParams {
  int32_t align_corners;
  int32_t half_pixel_centers;
};

/// depth_to_space (TFLite DEPTH_TO_SPACE, NHWC, "DCR" order): output pixel (h b + by, w b + bx)
/// channel c is input pixel (h, w) channel (by b + bx) C + c, C the output channels.
struct DepthToSpaceParams {
  int32_t block_size;
};

/// Input slots of landmarks_to_transform_matrix.
enum LandmarksToTransformInput : int { kL2tLandmarks = 0, kL2tSubset = 1 };

/// landmarks_to_transform_matrix (MediaPipe's Landmarks2TransformMatrix, version 2). Inputs:
/// landmarks [1, N, D] (D >= 2: x, y[, z]) and subset, a plain constant [K] of landmark indices
/// (stored as exact integer floats). Output [1, 4, 4], row-major: the affine matrix that maps a
/// position in an output_width x output_height crop to the landmark frame. The crop is centred on
/// the subset's bounding box after rotating the points by
/// target_rotation_radians - atan2(y[right] - y[left], x[right] - x[left]), and is scale_x/scale_y
/// times that box (docs/pipeline.md 4.3).
struct LandmarksToTransformMatrixParams {
  int32_t left_rotation_idx, right_rotation_idx;
  int32_t output_width, output_height;
  float scale_x, scale_y;
  float target_rotation_radians;
};

/// transform_tensor_bilinear (MediaPipe's TransformTensorBilinear). Inputs: x [1, H, W, C] and a
/// matrix (16 floats, row-major 4x4; only its first two rows are read). Output [1, OH, OW, C]:
/// bilinear samples of x at M * (X, Y, 0, 1); a sample point outside [0, W-1] x [0, H-1] gives 0
/// in every channel. pixel_centers = 1 (version 2) first maps output pixel centres and converts
/// to input index coordinates: the sample point is M * (X + 0.5, Y + 0.5) - (0.5, 0.5).
struct TransformTensorBilinearParams {
  int32_t pixel_centers;
};

/// Input slots of transform_landmarks.
enum TransformLandmarksInput : int { kTlPoints = 0, kTlMatrix = 1, kTlFactor = 2 };

/// transform_landmarks (MediaPipe's TransformLandmarks, version 2). Inputs: points [1, N, D]
/// (D = 2 or 3), a matrix (16 floats, row-major 4x4) and an optional plain constant factor [16]
/// multiplied element-wise into the matrix first (a MUL of the matrix by a constant, fused by the
/// converter). Output [1, N, D]: (x, y) -> (m00 x + m01 y + m03 s, m10 x + m11 y + m13 s) with s =
/// translation_scale (1 in version 2); z, if present, is copied.
struct TransformLandmarksParams {
  float translation_scale;
};

/// Parameter block as stored in the file.
struct OpParams {
  uint32_t words[kOpParamWords];

  template <class P>
  P as() const noexcept {
    static_assert(sizeof(P) <= sizeof(words) && std::is_trivially_copyable<P>::value, "param block");
    P p;
    std::memcpy(&p, words, sizeof(P));
    return p;
  }
  template <class P>
  static OpParams from(const P& p) noexcept {
    static_assert(sizeof(P) <= sizeof(words) && std::is_trivially_copyable<P>::value, "param block");
    OpParams o{};
    std::memcpy(o.words, &p, sizeof(P));
    return o;
  }
};

}  // namespace facekit
