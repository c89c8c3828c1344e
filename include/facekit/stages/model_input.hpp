// facekit/stages/model_input.hpp - the image input of a network, read and checked once when a
// stage is created: the [1, H, W, 3] input tensor, the `input.width` / `input.height` metadata
// (when present they must equal the tensor's size) and `input.range`, the values the pixel bytes
// 0..255 map to (finite, min < max).
//
//   ImageInput in;
//   FACEKIT_RETURN_IF_ERROR(read_image_input(model, "detector", -1.0f, 1.0f, &in));
#pragma once

#include <cmath>
#include <cstdint>

#include "../model/model.hpp"
#include "../status.hpp"

namespace facekit {

struct ImageInput {
  int width = 0, height = 0;
  float range_min = 0, range_max = 1;
};

/// `what` starts the messages ("detector", "landmark model"); the range defaults apply when the
/// model has no `input.range`. Messages name the tensor or the metadata key and its value.
inline Status read_image_input(const Model& m, const char* what, float default_min, float default_max,
                               ImageInput* out) {
  if (m.inputs().size() != 1) return Status::error("%s has %zu inputs, expected 1", what, m.inputs().size());
  const TensorInfo& t = m.tensor(m.inputs()[0]);
  if (t.rank != 4 || t.dims[0] != 1 || t.dims[3] != 3)
    return Status::error("%s input '%s' must be [1, H, W, 3]", what, t.name);
  ImageInput in;
  in.height = t.dims[1];
  in.width = t.dims[2];
  const struct {
    const char* key;
    int expected;
  } sizes[] = {{"input.width", in.width}, {"input.height", in.height}};
  for (const auto& s : sizes) {
    int32_t v = 0;
    if (m.has_meta(s.key) && (!m.meta_i32(s.key, &v) || v != s.expected))
      return Status::error("%s metadata: '%s' is %d, expected the input tensor's %d", what, s.key, v, s.expected);
  }
  in.range_min = default_min;
  in.range_max = default_max;
  if (m.has_meta("input.range")) {
    const auto range = m.meta_f32_array("input.range");
    if (range.second != 2)
      return Status::error("%s metadata: 'input.range' has %zu values, expected 2 floats [min, max]", what,
                           range.second);
    in.range_min = range.first[0];
    in.range_max = range.first[1];
    if (!std::isfinite(in.range_min) || !std::isfinite(in.range_max) || !(in.range_min < in.range_max))
      return Status::error("%s metadata: 'input.range' is [%g, %g], expected finite values with min < max", what,
                           double(in.range_min), double(in.range_max));
  }
  *out = in;
  return Status::ok();
}

}  // namespace facekit
