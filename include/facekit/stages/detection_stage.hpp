// facekit/stages/detection_stage.hpp - the detection stage of a landmarker: the face detector on
// the whole image, each detection turned into a landmark ROI by the mesh model's rule
// (docs/pipeline.md 1, 2).
//
//   facekit::DetectionStage detection(std::move(*blazeface), 1);   // stages/blazeface_stage.hpp
//   frame->set(image);                       // the pipeline's BackendFrame (Backend::new_frame)
//   if (auto st = detection.run(*frame, mesh); !st) ...
//   for (const auto& c : detection.candidates()) mesh.run(*frame, c.roi, ...);
//
// The detector is created with the mesh model's graph settings by its owner. After the first run, run() allocates nothing when
// no more than `max_faces` faces are found (the detector cuts to that many).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "../image/image.hpp"
#include "../status.hpp"
#include "blazeface_stage.hpp"
#include "face_candidate.hpp"
#include "mesh_stage.hpp"

namespace facekit {

class DetectionStage {
 public:
  using Candidate = FaceCandidate;

  DetectionStage(BlazeFaceStage detector, std::size_t max_faces) : detector_(std::move(detector)) {
    candidates_.reserve(max_faces);
  }

  /// Detects the faces of the frame's image; candidates() then holds one per detection, best first.
  Status run(BackendFrame& frame, const MeshStage& mesh) {
    candidates_.clear();
    FACEKIT_RETURN_IF_ERROR(detector_.run(frame, detections_));
    const ImageView& image = frame.image();
    for (const Detection& d : detections_) {
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
  BlazeFaceStage& detector() noexcept { return detector_; }

 private:
  BlazeFaceStage detector_;
  std::vector<Detection> detections_;
  std::vector<Candidate> candidates_;
};

}  // namespace facekit
