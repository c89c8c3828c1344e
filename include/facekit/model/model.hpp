// facekit/model/model.hpp - a loaded, validated model file (read-only, shareable across threads).
//
//   auto model = facekit::Model::load_file("weights/face_detector.fkm");
//   if (!model) { std::fprintf(stderr, "%s\n", model.status().message()); ... }
//   std::printf("%s: %d ops\n", model->kind().c_str(), model->op_count());
//
// Model::from_bytes() uses the bytes in place (zero copy: a memory map, or an alignas(64) array
// compiled into firmware); the caller keeps them alive. Every offset, size, shape and op
// parameter is checked once here, with overflow-safe arithmetic, and an error names the bad
// field, tensor or op and its value; the executor then trusts the model. Every constant's values
// are finite (one pass over the bits). Metadata values are range-checked where a stage reads them.
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#ifndef FACEKIT_NO_STDIO
#include <cstdio>
#endif

#include "../config.hpp"
#include "../kernels/pack.hpp"
#include "../status.hpp"
#include "format.hpp"

namespace facekit {

/// A tensor as the executor sees it. `data` is null for activations.
struct TensorInfo {
  const char* name = "";
  format::DType dtype = format::DType::f32;
  format::TensorKind kind = format::TensorKind::activation;
  format::Layout layout = format::Layout::plain;
  int rank = 0;
  int dims[4] = {0, 0, 0, 0};
  const void* data = nullptr;
  std::size_t size_bytes = 0;  ///< constants: stored bytes; activations: elements * dtype size

  std::size_t elements() const noexcept {
    std::size_t n = 1;
    for (int i = 0; i < rank; ++i) n *= std::size_t(dims[i]);
    return n;
  }
  bool is_constant() const noexcept { return kind == format::TensorKind::constant; }
  const float* f32() const noexcept { return static_cast<const float*>(data); }
};

/// One op of the graph, in execution order.
struct OpInfo {
  OpType type = OpType::conv2d;
  const char* name = "";
  const uint32_t* inputs = nullptr;  ///< kNoTensor marks an absent optional input
  int input_count = 0;
  const uint32_t* outputs = nullptr;
  int output_count = 0;
  OpParams params{};

  uint32_t input(int i) const noexcept { return i < input_count ? inputs[i] : kNoTensor; }
};

namespace detail {

inline bool checked_mul(std::size_t a, std::size_t b, std::size_t* out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  *out = a * b;
  return true;
}
inline bool checked_add(std::size_t a, std::size_t b, std::size_t* out) noexcept {
  if (b > std::numeric_limits<std::size_t>::max() - a) return false;
  *out = a + b;
  return true;
}
/// [offset, offset + count * elem) lies inside [0, limit).
inline bool range_ok(uint64_t offset, uint64_t count, std::size_t elem, std::size_t limit) noexcept {
  std::size_t bytes = 0, end = 0;
  if (offset > limit || count > limit) return false;
  if (!checked_mul(std::size_t(count), elem, &bytes)) return false;
  if (!checked_add(std::size_t(offset), bytes, &end)) return false;
  return end <= limit;
}

/// Index of the first of `n` floats at `p` that is NaN or infinite (all exponent bits set), or
/// `n`. One pass over the bits in blocks the compiler vectorises; only a block with a hit is
/// scanned again.
inline std::size_t first_nonfinite_f32(const void* p, std::size_t n) noexcept {
  constexpr uint32_t kExponent = 0x7f800000u;
  constexpr std::size_t kBlock = 256;
  const unsigned char* bytes = static_cast<const unsigned char*>(p);
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t end = std::min(n, begin + kBlock);
    uint32_t hit = 0;
    for (std::size_t i = begin; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, bytes + 4 * i, 4);
      hit |= uint32_t((bits & kExponent) == kExponent);
    }
    if (!hit) continue;
    for (std::size_t i = begin; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, bytes + 4 * i, 4);
      if ((bits & kExponent) == kExponent) return i;
    }
  }
  return n;
}

/// 64-byte aligned heap bytes that own a model file.
struct AlignedBytes {
  struct Free {
    void operator()(unsigned char* p) const noexcept { ::operator delete[](p, std::align_val_t(kTensorAlignment)); }
  };
  std::unique_ptr<unsigned char[], Free> ptr;
  std::size_t size = 0;
  static AlignedBytes allocate(std::size_t n) {
    AlignedBytes b;
    b.ptr.reset(static_cast<unsigned char*>(::operator new[](n ? n : 1, std::align_val_t(kTensorAlignment))));
    b.size = n;
    return b;
  }
};

}  // namespace detail

class Model {
 public:
  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  /// Uses `data` in place; it must stay alive and unchanged while the Model exists, and be
  /// aligned to 64 bytes. `verify_checksum` = false skips the CRC (e.g. a trusted flash image).
  static Expected<Model> from_bytes(const void* data, std::size_t size, bool verify_checksum = true) {
    Model m;
    Status s = m.parse(static_cast<const unsigned char*>(data), size, verify_checksum);
    if (!s) return s;
    return m;
  }

  /// Copies `data` into storage owned by the model (any alignment).
  static Expected<Model> copy_from_bytes(const void* data, std::size_t size) {
    detail::AlignedBytes bytes = detail::AlignedBytes::allocate(size);
    if (size) std::memcpy(bytes.ptr.get(), data, size);
    return adopt(std::move(bytes));
  }

#ifndef FACEKIT_NO_STDIO
  /// Reads a model file (".fkm", written by `facekit convert`). The file is copied into memory
  /// (not mapped): changing or removing it afterwards does not affect the loaded model.
  static Expected<Model> load_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status::error("cannot open model file '%s'", path.c_str());
    std::fseek(f, 0, SEEK_END);
    const long end = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    if (end < 0) {
      std::fclose(f);
      return Status::error("cannot read model file '%s'", path.c_str());
    }
    detail::AlignedBytes bytes = detail::AlignedBytes::allocate(std::size_t(end));
    const std::size_t got = std::fread(bytes.ptr.get(), 1, bytes.size, f);
    std::fclose(f);
    if (got != bytes.size) return Status::error("cannot read model file '%s'", path.c_str());
    Expected<Model> m = adopt(std::move(bytes));
    if (!m) return Status(m.status()).prefix("model '" + path + "'");
    m->path_ = path;
    return m;
  }
#endif

  int tensor_count() const noexcept { return int(tensors_.size()); }
  const TensorInfo& tensor(uint32_t i) const noexcept { return tensors_[i]; }
  int op_count() const noexcept { return int(ops_.size()); }
  const OpInfo& op(int i) const noexcept { return ops_[std::size_t(i)]; }
  const std::vector<OpInfo>& ops() const noexcept { return ops_; }
  const std::vector<uint32_t>& inputs() const noexcept { return inputs_; }
  const std::vector<uint32_t>& outputs() const noexcept { return outputs_; }

  /// Finds a graph input or output by tensor name; kNoTensor if absent.
  uint32_t find_tensor(const char* name) const noexcept {
    for (std::size_t i = 0; i < tensors_.size(); ++i)
      if (std::strcmp(tensors_[i].name, name) == 0) return uint32_t(i);
    return kNoTensor;
  }

  // ---- metadata -------------------------------------------------------------------------------
  bool has_meta(const char* key) const noexcept { return find_meta(key) != nullptr; }
  /// The string value of `key`, or "" if absent or not a string.
  std::string meta_string(const char* key) const {
    const format::MetaRecord* r = find_meta(key);
    if (!r || r->type != format::MetaType::string) return {};
    return string_at(uint32_t(r->value));
  }
  /// Scalar lookups return false when the key is missing or has another type.
  bool meta_i32(const char* key, int32_t* out) const noexcept {
    const format::MetaRecord* r = find_meta(key);
    if (!r || r->type != format::MetaType::i32) return false;
    const uint32_t bits = uint32_t(r->value);
    std::memcpy(out, &bits, 4);
    return true;
  }
  bool meta_f32(const char* key, float* out) const noexcept {
    const format::MetaRecord* r = find_meta(key);
    if (!r) return false;
    if (r->type == format::MetaType::f32) {
      const uint32_t bits = uint32_t(r->value);
      std::memcpy(out, &bits, 4);
      return true;
    }
    if (r->type == format::MetaType::i32) {
      int32_t v;
      const uint32_t bits = uint32_t(r->value);
      std::memcpy(&v, &bits, 4);
      *out = float(v);
      return true;
    }
    return false;
  }
  /// Array lookups: pointer into the file and element count, or {nullptr, 0}.
  std::pair<const int32_t*, std::size_t> meta_i32_array(const char* key) const noexcept {
    const format::MetaRecord* r = find_meta(key);
    if (!r || r->type != format::MetaType::i32_array) return {nullptr, 0};
    return {reinterpret_cast<const int32_t*>(data_ + r->value), r->count};
  }
  std::pair<const float*, std::size_t> meta_f32_array(const char* key) const noexcept {
    const format::MetaRecord* r = find_meta(key);
    if (!r || r->type != format::MetaType::f32_array) return {nullptr, 0};
    return {reinterpret_cast<const float*>(data_ + r->value), r->count};
  }
  /// `model.kind`: "face_detector", "face_landmarks_v2", ...
  std::string kind() const { return meta_string("model.kind"); }
  int meta_count() const noexcept { return int(meta_count_); }
  const char* meta_key(int i) const noexcept { return string_at(meta_[i].key); }

  std::size_t file_size() const noexcept { return size_; }
  /// The file load_file() read; empty for a model made from bytes.
  const std::string& path() const noexcept { return path_; }
  /// `s`, prefixed with the model's file when it is known, as load_file's own errors are; for
  /// the checks a stage makes of the model after loading it.
  Status name_file(Status s) const {
    if (!s && !path_.empty()) s.prefix("model '" + path_ + "'");
    return s;
  }

 private:
  Model() = default;

  static Expected<Model> adopt(detail::AlignedBytes bytes) {
    Model m;
    auto owned = std::make_shared<detail::AlignedBytes>(std::move(bytes));
    Status s = m.parse(owned->ptr.get(), owned->size, true);
    if (!s) return s;
    m.owned_ = std::move(owned);
    return m;
  }

  const char* string_at(uint32_t off) const noexcept { return strings_ + off; }

  const format::MetaRecord* find_meta(const char* key) const noexcept {
    for (uint32_t i = 0; i < meta_count_; ++i)
      if (std::strcmp(string_at(meta_[i].key), key) == 0) return &meta_[i];
    return nullptr;
  }

  bool string_ok(uint32_t off) const noexcept { return off < strings_size_; }

  Status parse(const unsigned char* p, std::size_t size, bool verify_checksum);
  Status parse_tensors(const format::FileHeader& h);
  Status parse_ops(const format::FileHeader& h);
  Status parse_meta(const format::FileHeader& h);

  std::shared_ptr<detail::AlignedBytes> owned_;
  std::string path_;
  const unsigned char* base_ = nullptr;
  std::size_t size_ = 0;
  const char* strings_ = nullptr;
  std::size_t strings_size_ = 0;
  const unsigned char* data_ = nullptr;
  std::size_t data_size_ = 0;
  const format::MetaRecord* meta_ = nullptr;
  uint32_t meta_count_ = 0;
  std::vector<TensorInfo> tensors_;
  std::vector<OpInfo> ops_;
  std::vector<uint32_t> inputs_, outputs_;
};

// ---- validation -------------------------------------------------------------------------------

inline Status Model::parse(const unsigned char* p, std::size_t size, bool verify_checksum) {
  using namespace format;
  if (!p) return Status::error("model bytes are null");
  if (reinterpret_cast<std::uintptr_t>(p) % kTensorAlignment != 0)
    return Status::error("model bytes must be %zu-byte aligned (address %% %zu = %zu)", kTensorAlignment,
                         kTensorAlignment, std::size_t(reinterpret_cast<std::uintptr_t>(p) % kTensorAlignment));
  if (size < sizeof(FileHeader))
    return Status::error("file is %zu bytes, smaller than the %zu-byte header (truncated?)", size, sizeof(FileHeader));
  FileHeader h;
  std::memcpy(&h, p, sizeof h);
  if (std::memcmp(h.magic, kMagic.data(), 4) != 0)
    return Status::error("bad magic %02x %02x %02x %02x (expected 'FKMF'): not a facekit model file",
                         unsigned(uint8_t(h.magic[0])), unsigned(uint8_t(h.magic[1])),
                         unsigned(uint8_t(h.magic[2])), unsigned(uint8_t(h.magic[3])));
  if (h.byte_order != kByteOrderMark)
    return Status::error("byte_order is 0x%08x, expected 0x%08x: file written for another byte order", h.byte_order,
                         kByteOrderMark);
  if (h.version != kVersion)
    return Status::error("version %u is not supported (this reader reads version %u)", h.version, kVersion);
  if (h.header_size != sizeof(FileHeader))
    return Status::error("header_size is %u, expected %zu", h.header_size, sizeof(FileHeader));
  if (h.file_size != size)
    return Status::error("file_size field says %llu bytes but %zu bytes were given (truncated or padded)",
                         static_cast<unsigned long long>(h.file_size), size);
  if (h.alignment < 16 || h.alignment > 4096 || (h.alignment & (h.alignment - 1)) != 0 ||
      h.alignment % kTensorAlignment != 0)
    return Status::error("alignment %u is not a power of two multiple of %zu (<= 4096)", h.alignment,
                         kTensorAlignment);
  if (verify_checksum) {
    const uint32_t crc = crc32(p + sizeof(FileHeader), size - sizeof(FileHeader));
    if (crc != h.checksum)
      return Status::error("checksum mismatch: header says 0x%08x, contents give 0x%08x (corrupted file)", h.checksum,
                           crc);
  }
  struct Section {
    const char* name;
    uint64_t offset;
    uint64_t count;
    std::size_t elem;
  };
  const Section sections[] = {
      {"tensors", h.tensors_offset, h.tensor_count, sizeof(TensorRecord)},
      {"ops", h.ops_offset, h.op_count, sizeof(OpRecord)},
      {"op_io", h.op_io_offset, h.op_io_count, sizeof(uint32_t)},
      {"graph_io", h.graph_io_offset, uint64_t(h.input_count) + h.output_count, sizeof(uint32_t)},
      {"meta", h.meta_offset, h.meta_count, sizeof(MetaRecord)},
      {"strings", h.strings_offset, h.strings_size, 1},
      {"data", h.data_offset, h.data_size, 1},
  };
  for (const Section& s : sections) {
    if (!detail::range_ok(s.offset, s.count, s.elem, size))
      return Status::error("section %s (offset %llu, %llu entries of %zu bytes) runs past the end of the %zu-byte file",
                           s.name, static_cast<unsigned long long>(s.offset), static_cast<unsigned long long>(s.count),
                           s.elem, size);
    if (s.offset % 4 != 0)
      return Status::error("section %s offset %llu is not 4-byte aligned", s.name,
                           static_cast<unsigned long long>(s.offset));
  }
  if (h.data_offset % h.alignment != 0)
    return Status::error("data section offset %llu is not a multiple of the alignment %u",
                         static_cast<unsigned long long>(h.data_offset), h.alignment);
  if (h.strings_size == 0 || p[h.strings_offset + h.strings_size - 1] != 0)
    return Status::error("string pool (%llu bytes) is empty or not NUL-terminated",
                         static_cast<unsigned long long>(h.strings_size));
  if (h.tensor_count >= kNoTensor) return Status::error("tensor_count %u is too large", h.tensor_count);

  base_ = p;
  size_ = size;
  strings_ = reinterpret_cast<const char*>(p + h.strings_offset);
  strings_size_ = std::size_t(h.strings_size);
  data_ = p + h.data_offset;
  data_size_ = std::size_t(h.data_size);

  FACEKIT_RETURN_IF_ERROR(parse_tensors(h));
  FACEKIT_RETURN_IF_ERROR(parse_ops(h));
  FACEKIT_RETURN_IF_ERROR(parse_meta(h));

  const uint32_t* io = reinterpret_cast<const uint32_t*>(p + h.graph_io_offset);
  if (h.input_count == 0 || h.output_count == 0)
    return Status::error("graph has %u inputs and %u outputs; needs at least one of each", h.input_count,
                         h.output_count);
  for (uint32_t i = 0; i < h.input_count + h.output_count; ++i) {
    const bool is_input = i < h.input_count;
    const uint32_t t = io[i];
    if (t >= h.tensor_count)
      return Status::error("graph %s #%u refers to tensor %u, but there are %u tensors", is_input ? "input" : "output",
                           is_input ? i : i - h.input_count, t, h.tensor_count);
    if (tensors_[t].is_constant())
      return Status::error("graph %s #%u (tensor '%s') is a constant", is_input ? "input" : "output",
                           is_input ? i : i - h.input_count, tensors_[t].name);
    (is_input ? inputs_ : outputs_).push_back(t);
  }

  // Every activation must be written exactly once (by an op or as a graph input) before any op
  // reads it: the ops are stored in execution order.
  std::vector<uint8_t> defined(tensors_.size(), 0);
  for (uint32_t t : inputs_) defined[t] = 1;
  for (std::size_t t = 0; t < tensors_.size(); ++t)
    if (tensors_[t].is_constant()) defined[t] = 1;
  for (const OpInfo& op : ops_) {
    for (int i = 0; i < op.input_count; ++i) {
      const uint32_t t = op.inputs[i];
      if (t != kNoTensor && !defined[t])
        return Status::error("op %s (%s) reads tensor '%s' before any op writes it", op.name, op_type_name(op.type),
                             tensors_[t].name);
    }
    for (int i = 0; i < op.output_count; ++i) {
      const uint32_t t = op.outputs[i];
      if (defined[t])
        return Status::error("op %s (%s) writes tensor '%s', which is a constant, a graph input or already written",
                             op.name, op_type_name(op.type), tensors_[t].name);
      defined[t] = 1;
    }
  }
  for (uint32_t t : outputs_)
    if (!defined[t]) return Status::error("graph output '%s' is never written", tensors_[t].name);
  return Status::ok();
}

inline Status Model::parse_tensors(const format::FileHeader& h) {
  using namespace format;
  const auto* recs = reinterpret_cast<const TensorRecord*>(base_ + h.tensors_offset);
  tensors_.resize(h.tensor_count);
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    TensorRecord r;
    std::memcpy(&r, &recs[i], sizeof r);
    if (!string_ok(r.name)) return Status::error("tensor #%u: name offset %u is outside the string pool", i, r.name);
    TensorInfo& t = tensors_[i];
    t.name = string_at(r.name);
    if (dtype_size(r.dtype) == 0) return Status::error("tensor '%s': unknown dtype %u", t.name, unsigned(r.dtype));
    if (r.dtype != DType::f32) return Status::error("tensor '%s': dtype %s is not supported by this reader", t.name, dtype_name(r.dtype));
    if (r.rank > 4) return Status::error("tensor '%s': rank %u exceeds 4", t.name, unsigned(r.rank));
    if (r.kind != TensorKind::activation && r.kind != TensorKind::constant)
      return Status::error("tensor '%s': unknown kind %u", t.name, unsigned(r.kind));
    t.dtype = r.dtype;
    t.kind = r.kind;
    t.layout = r.layout;
    t.rank = r.rank;
    std::size_t elems = 1;
    for (int d = 0; d < 4; ++d) {
      if (d < t.rank) {
        if (r.dims[d] <= 0) return Status::error("tensor '%s': dimension %d is %d (must be > 0)", t.name, d, r.dims[d]);
        if (!detail::checked_mul(elems, std::size_t(r.dims[d]), &elems) || elems > (std::size_t(1) << 31))
          return Status::error("tensor '%s': element count overflows (dimension %d = %d)", t.name, d, r.dims[d]);
      } else if (r.dims[d] != 0) {
        return Status::error("tensor '%s': dimension %d is %d beyond rank %d", t.name, d, r.dims[d], t.rank);
      }
      t.dims[d] = d < t.rank ? r.dims[d] : 0;
    }
    const std::size_t esize = dtype_size(r.dtype);
    if (t.kind == TensorKind::activation) {
      if (r.data_size != 0 || r.data_offset != 0)
        return Status::error("tensor '%s': an activation must not carry data (data_size %llu)", t.name,
                             static_cast<unsigned long long>(r.data_size));
      if (r.layout != Layout::plain)
        return Status::error("tensor '%s': an activation must have the plain layout (got %u)", t.name, unsigned(r.layout));
      t.size_bytes = elems * esize;
      continue;
    }
    // Constants: the stored size must match the layout exactly.
    std::size_t expect = 0;
    const int* dm = t.dims;
    switch (r.layout) {
      case Layout::plain: expect = elems * esize; break;
      case Layout::conv2d_oc_tile:
        if (t.rank != 4) return Status::error("tensor '%s': conv2d_oc_tile needs rank 4, got %d", t.name, t.rank);
        expect = kernels::f32_conv2d_packed_size(dm[0], dm[1], dm[2], dm[3]) * esize;
        break;
      case Layout::dwconv2d_c_tile:
        if (t.rank != 4 || dm[0] != 1)
          return Status::error("tensor '%s': dwconv2d_c_tile needs shape [1,KH,KW,C]", t.name);
        expect = kernels::f32_dwconv2d_packed_size(dm[1], dm[2], dm[3]) * esize;
        break;
      case Layout::channel_padded:
        if (t.rank != 1) return Status::error("tensor '%s': channel_padded needs rank 1, got %d", t.name, t.rank);
        expect = kernels::f32_channel_padded_size(dm[0]) * esize;
        break;
      default: return Status::error("tensor '%s': unknown layout %u", t.name, unsigned(r.layout));
    }
    if (r.layout != Layout::plain && r.tile != uint32_t(kPackTile))
      return Status::error("tensor '%s': packed with tile %u, this build reads tile %d", t.name, r.tile, kPackTile);
    if (r.data_size != expect)
      return Status::error("tensor '%s': data_size is %llu bytes, its shape and layout need %zu", t.name,
                           static_cast<unsigned long long>(r.data_size), expect);
    if (r.data_offset % h.alignment != 0)
      return Status::error("tensor '%s': data_offset %llu is not a multiple of the alignment %u", t.name,
                           static_cast<unsigned long long>(r.data_offset), h.alignment);
    if (!detail::range_ok(r.data_offset, r.data_size, 1, data_size_))
      return Status::error("tensor '%s': data [%llu, +%llu) runs past the %zu-byte data section", t.name,
                           static_cast<unsigned long long>(r.data_offset), static_cast<unsigned long long>(r.data_size),
                           data_size_);
    t.data = data_ + r.data_offset;
    t.size_bytes = std::size_t(r.data_size);
    // Values: a NaN or infinite weight would only show as garbage results, so it is refused here,
    // once. The index is of the stored floats (packed layouts: the blob's order, section 4.1).
    const std::size_t stored = t.size_bytes / esize;
    const std::size_t bad = detail::first_nonfinite_f32(t.data, stored);
    if (bad != stored) {
      float v;
      std::memcpy(&v, t.f32() + bad, 4);
      return Status::error("tensor '%s': stored value %zu of %zu is %g, expected a finite value", t.name, bad, stored,
                           double(v));
    }
  }
  return Status::ok();
}

inline Status Model::parse_ops(const format::FileHeader& h) {
  using namespace format;
  const auto* recs = reinterpret_cast<const OpRecord*>(base_ + h.ops_offset);
  const auto* io = reinterpret_cast<const uint32_t*>(base_ + h.op_io_offset);
  ops_.resize(h.op_count);
  for (uint32_t i = 0; i < h.op_count; ++i) {
    OpRecord r;
    std::memcpy(&r, &recs[i], sizeof r);
    OpInfo& op = ops_[i];
    if (!string_ok(r.name)) return Status::error("op #%u: name offset %u is outside the string pool", i, r.name);
    op.name = string_at(r.name);
    if (!op_type_name(r.type))
      return Status::error("op #%u (%s): unknown op type %u (file from a newer converter?)", i, op.name,
                           unsigned(r.type));
    op.type = r.type;
    if (r.input_count > kMaxOpInputs || r.output_count > kMaxOpOutputs || r.output_count == 0)
      return Status::error("op %s (%s): %u inputs / %u outputs (limits %d / 1..%d)", op.name, op_type_name(op.type),
                           r.input_count, r.output_count, kMaxOpInputs, kMaxOpOutputs);
    if (!detail::range_ok(r.io_begin, uint64_t(r.input_count) + r.output_count, 1, h.op_io_count))
      return Status::error("op %s (%s): io_begin %u + %u entries exceed op_io_count %u", op.name,
                           op_type_name(op.type), r.io_begin, unsigned(r.input_count + r.output_count), h.op_io_count);
    op.inputs = io + r.io_begin;
    op.input_count = r.input_count;
    op.outputs = op.inputs + r.input_count;
    op.output_count = r.output_count;
    op.params = r.params;
    for (int k = 0; k < op.input_count + op.output_count; ++k) {
      const uint32_t t = op.inputs[k];
      const bool is_out = k >= op.input_count;
      if (t == kNoTensor && !is_out) continue;
      if (t >= h.tensor_count)
        return Status::error("op %s (%s): %s %d refers to tensor %u, but there are %u tensors", op.name,
                             op_type_name(op.type), is_out ? "output" : "input",
                             is_out ? k - op.input_count : k, t, h.tensor_count);
      if (is_out && tensors_[t].is_constant())
        return Status::error("op %s (%s): output '%s' is a constant", op.name, op_type_name(op.type), tensors_[t].name);
    }
  }
  return Status::ok();
}

inline Status Model::parse_meta(const format::FileHeader& h) {
  using namespace format;
  meta_ = reinterpret_cast<const MetaRecord*>(base_ + h.meta_offset);
  meta_count_ = h.meta_count;
  for (uint32_t i = 0; i < h.meta_count; ++i) {
    const MetaRecord& r = meta_[i];
    if (!string_ok(r.key)) return Status::error("metadata #%u: key offset %u is outside the string pool", i, r.key);
    const char* key = string_at(r.key);
    switch (r.type) {
      case MetaType::i32:
      case MetaType::f32:
        if (r.count != 1) return Status::error("metadata '%s': scalar with count %u", key, r.count);
        break;
      case MetaType::string:
        if (r.value >= strings_size_)
          return Status::error("metadata '%s': string offset %llu is outside the string pool", key,
                               static_cast<unsigned long long>(r.value));
        break;
      case MetaType::i32_array:
      case MetaType::f32_array:
        if (r.value % 4 != 0 || !detail::range_ok(r.value, r.count, 4, data_size_))
          return Status::error("metadata '%s': array [%llu, %u x 4 bytes) is misaligned or outside the data section",
                               key, static_cast<unsigned long long>(r.value), r.count);
        break;
      default: return Status::error("metadata '%s': unknown type %u", key, unsigned(r.type));
    }
  }
  return Status::ok();
}

}  // namespace facekit
