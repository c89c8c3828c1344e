// facekit/model/format.hpp - the on-disk layout of a facekit model file (".fkm").
// docs/model-format.md is the specification; this header is its C++ form.
//
// A file is: FileHeader | TensorRecord[] | OpRecord[] | uint32 op_io[] | uint32 graph_io[] |
// MetaRecord[] | string pool | (padding) | data section. Every integer is little-endian (the
// byte_order field tells a big-endian reader to give up), offsets are absolute file offsets
// except tensor and metadata data offsets, which are relative to the data section. The data
// section and every blob in it start at a multiple of FileHeader::alignment (64), so a loader
// can use the weights in place from a memory map or a byte array in flash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../op_types.hpp"

namespace facekit {
namespace format {

constexpr std::array<char, 4> kMagic = {'F', 'K', 'M', 'F'};
constexpr uint32_t kVersion = 1;             ///< bumped only on structural changes
constexpr uint32_t kByteOrderMark = 0x01020304u;
constexpr uint32_t kAlignment = 64;

enum class DType : uint8_t { f32 = 1, f16 = 2, i32 = 3, u8 = 4 };
enum class TensorKind : uint8_t { activation = 0, constant = 1 };

/// How a constant's bytes are arranged. The logical shape is always the TensorRecord dims.
enum class Layout : uint8_t {
  plain = 0,            ///< row-major in dims order
  conv2d_oc_tile = 1,   ///< dims [O, KH, KW, I]: for each tile of `tile` output channels:
                        ///< bias[tile], then weights[KH][KW][I][tile]; padded channels are zero
  dwconv2d_c_tile = 2,  ///< dims [1, KH, KW, C]: for each tile of `tile` channels:
                        ///< bias[tile], then weights[KH][KW][tile]; padded channels are zero
  channel_padded = 3,   ///< dims [C]: C values then zeros up to a multiple of `tile`
};

enum class MetaType : uint32_t { i32 = 1, f32 = 2, string = 3, i32_array = 4, f32_array = 5 };

#pragma pack(push, 1)
struct FileHeader {
  char magic[4];
  uint32_t version;
  uint32_t byte_order;     ///< kByteOrderMark as written by a little-endian writer
  uint32_t header_size;    ///< sizeof(FileHeader)
  uint64_t file_size;
  uint32_t alignment;      ///< power of two, >= 16; data blobs are aligned to it
  uint32_t checksum;       ///< CRC-32 (zlib's polynomial) of bytes [header_size, file_size)
  uint32_t tensor_count;
  uint32_t op_count;
  uint32_t op_io_count;    ///< entries of the op_io array
  uint32_t input_count;    ///< graph inputs (tensor indices at graph_io_offset)
  uint32_t output_count;   ///< graph outputs (following the inputs)
  uint32_t meta_count;
  uint64_t tensors_offset;
  uint64_t ops_offset;
  uint64_t op_io_offset;
  uint64_t graph_io_offset;
  uint64_t meta_offset;
  uint64_t strings_offset;
  uint64_t strings_size;
  uint64_t data_offset;    ///< multiple of alignment
  uint64_t data_size;
};

struct TensorRecord {
  uint32_t name;           ///< offset into the string pool (NUL-terminated)
  DType dtype;
  uint8_t rank;            ///< 0..4
  TensorKind kind;
  Layout layout;
  int32_t dims[4];         ///< unused dims are 0
  uint32_t tile;           ///< channel tile of packed layouts (kPackTile), else 0
  uint32_t reserved0;
  uint64_t data_offset;    ///< constants: relative to the data section, multiple of alignment
  uint64_t data_size;      ///< constants: byte size; activations: 0
  uint8_t reserved1[16];
};

struct OpRecord {
  OpType type;
  uint32_t name;           ///< string offset: where the op came from, for error messages
  uint32_t io_begin;       ///< first entry in op_io: inputs, then outputs
  uint16_t input_count;
  uint16_t output_count;
  OpParams params;         ///< typed by `type`, see op_types.hpp
};

struct MetaRecord {
  uint32_t key;            ///< string offset
  MetaType type;
  uint32_t count;          ///< 1 for scalars and strings, element count for arrays
  uint32_t reserved0;
  uint64_t value;          ///< i32/f32: the bits in the low 32; string: string offset;
                           ///< arrays: offset into the data section (aligned)
  uint64_t reserved1;
};
#pragma pack(pop)

static_assert(sizeof(FileHeader) == 128, "FileHeader layout");
static_assert(sizeof(TensorRecord) == 64, "TensorRecord layout");
static_assert(sizeof(OpRecord) == 80, "OpRecord layout");
static_assert(sizeof(MetaRecord) == 32, "MetaRecord layout");

inline const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
  }
  return "?";
}

inline std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::f32: return 4;
    case DType::f16: return 2;
    case DType::i32: return 4;
    case DType::u8: return 1;
  }
  return 0;
}

/// CRC-32 with the reflected polynomial 0xEDB88320 (zlib, PNG, gzip).
inline uint32_t crc32(const void* data, std::size_t size, uint32_t crc = 0) noexcept {
  struct Table {
    uint32_t t[256];
    constexpr Table() : t() {
      for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
      }
    }
  };
  static constexpr Table table;
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table.t[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace format
}  // namespace facekit
