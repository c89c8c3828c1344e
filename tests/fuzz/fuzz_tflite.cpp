// libFuzzer target: the TFLite flatbuffer reader and the whole converter (lowering, metadata,
// the writer and the loader's check of what it wrote), in memory.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "convert/converter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  (void)facekit::convert::convert_tflite(std::vector<uint8_t>(data, data + size), "fuzz.tflite");
  return 0;
}
