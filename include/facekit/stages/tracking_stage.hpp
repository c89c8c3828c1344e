// facekit/stages/tracking_stage.hpp - video mode: faces carried from frame to frame, as
// MediaPipe's VIDEO running mode carries them (docs/pipeline.md 5).
//
//   FACEKIT_RETURN_IF_ERROR(tracking.check_timestamp(t));
//   tracking.start_frame(t);
//   if (tracking.needs_detection()) detection.run(frame, mesh); else detection.clear();
//   for (const auto& c : tracking.associate(detection.candidates()))
//     if (mesh.run(...) finds the face) tracking.track(landmarks, c.detection, W, H);
//   tracking.smooth(first face's landmarks or nullptr, W, H);
//
// Each present face's next ROI comes from its unsmoothed landmarks (tracking_roi). Tracked and
// fresh ROIs are associated by IoU > min_tracking_confidence (AssociationNormRectCalculator), the
// tracked or the fresh one kept as the mesh model's graph does. With smoothing on (Face Mesh V2's
// graph tracking a single face) the first face's landmarks are one-euro filtered. After
// construction nothing here allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../landmarks/roi.hpp"
#include "../landmarks/smoothing.hpp"
#include "../status.hpp"
#include "face_candidate.hpp"

namespace facekit {

class TrackingStage {
 public:
  using Candidate = FaceCandidate;

  /// `tracked_faces_win`: association keeps the tracked face (legacy graph) rather than the fresh
  /// detection (Tasks); `smooth`: one-euro filter the first face.
  TrackingStage(std::size_t max_faces, float min_tracking_confidence, bool tracked_faces_win, bool smooth)
      : max_faces_(max_faces), min_iou_(min_tracking_confidence), tracked_faces_win_(tracked_faces_win) {
    tracks_.reserve(max_faces);
    candidates_.reserve(2 * max_faces);
    if (smooth) smoother_ = std::make_unique<LandmarkSmoother>();
  }

  /// Whether `timestamp_ms` may follow the previous frame's.
  Status check_timestamp(int64_t timestamp_ms) const {
    if (has_timestamp_ && timestamp_ms <= last_timestamp_ms_)
      return Status::error("timestamp %lld ms is not greater than the previous frame's %lld ms",
                           static_cast<long long>(timestamp_ms), static_cast<long long>(last_timestamp_ms_));
    // Microseconds and nanoseconds of it must not overflow (MediaPipe's timestamps are int64 us).
    if (timestamp_ms < 0 || timestamp_ms > INT64_MAX / 1000000)
      return Status::error("timestamp %lld ms is outside [0, %lld]", static_cast<long long>(timestamp_ms),
                           static_cast<long long>(INT64_MAX / 1000000));
    return Status::ok();
  }
  void start_frame(int64_t timestamp_ms) noexcept {
    last_timestamp_ms_ = timestamp_ms;
    has_timestamp_ = true;
  }
  /// The detector runs only when fewer than max_faces faces are tracked.
  bool needs_detection() const noexcept { return tracks_.size() < max_faces_; }

  /// This frame's candidates: the tracked faces and the `fresh` detections, each incoming ROI
  /// removing the listed ones it overlaps by IoU > min_tracking_confidence before it joins the
  /// list (the later input wins), cut to max_faces. The tracked faces are then forgotten: track()
  /// lists those found again.
  const std::vector<Candidate>& associate(const std::vector<Candidate>& fresh) {
    const std::vector<Candidate>& first = tracked_faces_win_ ? fresh : tracks_;
    const std::vector<Candidate>& second = tracked_faces_win_ ? tracks_ : fresh;
    candidates_.clear();
    for (const std::vector<Candidate>* list : {&first, &second})
      for (const Candidate& in : *list) {
        candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                         [&](const Candidate& c) { return rect_iou(in.roi, c.roi) > min_iou_; }),
                          candidates_.end());
        candidates_.push_back(in);
      }
    if (candidates_.size() > max_faces_) candidates_.resize(max_faces_);
    tracks_.clear();
    return candidates_;
  }
  /// A face found this frame: its next frame's ROI comes from its (unsmoothed) landmarks.
  void track(const NormalizedLandmark* landmarks, const Detection& detection, int image_w, int image_h) {
    tracks_.push_back(Candidate{tracking_roi(landmarks, kFaceMeshV2Landmarks, image_w, image_h), detection});
  }
  /// Smooths the first face's landmarks in place; null when no face was found (resets the filter).
  void smooth(NormalizedLandmark* first_face, int image_w, int image_h) noexcept {
    if (!smoother_) return;
    if (!first_face)
      smoother_->reset();
    else
      smoother_->apply(first_face, kFaceMeshV2Landmarks, image_w, image_h, last_timestamp_ms_ * 1000);
  }
  /// Forgets the tracked faces, the smoothing state and the last timestamp.
  void reset() noexcept {
    tracks_.clear();
    if (smoother_) smoother_->reset();
    last_timestamp_ms_ = -1;
    has_timestamp_ = false;
  }

 private:
  std::size_t max_faces_;
  float min_iou_;
  bool tracked_faces_win_;
  std::vector<Candidate> tracks_, candidates_;
  std::unique_ptr<LandmarkSmoother> smoother_;
  int64_t last_timestamp_ms_ = -1;
  bool has_timestamp_ = false;
};

}  // namespace facekit
