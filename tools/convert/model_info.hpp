// tools/convert/model_info.hpp - which MediaPipe network a graph is, and the metadata records
// (docs/model-format.md, "Metadata keys") the runtime needs to use it.
#pragma once

#include <string>

#include "convert/model_writer.hpp"
#include "convert/tflite_reader.hpp"

namespace facekit {
namespace convert {

/// Values of `model.kind`.
constexpr const char* kKindDetector = "face_detector";
constexpr const char* kKindLandmarksV2 = "face_landmarks_v2";
constexpr const char* kKindLandmarksAttention = "face_landmarks_attention";
constexpr const char* kKindBlendshapes = "face_blendshapes";
constexpr const char* kKindGeneric = "generic";  ///< a graph none of the above (converted as is)

/// Recognises the network by its structure: input shape, output shapes and custom ops (the
/// file name is not consulted). Returns one of the kinds above.
std::string identify_model(const SourceGraph& g);

/// Number of SSD anchors the detector anchor configuration for this input size generates
/// (docs/pipeline.md 1.2 / 1.7): 896 for 128, 2304 for 192, 0 for other sizes.
int detector_anchor_count(int input_size);

/// Appends model.*, input.*, output.* and (detectors) detector.* / anchors.* records to `m`.
/// `m` must be the lowered graph of `g` (graph inputs/outputs in TFLite order).
void add_metadata(const SourceGraph& g, const std::string& kind, const std::string& source, OutModel* m);

}  // namespace convert
}  // namespace facekit
