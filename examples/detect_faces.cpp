// Detect faces in an image and print them.
//   example_detect_faces weights/face_detector.fkm photo.jpg
#include <cstdio>

#include "facekit/face_detector.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s face_detector.fkm IMAGE\n", argv[0]);
    return 1;
  }
  auto detector = facekit::FaceDetector::create_from_file(argv[1]);
  if (!detector) {
    std::fprintf(stderr, "%s\n", detector.status().message());
    return 1;
  }
  auto image = facekit::load_image(argv[2]);
  if (!image) {
    std::fprintf(stderr, "%s\n", image.status().message());
    return 1;
  }
  facekit::FaceDetectorResult result;
  if (facekit::Status st = detector->detect(image->view(), result); !st) {
    std::fprintf(stderr, "%s\n", st.message());
    return 1;
  }
  for (const facekit::Detection& face : result.detections) {
    std::printf("face %dx%d at (%d, %d), score %.3f\n", face.bounding_box.width, face.bounding_box.height,
                face.bounding_box.origin_x, face.bounding_box.origin_y, double(face.score));
    const auto& eye = face.keypoints[int(facekit::FaceKeypoint::right_eye)];
    std::printf("  right eye at (%.1f, %.1f) px\n", double(eye.x * float(image->width)),
                double(eye.y * float(image->height)));
  }
  return 0;
}
