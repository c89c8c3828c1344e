// facekit/stages/face_candidate.hpp - a face the mesh stage is to run on: its ROI and the
// detection it came from. `Detection` is the detector's type (FaceDetector's Detection), a
// parameter so that this layer does not include the public API above it.
#pragma once

#include "../image/geometry.hpp"

namespace facekit {

template <class Detection>
struct FaceCandidate {
  NormalizedRect roi;
  Detection detection;
};

}  // namespace facekit
