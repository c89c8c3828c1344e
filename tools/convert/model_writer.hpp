// tools/convert/model_writer.hpp - the converter's output graph and its serialisation to a
// facekit model file (include/facekit/model/format.hpp, docs/model-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facekit/model/format.hpp"
#include "facekit/op_types.hpp"
#include "facekit/status.hpp"

namespace facekit {
namespace convert {

/// A tensor of the output graph. Constants carry their floats exactly as they are stored
/// (already packed for the packed layouts).
struct OutTensor {
  std::string name;
  std::vector<int32_t> dims;  ///< rank 0..4
  format::TensorKind kind = format::TensorKind::activation;
  format::Layout layout = format::Layout::plain;
  std::vector<float> data;    ///< constants only
};

struct OutOp {
  OpType type = OpType::conv2d;
  std::string name;               ///< where it came from, e.g. "CONV_2D#17+ADD#19+RELU#20"
  std::vector<uint32_t> inputs;   ///< kNoTensor for an absent optional input
  std::vector<uint32_t> outputs;
  OpParams params{};
};

struct MetaEntry {
  std::string key;
  format::MetaType type = format::MetaType::i32;
  int32_t i32 = 0;
  float f32 = 0.0f;
  std::string str;
  std::vector<int32_t> i32s;
  std::vector<float> f32s;
};

struct OutModel {
  std::vector<OutTensor> tensors;
  std::vector<OutOp> ops;          ///< execution order
  std::vector<uint32_t> inputs, outputs;
  std::vector<MetaEntry> meta;

  void meta_i32(const std::string& k, int32_t v) { meta.push_back(MetaEntry{k, format::MetaType::i32, v, 0, {}, {}, {}}); }
  void meta_f32(const std::string& k, float v) { meta.push_back(MetaEntry{k, format::MetaType::f32, 0, v, {}, {}, {}}); }
  void meta_str(const std::string& k, const std::string& v) {
    meta.push_back(MetaEntry{k, format::MetaType::string, 0, 0, v, {}, {}});
  }
  void meta_i32s(const std::string& k, std::vector<int32_t> v) {
    meta.push_back(MetaEntry{k, format::MetaType::i32_array, 0, 0, {}, std::move(v), {}});
  }
  void meta_f32s(const std::string& k, std::vector<float> v) {
    meta.push_back(MetaEntry{k, format::MetaType::f32_array, 0, 0, {}, {}, std::move(v)});
  }
};

/// Serialises `m`: header, tensor/op/io/meta records, string pool, then the 64-byte aligned data
/// section; fills in file_size and the CRC-32. Fails (naming the item) if the graph does not fit
/// the format's limits (rank > 4, too many op inputs, unknown tensor index, ...).
Expected<std::vector<uint8_t>> write_model(const OutModel& m);

}  // namespace convert
}  // namespace facekit
