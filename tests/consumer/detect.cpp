// A program outside facekit's tree: detects the faces in one image and prints them, one line
// each, as "face X Y W H SCORE" (pixels). check.sh builds it twice, against an installed facekit
// (find_package) and against a source checkout (add_subdirectory), and compares the output with
// MediaPipe's detections of the same image.
#include <cstdio>

#include <facekit/face_detector.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s face_detector.fkm IMAGE\n", argv[0]);
    return 2;
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
  for (const facekit::Detection& f : result.detections)
    std::printf("face %d %d %d %d %.6f\n", f.bounding_box.origin_x, f.bounding_box.origin_y, f.bounding_box.width,
                f.bounding_box.height, double(f.score));
  return 0;
}
