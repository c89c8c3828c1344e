// tools/convert/converter.hpp - converts MediaPipe .tflite models and .task bundles into facekit
// model files (.fkm). The `facekit convert` command is a thin layer over convert_path().
//
//   facekit::convert::ConvertResult r = facekit::convert::convert_path("face_landmarker.task", "weights");
//   for (const auto& n : r.networks) std::puts(facekit::convert::describe(n).c_str());
//
// A .task bundle converts every .tflite member it can and reports each one it cannot; the
// canonical face geometry (geometry_pipeline_metadata_landmarks.binarypb) becomes
// face_geometry.fkm (convert/face_geometry.hpp); other members are listed as skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "convert/lowering.hpp"
#include "facekit/status.hpp"

namespace facekit {
namespace convert {

/// One network converted in memory.
struct Converted {
  std::vector<uint8_t> bytes;            ///< the .fkm file
  std::string kind;                      ///< model.kind
  LoweringStats stats;
  std::map<std::string, int> op_counts;  ///< facekit op type name -> count
  int tensor_count = 0;
  int constant_count = 0;
};

/// How to convert (the defaults are what `facekit convert` does).
struct ConvertOptions {
  PassObserver after_pass;  ///< called after each lowering pass of each network (--dump-passes)
};

/// Converts one .tflite held in memory. `source` names it in messages ("face_detector.tflite");
/// `meta_source` is stored as model.source (defaults to `source`).
Expected<Converted> convert_tflite(std::vector<uint8_t> tflite, const std::string& source,
                                   const std::string& meta_source = std::string(),
                                   const ConvertOptions& options = ConvertOptions());

/// The outcome for one network of the input.
struct NetworkResult {
  std::string source;       ///< file or member name
  std::string output_path;  ///< the .fkm written; empty on failure
  Status status;            ///< why it was not converted
  std::string kind;
  LoweringStats stats;
  std::map<std::string, int> op_counts;
  std::size_t file_size = 0;
};

struct ConvertResult {
  Status status;                          ///< the input itself could not be read (no networks then)
  std::vector<NetworkResult> networks;    ///< one per .tflite (the file, or each bundle member)
  std::vector<std::string> skipped;       ///< bundle members that are not networks
  int converted() const;
  int failed() const;
};

/// Converts `in_path` (.tflite, or a .task zip) into `out_dir`/<stem>.fkm per network, creating
/// `out_dir` if needed. Files are written atomically (temporary name, then rename).
ConvertResult convert_path(const std::string& in_path, const std::string& out_dir,
                           const ConvertOptions& options = ConvertOptions());

/// Convenience form: ok only if every network converted; `written` gets the paths written (also
/// on partial failure), `log` one line per network and skipped member. Either may be null.
Status convert_file(const std::string& in_path, const std::string& out_dir, std::vector<std::string>* written,
                    std::string* log);

/// One line about a network: "face_detector.tflite -> dir/face_detector.fkm: face_detector, 46 ops
/// (conv2d 21, ...), 229 KiB; folded 74 DEQUANTIZE, fused ..." or its error.
std::string describe(const NetworkResult& n);

}  // namespace convert
}  // namespace facekit
