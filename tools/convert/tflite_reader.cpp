// tools/convert/tflite_reader.cpp - .tflite -> SourceGraph, verified and bounds-checked.
#include "convert/tflite_reader.hpp"

#include <cstring>
#include <limits>

#include "tflite_subset_generated.h"

namespace facekit {
namespace convert {

namespace tfl = facekit::tflite;

namespace {

// Builtin operator names in code order (TFLite's BuiltinOperator enum), for error messages.
const char* const kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
    "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
    "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
    "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
    "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY",
    "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO",
    "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
};
constexpr int kBuiltinNameCount = int(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]));

// Largest element count accepted for one tensor (2^31: the loader's limit as well).
constexpr std::size_t kMaxElements = std::size_t(1) << 31;

// Widens one of the three index vector types to int32; false if the union is empty.
bool read_index_vector(tfl::SparseIndexVector type, const void* v, std::vector<int32_t>* out) {
  out->clear();
  if (!v) return false;
  switch (type) {
    case tfl::SparseIndexVector_Int32Vector: {
      const auto* vals = static_cast<const tfl::Int32Vector*>(v)->values();
      if (!vals) return false;
      out->assign(vals->begin(), vals->end());
      return true;
    }
    case tfl::SparseIndexVector_Uint16Vector: {
      const auto* vals = static_cast<const tfl::Uint16Vector*>(v)->values();
      if (!vals) return false;
      out->assign(vals->begin(), vals->end());
      return true;
    }
    case tfl::SparseIndexVector_Uint8Vector: {
      const auto* vals = static_cast<const tfl::Uint8Vector*>(v)->values();
      if (!vals) return false;
      out->assign(vals->begin(), vals->end());
      return true;
    }
    default: return false;
  }
}

bool checked_mul(std::size_t a, std::size_t b, std::size_t* out) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  *out = a * b;
  return true;
}

std::string shape_str(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

void decode_options(const tfl::Operator* op, SourceOptions* o) {
  o->type = int(op->builtin_options_type());
  if (const auto* c = op->builtin_options_as_Conv2DOptions()) {
    o->padding = int(c->padding());
    o->stride_w = c->stride_w();
    o->stride_h = c->stride_h();
    o->activation = int(c->fused_activation_function());
    o->dilation_w = c->dilation_w_factor();
    o->dilation_h = c->dilation_h_factor();
  } else if (const auto* d = op->builtin_options_as_DepthwiseConv2DOptions()) {
    o->padding = int(d->padding());
    o->stride_w = d->stride_w();
    o->stride_h = d->stride_h();
    o->depth_multiplier = d->depth_multiplier();
    o->activation = int(d->fused_activation_function());
    o->dilation_w = d->dilation_w_factor();
    o->dilation_h = d->dilation_h_factor();
  } else if (const auto* p = op->builtin_options_as_Pool2DOptions()) {
    o->padding = int(p->padding());
    o->stride_w = p->stride_w();
    o->stride_h = p->stride_h();
    o->filter_w = p->filter_width();
    o->filter_h = p->filter_height();
    o->activation = int(p->fused_activation_function());
  } else if (const auto* cc = op->builtin_options_as_ConcatenationOptions()) {
    o->axis = cc->axis();
    o->activation = int(cc->fused_activation_function());
  } else if (const auto* a = op->builtin_options_as_AddOptions()) {
    o->activation = int(a->fused_activation_function());
  } else if (const auto* m = op->builtin_options_as_MulOptions()) {
    o->activation = int(m->fused_activation_function());
  } else if (const auto* d2s = op->builtin_options_as_DepthToSpaceOptions()) {
    o->block_size = d2s->block_size();
  } else if (const auto* r = op->builtin_options_as_ResizeBilinearOptions()) {
    o->align_corners = r->align_corners();
    o->half_pixel_centers = r->half_pixel_centers();
  }
}

}  // namespace

std::string tf_type_name(int type) {
  static const char* const names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING",
                                      "BOOL",    "INT16",   "COMPLEX64", "INT8", "FLOAT64"};
  if (type >= 0 && type < int(sizeof(names) / sizeof(names[0]))) return names[type];
  return "type " + std::to_string(type);
}

std::size_t tf_type_size(int type) {
  switch (type) {
    case kTfFloat32: return 4;
    case kTfFloat16: return 2;
    case kTfInt32: return 4;
    case kTfUInt8: return 1;
    case kTfInt64: return 8;
    case kTfBool: return 1;
    case kTfInt16: return 2;
    case kTfComplex64: return 8;
    case kTfInt8: return 1;
    case kTfFloat64: return 8;
    default: return 0;
  }
}

std::string tf_builtin_name(int code) {
  if (code >= 0 && code < kBuiltinNameCount) return kBuiltinNames[code];
  return "BUILTIN_" + std::to_string(code);
}

float f16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal half: normalise the mantissa into a float exponent.
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

Expected<SourceGraph> read_tflite(std::vector<uint8_t> bytes, const std::string& source) {
  SourceGraph g;
  g.source = source;
  g.bytes = std::move(bytes);
  const uint8_t* base = g.bytes.data();
  const std::size_t size = g.bytes.size();

  if (size < 8)
    return Status::error("%s: %zu bytes is too small for a TFLite flatbuffer (truncated?)", source.c_str(), size);
  if (size >= (std::size_t(1) << 31))
    return Status::error("%s: %zu bytes exceeds the 2 GiB flatbuffer limit", source.c_str(), size);
  if (!flatbuffers::BufferHasIdentifier(base, tfl::ModelIdentifier())) {
    char id[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
      const char c = char(base[4 + i]);
      id[i] = (c >= 32 && c < 127) ? c : '?';
    }
    return Status::error("%s: not a TFLite model: file identifier is '%s', expected 'TFL3'", source.c_str(), id);
  }
  {
    flatbuffers::Verifier verifier(base, size);
    if (!tfl::VerifyModelBuffer(verifier))
      return Status::error(
          "%s: the TFLite flatbuffer failed verification (truncated or corrupted file: an offset or size "
          "points outside the %zu bytes)",
          source.c_str(), size);
  }
  const tfl::Model* model = tfl::GetModel(base);
  g.schema_version = model->version();
  if (g.schema_version != 3)
    return Status::error("%s: TFLite schema version %u is not supported (expected 3)", source.c_str(),
                         g.schema_version);
  if (model->description()) g.description = model->description()->str();
  const auto* subgraphs = model->subgraphs();
  if (!subgraphs || subgraphs->size() == 0) return Status::error("%s: the model has no subgraph", source.c_str());
  g.subgraph_count = int(subgraphs->size());
  const tfl::SubGraph* sg = subgraphs->Get(0);
  const auto* buffers = model->buffers();
  const auto* codes = model->operator_codes();
  const std::size_t n_buffers = buffers ? buffers->size() : 0;
  const std::size_t n_codes = codes ? codes->size() : 0;

  // ---- tensors ------------------------------------------------------------------------------------
  const auto* tensors = sg->tensors();
  const std::size_t n_tensors = tensors ? tensors->size() : 0;
  if (n_tensors >= std::size_t(std::numeric_limits<int32_t>::max()))
    return Status::error("%s: %zu tensors is too many", source.c_str(), n_tensors);
  g.tensors.resize(n_tensors);
  for (std::size_t i = 0; i < n_tensors; ++i) {
    const tfl::Tensor* t = tensors->Get(flatbuffers::uoffset_t(i));
    SourceTensor& st = g.tensors[i];
    st.name = t->name() ? t->name()->str() : "tensor_" + std::to_string(i);
    st.type = int(t->type());
    st.is_variable = t->is_variable();
    st.sparse = t->sparsity() != nullptr;
    if (const tfl::SparsityParameters* sp = t->sparsity()) {
      // Structure only here; densify_as_floats checks it against the shape and the data.
      if (sp->traversal_order())
        st.sparsity.traversal_order.assign(sp->traversal_order()->begin(), sp->traversal_order()->end());
      if (sp->block_map()) st.sparsity.block_map.assign(sp->block_map()->begin(), sp->block_map()->end());
      if (sp->dim_metadata())
        for (const tfl::DimensionMetadata* dm : *sp->dim_metadata()) {
          SourceSparsity::Level lv;
          lv.sparse = dm->format() == tfl::DimensionType_SPARSE_CSR;
          lv.dense_size = dm->dense_size();
          if (lv.sparse && (!read_index_vector(dm->array_segments_type(), dm->array_segments(), &lv.segments) ||
                            !read_index_vector(dm->array_indices_type(), dm->array_indices(), &lv.indices)))
            return Status::error("%s: tensor #%zu '%s': sparse dimension %zu has no segments or indices",
                                 source.c_str(), i, st.name.c_str(), st.sparsity.levels.size());
          st.sparsity.levels.push_back(std::move(lv));
        }
    }
    if (t->shape()) {
      if (t->shape()->size() > 8)
        return Status::error("%s: tensor #%zu '%s' has rank %u (more than 8)", source.c_str(), i, st.name.c_str(),
                             t->shape()->size());
      for (int32_t d : *t->shape()) st.shape.push_back(d);
    }
    if (t->shape_signature())
      for (int32_t d : *t->shape_signature()) st.dynamic = st.dynamic || d < 0;
    std::size_t n = 1;
    for (int32_t d : st.shape) {
      if (d < 0)
        return Status::error("%s: tensor #%zu '%s' has a negative dimension in shape %s", source.c_str(), i,
                             st.name.c_str(), shape_str(st.shape).c_str());
      if (!checked_mul(n, std::size_t(d), &n) || n > kMaxElements)
        return Status::error("%s: tensor #%zu '%s' shape %s has too many elements", source.c_str(), i,
                             st.name.c_str(), shape_str(st.shape).c_str());
    }
    st.elements = n;

    const uint32_t b = t->buffer();
    if (b >= n_buffers && !(b == 0 && n_buffers == 0))
      return Status::error("%s: tensor #%zu '%s' refers to buffer %u, but the model has %zu buffers", source.c_str(),
                           i, st.name.c_str(), b, n_buffers);
    if (b == 0) continue;  // buffer 0 is the shared empty sentinel: an activation
    const tfl::Buffer* buf = buffers->Get(b);
    const uint8_t* data = nullptr;
    std::size_t bytes_n = 0;
    if (buf->offset() > 1) {
      // Large-model layout: the bytes sit outside the flatbuffer, at an absolute file offset.
      if (buf->offset() > size || buf->size() > size - buf->offset())
        return Status::error("%s: buffer %u of tensor '%s' (offset %llu, size %llu) lies outside the %zu-byte file",
                             source.c_str(), b, st.name.c_str(), static_cast<unsigned long long>(buf->offset()),
                             static_cast<unsigned long long>(buf->size()), size);
      data = base + buf->offset();
      bytes_n = std::size_t(buf->size());
    } else if (buf->data() && buf->data()->size() > 0) {
      data = buf->data()->data();
      bytes_n = buf->data()->size();
    }
    if (!data) continue;  // an empty buffer: also an activation
    st.has_data = true;
    st.data_offset = std::size_t(data - base);
    st.data_size = bytes_n;
    const std::size_t esize = tf_type_size(st.type);
    if (!st.sparse && esize != 0) {
      std::size_t expect = 0;
      if (!checked_mul(st.elements, esize, &expect) || expect != bytes_n)
        return Status::error("%s: constant tensor #%zu '%s' (%s %s) has %zu data bytes, its shape needs %zu",
                             source.c_str(), i, st.name.c_str(), tf_type_name(st.type).c_str(),
                             shape_str(st.shape).c_str(), bytes_n, expect);
    }
  }

  auto check_index = [&](int32_t t, bool optional, const char* what, std::size_t where) -> Status {
    if (t == -1 && optional) return Status::ok();
    if (t < 0 || std::size_t(t) >= n_tensors)
      return Status::error("%s: %s #%zu refers to tensor %d, but there are %zu tensors", source.c_str(), what, where, t,
                           n_tensors);
    return Status::ok();
  };

  // ---- graph inputs and outputs -----------------------------------------------------------------
  if (sg->inputs())
    for (std::size_t i = 0; i < sg->inputs()->size(); ++i) {
      const int32_t t = sg->inputs()->Get(flatbuffers::uoffset_t(i));
      FACEKIT_RETURN_IF_ERROR(check_index(t, false, "graph input", i));
      g.inputs.push_back(t);
    }
  if (sg->outputs())
    for (std::size_t i = 0; i < sg->outputs()->size(); ++i) {
      const int32_t t = sg->outputs()->Get(flatbuffers::uoffset_t(i));
      FACEKIT_RETURN_IF_ERROR(check_index(t, false, "graph output", i));
      g.outputs.push_back(t);
    }
  if (g.inputs.empty() || g.outputs.empty())
    return Status::error("%s: subgraph 0 has %zu inputs and %zu outputs; needs at least one of each",
                         source.c_str(), g.inputs.size(), g.outputs.size());

  // ---- operators --------------------------------------------------------------------------------
  const auto* ops = sg->operators();
  const std::size_t n_ops = ops ? ops->size() : 0;
  g.ops.resize(n_ops);
  for (std::size_t i = 0; i < n_ops; ++i) {
    const tfl::Operator* op = ops->Get(flatbuffers::uoffset_t(i));
    SourceOp& so = g.ops[i];
    so.index = int(i);
    if (op->opcode_index() >= n_codes)
      return Status::error("%s: operator #%zu uses operator code %u, but the model has %zu codes", source.c_str(), i,
                           op->opcode_index(), n_codes);
    const tfl::OperatorCode* code = codes->Get(op->opcode_index());
    // Old writers store the code in the byte field only; new ones store both (the larger is right).
    so.builtin = std::max(int(code->deprecated_builtin_code()), int(code->builtin_code()));
    so.version = code->version();
    if (so.builtin == kTfCustom) {
      so.custom_code = code->custom_code() ? code->custom_code()->str() : std::string();
      so.type_name = so.custom_code.empty() ? std::string("CUSTOM") : so.custom_code;
    } else {
      so.type_name = tf_builtin_name(so.builtin);
    }
    if (op->inputs())
      for (std::size_t k = 0; k < op->inputs()->size(); ++k) {
        const int32_t t = op->inputs()->Get(flatbuffers::uoffset_t(k));
        FACEKIT_RETURN_IF_ERROR(check_index(t, true, ("operator " + so.type_name + " #" + std::to_string(i) +
                                                      " input").c_str(), k));
        so.inputs.push_back(t);
      }
    if (op->outputs())
      for (std::size_t k = 0; k < op->outputs()->size(); ++k) {
        const int32_t t = op->outputs()->Get(flatbuffers::uoffset_t(k));
        FACEKIT_RETURN_IF_ERROR(check_index(t, false, ("operator " + so.type_name + " #" + std::to_string(i) +
                                                       " output").c_str(), k));
        so.outputs.push_back(t);
      }
    decode_options(op, &so.options);
    if (op->custom_options() && op->custom_options()->size() > 0) {
      // The verifier has checked that the vector lies inside the buffer.
      so.custom_options_offset = std::size_t(op->custom_options()->data() - base);
      so.custom_options_size = op->custom_options()->size();
    }
  }
  return g;
}

Status constant_as_floats(const SourceGraph& g, int tensor, std::vector<float>* out) {
  const SourceTensor& t = g.tensors[std::size_t(tensor)];
  if (!t.has_data || t.sparse)
    return Status::error("tensor '%s' is not a dense constant", t.name.c_str());
  const uint8_t* p = g.data(t);
  out->resize(t.elements);
  if (t.type == kTfFloat32) {
    if (t.elements) std::memcpy(out->data(), p, t.elements * 4);
  } else if (t.type == kTfFloat16) {
    for (std::size_t i = 0; i < t.elements; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      (*out)[i] = f16_to_f32(h);
    }
  } else {
    return Status::error("tensor '%s' has type %s, expected FLOAT32 or FLOAT16", t.name.c_str(),
                         tf_type_name(t.type).c_str());
  }
  return Status::ok();
}

Status densify_as_floats(const SourceGraph& g, int tensor, std::vector<float>* out) {
  const SourceTensor& t = g.tensors[std::size_t(tensor)];
  const SourceSparsity& sp = t.sparsity;
  auto bad = [&](const std::string& what) {
    return Status::error("sparse tensor '%s' %s: %s", t.name.c_str(), shape_str(t.shape).c_str(), what.c_str());
  };
  if (!t.has_data || !t.sparse) return bad("is not a sparse constant");
  const std::size_t esize = t.type == kTfFloat32 ? 4 : t.type == kTfFloat16 ? 2 : 0;
  if (esize == 0) return bad("has type " + tf_type_name(t.type) + ", expected FLOAT32 or FLOAT16");
  const std::size_t rank = t.shape.size(), nb = sp.block_map.size(), levels = rank + nb;
  if (rank == 0 || sp.traversal_order.size() != levels || sp.levels.size() != levels)
    return bad("traversal order has " + std::to_string(sp.traversal_order.size()) + " entries and " +
               std::to_string(sp.levels.size()) + " dimension records; rank " + std::to_string(rank) + " with " +
               std::to_string(nb) + " block dimensions needs " + std::to_string(levels) + " of each");
  // Expanded dims: the original ones (divided by their block size) followed by the block dims.
  std::vector<int> level_of(levels, -1);
  for (std::size_t l = 0; l < levels; ++l) {
    const int32_t d = sp.traversal_order[l];
    if (d < 0 || std::size_t(d) >= levels || level_of[std::size_t(d)] >= 0)
      return bad("traversal order is not a permutation of 0.." + std::to_string(levels - 1));
    level_of[std::size_t(d)] = int(l);
  }
  std::vector<int64_t> size(levels), block(nb);
  for (std::size_t d = 0; d < rank; ++d) size[d] = t.shape[d];
  for (std::size_t j = 0; j < nb; ++j) {
    const int32_t od = sp.block_map[j];
    const SourceSparsity::Level& lv = sp.levels[std::size_t(level_of[rank + j])];
    if (od < 0 || std::size_t(od) >= rank) return bad("block map entry " + std::to_string(od) + " is not a dimension");
    if (lv.sparse || lv.dense_size <= 0 || t.shape[std::size_t(od)] % lv.dense_size != 0 ||
        size[std::size_t(od)] != t.shape[std::size_t(od)])
      return bad("block dimension " + std::to_string(j) + " (size " + std::to_string(lv.dense_size) +
                 ") does not evenly divide dimension " + std::to_string(od) + ", or blocks it twice");
    block[j] = lv.dense_size;
    size[std::size_t(od)] = t.shape[std::size_t(od)] / lv.dense_size;
    size[rank + j] = lv.dense_size;
  }
  for (std::size_t l = 0; l < levels; ++l) {
    const SourceSparsity::Level& lv = sp.levels[l];
    if (!lv.sparse && lv.dense_size != size[std::size_t(sp.traversal_order[l])])
      return bad("dense level " + std::to_string(l) + " has size " + std::to_string(lv.dense_size) + ", dimension " +
                 std::to_string(sp.traversal_order[l]) + " has " +
                 std::to_string(size[std::size_t(sp.traversal_order[l])]));
  }
  const std::size_t n_values = t.data_size / esize;
  if (n_values * esize != t.data_size) return bad("data size is not a whole number of values");
  out->assign(t.elements, 0.0f);
  const uint8_t* data = g.data(t);
  auto value = [&](std::size_t k) {
    if (esize == 4) {
      float f;
      std::memcpy(&f, data + 4 * k, 4);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, data + 2 * k, 2);
    return f16_to_f32(h);
  };
  // Walk the levels in traversal order (iteratively: coordinate and position per level). A dense
  // level's position is parent * size + i; a CSR level's is the index into its arrays.
  std::vector<int64_t> coord(levels, 0), pos(levels + 1, 0), end(levels, 0);
  std::size_t next_value = 0;
  Status err;
  auto enter = [&](std::size_t l) -> bool {  // start level l under pos[l]; false if it is empty
    const SourceSparsity::Level& lv = sp.levels[l];
    const int64_t parent = pos[l];
    if (!lv.sparse) {
      pos[l + 1] = parent * lv.dense_size;
      end[l] = pos[l + 1] + lv.dense_size;
      coord[l] = 0;
      return lv.dense_size > 0;
    }
    if (parent < 0 || std::size_t(parent) + 1 >= lv.segments.size()) {
      err = bad("level " + std::to_string(l) + " has " + std::to_string(lv.segments.size()) + " segment bounds, " +
                "entry " + std::to_string(parent + 1) + " is needed");
      return false;
    }
    const int64_t b = lv.segments[std::size_t(parent)], e = lv.segments[std::size_t(parent) + 1];
    if (b < 0 || e < b || std::size_t(e) > lv.indices.size()) {
      err = bad("level " + std::to_string(l) + " segment [" + std::to_string(b) + ", " + std::to_string(e) +
                ") is not inside its " + std::to_string(lv.indices.size()) + " indices");
      return false;
    }
    pos[l + 1] = b;
    end[l] = e;
    return b < e;
  };
  auto set_coord = [&](std::size_t l) -> bool {
    const SourceSparsity::Level& lv = sp.levels[l];
    coord[l] = lv.sparse ? lv.indices[std::size_t(pos[l + 1])] : pos[l + 1] - pos[l] * lv.dense_size;
    if (coord[l] < 0 || coord[l] >= size[std::size_t(sp.traversal_order[l])]) {
      err = bad("level " + std::to_string(l) + " index " + std::to_string(coord[l]) + " is outside 0.." +
                std::to_string(size[std::size_t(sp.traversal_order[l])] - 1));
      return false;
    }
    return true;
  };
  std::size_t l = 0;
  pos[0] = 0;
  bool alive = enter(0);
  if (err.is_ok() && alive && !set_coord(0)) alive = false;
  while (alive && err.is_ok()) {
    if (l + 1 < levels) {
      if (enter(l + 1)) {
        ++l;
        if (!set_coord(l)) break;
        continue;
      }
      if (!err.is_ok()) break;
    } else {
      // A leaf: one stored value at the original coordinates.
      if (next_value >= n_values) {
        err = bad("the indices address more than the " + std::to_string(n_values) + " stored values");
        break;
      }
      std::vector<int64_t> orig(rank);
      for (std::size_t d = 0; d < rank; ++d) orig[d] = coord[std::size_t(level_of[d])];
      for (std::size_t j = 0; j < nb; ++j)
        orig[std::size_t(sp.block_map[j])] =
            orig[std::size_t(sp.block_map[j])] * block[j] + coord[std::size_t(level_of[rank + j])];
      std::size_t flat = 0;
      for (std::size_t d = 0; d < rank; ++d) flat = flat * std::size_t(t.shape[d]) + std::size_t(orig[d]);
      (*out)[flat] = value(next_value++);
    }
    // Advance: the deepest level with entries left moves on; finished levels pop.
    for (;;) {
      if (++pos[l + 1] < end[l]) {
        if (!set_coord(l)) alive = false;
        break;
      }
      if (l == 0) {
        alive = false;
        break;
      }
      --l;
    }
  }
  if (!err.is_ok()) return err;
  if (next_value != n_values)
    return bad("the indices address " + std::to_string(next_value) + " values, the buffer holds " +
               std::to_string(n_values));
  return Status::ok();
}

Status constant_as_ints(const SourceGraph& g, int tensor, std::vector<int64_t>* out) {
  const SourceTensor& t = g.tensors[std::size_t(tensor)];
  if (!t.has_data || t.sparse)
    return Status::error("tensor '%s' is not a dense constant", t.name.c_str());
  const uint8_t* p = g.data(t);
  out->resize(t.elements);
  for (std::size_t i = 0; i < t.elements; ++i) {
    if (t.type == kTfInt32) {
      int32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      (*out)[i] = v;
    } else if (t.type == kTfInt64) {
      int64_t v;
      std::memcpy(&v, p + 8 * i, 8);
      (*out)[i] = v;
    } else {
      return Status::error("tensor '%s' has type %s, expected INT32 or INT64", t.name.c_str(),
                           tf_type_name(t.type).c_str());
    }
  }
  return Status::ok();
}

}  // namespace convert
}  // namespace facekit
