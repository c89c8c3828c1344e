// Video mode over a folder of frames: track the face from frame to frame and report the time of
// each frame (image decoding excluded).
//   example_track_frames MODEL_DIR FRAME_DIR [fps] [attention]
// FRAME_DIR's .png/.jpg/.jpeg files, in name order, are the frames. `attention` runs the legacy
// Face Mesh (face_detection_short_range.fkm, face_landmark_with_attention.fkm) instead of V2.
// Frames like these: python3 tests/gen/make_video_golden.py --write-frames /tmp/frames
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "facekit/face_landmarker.hpp"

static bool is_image(const std::string& n) {
  for (const char* ext : {".png", ".jpg", ".jpeg"}) {
    const std::string e = ext;
    if (n.size() > e.size() && n.compare(n.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s MODEL_DIR FRAME_DIR [fps] [attention]\n", argv[0]);
    return 1;
  }
  std::vector<std::string> frames;
  if (DIR* d = opendir(argv[2])) {
    while (dirent* e = readdir(d))
      if (is_image(e->d_name)) frames.push_back(std::string(argv[2]) + "/" + e->d_name);
    closedir(d);
  }
  std::sort(frames.begin(), frames.end());
  if (frames.empty()) {
    std::fprintf(stderr, "no .png/.jpg frames in %s\n", argv[2]);
    return 1;
  }
  const double fps = argc > 3 ? std::atof(argv[3]) : 30.0;
  if (!(fps > 0)) {
    std::fprintf(stderr, "fps must be positive\n");
    return 1;
  }

  facekit::FaceLandmarkerOptions options;
  options.running_mode = facekit::RunningMode::video;
  if (argc > 4 && std::string(argv[4]) == "attention") options.landmark_model = facekit::FaceMeshModel::attention;
  auto landmarker = facekit::FaceLandmarker::create_from_dir(argv[1], options);
  if (!landmarker) {
    std::fprintf(stderr, "%s\n", landmarker.status().message());
    return 1;
  }

  facekit::FaceLandmarkerResult result;  // reused: no allocation per frame after the first
  std::vector<double> ms;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto image = facekit::load_image(frames[i]);
    if (!image) {
      std::fprintf(stderr, "%s\n", image.status().message());
      return 1;
    }
    const auto timestamp_ms = static_cast<int64_t>(double(i) * 1000.0 / fps + 0.5);
    const auto t0 = std::chrono::steady_clock::now();
    const facekit::Status st = landmarker->detect_for_video(image->view(), timestamp_ms, result);
    const auto t1 = std::chrono::steady_clock::now();
    if (!st) {
      std::fprintf(stderr, "%s: %s\n", frames[i].c_str(), st.message());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    std::printf("frame %3zu  %6lld ms  %zu face(s)  detector %-7s  %.2f ms", i, static_cast<long long>(timestamp_ms),
                result.faces.size(), landmarker->detector_ran() ? "ran" : "skipped", ms.back());
    if (!result.faces.empty()) {
      const facekit::NormalizedLandmark& nose = result.faces[0].landmarks[4];
      std::printf("  nose (%.1f, %.1f) px", double(nose.x) * image->width, double(nose.y) * image->height);
    }
    std::printf("\n");
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  std::printf("%zu frames: median %.2f ms per frame, first %.2f ms (warm-up), max %.2f ms\n", ms.size(),
              sorted[sorted.size() / 2], ms[0], sorted.back());
  return 0;
}
