// The model loader must reject damaged or hostile files with a message naming the bad field,
// and never crash. Uses the converted detector (tools/fetch-models.sh writes it).
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "facekit/model/model.hpp"
#include "test_util.hpp"

using namespace facekit;

namespace {

std::vector<unsigned char> detector_bytes() {
  const std::string path = test_util::weights_path("face_detector.fkm");
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing " << path << ": run tools/fetch-models.sh first");
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Re-seal the checksum after editing, so that the field checks (not the CRC) must catch the edit.
void reseal(std::vector<unsigned char>& b) {
  format::FileHeader h;
  std::memcpy(&h, b.data(), sizeof h);
  h.checksum = format::crc32(b.data() + sizeof h, b.size() - sizeof h);
  std::memcpy(b.data(), &h, sizeof h);
}

format::FileHeader header_of(const std::vector<unsigned char>& b) {
  format::FileHeader h;
  std::memcpy(&h, b.data(), sizeof h);
  return h;
}

std::string load_error(const std::vector<unsigned char>& b) {
  auto m = Model::copy_from_bytes(b.data(), b.size());
  if (m) return "";
  return m.status().message();
}

}  // namespace

TEST_CASE("loader: the converted detector loads and names its kind") {
  auto bytes = detector_bytes();
  auto m = Model::copy_from_bytes(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  CHECK(m->kind() == "face_detector");
  CHECK(m->inputs().size() == 1);
  CHECK(m->outputs().size() == 2);
  int32_t w = 0;
  CHECK(m->meta_i32("input.width", &w));
  CHECK(w == 128);
}

TEST_CASE("loader: zero-copy from aligned bytes, refusal of misaligned bytes") {
  auto bytes = detector_bytes();
  std::vector<unsigned char> buf(bytes.size() + 128);
  unsigned char* aligned = buf.data() + (64 - reinterpret_cast<std::uintptr_t>(buf.data()) % 64) % 64;
  std::memcpy(aligned, bytes.data(), bytes.size());
  auto m = Model::from_bytes(aligned, bytes.size());
  REQUIRE_MESSAGE(m, m.status().message());
  CHECK(m->tensor(m->ops()[0].inputs[1]).data >= static_cast<const void*>(aligned));
  std::memmove(aligned + 4, aligned, bytes.size());
  auto bad = Model::from_bytes(aligned + 4, bytes.size());
  REQUIRE_FALSE(bad);
  CHECK(std::string(bad.status().message()).find("aligned") != std::string::npos);
}

TEST_CASE("loader: truncated files") {
  auto bytes = detector_bytes();
  for (std::size_t cut : {std::size_t(0), std::size_t(3), std::size_t(64), std::size_t(127), std::size_t(128),
                          std::size_t(1000), bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    std::vector<unsigned char> t(bytes.begin(), bytes.begin() + std::ptrdiff_t(cut));
    const std::string e = load_error(t);
    CHECK(!e.empty());
    if (cut >= sizeof(format::FileHeader)) CHECK(e.find("file_size") != std::string::npos);
  }
}

TEST_CASE("loader: bit flips anywhere are caught by the checksum") {
  auto bytes = detector_bytes();
  std::mt19937 rng(1234);
  for (int i = 0; i < 40; ++i) {
    auto b = bytes;
    const std::size_t pos = sizeof(format::FileHeader) + rng() % (b.size() - sizeof(format::FileHeader));
    b[pos] ^= uint8_t(1u << (rng() % 8));
    CAPTURE(pos);
    CHECK(load_error(b).find("checksum") != std::string::npos);
  }
}

TEST_CASE("loader: header fields") {
  auto bytes = detector_bytes();
  {
    auto b = bytes;
    b[0] = 'X';
    CHECK(load_error(b).find("magic") != std::string::npos);
  }
  {
    auto b = bytes;
    format::FileHeader h = header_of(b);
    h.version = 99;
    std::memcpy(b.data(), &h, sizeof h);
    CHECK(load_error(b).find("version 99") != std::string::npos);
  }
  {
    auto b = bytes;
    format::FileHeader h = header_of(b);
    h.byte_order = 0x04030201u;
    std::memcpy(b.data(), &h, sizeof h);
    CHECK(load_error(b).find("byte_order") != std::string::npos);
  }
  {
    auto b = bytes;
    format::FileHeader h = header_of(b);
    h.tensors_offset = ~uint64_t(0) - 8;  // overflow bait
    std::memcpy(b.data(), &h, sizeof h);
    CHECK(load_error(b).find("section tensors") != std::string::npos);
  }
  {
    auto b = bytes;
    format::FileHeader h = header_of(b);
    h.tensor_count = 0x7FFFFFFF;
    std::memcpy(b.data(), &h, sizeof h);
    CHECK(load_error(b).find("section tensors") != std::string::npos);
  }
}

TEST_CASE("loader: tensor and op records name the bad field (checksum re-sealed)") {
  auto bytes = detector_bytes();
  const format::FileHeader h = header_of(bytes);
  auto tensor_rec = [&](std::vector<unsigned char>& b, uint32_t i) {
    return reinterpret_cast<format::TensorRecord*>(b.data() + h.tensors_offset) + i;
  };
  auto op_rec = [&](std::vector<unsigned char>& b, uint32_t i) {
    return reinterpret_cast<format::OpRecord*>(b.data() + h.ops_offset) + i;
  };
  // Find a constant tensor.
  uint32_t konst = 0;
  {
    auto b = bytes;
    while (tensor_rec(b, konst)->kind != format::TensorKind::constant) ++konst;
  }
  {
    auto b = bytes;
    tensor_rec(b, konst)->dims[0] = -5;
    reseal(b);
    CHECK(load_error(b).find("dimension 0 is -5") != std::string::npos);
  }
  {
    auto b = bytes;
    tensor_rec(b, konst)->data_offset = h.data_size + 64 * 1000;
    reseal(b);
    CHECK(load_error(b).find("runs past") != std::string::npos);
  }
  {
    auto b = bytes;
    tensor_rec(b, konst)->data_offset += 4;
    reseal(b);
    CHECK(load_error(b).find("alignment") != std::string::npos);
  }
  {
    auto b = bytes;
    tensor_rec(b, konst)->data_size += 4;
    reseal(b);
    CHECK(load_error(b).find("data_size") != std::string::npos);
  }
  {
    auto b = bytes;
    tensor_rec(b, 0)->name = 0xFFFFFF;
    reseal(b);
    CHECK(load_error(b).find("name offset") != std::string::npos);
  }
  {
    auto b = bytes;
    op_rec(b, 0)->type = static_cast<OpType>(999);
    reseal(b);
    CHECK(load_error(b).find("unknown op type 999") != std::string::npos);
  }
  {
    auto b = bytes;
    op_rec(b, 0)->io_begin = 0xFFFFFFF0u;
    reseal(b);
    CHECK(load_error(b).find("io_begin") != std::string::npos);
  }
  {
    auto b = bytes;
    uint32_t* io = reinterpret_cast<uint32_t*>(b.data() + h.op_io_offset);
    io[op_rec(b, 0)->io_begin] = 100000;  // first op's first input
    reseal(b);
    CHECK(load_error(b).find("refers to tensor 100000") != std::string::npos);
  }
}

TEST_CASE("loader: missing file and garbage file") {
  auto m = Model::load_file("/nonexistent/face_detector.fkm");
  REQUIRE_FALSE(m);
  CHECK(std::string(m.status().message()).find("cannot open") != std::string::npos);
  std::vector<unsigned char> junk(4096, 0xAB);
  CHECK(load_error(junk).find("magic") != std::string::npos);
}
