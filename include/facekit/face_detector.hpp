// facekit/face_detector.hpp - BlazeFace face detection, as MediaPipe Tasks' FaceDetector.
//
//   auto detector = facekit::FaceDetector::create_from_file("weights/face_detector.fkm");
//   if (!detector) { std::fprintf(stderr, "%s\n", detector.status().message()); return 1; }
//   auto image = facekit::load_image("photo.jpg");
//   facekit::FaceDetectorResult result;
//   if (auto st = detector->detect(image->view(), result); !st) { ... }
//   for (const facekit::Detection& d : result.detections)
//     std::printf("face at %d,%d size %dx%d score %.3f\n", d.bounding_box.origin_x,
//                 d.bounding_box.origin_y, d.bounding_box.width, d.bounding_box.height, d.score);
//
// The steps are BlazeFaceStage's (stages/blazeface_stage.hpp, docs/pipeline.md 0.3 and 1): the
// image letterboxed with MediaPipe's exact CPU resampling, the network, SSD anchor decoding,
// weighted non-max suppression, the letterbox removed. A FaceDetector owns one execution session:
// use one per thread (the model inside may be shared). After the first call for a given image
// size, detect() allocates nothing when `result` is reused.
//
// Firmware (examples/embedded_detector.cpp): the model compiled in by `facekit convert
// --emit-header`, the activations in a static buffer, nothing allocated after start-up:
//
//   alignas(64) static unsigned char arena[face_detector_arena_size];   // from the header
//   auto detector = facekit::FaceDetector::create_from_bytes(face_detector_fkm, sizeof face_detector_fkm,
//                                                            options, {arena, sizeof arena});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/activation_plan.hpp"
#include "runtime/device.hpp"
#include "stages/blazeface_stage.hpp"
#include "stages/detection_result.hpp"

namespace facekit {

struct FaceDetectorOptions {
  /// Detections scoring below this are dropped (MediaPipe: min_detection_confidence).
  float min_detection_confidence = 0.5f;
  /// Weighted NMS merges boxes whose IoU exceeds this (MediaPipe: min_suppression_threshold).
  float min_suppression_threshold = 0.3f;
  /// Keep at most this many faces, highest score first; < 0 keeps all (MediaPipe's default).
  int max_faces = -1;
  /// Where the networks run (MediaPipe's BaseOptions.delegate): Delegate::cpu, or Delegate::opencl
  /// on OpenCL platform `opencl_platform`, device `opencl_device` (`facekit devices` lists them;
  /// the program must be built with FACEKIT_WITH_OPENCL). With `cpu_fallback`, an OpenCL device
  /// that cannot be used gives the CPU instead of an error; backend_name() tells which runs.
  Delegate delegate = Delegate::cpu;
  int opencl_platform = 0;
  int opencl_device = 0;
  bool cpu_fallback = false;
  /// Threads that run the networks' ops on the CPU (MediaPipe's and TFLite's num_threads): 1 is
  /// the calling thread only; N > 1 starts a pool of N - 1 workers that this object owns. Each op
  /// is split into independent parts of its output, so the results are bit-identical for any
  /// count. Ignored when `thread_pool` is set, and by the OpenCL delegate.
  int num_threads = 1;
  /// Your own pool in place of num_threads (runtime/thread_pool.hpp: implement
  /// ThreadPoolInterface::parallel_for). It must outlive this object.
  ThreadPoolInterface* thread_pool = nullptr;
};

struct FaceDetectorResult {
  std::vector<Detection> detections;
};

class FaceDetector {
 public:
  /// `model` must be a face detector model file (model.kind "face_detector"). With `arena` (CPU
  /// only), the network's activations live in that caller memory, at least arena_size(model)
  /// bytes: a too-small one is an error naming both sizes.
  static Expected<FaceDetector> create(std::shared_ptr<const Model> model, const FaceDetectorOptions& options = {},
                                       ArenaMemory arena = {}) {
    std::unique_ptr<ThreadPool> own_pool;
    auto pool = thread_pool_of(options, &own_pool);
    if (!pool) return Status(pool.status()).prefix("FaceDetector");
    auto backend = open_backend(device_options_of(options));
    if (!backend) return Status(backend.status()).prefix("FaceDetector");
    auto stage = BlazeFaceStage::create(
        std::move(model), {options.min_detection_confidence, options.min_suppression_threshold, options.max_faces},
        **backend, arena);
    if (!stage) return Status(stage.status()).prefix("FaceDetector");
    stage->session().set_thread_pool(*pool);
    std::unique_ptr<BackendFrame> frame = (*backend)->new_frame();
    return FaceDetector(options, std::move(*backend), std::move(own_pool), std::move(*stage), std::move(frame));
  }
#ifndef FACEKIT_NO_STDIO
  static Expected<FaceDetector> create_from_file(const std::string& path, const FaceDetectorOptions& options = {}) {
    auto m = Model::load_file(path);
    if (!m) return m.status();
    return create(std::make_shared<const Model>(std::move(*m)), options);
  }
#endif
  /// A model file's bytes, used in place (zero copy): aligned to 64 and kept alive by the caller,
  /// e.g. the array of a header written by `facekit convert --emit-header` (MediaPipe's
  /// create_from_buffer, without the copy). `arena` as for create().
  static Expected<FaceDetector> create_from_bytes(const void* data, std::size_t size,
                                                  const FaceDetectorOptions& options = {}, ArenaMemory arena = {}) {
    auto m = Model::from_bytes(data, size);
    if (!m) return m.status();
    return create(std::make_shared<const Model>(std::move(*m)), options, arena);
  }
  /// Bytes of activation memory the detector needs for `model` on the CPU: what create()
  /// allocates, and the least ArenaMemory it accepts (also the `<name>_arena_size` constant of an
  /// --emit-header header).
  static std::size_t arena_size(const Model& model) { return plan_activations(model).arena_size; }

  /// Detects faces; `result` is overwritten (its capacity reused).
  Status detect(const ImageView& image, FaceDetectorResult& result) {
    frame_->set(image);
    return stage_.run(*frame_, result.detections);
  }
  /// Convenience overload that allocates a result.
  Expected<FaceDetectorResult> detect(const ImageView& image) {
    FaceDetectorResult r;
    Status s = detect(image, r);
    if (!s) return s;
    return r;
  }

  const FaceDetectorOptions& options() const noexcept { return options_; }
  int input_width() const noexcept { return stage_.input_width(); }
  int input_height() const noexcept { return stage_.input_height(); }
  /// The execution session, for benchmarks and tests that drive the network directly.
  BackendSession& session() noexcept { return stage_.session(); }
  /// The device the network runs on ("cpu (avx512bw)", "opencl: ...").
  const char* backend_name() const noexcept { return backend_->name(); }

 private:
  FaceDetector(const FaceDetectorOptions& options, std::shared_ptr<const Backend> backend,
               std::unique_ptr<ThreadPool> pool, BlazeFaceStage stage, std::unique_ptr<BackendFrame> frame)
      : options_(options),
        backend_(std::move(backend)),
        pool_(std::move(pool)),
        stage_(std::move(stage)),
        frame_(std::move(frame)) {}
  FaceDetectorOptions options_;
  std::shared_ptr<const Backend> backend_;
  std::unique_ptr<ThreadPool> pool_;  // num_threads > 1 without a pool of the caller's
  BlazeFaceStage stage_;
  std::unique_ptr<BackendFrame> frame_;  // the image on the backend's device, set per detect()
};

}  // namespace facekit
