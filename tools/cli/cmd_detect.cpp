#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "cli/cli_util.hpp"
#include "cli/commands.hpp"
#include "facekit/face_detector.hpp"

namespace facekit_cli {

bool write_png(const std::string& path, const facekit::Image& img) {
  return stbi_write_png(path.c_str(), img.width, img.height, 3, img.pixels.data(), img.width * 3) != 0;
}

int cmd_detect(const std::vector<std::string>& args) {
  std::vector<std::string> images;
  std::string models, model_file, overlay, device;
  bool json = false, timing = false;
  int threads = 1;
  facekit::FaceDetectorOptions opt;
  facekit::ImageLoadOptions load;
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
    } else if (a == "--model-file") {  // another detector, e.g. weights/face_detection_full_range_sparse.fkm
      if (!next(&model_file)) return 1;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--overlay") {
      if (!next(&overlay)) return 1;
    } else if (a == "--device") {
      if (!next(&device)) return 1;
    } else if (a == "--threads") {
      if (!next(&v)) return 1;
      if (const std::string err = parse_threads(v, &threads); !err.empty()) {
        std::fprintf(stderr, "facekit detect: %s\n", err.c_str());
        return 1;
      }
    } else if (a == "--max-pixels") {
      if (!next(&v)) return 1;
      if (const std::string err = parse_max_pixels(v, &load); !err.empty()) {
        std::fprintf(stderr, "facekit detect: %s\n", err.c_str());
        return 1;
      }
    } else if (a == "--time") {
      timing = true;
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
  if (const std::string err = parse_device(device, &opt); !err.empty()) {
    std::fprintf(stderr, "facekit detect: %s\n", err.c_str());
    return 1;
  }
  if (models.empty()) models = "weights";
  if (model_file.empty()) model_file = models + "/face_detector.fkm";
  // One image: its network splits its ops over the threads; several: pipelines side by side.
  opt.num_threads = images.size() == 1 ? threads : 1;
  struct Pipeline {
    facekit::FaceDetector detector;
    facekit::FaceDetectorResult result;
  };
  auto make = [&]() -> facekit::Expected<Pipeline> {
    auto d = facekit::FaceDetector::create_from_file(model_file, opt);
    if (!d) return d.status();
    return Pipeline{std::move(*d), {}};
  };
  return run_images("detect", images, threads, timing, make, [&](Pipeline& p, std::size_t, const std::string& path,
                                                                facekit::Image& img, ImageOutput& o) -> facekit::Status {
    facekit::FaceDetectorResult& result = p.result;
    FACEKIT_RETURN_IF_ERROR(p.detector.detect(img.view(), result));
    const int W = img.width, H = img.height;
    if (json) {
      JsonWriter j;
      begin_image_json(j, path, W, H);
      for (const facekit::Detection& d : result.detections) {
        j.begin_object();
        write_detection_json(j, d, W, H);
        j.end_object();
      }
      j.end_array();
      j.end_object();
      o.printf("%s\n", j.str.c_str());
    } else {
      o.printf("%s: %dx%d, %zu face(s)\n", path.c_str(), W, H, result.detections.size());
      for (const facekit::Detection& d : result.detections)
        o.printf("  box x=%d y=%d w=%d h=%d  score=%.4f\n", d.bounding_box.origin_x, d.bounding_box.origin_y,
                    d.bounding_box.width, d.bounding_box.height, double(d.score));
    }
    if (!overlay.empty()) {
      Canvas cv(img);
      for (const facekit::Detection& d : result.detections) draw_detection(cv, d, W, H);
      FACEKIT_RETURN_IF_ERROR(write_overlay(overlay, path, images.size() > 1, img));
    }
    return facekit::Status::ok();
  }, load);
}

}  // namespace facekit_cli
