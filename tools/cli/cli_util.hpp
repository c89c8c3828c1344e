// Helpers shared by the CLI commands that take images and print faces (detect, landmarks).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/json_writer.hpp"
#include "cli/overlay.hpp"
#include "facekit/face_detector.hpp"

namespace facekit_cli {

inline std::string base_name(const std::string& path) {
  const std::size_t s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

/// The overlay file for `image`: `pattern` itself for a single image, else the image's stem
/// inserted before the extension (OUT.png -> OUT-<stem>.png).
inline std::string overlay_path(const std::string& pattern, const std::string& image, bool several) {
  if (!several) return pattern;
  std::string stem = base_name(image);
  const std::size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos) stem = stem.substr(0, dot);
  const std::size_t ext = pattern.find_last_of('.');
  if (ext == std::string::npos || ext < pattern.find_last_of('/') + 1) return pattern + "-" + stem;
  return pattern.substr(0, ext) + "-" + stem + pattern.substr(ext);
}

/// What one image prints: kept as text so that images run side by side print in input order.
struct ImageOutput {
  std::string out;
  void printf(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
      const std::size_t at = out.size();
      out.resize(at + std::size_t(n) + 1);
      std::vsnprintf(&out[at], std::size_t(n) + 1, fmt, ap2);
      out.resize(at + std::size_t(n));
    }
    va_end(ap2);
  }
};

/// --threads N: a count in 1..256, or what is wrong.
inline std::string parse_threads(const std::string& v, int* threads) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < 1 || n > 256) return "--threads: '" + v + "' is not a thread count in 1..256";
  *threads = int(n);
  return {};
}

/// --max-pixels N: the most pixels an input image may claim (ImageLoadOptions::max_pixels), a
/// count >= 1, or what is wrong.
inline std::string parse_max_pixels(const std::string& v, facekit::ImageLoadOptions* load) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || *end || n < 1 || errno == ERANGE || n > std::size_t(-1))
    return "--max-pixels: '" + v + "' is not a pixel count of at least 1";
  load->max_pixels = std::size_t(n);
  return {};
}

/// Runs `process(pipeline, index, path, image, output)` on every image and prints each output in input
/// order. With `threads` > 1 and several images, `threads` pipelines (make() each) run side by
/// side on their own threads, taking the next image as they finish one; otherwise one pipeline
/// runs them in turn. A load error or the Status `process` returns is printed as
/// "facekit CMD: ..." and the rest still run. With `timing`, stderr gets the images per second
/// (decoding included, pipeline creation not). Images are decoded with `load` (--max-pixels).
/// Returns the exit status.
template <class Make, class Process>
int run_images(const char* cmd, const std::vector<std::string>& images, int threads, bool timing, Make make,
               Process process, const facekit::ImageLoadOptions& load = {}) {
  const std::size_t n = images.size();
  const int workers = n > 1 && threads > 1 ? int(std::min<std::size_t>(std::size_t(threads), n)) : 1;
  using Pipeline = typename std::decay_t<decltype(*make())>;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (int w = 0; w < workers; ++w) {
    auto p = make();
    if (!p) {
      std::fprintf(stderr, "facekit %s: %s\n", cmd, p.status().message());
      return 1;
    }
    pipelines.push_back(std::make_unique<Pipeline>(std::move(*p)));
  }
  struct Slot {
    ImageOutput output;
    std::string error;
    bool done = false;
  };
  std::vector<Slot> slots(n);
  auto process_one = [&](Pipeline& pipeline, std::size_t i) {
    Slot& slot = slots[i];
    auto img = facekit::load_image(images[i], load);
    if (!img) {
      slot.error = img.status().message();
    } else if (facekit::Status st = process(pipeline, i, images[i], *img, slot.output); !st) {
      slot.error = images[i] + ": " + st.message();
    }
  };
  int failures = 0;
  auto print = [&](Slot& slot) {
    std::fputs(slot.output.out.c_str(), stdout);
    std::fflush(stdout);
    if (!slot.error.empty()) {
      std::fprintf(stderr, "facekit %s: %s\n", cmd, slot.error.c_str());
      ++failures;
    }
    slot.output.out = std::string();
  };
  const auto t0 = std::chrono::steady_clock::now();
  if (workers == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      process_one(*pipelines[0], i);
      print(slots[i]);
    }
  } else {
    std::mutex mutex;
    std::condition_variable ready;
    std::atomic<std::size_t> next{0};
    auto work = [&](Pipeline* pipeline) {
      for (std::size_t i = next++; i < n; i = next++) {
        process_one(*pipeline, i);
        std::lock_guard<std::mutex> lock(mutex);
        slots[i].done = true;
        ready.notify_all();
      }
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work, pipelines[std::size_t(w)].get());
    for (std::size_t i = 0; i < n; ++i) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return slots[i].done; });
      }
      print(slots[i]);
    }
    for (std::thread& t : pool) t.join();
  }
  if (timing) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "facekit %s: %zu image(s) in %.3f s: %.2f images/s (%d pipeline(s) side by side)\n", cmd, n,
                 s, s > 0 ? double(n) / s : 0.0, workers);
  }
  return failures ? 1 : 0;
}

/// Opens an image's JSON line: {"image": NAME, "width": W, "height": H, "faces": [  (the caller
/// writes the faces, then closes the array and the object).
inline void begin_image_json(JsonWriter& j, const std::string& path, int W, int H) {
  j.begin_object();
  j.key("image"); j.value(base_name(path));
  j.key("width"); j.value(W);
  j.key("height"); j.value(H);
  j.key("faces");
  j.begin_array();
}

/// Writes the overlay of `image` (already drawn on) to the file `pattern` names for it.
inline facekit::Status write_overlay(const std::string& pattern, const std::string& path, bool several,
                                     const facekit::Image& image) {
  const std::string out = overlay_path(pattern, path, several);
  if (!write_png(out, image)) return facekit::Status::error("cannot write overlay '%s'", out.c_str());
  return facekit::Status::ok();
}

/// --device cpu | opencl[:P[:D]] into a task's options (delegate, opencl_platform,
/// opencl_device). With `use_env`, the environment variable FACEKIT_DEVICE, when set, overrides
/// the flag. Returns an empty string, or what is wrong.
template <class Options>
std::string parse_device(const std::string& flag, Options* opt, bool use_env = true) {
  const char* env = use_env ? std::getenv("FACEKIT_DEVICE") : nullptr;
  const std::string v = env && *env ? std::string(env) : flag;
  const char* from = env && *env ? "FACEKIT_DEVICE" : "--device";
  if (v.empty() || v == "cpu") {
    opt->delegate = facekit::Delegate::cpu;
    return {};
  }
  // opencl, opencl:P or opencl:P:D (device 0 by default), nothing after.
  int p = 0, d = 0, end = -1;
  const bool ok = v == "opencl" || (std::sscanf(v.c_str(), "opencl:%d%n:%d%n", &p, &end, &d, &end) >= 1 &&
                                    end == int(v.size()));
  if (!ok || p < 0 || d < 0)
    return std::string(from) + ": '" + v + "' is not cpu, opencl or opencl:PLATFORM:DEVICE (facekit devices lists them)";
  opt->delegate = facekit::Delegate::opencl;
  opt->opencl_platform = p;
  opt->opencl_device = d;
  return {};
}

inline bool parse_float(const std::string& s, float* out) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end) return false;
  *out = v;
  return true;
}

/// "detection": {"box": [x, y, w, h] in pixels, "keypoints": [[x, y] x6] normalised, "score": s}
inline void write_detection_json(JsonWriter& j, const facekit::Detection& d, int W, int H) {
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
  j.key("score");
  j.value(d.score);
  j.end_object();
}

/// Line thickness for overlays: grows with the image so marks stay visible.
inline int overlay_thickness(int W, int H) { return std::max(1, int(std::min(W, H) / 300)); }

inline void draw_detection(Canvas& cv, const facekit::Detection& d, int W, int H) {
  const float x = d.relative_box[0] * float(W), y = d.relative_box[1] * float(H);
  const float w = d.relative_box[2] * float(W), h = d.relative_box[3] * float(H);
  const int t = overlay_thickness(W, H);
  cv.rect(x, y, w, h, t + 1, {0, 255, 0});
  static const Rgb colors[6] = {{255, 0, 0}, {0, 0, 255}, {255, 255, 0}, {255, 0, 255}, {0, 255, 255}, {255, 128, 0}};
  for (int k = 0; k < 6; ++k)
    cv.dot(d.keypoints[std::size_t(k)].x * float(W), d.keypoints[std::size_t(k)].y * float(H), 2 * t + 1, colors[k]);
}

}  // namespace facekit_cli
