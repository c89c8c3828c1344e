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

/// The op set: one line per op. Each line gives the op's name (also its file, ops/<name>.hpp,
/// where its validation and CPU step live), its code and its parameter block. Codes are part of
/// the file format: never renumber, only append. Code 13 is retired (an MLP-Mixer block that was
/// never implemented: the mixer lowers to layer_norm + token_dense + conv2d); do not reuse it.
///
/// Inputs (tensor indices) per op:
///   conv2d, dwconv2d               x, packed weights (conv2d_oc_tile / dwconv2d_c_tile), [prelu alpha], [residual]
///   maxpool2d, relu, logistic      x
///   add                            a, b (b may have fewer channels: it is zero-extended), [prelu alpha]
///   prelu                          x, alpha (channel_padded)
///   reshape                        x (the output shares x's memory)
///   concat                         x0..xn along ConcatParams::axis
///   pad                            x; constant padding per dimension
///   mul                            x, b (channel_padded [C]): y = x * b[c]
///   layer_norm                     x, [gamma], [beta] (channel_padded [C])
///   landmarks_to_transform_matrix  landmarks [1,N,D], subset (plain [K]); out [1,4,4]
///   transform_tensor_bilinear      x [1,H,W,C], matrix [.., 16]; out [1,OH,OW,C]
///   transform_landmarks            points [1,N,D], matrix [.., 16], [factor (plain [16])]
///   token_dense                    x [.., T, C], packed weights (conv2d_oc_tile [O,1,1,T]), [residual [.., O, C]]
///   point_normalize                x [.., N, D]: centre the N points, divide by their mean distance
///   slice                          x; the output's dims are the extents
///   copy                           x (constant or activation): y = x (materialises a constant)
///   resize_bilinear                x [1,H,W,C]; out [1,OH,OW,C]
///   depth_to_space                 x [1,H,W,C*b*b]; out [1,H*b,W*b,C]
#define FACEKIT_OPS(X)                                                            \
  X(conv2d, 1, Conv2dParams)                                                      \
  X(dwconv2d, 2, Conv2dParams)                                                    \
  X(maxpool2d, 3, Pool2dParams)                                                   \
  X(add, 4, AddParams)                                                            \
  X(relu, 5, NoParams)                                                            \
  X(prelu, 6, NoParams)                                                           \
  X(reshape, 7, NoParams)                                                         \
  X(concat, 8, ConcatParams)                                                      \
  X(pad, 9, PadParams)                                                            \
  X(logistic, 10, NoParams)                                                       \
  X(mul, 11, NoParams)                                                            \
  X(layer_norm, 12, LayerNormParams)                                              \
  X(landmarks_to_transform_matrix, 14, LandmarksToTransformMatrixParams)          \
  X(transform_tensor_bilinear, 15, TransformTensorBilinearParams)                 \
  X(transform_landmarks, 16, TransformLandmarksParams)                            \
  X(token_dense, 17, TokenDenseParams)                                            \
  X(point_normalize, 18, NoParams)                                                \
  X(slice, 19, SliceParams)                                                       \
  X(copy, 20, NoParams)                                                           \
  X(resize_bilinear, 21, ResizeBilinearParams)                                    \
  X(depth_to_space, 22, DepthToSpaceParams)

enum class OpType : uint32_t {
#define FACEKIT_OP_ENUM(name, code, P) name = code,
  FACEKIT_OPS(FACEKIT_OP_ENUM)
#undef FACEKIT_OP_ENUM
};

/// The op's name, or null for a code outside the op set (the loader's check).
inline const char* op_type_name(OpType t) noexcept {
  switch (t) {
#define FACEKIT_OP_NAME(name, code, P) \
  case OpType::name: return #name;
    FACEKIT_OPS(FACEKIT_OP_NAME)
#undef FACEKIT_OP_NAME
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

/// The parameter block of an op that has none (all words zero in the file).
struct NoParams {};

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

/// The typed parameter struct of each op, from the op set: OpParamsOf<OpType::pad> is PadParams.
template <OpType T>
struct OpParamsOf;
#define FACEKIT_OP_PARAMS(name, code, P) \
  template <>                            \
  struct OpParamsOf<OpType::name> {      \
    using type = P;                      \
  };
FACEKIT_OPS(FACEKIT_OP_PARAMS)
#undef FACEKIT_OP_PARAMS

}  // namespace facekit
