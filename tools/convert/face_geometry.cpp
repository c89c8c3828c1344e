// tools/convert/face_geometry.cpp - see face_geometry.hpp. The protobuf messages come from our own
// minimal face_geometry.proto (the fields facekit needs, nothing else).
#include "convert/face_geometry.hpp"

#include <cmath>
#include <limits>

#include "convert/model_writer.hpp"
#include "convert/face_geometry.pb.h"
#include "facekit/model/model.hpp"

namespace facekit {
namespace convert {

namespace {

constexpr int kVertexFloats = 5;  // VERTEX_PT: x, y, z, u, v
constexpr int kGeometryVertices = 468;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool is_face_geometry_source(const std::string& name) {
  const std::size_t slash = name.find_last_of('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  return base.rfind("geometry_pipeline_metadata", 0) == 0 && ends_with(base, ".binarypb");
}

Expected<Converted> convert_face_geometry(const std::vector<uint8_t>& bytes, const std::string& source,
                                          const std::string& meta_source) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  facekit_geometry::GeometryMetadata md;
  if (bytes.size() > std::size_t(std::numeric_limits<int>::max()) ||
      !md.ParseFromArray(bytes.data(), int(bytes.size())))
    return Status::error("%s: not a serialized geometry pipeline metadata message (%zu bytes)", source.c_str(),
                         bytes.size());
  if (md.input_source() != 1)
    return Status::error("%s: input_source is %d, expected 1 (FACE_LANDMARK_PIPELINE)", source.c_str(),
                         md.input_source());
  if (!md.has_canonical_mesh()) return Status::error("%s: canonical_mesh is missing", source.c_str());
  const facekit_geometry::CanonicalMesh& mesh = md.canonical_mesh();
  if (mesh.vertex_type() != 0)
    return Status::error("%s: canonical_mesh.vertex_type is %d, expected 0 (VERTEX_PT)", source.c_str(),
                         mesh.vertex_type());
  if (mesh.primitive_type() != 0)
    return Status::error("%s: canonical_mesh.primitive_type is %d, expected 0 (TRIANGLE)", source.c_str(),
                         mesh.primitive_type());
  if (mesh.vertex_buffer_size() != kGeometryVertices * kVertexFloats)
    return Status::error("%s: canonical_mesh.vertex_buffer has %d floats, expected %d (468 vertices x 5)",
                         source.c_str(), mesh.vertex_buffer_size(), kGeometryVertices * kVertexFloats);
  if (mesh.index_buffer_size() % 3 != 0)
    return Status::error("%s: canonical_mesh.index_buffer has %d entries, not a multiple of 3", source.c_str(),
                         mesh.index_buffer_size());

  OutModel m;
  OutTensor io;
  io.name = "screen_landmarks";
  io.dims = {1, kGeometryVertices, 3};
  m.tensors.push_back(io);

  OutTensor verts;
  verts.name = "canonical_vertices";
  verts.dims = {kGeometryVertices, 3};
  verts.kind = format::TensorKind::constant;
  verts.data.resize(std::size_t(kGeometryVertices) * 3);
  for (int v = 0; v < kGeometryVertices; ++v)
    for (int k = 0; k < 3; ++k) {
      const float f = mesh.vertex_buffer(v * kVertexFloats + k);
      if (!std::isfinite(f))
        return Status::error("%s: canonical vertex %d coordinate %d is not finite", source.c_str(), v, k);
      verts.data[std::size_t(v) * 3 + std::size_t(k)] = f;
    }
  m.tensors.push_back(std::move(verts));

  OutTensor weights;
  weights.name = "procrustes_weights";
  weights.dims = {kGeometryVertices};
  weights.kind = format::TensorKind::constant;
  weights.data.assign(kGeometryVertices, 0.0f);
  double total = 0;
  for (int i = 0; i < md.procrustes_landmark_basis_size(); ++i) {
    const facekit_geometry::LandmarkWeight& w = md.procrustes_landmark_basis(i);
    if (w.landmark_id() >= uint32_t(kGeometryVertices))
      return Status::error("%s: procrustes_landmark_basis #%d: landmark_id %u is not below 468", source.c_str(), i,
                           w.landmark_id());
    if (!(w.weight() >= 0) || !std::isfinite(w.weight()))
      return Status::error("%s: procrustes_landmark_basis #%d: weight %g is not a finite non-negative number",
                           source.c_str(), i, double(w.weight()));
    weights.data[w.landmark_id()] = w.weight();
    total += w.weight();
  }
  // The solver divides by the total weight (MediaPipe requires it above 1e-9).
  if (!(total > 1e-9))
    return Status::error("%s: procrustes_landmark_basis weights sum to %g", source.c_str(), total);
  m.tensors.push_back(std::move(weights));

  std::vector<int32_t> triangles;
  triangles.reserve(std::size_t(mesh.index_buffer_size()));
  for (int i = 0; i < mesh.index_buffer_size(); ++i) {
    if (mesh.index_buffer(i) >= uint32_t(kGeometryVertices))
      return Status::error("%s: canonical_mesh.index_buffer[%d] = %u is not a vertex", source.c_str(), i,
                           mesh.index_buffer(i));
    triangles.push_back(int32_t(mesh.index_buffer(i)));
  }

  m.inputs = {0};
  m.outputs = {0};
  m.meta_str("model.kind", "face_geometry");
  m.meta_str("model.source", meta_source.empty() ? source : meta_source);
  m.meta_str("input.meaning",
             "not a network: the 468 face-mesh landmarks the pose is solved for, image-normalised x, y, z");
  m.meta_i32("geometry.input_source", md.input_source());
  m.meta_i32s("geometry.triangles", std::move(triangles));
  // The camera is not in the .binarypb: FaceLandmarker's geometry graph configures it (docs/pipeline.md 7.2).
  m.meta_f32("camera.vertical_fov_degrees", 63.0f);
  m.meta_f32("camera.near", 1.0f);
  m.meta_f32("camera.far", 10000.0f);
  m.meta_str("camera.origin", "top_left");

  Expected<std::vector<uint8_t>> out = write_model(m);
  if (!out) return Status(out.status()).prefix(source);
  Expected<Model> check = Model::copy_from_bytes(out->data(), out->size());
  if (!check) return Status(check.status()).prefix(source + ": internal error: the loader rejects the output");
  Converted c;
  c.bytes = std::move(*out);
  c.kind = "face_geometry";
  c.tensor_count = int(m.tensors.size());
  c.constant_count = 2;
  return c;
}

}  // namespace convert
}  // namespace facekit
