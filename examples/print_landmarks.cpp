// Find faces and their 478 landmarks, and print a few of them.
//   example_print_landmarks weights/ photo.jpg
// (weights/ holds face_detector.fkm and face_landmarks_detector.fkm, written by
// `facekit convert face_landmarker.task -o weights`.)
#include <cstdio>
#include <string>

#include "facekit/face_landmarker.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR IMAGE\n", argv[0]);
    return 1;
  }
  facekit::FaceLandmarkerOptions options;
  options.num_faces = 4;
  auto landmarker = facekit::FaceLandmarker::create_from_dir(argv[1], options);
  if (!landmarker) {
    std::fprintf(stderr, "%s\n", landmarker.status().message());
    return 1;
  }
  auto image = facekit::load_image(argv[2]);
  if (!image) {
    std::fprintf(stderr, "%s\n", image.status().message());
    return 1;
  }
  facekit::FaceLandmarkerResult result;
  if (facekit::Status st = landmarker->detect(image->view(), result); !st) {
    std::fprintf(stderr, "%s\n", st.message());
    return 1;
  }
  const float W = float(image->width), H = float(image->height);
  std::printf("%zu face(s)\n", result.faces.size());
  for (const facekit::FaceLandmarks& face : result.faces) {
    std::printf("face: detection score %.3f, presence %.3f\n", double(face.detection.score), double(face.presence));
    const struct {
      const char* name;
      int index;
    } points[] = {{"nose tip", 4}, {"eye corner (image left)", facekit::kLandmarkEyeOuterImageLeft},
                  {"eye corner (image right)", facekit::kLandmarkEyeOuterImageRight}, {"upper lip", 13},
                  {"iris centre (image left)", 468}, {"iris centre (image right)", 473}};
    for (const auto& p : points) {
      const facekit::NormalizedLandmark& l = face.landmarks[std::size_t(p.index)];
      std::printf("  %-26s (%7.1f, %7.1f) px, z %+.4f\n", p.name, double(l.x * W), double(l.y * H), double(l.z));
    }
  }
  return 0;
}
