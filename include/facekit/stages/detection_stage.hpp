// facekit/stages/detection_stage.hpp - the detection stage of a landmarker: the face detector on
// the whole image, each detection turned into a landmark ROI by the mesh model's rule
// (docs/pipeline.md 1, 2).
//
//   facekit::DetectionStage<facekit::FaceDetector, facekit::FaceDetectorResult> detection(std::move(det), 1);
//   if (auto st = detection.run(image, mesh); !st) ...
//   for (const auto& c : detection.candidates()) mesh.run(image, c.roi, ...);
//
// The detector is a parameter (FaceDetector and its result type, a layer above) and is created
// with the mesh model's settings by its owner. After the first run, run() allocates nothing when
// no more than `max_faces` faces are found (the detector cuts to that many).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "../image/image.hpp"
#include "../status.hpp"
#include "face_candidate.hpp"
#include "mesh_stage.hpp"

namespace facekit {

template <class Detector, class DetectorResult>
class DetectionStage {
 public:
  using Detection = typename decltype(DetectorResult::detections)::value_type;
  using Candidate = FaceCandidate<Detection>;

  DetectionStage(Detector detector, std::size_t max_faces) : detector_(std::move(detector)) {
    candidates_.reserve(max_faces);
  }

  /// Detects the faces of `image`; candidates() then holds one per detection, best first.
  Status run(const ImageView& image, const MeshStage& mesh) {
    candidates_.clear();
    FACEKIT_RETURN_IF_ERROR(detector_.detect(image, detections_));
    for (const Detection& d : detections_.detections) {
      const float right_eye[2] = {d.keypoints[0].x, d.keypoints[0].y};
      const float left_eye[2] = {d.keypoints[1].x, d.keypoints[1].y};
      const NormalizedRect roi = mesh.detection_roi(d.relative_box, right_eye, left_eye, image.width, image.height);
      candidates_.push_back(Candidate{roi, d});
    }
    return Status::ok();
  }
  /// Forgets the last run's candidates (a frame where the detector does not run).
  void clear() noexcept { candidates_.clear(); }

  const std::vector<Candidate>& candidates() const noexcept { return candidates_; }
  Detector& detector() noexcept { return detector_; }

 private:
  Detector detector_;
  DetectorResult detections_;
  std::vector<Candidate> candidates_;
};

}  // namespace facekit
