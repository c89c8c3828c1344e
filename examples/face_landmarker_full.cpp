// Everything MediaPipe's Face Landmarker returns, for every face of one image: landmarks,
// blendshapes and the facial transformation matrix.
//   example_face_landmarker_full weights/ photo.jpg
// (weights/ as written by `facekit convert face_landmarker.task -o weights`.)
#include <cstdio>

#include "facekit/face_landmarker.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: %s MODEL_DIR IMAGE\n", argv[0]), 1;
  facekit::FaceLandmarkerOptions options;
  options.num_faces = 4;
  options.output_face_blendshapes = true;
  options.output_facial_transformation_matrixes = true;
  auto landmarker = facekit::FaceLandmarker::create_from_dir(argv[1], options);
  if (!landmarker) return std::fprintf(stderr, "%s\n", landmarker.status().message()), 1;
  auto image = facekit::load_image(argv[2]);
  if (!image) return std::fprintf(stderr, "%s\n", image.status().message()), 1;
  facekit::FaceLandmarkerResult result;
  if (facekit::Status st = landmarker->detect(image->view(), result); !st)
    return std::fprintf(stderr, "%s\n", st.message()), 1;

  for (const facekit::FaceLandmarks& face : result.faces) {
    std::printf("face (presence %.3f)\n  landmarks:", double(face.presence));
    for (const facekit::NormalizedLandmark& p : face.landmarks)  // normalised x, y; z ~ x's scale
      std::printf(" (%.4f %.4f %.4f)", double(p.x), double(p.y), double(p.z));
    std::printf("\n  blendshapes:");
    for (const facekit::Category& c : face.blendshapes)
      std::printf(" %s=%.3f", c.category_name, double(c.score));
    std::printf("\n  facial transformation matrix (row-major; translation in cm):\n");
    if (face.has_facial_transformation_matrix)
      for (int r = 0; r < 4; ++r) {
        const float* m = &face.facial_transformation_matrix[std::size_t(4 * r)];
        std::printf("    %9.4f %9.4f %9.4f %9.4f\n", double(m[0]), double(m[1]), double(m[2]), double(m[3]));
      }
  }
  return 0;
}
