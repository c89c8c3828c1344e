// tools/convert/model_writer.cpp - OutModel -> bytes of a facekit model file.
#include "convert/model_writer.hpp"

#include <cstring>
#include <unordered_map>

#include "facekit/kernels/pack.hpp"

namespace facekit {
namespace convert {

namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// NUL-terminated strings, each stored once. Offset 0 is the empty string.
class StringPool {
 public:
  StringPool() { bytes_.push_back(0); }
  uint32_t add(const std::string& s) {
    if (s.empty()) return 0;
    auto it = index_.find(s);
    if (it != index_.end()) return it->second;
    const uint32_t off = uint32_t(bytes_.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.push_back(0);
    index_.emplace(s, off);
    return off;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  std::unordered_map<std::string, uint32_t> index_;
};

// The data section: blobs placed at multiples of the alignment.
class DataSection {
 public:
  uint64_t add(const void* p, std::size_t n) {
    const uint64_t off = align_up(bytes_.size(), format::kAlignment);
    bytes_.resize(std::size_t(off), 0);
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return off;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Bytes a constant of this shape and layout must have (mirrors the loader's rule).
std::size_t expected_floats(const OutTensor& t) {
  const auto& d = t.dims;
  switch (t.layout) {
    case format::Layout::plain: {
      std::size_t n = 1;
      for (int32_t v : d) n *= std::size_t(v);
      return n;
    }
    case format::Layout::conv2d_oc_tile:
      return d.size() == 4 ? kernels::f32_conv2d_packed_size(d[0], d[1], d[2], d[3]) : 0;
    case format::Layout::dwconv2d_c_tile:
      return d.size() == 4 ? kernels::f32_dwconv2d_packed_size(d[1], d[2], d[3]) : 0;
    case format::Layout::channel_padded: return d.size() == 1 ? kernels::f32_channel_padded_size(d[0]) : 0;
  }
  return 0;
}

template <class T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}

void pad_to(std::vector<uint8_t>& out, uint64_t a) { out.resize(std::size_t(align_up(out.size(), a)), 0); }

}  // namespace

Expected<std::vector<uint8_t>> write_model(const OutModel& m) {
  using namespace format;
  const uint32_t probe = 1;
  uint8_t first_byte;
  std::memcpy(&first_byte, &probe, 1);
  if (first_byte != 1) return Status::error("writer: model files are little-endian; this host is big-endian");
  const std::size_t nt = m.tensors.size();
  if (nt >= kNoTensor) return Status::error("writer: %zu tensors is too many", nt);
  if (m.inputs.empty() || m.outputs.empty())
    return Status::error("writer: the graph has %zu inputs and %zu outputs; needs at least one of each",
                         m.inputs.size(), m.outputs.size());

  StringPool strings;
  DataSection data;
  std::vector<TensorRecord> trecs(nt);
  for (std::size_t i = 0; i < nt; ++i) {
    const OutTensor& t = m.tensors[i];
    TensorRecord& r = trecs[i];
    std::memset(&r, 0, sizeof r);
    if (t.dims.size() > 4)
      return Status::error("writer: tensor '%s' has rank %zu; the format allows 4", t.name.c_str(), t.dims.size());
    for (std::size_t d = 0; d < t.dims.size(); ++d) {
      if (t.dims[d] <= 0)
        return Status::error("writer: tensor '%s' dimension %zu is %d", t.name.c_str(), d, t.dims[d]);
      r.dims[d] = t.dims[d];
    }
    r.name = strings.add(t.name);
    r.dtype = DType::f32;
    r.rank = uint8_t(t.dims.size());
    r.kind = t.kind;
    r.layout = t.layout;
    r.tile = t.layout == Layout::plain ? 0u : uint32_t(kPackTile);
    if (t.kind == TensorKind::constant) {
      if (t.data.size() != expected_floats(t))
        return Status::error("writer: constant '%s' has %zu floats, its shape and layout need %zu", t.name.c_str(),
                             t.data.size(), expected_floats(t));
      r.data_offset = data.add(t.data.data(), t.data.size() * sizeof(float));
      r.data_size = t.data.size() * sizeof(float);
    } else {
      if (t.layout != Layout::plain || !t.data.empty())
        return Status::error("writer: activation '%s' must be plain and carry no data", t.name.c_str());
    }
  }

  std::vector<OpRecord> orecs(m.ops.size());
  std::vector<uint32_t> op_io;
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    const OutOp& op = m.ops[i];
    if (op.inputs.size() > std::size_t(kMaxOpInputs) || op.outputs.empty() ||
        op.outputs.size() > std::size_t(kMaxOpOutputs))
      return Status::error("writer: op %s has %zu inputs and %zu outputs (limits %d and 1..%d)", op.name.c_str(),
                           op.inputs.size(), op.outputs.size(), kMaxOpInputs, kMaxOpOutputs);
    OpRecord& r = orecs[i];
    std::memset(&r, 0, sizeof r);
    r.type = op.type;
    r.name = strings.add(op.name);
    r.io_begin = uint32_t(op_io.size());
    r.input_count = uint16_t(op.inputs.size());
    r.output_count = uint16_t(op.outputs.size());
    r.params = op.params;
    for (uint32_t t : op.inputs) {
      if (t != kNoTensor && t >= nt)
        return Status::error("writer: op %s refers to tensor %u of %zu", op.name.c_str(), t, nt);
      op_io.push_back(t);
    }
    for (uint32_t t : op.outputs) {
      if (t >= nt) return Status::error("writer: op %s writes tensor %u of %zu", op.name.c_str(), t, nt);
      op_io.push_back(t);
    }
  }
  std::vector<uint32_t> graph_io;
  for (uint32_t t : m.inputs) graph_io.push_back(t);
  for (uint32_t t : m.outputs) graph_io.push_back(t);
  for (uint32_t t : graph_io)
    if (t >= nt) return Status::error("writer: graph input/output refers to tensor %u of %zu", t, nt);

  std::vector<MetaRecord> mrecs(m.meta.size());
  for (std::size_t i = 0; i < m.meta.size(); ++i) {
    const MetaEntry& e = m.meta[i];
    MetaRecord& r = mrecs[i];
    std::memset(&r, 0, sizeof r);
    r.key = strings.add(e.key);
    r.type = e.type;
    r.count = 1;
    switch (e.type) {
      case MetaType::i32: {
        uint32_t bits;
        std::memcpy(&bits, &e.i32, 4);
        r.value = bits;
        break;
      }
      case MetaType::f32: {
        uint32_t bits;
        std::memcpy(&bits, &e.f32, 4);
        r.value = bits;
        break;
      }
      case MetaType::string: r.value = strings.add(e.str); break;
      case MetaType::i32_array:
        r.count = uint32_t(e.i32s.size());
        r.value = data.add(e.i32s.data(), e.i32s.size() * 4);
        break;
      case MetaType::f32_array:
        r.count = uint32_t(e.f32s.size());
        r.value = data.add(e.f32s.data(), e.f32s.size() * 4);
        break;
      default: return Status::error("writer: metadata '%s' has unknown type %u", e.key.c_str(), unsigned(e.type));
    }
  }

  // ---- layout: every section starts 8-byte aligned, the data section at the file alignment ----
  std::vector<uint8_t> out(sizeof(FileHeader), 0);
  FileHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kMagic.data(), 4);
  h.version = kVersion;
  h.byte_order = kByteOrderMark;
  h.header_size = sizeof(FileHeader);
  h.alignment = kAlignment;
  h.tensor_count = uint32_t(nt);
  h.op_count = uint32_t(m.ops.size());
  h.op_io_count = uint32_t(op_io.size());
  h.input_count = uint32_t(m.inputs.size());
  h.output_count = uint32_t(m.outputs.size());
  h.meta_count = uint32_t(m.meta.size());

  h.tensors_offset = out.size();
  for (const TensorRecord& r : trecs) append(out, r);
  pad_to(out, 8);
  h.ops_offset = out.size();
  for (const OpRecord& r : orecs) append(out, r);
  pad_to(out, 8);
  h.op_io_offset = out.size();
  for (uint32_t v : op_io) append(out, v);
  pad_to(out, 8);
  h.graph_io_offset = out.size();
  for (uint32_t v : graph_io) append(out, v);
  pad_to(out, 8);
  h.meta_offset = out.size();
  for (const MetaRecord& r : mrecs) append(out, r);
  pad_to(out, 8);
  h.strings_offset = out.size();
  h.strings_size = strings.bytes().size();
  out.insert(out.end(), strings.bytes().begin(), strings.bytes().end());
  pad_to(out, kAlignment);
  h.data_offset = out.size();
  std::vector<uint8_t>& blob = data.bytes();
  pad_to(blob, kAlignment);  // the file ends on an aligned boundary too
  h.data_size = blob.size();
  out.insert(out.end(), blob.begin(), blob.end());
  h.file_size = out.size();
  h.checksum = crc32(out.data() + sizeof(FileHeader), out.size() - sizeof(FileHeader));
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

}  // namespace convert
}  // namespace facekit
