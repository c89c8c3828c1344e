// facekit/detection/nms.hpp - MediaPipe's WEIGHTED non-max suppression (docs/pipeline.md 1.4;
// mediapipe/calculators/util/non_max_suppression_calculator.cc).
//
//   facekit::NmsScratch scratch;
//   facekit::nms_reserve(scratch, anchors.size());   // once; then no allocation per frame
//   merged.reserve(anchors.size());
//   facekit::weighted_nms(decoded, 0.3f, scratch, merged);
#pragma once

#include <algorithm>
#include <cfloat>
#include <utility>
#include <vector>

#include "../kernels/fp.hpp"
#include "decode.hpp"

namespace facekit {

/// Working memory of weighted_nms: (detection index, score) lists.
struct NmsScratch {
  std::vector<std::pair<int, float>> remained, kept, candidates;
};

inline void nms_reserve(NmsScratch& s, std::size_t n) {
  s.remained.reserve(n);
  s.kept.reserve(n);
  s.candidates.reserve(n);
}

/// OverlapSimilarity(INTERSECTION_OVER_UNION) of MediaPipe's Rectangle_f boxes, in its float
/// order of operations; 0 when the boxes do not touch.
inline float detection_iou(const RawDetection& r1, const RawDetection& r2) noexcept {
  const float ax0 = r1.xmin, ay0 = r1.ymin, ax1 = r1.xmin + r1.width, ay1 = r1.ymin + r1.height;
  const float bx0 = r2.xmin, by0 = r2.ymin, bx1 = r2.xmin + r2.width, by1 = r2.ymin + r2.height;
  const bool empty1 = ax0 > ax1 || ay0 > ay1, empty2 = bx0 > bx1 || by0 > by1;
  if (empty1 || empty2 || bx1 < ax0 || ax1 < bx0 || by1 < ay0 || ay1 < by0) return 0.0f;
  const float ix0 = std::max(ax0, bx0), iy0 = std::max(ay0, by0);
  const float ix1 = std::min(ax1, bx1), iy1 = std::min(ay1, by1);
  float inter;
  if (ix0 > ix1 || iy0 > iy1) {
    inter = fp::mul(-FLT_MAX - FLT_MAX, -FLT_MAX - FLT_MAX);  // MediaPipe's empty rectangle
  } else {
    inter = fp::mul(ix1 - ix0, iy1 - iy0);
  }
  const float area1 = fp::mul(ax1 - ax0, ay1 - ay0), area2 = fp::mul(bx1 - bx0, by1 - by0);
  const float norm = area1 + area2 - inter;
  return norm > 0.0f ? inter / norm : 0.0f;
}

/// Seeds are taken in descending score order (std::sort, not stable, as MediaPipe); every
/// detection (the seed included) whose IoU with the seed exceeds `iou_threshold` is merged
/// into it: corners and keypoints become score-weighted means (float32 sums in descending
/// score order), the score stays the seed's. Output order = seed order. `out` is replaced.
inline void weighted_nms(const std::vector<RawDetection>& in, float iou_threshold, NmsScratch& s,
                         std::vector<RawDetection>& out) {
  out.clear();
  s.remained.clear();
  for (std::size_t i = 0; i < in.size(); ++i) s.remained.emplace_back(int(i), in[i].score);
  std::sort(s.remained.begin(), s.remained.end(),
            [](const std::pair<int, float>& a, const std::pair<int, float>& b) { return a.second > b.second; });
  while (!s.remained.empty()) {
    const std::size_t before = s.remained.size();
    const RawDetection& seed = in[std::size_t(s.remained[0].first)];
    s.kept.clear();
    s.candidates.clear();
    for (const auto& is : s.remained) {
      if (detection_iou(in[std::size_t(is.first)], seed) > iou_threshold)
        s.candidates.push_back(is);
      else
        s.kept.push_back(is);
    }
    RawDetection merged = seed;
    if (!s.candidates.empty()) {
      float total = 0, wxmin = 0, wymin = 0, wxmax = 0, wymax = 0;
      float kp[kDetectionKeypoints][2] = {};
      for (const auto& c : s.candidates) {
        const RawDetection& d = in[std::size_t(c.first)];
        const float sc = c.second;
        total += sc;
        wxmin += fp::mul(d.xmin, sc);
        wymin += fp::mul(d.ymin, sc);
        wxmax += fp::mul(d.xmin + d.width, sc);
        wymax += fp::mul(d.ymin + d.height, sc);
        for (int k = 0; k < kDetectionKeypoints; ++k) {
          kp[k][0] += fp::mul(d.keypoints[std::size_t(k)][0], sc);
          kp[k][1] += fp::mul(d.keypoints[std::size_t(k)][1], sc);
        }
      }
      merged.xmin = wxmin / total;
      merged.ymin = wymin / total;
      merged.width = (wxmax / total) - merged.xmin;
      merged.height = (wymax / total) - merged.ymin;
      for (int k = 0; k < kDetectionKeypoints; ++k) {
        merged.keypoints[std::size_t(k)][0] = kp[k][0] / total;
        merged.keypoints[std::size_t(k)][1] = kp[k][1] / total;
      }
    }
    out.push_back(merged);
    // MediaPipe stops when a round removes nothing (a seed that does not overlap itself).
    if (s.kept.size() == before) break;
    std::swap(s.remained, s.kept);
  }
}

}  // namespace facekit
