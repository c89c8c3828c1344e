// facekit landmarks IMAGE... [--models DIR] [--mesh v2|attention] [--json] [--overlay OUT.png]
//                  [--num-faces N] [--min-detection S] [--min-presence S] [--blendshapes] [--matrix]
//                  [--device D] [--threads N] [--max-pixels N] [--time]
// facekit track FRAME... (the same options, plus --fps F and --min-tracking S)
// 478 landmarks per face, as MediaPipe's FaceLandmarker (Face Mesh V2) or legacy Face Mesh
// (--mesh attention) computes them; `track` treats its images as consecutive video frames
// (video mode: tracking, detector re-run only when a face is lost) and prints one line per frame.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/cli_util.hpp"
#include "cli/commands.hpp"
#include "facekit/face_landmarker.hpp"

namespace facekit_cli {

namespace {

void landmarks_usage(std::FILE* f, bool video) {
  if (video)
    std::fprintf(f,
                 "usage: facekit track FRAME... [--models DIR] [--mesh v2|attention] [--fps F] [--json]\n"
                 "                     [--overlay OUT.png] [--num-faces N] [--min-detection S]\n"
                 "                     [--min-presence S] [--min-tracking S] [--blendshapes] [--matrix]\n"
                 "                     [--device D] [--threads N] [--max-pixels N] [--time]\n"
                 "  The images are consecutive frames of one video, F frames per second (default 30;\n"
                 "  frame i has timestamp round(i * 1000 / F) ms). Faces are tracked from frame to frame\n"
                 "  and the detector runs only when fewer than --num-faces faces are tracked (MediaPipe's\n"
                 "  VIDEO mode; with v2 and one face the landmarks are smoothed as MediaPipe does).\n"
                 "  --json prints one line per frame: as `facekit landmarks --json`, plus \"frame\",\n"
                 "  \"timestamp_ms\" and \"detector_ran\". --min-tracking (default 0.5) is the IoU above\n"
                 "  which a tracked face and a fresh detection are the same face. --threads N: the frames'\n"
                 "  networks split their ops over N threads. Other options as below.\n");
  std::fprintf(f,
               "usage: facekit landmarks IMAGE... [--models DIR] [--mesh v2|attention] [--json]\n"
               "                         [--overlay OUT.png] [--num-faces N] [--min-detection S]\n"
               "                         [--min-presence S] [--blendshapes] [--matrix] [--device D]\n"
               "                         [--threads N] [--max-pixels N] [--time]\n"
               "  478 face landmarks per face. --mesh v2 (default): MediaPipe's FaceLandmarker with\n"
               "  DIR/face_detector.fkm and DIR/face_landmarks_detector.fkm; --mesh attention: the legacy\n"
               "  Face Mesh with DIR/face_detection_short_range.fkm and DIR/face_landmark_with_attention.fkm\n"
               "  (default DIR: weights).\n"
               "  --json prints one JSON object per image per line: faces with \"detection\",\n"
               "  \"presence\" and \"landmarks\" ([x, y, z] normalised by the image width/height).\n"
               "  --blendshapes adds \"blendshapes\": [{\"name\": N, \"score\": S}, ...52] (MediaPipe's order;\n"
               "  needs DIR/face_blendshapes.fkm); --matrix adds \"matrix\": 16 numbers, the 4x4 facial\n"
               "  transformation matrix row-major (absent when MediaPipe gives none; DIR/face_geometry.fkm).\n"
               "  --overlay draws the points (several images: OUT-<name>.png), with --matrix the head pose\n"
               "  axes (x red, y green, z blue, 5 cm) and with --blendshapes bars of the 5 top scores.\n"
               "  Defaults as MediaPipe: --num-faces 1, --min-detection 0.5, --min-presence 0.5.\n"
               "  --device cpu (default) | opencl | opencl:P:D runs the networks and crops there (facekit\n"
               "  devices lists them); the environment variable FACEKIT_DEVICE overrides it.\n"
               "  --threads N (default 1): with one image, its networks split their ops over N threads\n"
               "  (same results, bit for bit); with several, N pipelines run side by side, one image\n"
               "  each at a time, and print in the images' order. --time prints the images per second\n"
               "  (decoding included) on stderr. --max-pixels N (default 67108864): an image whose header\n"
               "  claims more pixels is refused before decoding (its error is printed, the rest run).\n");
}

/// The indices of the `n` highest blendshape scores, best first.
std::array<int, facekit::kBlendshapeCount> top_blendshapes(const facekit::FaceLandmarks& f, int n) {
  std::array<int, facekit::kBlendshapeCount> order;
  for (int k = 0; k < facekit::kBlendshapeCount; ++k) order[std::size_t(k)] = k;
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](int a, int b) {
    return f.blendshapes[std::size_t(a)].score > f.blendshapes[std::size_t(b)].score;
  });
  return order;
}

/// Prints the top blendshapes and the head pose (degrees, from the rotation part of the row-major
/// matrix, R = Ry(yaw) Rx(pitch) Rz(roll); the face looks down -z) for the text output.
void print_expression_and_pose(const facekit::FaceLandmarks& f, ImageOutput& o) {
  if (f.has_blendshapes) {
    const auto order = top_blendshapes(f, 5);
    o.printf("  blendshapes:");
    for (int r = 0; r < 5; ++r) {
      const facekit::Category& c = f.blendshapes[std::size_t(order[std::size_t(r)])];
      o.printf(" %s %.2f", c.category_name, double(c.score));
    }
    o.printf("\n");
  }
  if (f.has_facial_transformation_matrix) {
    const float* m = f.facial_transformation_matrix.data();
    const double s = std::sqrt(double(m[0]) * m[0] + double(m[4]) * m[4] + double(m[8]) * m[8]);
    auto R = [&](int r, int c) { return double(m[4 * r + c]) / s; };
    const double deg = 180.0 / M_PI;
    o.printf("  pose: yaw %.1f, pitch %.1f, roll %.1f degrees; %.1f cm from the camera\n",
                std::atan2(R(0, 2), R(2, 2)) * deg, std::asin(std::clamp(-R(1, 2), -1.0, 1.0)) * deg,
                std::atan2(R(1, 0), R(1, 1)) * deg, -double(m[11]));
  }
}

void draw_face(Canvas& cv, const facekit::FaceLandmarks& f, int W, int H) {
  const int t = overlay_thickness(W, H);
  draw_detection(cv, f.detection, W, H);
  for (int i = 0; i < facekit::kFaceMeshV2Landmarks; ++i) {
    const facekit::NormalizedLandmark& p = f.landmarks[std::size_t(i)];
    // Irises in cyan, the mesh in red.
    const Rgb c = i >= 468 ? Rgb{0, 255, 255} : Rgb{255, 32, 32};
    cv.dot(p.x * float(W), p.y * float(H), t, c);
  }
  if (f.has_facial_transformation_matrix) {
    // Canonical-model points (cm) through the pose, then the landmarker's camera (63 degree
    // vertical field of view, origin top-left) back onto the image.
    const float* m = f.facial_transformation_matrix.data();
    const float h_near = 2.0f * std::tan(0.5f * 63.0f * float(M_PI) / 180.0f);
    const float w_near = float(W) * h_near / float(H);
    auto project = [&](float x, float y, float z, float* px, float* py) {
      const float cx = m[0] * x + m[1] * y + m[2] * z + m[3];
      const float cy = m[4] * x + m[5] * y + m[6] * z + m[7];
      const float cz = m[8] * x + m[9] * y + m[10] * z + m[11];
      const float d = cz < -1e-3f ? -cz : 1e-3f;
      *px = (cx / d / w_near + 0.5f) * float(W);
      *py = (0.5f - cy / d / h_near) * float(H);
    };
    float ox, oy;
    project(0, 0, 0, &ox, &oy);
    const Rgb axis_color[3] = {{255, 0, 0}, {0, 255, 0}, {0, 96, 255}};
    for (int a = 0; a < 3; ++a) {
      float ex, ey;
      project(a == 0 ? 5.0f : 0.0f, a == 1 ? 5.0f : 0.0f, a == 2 ? 5.0f : 0.0f, &ex, &ey);
      cv.line(ox, oy, ex, ey, 2 * t + 1, axis_color[a]);
    }
  }
  if (f.has_blendshapes) {
    // The 5 highest scores as horizontal bars right of the face box (full length = box width).
    const auto order = top_blendshapes(f, 5);
    const auto& box = f.detection.bounding_box;
    const float x0 = float(box.origin_x + box.width) + 4.0f * float(t);
    const float bar = std::max(3.0f * float(t), float(box.height) / 12.0f);
    for (int r = 0; r < 5; ++r) {
      const float y = float(box.origin_y) + (float(r) + 0.5f) * bar * 1.5f;
      const float len = f.blendshapes[std::size_t(order[std::size_t(r)])].score * float(box.width);
      cv.line(x0, y, x0 + std::max(len, 1.0f), y, int(bar), Rgb{255, 200, 0});
    }
  }
}

}  // namespace

static int run_landmarks(const std::vector<std::string>& args, bool video) {
  const char* cmd = video ? "track" : "landmarks";
  std::vector<std::string> images;
  std::string models, overlay, device;
  bool json = false, timing = false;
  int threads = 1;
  float fps = 30.0f;
  facekit::FaceLandmarkerOptions opt;
  facekit::ImageLoadOptions load;
  if (video) opt.running_mode = facekit::RunningMode::video;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit %s: %s needs a value\n", cmd, a.c_str());
        return false;
      }
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      landmarks_usage(stdout, video);
      return 0;
    } else if (a == "--models") {
      if (!next(&models)) return 1;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--blendshapes") {
      opt.output_face_blendshapes = true;
    } else if (a == "--matrix") {
      opt.output_facial_transformation_matrixes = true;
    } else if (a == "--overlay") {
      if (!next(&overlay)) return 1;
    } else if (a == "--device") {
      if (!next(&device)) return 1;
    } else if (a == "--threads") {
      if (!next(&v)) return 1;
      if (const std::string err = parse_threads(v, &threads); !err.empty()) {
        std::fprintf(stderr, "facekit %s: %s\n", cmd, err.c_str());
        return 1;
      }
    } else if (a == "--max-pixels") {
      if (!next(&v)) return 1;
      if (const std::string err = parse_max_pixels(v, &load); !err.empty()) {
        std::fprintf(stderr, "facekit %s: %s\n", cmd, err.c_str());
        return 1;
      }
    } else if (a == "--time") {
      timing = true;
    } else if (a == "--mesh") {
      if (!next(&v)) return 1;
      if (v == "v2") {
        opt.landmark_model = facekit::FaceMeshModel::v2;
      } else if (v == "attention") {
        opt.landmark_model = facekit::FaceMeshModel::attention;
      } else {
        std::fprintf(stderr, "facekit %s: --mesh: '%s' is not v2 or attention\n", cmd, v.c_str());
        return 1;
      }
    } else if (a == "--min-detection" || a == "--min-presence" || (video && (a == "--min-tracking" || a == "--fps"))) {
      if (!next(&v)) return 1;
      float f;
      if (!parse_float(v, &f) || (a == "--fps" && !(f > 0 && f <= 1000))) {
        std::fprintf(stderr, "facekit %s: %s: '%s' is not a %s\n", cmd, a.c_str(), v.c_str(),
                     a == "--fps" ? "frame rate in (0, 1000]" : "number");
        return 1;
      }
      if (a == "--fps") fps = f;
      else if (a == "--min-tracking") opt.min_tracking_confidence = f;
      else (a == "--min-detection" ? opt.min_face_detection_confidence : opt.min_face_presence_confidence) = f;
    } else if (a == "--num-faces") {
      if (!next(&v)) return 1;
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 1000) {
        std::fprintf(stderr, "facekit %s: --num-faces: '%s' is not a number in 1..1000\n", cmd, v.c_str());
        return 1;
      }
      opt.num_faces = int(n);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "facekit %s: unknown option '%s'\n", cmd, a.c_str());
      landmarks_usage(stderr, video);
      return 1;
    } else {
      images.push_back(a);
    }
  }
  if (images.empty()) {
    std::fprintf(stderr, "facekit %s: no images given\n", cmd);
    landmarks_usage(stderr, video);
    return 1;
  }
  if (const std::string err = parse_device(device, &opt); !err.empty()) {
    std::fprintf(stderr, "facekit %s: %s\n", cmd, err.c_str());
    return 1;
  }
  if (models.empty()) models = "weights";
  // One image or a video: one pipeline whose ops use the threads; several images: pipelines side
  // by side, one thread each.
  opt.num_threads = video || images.size() == 1 ? threads : 1;
  struct Pipeline {
    facekit::FaceLandmarker landmarker;
    facekit::FaceLandmarkerResult result;
  };
  auto make = [&]() -> facekit::Expected<Pipeline> {
    auto lm = facekit::FaceLandmarker::create_from_dir(models, opt);
    if (!lm) return lm.status();
    return Pipeline{std::move(*lm), {}};
  };
  // A video's frames go through one pipeline in order; its threads split the ops.
  return run_images(cmd, images, video ? 1 : threads, timing, make, [&](Pipeline& p, std::size_t index,
                                                                      const std::string& path, facekit::Image& img,
                                                                      ImageOutput& o) -> facekit::Status {
    facekit::FaceLandmarker* landmarker = &p.landmarker;
    facekit::FaceLandmarkerResult& result = p.result;
    const int frame = int(index);
    const int64_t timestamp_ms = int64_t(std::llround(double(frame) * 1000.0 / double(fps)));
    if (video)
      FACEKIT_RETURN_IF_ERROR(landmarker->detect_for_video(img.view(), timestamp_ms, result));
    else
      FACEKIT_RETURN_IF_ERROR(landmarker->detect(img.view(), result));
    const int W = img.width, H = img.height;
    if (json) {
      JsonWriter j;
      j.str.reserve(64 + result.faces.size() * 478 * 40);
      begin_image_json(j, path, W, H);
      for (const facekit::FaceLandmarks& f : result.faces) {
        j.begin_object();
        write_detection_json(j, f.detection, W, H);
        j.key("presence"); j.value(f.presence);
        j.key("landmarks");
        j.begin_array();
        for (const facekit::NormalizedLandmark& p : f.landmarks) {
          j.begin_array();
          j.value(p.x);
          j.value(p.y);
          j.value(p.z);
          j.end_array();
        }
        j.end_array();
        if (f.has_blendshapes) {
          j.key("blendshapes");
          j.begin_array();
          for (const facekit::Category& c : f.blendshapes) {
            j.begin_object();
            j.key("name"); j.value(std::string(c.category_name));
            j.key("score"); j.value(c.score);
            j.end_object();
          }
          j.end_array();
        }
        if (f.has_facial_transformation_matrix) {
          j.key("matrix");
          j.begin_array();
          for (float v : f.facial_transformation_matrix) j.value(v);
          j.end_array();
        }
        j.end_object();
      }
      j.end_array();
      if (video) {
        j.key("frame"); j.value(frame);
        j.key("timestamp_ms"); j.value(static_cast<long long>(timestamp_ms));
        j.key("detector_ran"); j.value(landmarker->detector_ran());
      }
      j.end_object();
      o.printf("%s\n", j.str.c_str());
    } else {
      if (video)
        o.printf("frame %d (%lld ms, detector %s) ", frame, static_cast<long long>(timestamp_ms),
                    landmarker->detector_ran() ? "ran" : "skipped");
      o.printf("%s: %dx%d, %zu face(s)\n", path.c_str(), W, H, result.faces.size());
      for (const facekit::FaceLandmarks& f : result.faces) {
        const facekit::NormalizedLandmark& nose = f.landmarks[4];
        o.printf("  box x=%d y=%d w=%d h=%d  score=%.4f  presence=%.4f  nose tip (%.1f, %.1f) px\n",
                    f.detection.bounding_box.origin_x, f.detection.bounding_box.origin_y,
                    f.detection.bounding_box.width, f.detection.bounding_box.height, double(f.detection.score),
                    double(f.presence), double(nose.x * float(W)), double(nose.y * float(H)));
        print_expression_and_pose(f, o);
      }
    }
    if (!overlay.empty()) {
      Canvas cv(img);
      for (const facekit::FaceLandmarks& f : result.faces) draw_face(cv, f, W, H);
      FACEKIT_RETURN_IF_ERROR(write_overlay(overlay, path, images.size() > 1, img));
    }
    return facekit::Status::ok();
  }, load);
}

int cmd_landmarks(const std::vector<std::string>& args) { return run_landmarks(args, false); }
int cmd_track(const std::vector<std::string>& args) { return run_landmarks(args, true); }

}  // namespace facekit_cli
