// tools/convert/face_geometry.hpp - MediaPipe's canonical face geometry
// (geometry_pipeline_metadata_landmarks.binarypb in face_landmarker.task) into a facekit model
// file of kind "face_geometry" (weights/face_geometry.fkm).
//
// The file holds no ops: one activation `screen_landmarks` [1, 468, 3] that is both the graph
// input and output (so the loader's graph rules hold), and two constants the pose solver reads:
//   canonical_vertices [468, 3]  the canonical face model's vertex positions (centimetres)
//   procrustes_weights [468]     the Procrustes weight of every vertex (0 for the unlisted ones)
// plus metadata: model.kind, model.source, geometry.input_source, geometry.triangles (i32 array of
// vertex indices, 3 per triangle), and the camera FaceLandmarker configures (docs/pipeline.md 7.2):
// camera.vertical_fov_degrees, camera.near, camera.far, camera.origin ("top_left").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convert/converter.hpp"

namespace facekit {
namespace convert {

/// True for the bundle member (or file) name MediaPipe uses for the canonical geometry.
bool is_face_geometry_source(const std::string& name);

/// Parses the serialized geometry pipeline metadata and writes the face_geometry model file.
/// Fails, naming the field, on a file that is not landmark-based canonical geometry with 5-float
/// vertices and valid landmark ids.
Expected<Converted> convert_face_geometry(const std::vector<uint8_t>& bytes, const std::string& source,
                                          const std::string& meta_source = std::string());

}  // namespace convert
}  // namespace facekit
