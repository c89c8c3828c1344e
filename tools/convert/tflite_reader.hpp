// tools/convert/tflite_reader.hpp - reads a .tflite flatbuffer into a plain, validated graph.
//
// The flatbuffer is first checked by the flatbuffers verifier (tflite_subset.fbs), then every
// index, shape and buffer size the converter relies on is checked here, so that the lowering
// code can trust the SourceGraph. Hostile input gives a Status naming the bad item, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "facekit/status.hpp"

namespace facekit {
namespace convert {

/// TFLite TensorType values (tflite_subset.fbs).
enum TfType : int {
  kTfFloat32 = 0,
  kTfFloat16 = 1,
  kTfInt32 = 2,
  kTfUInt8 = 3,
  kTfInt64 = 4,
  kTfString = 5,
  kTfBool = 6,
  kTfInt16 = 7,
  kTfComplex64 = 8,
  kTfInt8 = 9,
  kTfFloat64 = 10,
};

/// TFLite builtin operator codes the converter refers to by name.
enum TfOp : int {
  kTfAdd = 0,
  kTfConcatenation = 2,
  kTfConv2d = 3,
  kTfDepthwiseConv2d = 4,
  kTfDepthToSpace = 5,
  kTfDequantize = 6,
  kTfLogistic = 14,
  kTfMaxPool2d = 17,
  kTfMul = 18,
  kTfRelu = 19,
  kTfRelu6 = 21,
  kTfReshape = 22,
  kTfResizeBilinear = 23,
  kTfCustom = 32,
  kTfPad = 34,
  kTfTranspose = 39,
  kTfMean = 40,
  kTfSub = 41,
  kTfDiv = 42,
  kTfStridedSlice = 45,
  kTfPrelu = 54,
  kTfNeg = 59,
  kTfSum = 74,
  kTfSqrt = 75,
  kTfRsqrt = 76,
  kTfSquaredDifference = 99,
  kTfDensify = 124,
};

/// TFLite fused activation and padding values.
enum TfActivation : int { kTfActNone = 0, kTfActRelu = 1, kTfActReluN1To1 = 2, kTfActRelu6 = 3, kTfActTanh = 4,
                          kTfActSignBit = 5 };
enum TfPadding : int { kTfPadSame = 0, kTfPadValid = 1 };

/// Name of a TFLite type ("FLOAT16"), or "type <n>".
std::string tf_type_name(int type);
/// Byte size of one element of a TFLite type; 0 for variable-size or unknown types.
std::size_t tf_type_size(int type);
/// Name of a builtin operator ("CONV_2D"), or "BUILTIN_<n>" when unknown to this converter.
std::string tf_builtin_name(int code);

/// TFLite's sparse tensor format (SparsityParameters), indices widened to int32. Levels are in
/// traversal order; a level is DENSE (dense_size entries) or SPARSE_CSR (segments + indices).
struct SourceSparsity {
  struct Level {
    bool sparse = false;
    int dense_size = 0;
    std::vector<int32_t> segments, indices;
  };
  std::vector<int32_t> traversal_order;  ///< dimension of each level (>= rank: a block dimension)
  std::vector<int32_t> block_map;        ///< original dimension of each block dimension
  std::vector<Level> levels;
};

struct SourceTensor {
  std::string name;
  int type = kTfFloat32;
  std::vector<int32_t> shape;      ///< dims, all >= 0 (checked)
  std::size_t elements = 0;        ///< product of shape (checked against overflow)
  bool has_data = false;           ///< a constant: its bytes are in the model
  std::size_t data_offset = 0;     ///< offset of the constant's bytes in SourceGraph::bytes
  std::size_t data_size = 0;
  bool sparse = false;             ///< has sparsity parameters (bytes are not a dense array)
  SourceSparsity sparsity;         ///< sparse tensors only
  bool is_variable = false;
  bool dynamic = false;            ///< shape_signature has a -1 somewhere
};

/// Builtin options decoded into one flat record (only the fields the converter uses).
struct SourceOptions {
  int type = 0;                    ///< BuiltinOptions union tag (0 = none)
  int padding = kTfPadSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  int depth_multiplier = 1;
  int filter_w = 0, filter_h = 0;
  int activation = kTfActNone;
  int axis = 0;
  int block_size = 0;              ///< DEPTH_TO_SPACE
  bool align_corners = false, half_pixel_centers = false;  ///< RESIZE_BILINEAR
};

struct SourceOp {
  int index = 0;                   ///< operator index in the subgraph
  int builtin = 0;                 ///< builtin operator code (kTfCustom for custom ops)
  std::string custom_code;         ///< custom ops only
  int version = 1;
  std::string type_name;           ///< "CONV_2D", or the custom code
  std::vector<int32_t> inputs;     ///< tensor indices, -1 = absent optional input
  std::vector<int32_t> outputs;
  SourceOptions options;
  std::size_t custom_options_offset = 0;  ///< custom ops: the options blob (FlexBuffers) within
  std::size_t custom_options_size = 0;    ///< SourceGraph::bytes; size 0 when there is none
};

struct SourceGraph {
  std::string source;              ///< file or member name, for messages
  std::vector<uint8_t> bytes;      ///< the whole .tflite file (constants point into it)
  std::vector<SourceTensor> tensors;
  std::vector<SourceOp> ops;       ///< execution order, as stored
  std::vector<int32_t> inputs, outputs;
  uint32_t schema_version = 0;
  int subgraph_count = 0;
  std::string description;

  const uint8_t* data(const SourceTensor& t) const { return bytes.data() + t.data_offset; }
};

/// Verifies and reads subgraph 0 of a .tflite file. `source` names the file in error messages.
Expected<SourceGraph> read_tflite(std::vector<uint8_t> bytes, const std::string& source);

/// IEEE half -> float (subnormals, infinities and NaN included).
float f16_to_f32(uint16_t h) noexcept;

/// Reads a constant of type FLOAT32 or FLOAT16 into floats. Fails on other types.
Status constant_as_floats(const SourceGraph& g, int tensor, std::vector<float>* out);
/// Expands a sparse constant of type FLOAT32 or FLOAT16 into its dense row-major floats (missing
/// entries 0), checking every segment, index and the value count against the shape.
Status densify_as_floats(const SourceGraph& g, int tensor, std::vector<float>* out);
/// Reads a constant of type INT32 or INT64 into int64s. Fails on other types.
Status constant_as_ints(const SourceGraph& g, int tensor, std::vector<int64_t>* out);

}  // namespace convert
}  // namespace facekit
