// libFuzzer target: the detector's post-processing fed raw tensors: anchors from fuzzed options,
// decoding (any float bits, NaN and Inf included), weighted NMS and the projection to pixels.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "facekit/detection/decode.hpp"
#include "facekit/detection/nms.hpp"
#include "facekit/detection/projection.hpp"
#include "facekit/detection/ssd_anchors.hpp"

namespace {

struct Reader {
  const uint8_t* p;
  std::size_t n;
  template <class T>
  T get() {
    T v{};
    if (n >= sizeof v) {
      std::memcpy(&v, p, sizeof v);
      p += sizeof v;
      n -= sizeof v;
    }
    return v;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Reader in{data, size};
  facekit::SsdAnchorOptions ao;
  if (in.get<uint8_t>() & 1) ao = facekit::SsdAnchorOptions::full_range();
  ao.min_scale = in.get<float>();
  ao.max_scale = in.get<float>();
  ao.interpolated_scale_aspect_ratio = in.get<float>();
  ao.reduce_boxes_in_lowest_layer = in.get<uint8_t>() & 1;
  std::vector<facekit::Anchor> anchors;
  if (!facekit::validate_anchor_options(ao) || !facekit::generate_ssd_anchors(ao, &anchors)) return 0;
  facekit::DecodeOptions o;
  o.num_boxes = int(anchors.size());
  o.num_keypoints = 1 + in.get<uint8_t>() % 6;
  o.num_coords = 4 + 2 * o.num_keypoints + in.get<uint8_t>() % 4;
  o.x_scale = in.get<float>();
  o.y_scale = in.get<float>();
  o.w_scale = in.get<float>();
  o.h_scale = in.get<float>();
  o.apply_exponential_on_box_size = in.get<uint8_t>() & 1;
  o.score_clipping_thresh = in.get<float>();
  o.min_score = in.get<float>();
  if (!facekit::validate_decode_options(o, anchors.size())) return 0;
  // The tensors: the rest of the input, repeated to fill them.
  std::vector<float> boxes(anchors.size() * std::size_t(o.num_coords)), scores(anchors.size());
  for (std::size_t i = 0; i < boxes.size() + scores.size(); ++i) {
    float v = 0;
    if (in.n >= 4) std::memcpy(&v, in.p + (i * 4) % (in.n - 3), 4);
    (i < boxes.size() ? boxes[i] : scores[i - boxes.size()]) = v;
  }
  std::vector<facekit::RawDetection> decoded, merged;
  decoded.reserve(anchors.size());
  facekit::decode_detections(boxes.data(), scores.data(), anchors, o, decoded);
  facekit::NmsScratch scratch;
  facekit::nms_reserve(scratch, decoded.size());
  facekit::weighted_nms(decoded, 0.3f, scratch, merged);
  for (const facekit::RawDetection& d : merged) (void)facekit::to_pixel_box(d, 640, 480);
  return 0;
}
