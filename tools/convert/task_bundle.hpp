// tools/convert/task_bundle.hpp - reads a MediaPipe Tasks ".task" bundle: a zip archive whose
// members are .tflite networks plus other assets (geometry_pipeline_metadata_landmarks.binarypb).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facekit/status.hpp"

namespace facekit {
namespace convert {

struct BundleMember {
  std::string name;            ///< base name inside the archive (directories stripped)
  std::vector<uint8_t> bytes;  ///< uncompressed contents, CRC-checked
};

/// Every file member of the zip at `path`, in archive order. Fails with a message naming the
/// archive (and member) when the file is not a zip, is damaged, or a member is encrypted or
/// unreasonably large (> 512 MiB).
Expected<std::vector<BundleMember>> read_task_bundle(const std::string& path);

}  // namespace convert
}  // namespace facekit
