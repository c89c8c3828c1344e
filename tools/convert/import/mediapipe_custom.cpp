// tools/convert/import/mediapipe_custom.cpp - the attention mesh's MediaPipe custom ops
// (version 2 of Landmarks2TransformMatrix, TransformTensorBilinear, TransformLandmarks), their
// FlexBuffer custom options read into typed parameters.
#include <cmath>

#include <flatbuffers/flexbuffers.h>

#include "convert/import/importer.hpp"

namespace facekit {
namespace convert {

namespace {

// Version 1 of these names is a different kernel with other options (docs/pipeline.md 4).
Status need_version_2(ImportState& st, const SourceOp& op) {
  if (op.version != 2)
    return st.fail(op, strf("version %d is not supported; facekit implements version 2 (the kernel MediaPipe "
                            "registers for this name)", op.version));
  ++st.graph.stats.custom_ops_lowered;
  return Status::ok();
}

// Custom options are a FlexBuffer map; a blob that fails the FlexBuffers verifier, is not a
// map, or lacks a key or has it with the wrong type gives an error naming the op.
Status custom_map(const ImportState& st, const SourceOp& op, flexbuffers::Map* out) {
  const std::size_t n = op.custom_options_size;
  if (n == 0) return st.fail(op, "custom options are missing (expected a FlexBuffer map)");
  const uint8_t* p = st.src.bytes.data() + op.custom_options_offset;
  std::vector<uint8_t> reuse;
  if (!flexbuffers::VerifyBuffer(p, n, &reuse))
    return st.fail(op, strf("custom options (%zu bytes) are not a valid FlexBuffer (damaged or truncated)", n));
  const flexbuffers::Reference root = flexbuffers::GetRoot(p, n);
  if (!root.IsMap())
    return st.fail(op, strf("custom options are not a FlexBuffer map (root type %d)", int(root.GetType())));
  *out = root.AsMap();
  return Status::ok();
}

Status opt_int(const ImportState& st, const SourceOp& op, const flexbuffers::Map& m, const char* key, int64_t lo,
               int64_t hi, int32_t* v) {
  const flexbuffers::Reference r = m[key];
  if (r.IsNull()) return st.fail(op, strf("custom option '%s' is missing", key));
  if (!r.IsIntOrUint())
    return st.fail(op, strf("custom option '%s' has FlexBuffer type %d, expected an integer", key, int(r.GetType())));
  const int64_t x = r.AsInt64();
  if (x < lo || x > hi)
    return st.fail(op, strf("custom option '%s' is %lld, outside [%lld, %lld]", key, static_cast<long long>(x),
                            static_cast<long long>(lo), static_cast<long long>(hi)));
  *v = int32_t(x);
  return Status::ok();
}

// A float option; `dflt` (if not null) is used when the key is absent.
Status opt_float(const ImportState& st, const SourceOp& op, const flexbuffers::Map& m, const char* key,
                 const float* dflt, float* v) {
  const flexbuffers::Reference r = m[key];
  if (r.IsNull() && dflt) {
    *v = *dflt;
    return Status::ok();
  }
  if (r.IsNull()) return st.fail(op, strf("custom option '%s' is missing", key));
  if (!r.IsNumeric())
    return st.fail(op, strf("custom option '%s' has FlexBuffer type %d, expected a number", key, int(r.GetType())));
  *v = float(r.AsDouble());
  if (!std::isfinite(*v)) return st.fail(op, strf("custom option '%s' is %g, not a finite number", key, double(*v)));
  return Status::ok();
}

Status opt_int_vector(const ImportState& st, const SourceOp& op, const flexbuffers::Map& m, const char* key,
                      int64_t lo, int64_t hi, std::vector<float>* v) {
  const flexbuffers::Reference r = m[key];
  if (r.IsNull()) return st.fail(op, strf("custom option '%s' is missing", key));
  auto read = [&](const auto& vec) -> Status {
    for (std::size_t i = 0; i < vec.size(); ++i) {
      const flexbuffers::Reference e = vec[i];
      if (!e.IsIntOrUint()) return st.fail(op, strf("custom option '%s'[%zu] is not an integer", key, i));
      const int64_t x = e.AsInt64();
      if (x < lo || x > hi)
        return st.fail(op, strf("custom option '%s'[%zu] is %lld, outside [%lld, %lld]", key, i,
                                static_cast<long long>(x), static_cast<long long>(lo), static_cast<long long>(hi)));
      v->push_back(float(x));
    }
    return Status::ok();
  };
  if (r.IsTypedVector()) return read(r.AsTypedVector());
  if (r.IsVector() && !r.IsMap()) return read(r.AsVector());
  return st.fail(op, strf("custom option '%s' has FlexBuffer type %d, expected a vector of integers", key,
                          int(r.GetType())));
}

// [1, N, D] (leading dims 1) -> N, D.
bool points_shape(const ImportState& st, int t, int* n, int* d) {
  const auto& s = st.shape(t);
  if (s.size() < 2) return false;
  for (std::size_t k = 0; k + 2 < s.size(); ++k)
    if (s[k] != 1) return false;
  *n = s[s.size() - 2];
  *d = s.back();
  return true;
}

Status need_matrix(const ImportState& st, const SourceOp& op, int mt) {
  if (st.src.tensors[std::size_t(mt)].elements != 16)
    return st.fail(op, strf("matrix '%s' has shape %s; expected a 4x4 matrix", st.tname(mt),
                            shape_str(st.shape(mt)).c_str()));
  return Status::ok();
}

}  // namespace

Status import_landmarks_to_transform_matrix(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(need_version_2(st, op));
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 1, 1, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "landmarks"));
  int n = 0, d = 0;
  // MediaPipe reads landmark i at 3i: the input must hold (x, y, z) triples.
  if (!points_shape(st, x, &n, &d) || d != 3)
    return st.fail(op, strf("landmarks '%s' have shape %s; expected [1,N,3]", st.tname(x),
                            shape_str(st.shape(x)).c_str()));
  flexbuffers::Map m = flexbuffers::Map::EmptyMap();
  FACEKIT_RETURN_IF_ERROR(custom_map(st, op, &m));
  LandmarksToTransformMatrixParams p{};
  const float zero = 0.0f;
  FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "left_rotation_idx", 0, n - 1, &p.left_rotation_idx));
  FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "right_rotation_idx", 0, n - 1, &p.right_rotation_idx));
  FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "output_width", 1, 1 << 16, &p.output_width));
  FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "output_height", 1, 1 << 16, &p.output_height));
  FACEKIT_RETURN_IF_ERROR(opt_float(st, op, m, "scale_x", nullptr, &p.scale_x));
  FACEKIT_RETURN_IF_ERROR(opt_float(st, op, m, "scale_y", nullptr, &p.scale_y));
  FACEKIT_RETURN_IF_ERROR(opt_float(st, op, m, "target_rotation_radians", &zero, &p.target_rotation_radians));
  if (!(p.scale_x > 0.0f) || !(p.scale_y > 0.0f))
    return st.fail(op, strf("custom options scale_x %g, scale_y %g must be positive", double(p.scale_x),
                            double(p.scale_y)));
  // MediaPipe reads the indices as pairs (an odd last one paired with itself); only the
  // bounding box of the points matters, so the list is kept as stored.
  std::vector<float> subset;
  FACEKIT_RETURN_IF_ERROR(opt_int_vector(st, op, m, "subset_idxs", 0, n - 1, &subset));
  if (subset.empty()) return st.fail(op, "custom option 'subset_idxs' is empty");
  if (st.src.tensors[std::size_t(y)].elements != 16)
    return st.fail(op, strf("output '%s' has shape %s; expected a 4x4 matrix ([1,4,4])", st.tname(y),
                            shape_str(st.shape(y)).c_str()));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(st.make_node(op, OpType::landmarks_to_transform_matrix, p), {x}, y,
                 {Operand::plain_labelled("subset_idxs", std::move(subset))});
}

Status import_transform_tensor_bilinear(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(need_version_2(st, op));
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], mt = op.inputs[1], y = op.outputs[0];
  FACEKIT_RETURN_IF_ERROR(st.need_nhwc(op, x, "input"));
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, mt, "matrix"));
  FACEKIT_RETURN_IF_ERROR(need_matrix(st, op, mt));
  const auto& ys = st.shape(y);
  if (ys.size() != 4 || ys[0] != 1 || ys[3] != st.shape(x)[3])
    return st.fail(op, strf("output '%s' has shape %s; expected [1,OH,OW,%d]", st.tname(y), shape_str(ys).c_str(),
                            st.shape(x)[3]));
  // The kernel takes the size from the output tensor; the options, when present, must agree.
  if (op.custom_options_size > 0) {
    flexbuffers::Map m = flexbuffers::Map::EmptyMap();
    FACEKIT_RETURN_IF_ERROR(custom_map(st, op, &m));
    int32_t oh = 0, ow = 0;
    FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "output_height", 1, 1 << 16, &oh));
    FACEKIT_RETURN_IF_ERROR(opt_int(st, op, m, "output_width", 1, 1 << 16, &ow));
    if (oh != ys[1] || ow != ys[2])
      return st.fail(op, strf("custom options give an output of %d x %d, the output tensor '%s' is %s", oh, ow,
                              st.tname(y), shape_str(ys).c_str()));
  }
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  const TransformTensorBilinearParams p{1};  // pixel_centers: version 2
  return st.emit(st.make_node(op, OpType::transform_tensor_bilinear, p), {x, mt}, y);
}

// A MUL of the matrix by a constant (import/elementwise.cpp) joins the op as its factor input.
Status import_transform_landmarks(ImportState& st, const SourceOp& op) {
  FACEKIT_RETURN_IF_ERROR(need_version_2(st, op));
  FACEKIT_RETURN_IF_ERROR(st.need_inputs(op, 2, 2, 1));
  const int x = op.inputs[0], y = op.outputs[0];
  int mt = op.inputs[1];
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, x, "points"));
  int n = 0, d = 0;
  if (!points_shape(st, x, &n, &d) || (d != 2 && d != 3))
    return st.fail(op, strf("points '%s' have shape %s; expected [1,N,2] or [1,N,3]", st.tname(x),
                            shape_str(st.shape(x)).c_str()));
  const auto& ys = st.src.tensors[std::size_t(y)].shape;
  if (ys != st.shape(x))
    return st.fail(op, strf("output '%s' has shape %s, the points %s", st.tname(y), shape_str(ys).c_str(),
                            shape_str(st.shape(x)).c_str()));
  // Version 2 has no options (dimensions come from the output, the scale is 1): any blob is ignored.
  const TransformLandmarksParams p{1.0f};  // translation_scale: version 2
  Node node = st.make_node(op, OpType::transform_landmarks, p);
  std::vector<Operand> factor;
  auto f = st.matrix_factor.find(mt);
  if (f != st.matrix_factor.end()) {
    const std::vector<float>* kv = nullptr;
    FACEKIT_RETURN_IF_ERROR(st.const_floats(op, f->second.second, "matrix factor", &kv));
    factor.push_back(Operand::plain(f->second.second, *kv));
    node.name += "(MUL#" + std::to_string(st.producer_op[std::size_t(mt)]) + ")";
    mt = f->second.first;
    ++st.graph.stats.matrix_factors_fused;
  }
  FACEKIT_RETURN_IF_ERROR(st.need_activation(op, mt, "matrix"));
  FACEKIT_RETURN_IF_ERROR(need_matrix(st, op, mt));
  FACEKIT_RETURN_IF_ERROR(st.define_output(op, y));
  return st.emit(std::move(node), {x, mt}, y, std::move(factor));
}

}  // namespace convert
}  // namespace facekit
