// facekit/stages/face_candidate.hpp - a face the mesh stage is to run on: its ROI and the
// detection it came from.
#pragma once

#include "../image/geometry.hpp"
#include "detection_result.hpp"

namespace facekit {

struct FaceCandidate {
  NormalizedRect roi;
  Detection detection;
};

}  // namespace facekit
