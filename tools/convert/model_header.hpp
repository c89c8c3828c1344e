// tools/convert/model_header.hpp - a model file as a C++ header, for programs that carry their
// models inside the binary (firmware): `facekit convert --emit-header`.
//
//   facekit::convert::write_model_header("weights/face_detector.fkm", "gen", &written);
//   // gen/face_detector_fkm.hpp:
//   //   alignas(64) inline constexpr unsigned char face_detector_fkm[] = {...};  // the .fkm, verbatim
//   //   inline constexpr std::size_t face_detector_arena_size = ...;            // CPU activation bytes
//
// The loader uses the array in place (Model::from_bytes: zero copy, 64-byte aligned as it
// requires); the arena size is the least caller memory a session of the model accepts
// (Session::create_in, FaceDetector::create's ArenaMemory), for a static buffer.
#pragma once

#include <string>

#include "facekit/status.hpp"

namespace facekit {
namespace convert {

/// The C++ identifier a model file's stem gives ("face_detector.fkm" -> "face_detector"):
/// characters outside [A-Za-z0-9_] become '_', a leading digit gets a '_' before it.
std::string header_symbol(const std::string& fkm_path);

/// Validates the model file at `fkm_path` with the library's loader and writes
/// `out_dir`/<symbol>_fkm.hpp (atomically); `written` gets its path. Either may fail with a
/// message naming the file.
Status write_model_header(const std::string& fkm_path, const std::string& out_dir, std::string* written);

}  // namespace convert
}  // namespace facekit
