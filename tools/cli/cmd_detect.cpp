#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "cli/commands.hpp"
#include "cli/json_writer.hpp"
#include "cli/overlay.hpp"
#include "facekit/face_detector.hpp"

namespace facekit_cli {

bool write_png(const std::string& path, const facekit::Image& img) {
  return stbi_write_png(path.c_str(), img.width, img.height, 3, img.pixels.data(), img.width * 3) != 0;
}

namespace {

std::string base_name(const std::string& path) {
  const std::size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

std::string overlay_path(const std::string& pattern, const std::string& image, bool several) {
  if (!several) return pattern;
  std::string stem = base_name(image);
  const std::size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos) stem = stem.substr(0, dot);
  const std::size_t ext = pattern.find_last_of('.');
  if (ext == std::string::npos || ext < pattern.find_last_of('/') + 1) return pattern + "-" + stem;
  return pattern.substr(0, ext) + "-" + stem + pattern.substr(ext);
}

bool parse_float(const std::string& s, float* out) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end) return false;
  *out = v;
  return true;
}

void draw_detection(Canvas& cv, const facekit::Detection& d, int W, int H) {
  const float x = d.relative_box[0] * float(W), y = d.relative_box[1] * float(H);
  const float w = d.relative_box[2] * float(W), h = d.relative_box[3] * float(H);
  const int t = std::max(1, int(std::min(W, H) / 300));
  cv.rect(x, y, w, h, t + 1, {0, 255, 0});
  static const Rgb colors[6] = {{255, 0, 0}, {0, 0, 255}, {255, 255, 0}, {255, 0, 255}, {0, 255, 255}, {255, 128, 0}};
  for (int k = 0; k < 6; ++k) cv.dot(d.keypoints[std::size_t(k)].x * float(W), d.keypoints[std::size_t(k)].y * float(H), 2 * t + 1, colors[k]);
}

}  // namespace

int cmd_detect(const std::vector<std::string>& args) {
  std::vector<std::string> images;
  std::string models, overlay;
  bool json = false;
  facekit::FaceDetectorOptions opt;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit detect: %s needs a value\n", a.c_str());
        return false;
      }
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--models") {
      if (!next(&models)) return 1;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--overlay") {
      if (!next(&overlay)) return 1;
    } else if (a == "--min-score" || a == "--nms") {
      if (!next(&v)) return 1;
      float f;
      if (!parse_float(v, &f)) {
        std::fprintf(stderr, "facekit detect: %s: '%s' is not a number\n", a.c_str(), v.c_str());
        return 1;
      }
      (a == "--nms" ? opt.min_suppression_threshold : opt.min_detection_confidence) = f;
    } else if (a == "--max-faces") {
      if (!next(&v)) return 1;
      opt.max_faces = std::atoi(v.c_str());
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "facekit detect: unknown option '%s'\n", a.c_str());
      return 1;
    } else {
      images.push_back(a);
    }
  }
  if (images.empty()) {
    std::fprintf(stderr, "facekit detect: no images given\n");
    return 1;
  }
  if (models.empty()) models = "weights";
  auto detector = facekit::FaceDetector::create_from_file(models + "/face_detector.fkm", opt);
  if (!detector) {
    std::fprintf(stderr, "facekit detect: %s\n", detector.status().message());
    return 1;
  }
  int failures = 0;
  facekit::FaceDetectorResult result;
  for (const std::string& path : images) {
    auto img = facekit::load_image(path);
    if (!img) {
      std::fprintf(stderr, "facekit detect: %s\n", img.status().message());
      ++failures;
      continue;
    }
    facekit::Status st = detector->detect(img->view(), result);
    if (!st) {
      std::fprintf(stderr, "facekit detect: %s: %s\n", path.c_str(), st.message());
      ++failures;
      continue;
    }
    const int W = img->width, H = img->height;
    if (json) {
      JsonWriter j;
      j.begin_object();
      j.key("image"); j.value(base_name(path));
      j.key("width"); j.value(W);
      j.key("height"); j.value(H);
      j.key("faces");
      j.begin_array();
      for (const facekit::Detection& d : result.detections) {
        j.begin_object();
        j.key("detection");
        j.begin_object();
        j.key("box");
        j.begin_array();
        j.value(d.relative_box[0] * float(W));
        j.value(d.relative_box[1] * float(H));
        j.value(d.relative_box[2] * float(W));
        j.value(d.relative_box[3] * float(H));
        j.end_array();
        j.key("keypoints");
        j.begin_array();
        for (const auto& k : d.keypoints) {
          j.begin_array();
          j.value(k.x);
          j.value(k.y);
          j.end_array();
        }
        j.end_array();
        j.key("score"); j.value(d.score);
        j.end_object();
        j.end_object();
      }
      j.end_array();
      j.end_object();
      std::printf("%s\n", j.str.c_str());
    } else {
      std::printf("%s: %dx%d, %zu face(s)\n", path.c_str(), W, H, result.detections.size());
      for (const facekit::Detection& d : result.detections)
        std::printf("  box x=%d y=%d w=%d h=%d  score=%.4f\n", d.bounding_box.origin_x, d.bounding_box.origin_y,
                    d.bounding_box.width, d.bounding_box.height, double(d.score));
    }
    if (!overlay.empty()) {
      Canvas cv(*img);
      for (const facekit::Detection& d : result.detections) draw_detection(cv, d, W, H);
      const std::string out = overlay_path(overlay, path, images.size() > 1);
      if (!write_png(out, *img)) {
        std::fprintf(stderr, "facekit detect: cannot write overlay '%s'\n", out.c_str());
        ++failures;
      }
    }
  }
  return failures ? 1 : 0;
}

}  // namespace facekit_cli
