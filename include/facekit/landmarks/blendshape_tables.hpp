// facekit/landmarks/blendshape_tables.hpp - the tables of MediaPipe's blendshape step and the
// model input they define.
//
// Described in docs/pipeline.md 6. MediaPipe defines the tables in
// mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc (kLandmarksSubsetIdxs,
// kBlendshapeNames) and builds the input with
// mediapipe/calculators/tensor/landmarks_to_tensor_calculator.cc.
//
// The blendshape network takes [1, 146, 2] floats: row k is (x * W, y * H) of the face landmark
// kBlendshapeLandmarks[k], with x, y the image-normalised landmark coordinates and W, H the image
// width and height in pixels. z is dropped. MediaPipe does no other normalisation (the network
// centres and scales the points itself), so the units must be pixels: normalised coordinates
// change the scores by up to 0.28 (docs/pipeline.md 6, 10.5). Its 52 outputs are scores in [0, 1]
// (the sigmoid is inside the network), in the order of kBlendshapeNames.
#pragma once

#include <cstddef>

namespace facekit {

/// Landmarks per face the tables index into (Face Mesh V2 with irises: 468 + 10).
constexpr int kFaceLandmarkCount = 478;
/// Points the blendshape network reads.
constexpr int kBlendshapeLandmarkCount = 146;
/// Scores the blendshape network returns.
constexpr int kBlendshapeCount = 52;

/// The landmarks the blendshape network reads, in input order (docs/pipeline.md 6, step 2).
inline constexpr int kBlendshapeLandmarks[kBlendshapeLandmarkCount] = {
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65,
    66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136,
    144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168,
    172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276,
    282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318,
    321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380,
    381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466,
    468, 469, 470, 471, 472, 473, 474, 475, 476, 477
};

/// The names of the 52 outputs, in output order (docs/pipeline.md 6, step 4): index 0 is _neutral,
/// 9 eyeBlinkLeft, 10 eyeBlinkRight, ...
inline constexpr const char* kBlendshapeNames[kBlendshapeCount] = {
    "_neutral",  // 0
    "browDownLeft",  // 1
    "browDownRight",  // 2
    "browInnerUp",  // 3
    "browOuterUpLeft",  // 4
    "browOuterUpRight",  // 5
    "cheekPuff",  // 6
    "cheekSquintLeft",  // 7
    "cheekSquintRight",  // 8
    "eyeBlinkLeft",  // 9
    "eyeBlinkRight",  // 10
    "eyeLookDownLeft",  // 11
    "eyeLookDownRight",  // 12
    "eyeLookInLeft",  // 13
    "eyeLookInRight",  // 14
    "eyeLookOutLeft",  // 15
    "eyeLookOutRight",  // 16
    "eyeLookUpLeft",  // 17
    "eyeLookUpRight",  // 18
    "eyeSquintLeft",  // 19
    "eyeSquintRight",  // 20
    "eyeWideLeft",  // 21
    "eyeWideRight",  // 22
    "jawForward",  // 23
    "jawLeft",  // 24
    "jawOpen",  // 25
    "jawRight",  // 26
    "mouthClose",  // 27
    "mouthDimpleLeft",  // 28
    "mouthDimpleRight",  // 29
    "mouthFrownLeft",  // 30
    "mouthFrownRight",  // 31
    "mouthFunnel",  // 32
    "mouthLeft",  // 33
    "mouthLowerDownLeft",  // 34
    "mouthLowerDownRight",  // 35
    "mouthPressLeft",  // 36
    "mouthPressRight",  // 37
    "mouthPucker",  // 38
    "mouthRight",  // 39
    "mouthRollLower",  // 40
    "mouthRollUpper",  // 41
    "mouthShrugLower",  // 42
    "mouthShrugUpper",  // 43
    "mouthSmileLeft",  // 44
    "mouthSmileRight",  // 45
    "mouthStretchLeft",  // 46
    "mouthStretchRight",  // 47
    "mouthUpperUpLeft",  // 48
    "mouthUpperUpRight",  // 49
    "noseSneerLeft",  // 50
    "noseSneerRight",  // 51
};

/// Fills the blendshape network's input (kBlendshapeLandmarkCount x 2 floats, row-major) from a
/// face's image-normalised landmarks: `landmarks` points at landmark 0's x, each landmark's y
/// follows its x, and consecutive landmarks are `stride` floats apart (3 for packed x, y, z). The
/// landmark array must hold kFaceLandmarkCount landmarks. Products are float32, as MediaPipe's.
inline void blendshape_input(const float* landmarks, std::size_t stride, int image_width, int image_height,
                             float* out) noexcept {
  const float w = float(image_width), h = float(image_height);
  for (int k = 0; k < kBlendshapeLandmarkCount; ++k) {
    const float* p = landmarks + std::size_t(kBlendshapeLandmarks[k]) * stride;
    out[2 * k] = p[0] * w;
    out[2 * k + 1] = p[1] * h;
  }
}

}  // namespace facekit
