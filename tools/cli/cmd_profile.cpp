// facekit profile MODEL.fkm... [--runs N] [--warmup N] [--device D]... [--threads N]: every op of a converted model with its
// output shape, median time, GFLOP/s and share of the run, then the time per op type.
//
// Times are medians over the timed runs of each op (BackendSession::run_profiled: the wall clock
// on the CPU, the kernels' profiling events on OpenCL); the inputs hold a fixed pattern in [0, 1).
// With several --device flags the ops are timed on each, side by side. A short probe first measures one core's FMA peak, so
// that each op's "% of peak" reads directly. FLOPs are each op's own count (OpDef::flops: 2 per
// multiply-add; ops that only move data count 0 and show no rate).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_util.hpp"
#include "cli/commands.hpp"
#include "facekit/face_landmarker.hpp"
#include "facekit/kernels/common.hpp"
#include "facekit/runtime/device.hpp"
#include "facekit/runtime/executor.hpp"

namespace facekit_cli {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string shape_of(const facekit::TensorInfo& t) {
  std::string s;
  for (int d = 0; d < t.rank; ++d) s += (d ? "x" : "") + std::to_string(t.dims[d]);
  return s.empty() ? "scalar" : s;
}

/// The core's single-precision FMA peak, in GFLOP/s: 12 independent chains of fused
/// multiply-adds on the build's widest float vector (enough chains to cover the FMA latency of
/// current x86 and ARM cores), best of 5.
double fma_peak_gflops() {
  constexpr int kChains = 12, kIters = 400000;
#if FACEKIT_HAS_SIMD
  using A = facekit::default_arch;
  using V = xsimd::batch<float, A>;
  constexpr double kLanes = double(V::size);
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = V(1.0f + 1e-3f * float(c));
  const V m(0.999999f), add(1e-7f);
  const auto step = [&] {
    for (int c = 0; c < kChains; ++c) acc[c] = facekit::kernels::simd::fmadd<A>(acc[c], m, add);
  };
#else
  constexpr double kLanes = 1.0;
  float acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = 1.0f + 1e-3f * float(c);
  const auto step = [&] {
    for (int c = 0; c < kChains; ++c) acc[c] = std::fma(acc[c], 0.999999f, 1e-7f);
  };
#endif
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kIters; ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * kChains * kLanes * kIters / s * 1e-9);
  }
  // Use the result so the loop is kept.
  float sum = 0.0f;
  for (int c = 0; c < kChains; ++c) {
#if FACEKIT_HAS_SIMD
    sum += xsimd::hadd(acc[c]);
#else
    sum += acc[c];
#endif
  }
  volatile float sink = sum;
  (void)sink;
  return best;
}

/// A device to profile on: its --device spelling and options.
struct ProfileDevice {
  std::string label;
  facekit::DeviceOptions options;
};

/// Per-op medians of one model on one device, and the median of whole runs (run(), with the
/// copies between host and device).
struct DeviceProfile {
  std::string name;
  std::vector<double> op_seconds;  // per model op
  double whole = 0.0;
};

facekit::Status profile_on(const ProfileDevice& d, std::shared_ptr<const facekit::Model> model, int runs, int warmup,
                           facekit::ThreadPoolInterface* pool, DeviceProfile* out) {
  auto backend = facekit::open_backend(d.options);
  if (!backend) return backend.status();
  auto session = facekit::make_session(**backend, model, d.label.c_str());
  if (!session) return session.status();
  facekit::BackendSession& s = **session;
  s.set_thread_pool(pool);
  for (std::size_t i = 0; i < model->inputs().size(); ++i) {
    float* x = s.input(int(i));
    const std::size_t n = s.input_info(int(i)).elements();
    for (std::size_t k = 0; k < n; ++k) x[k] = float((k * 2654435761u) % 1000u) / 1000.0f;
  }
  const std::size_t n_ops = std::size_t(model->op_count());
  std::vector<double> seconds(n_ops);
  std::vector<std::vector<double>> per_op(n_ops);
  std::vector<double> whole;
  for (int r = 0; r < warmup; ++r) FACEKIT_RETURN_IF_ERROR(s.run());
  for (int r = 0; r < runs; ++r) {
    std::fill(seconds.begin(), seconds.end(), 0.0);
    FACEKIT_RETURN_IF_ERROR(s.run_profiled(seconds.data()));
    for (std::size_t i = 0; i < n_ops; ++i) per_op[i].push_back(seconds[i]);
    const auto t0 = std::chrono::steady_clock::now();
    FACEKIT_RETURN_IF_ERROR(s.run());
    whole.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  out->name = (*backend)->name();
  out->op_seconds.resize(n_ops);
  for (std::size_t i = 0; i < n_ops; ++i) out->op_seconds[i] = median(per_op[i]);
  out->whole = median(whole);
  return facekit::Status::ok();
}

int profile_one(const std::string& path, int runs, int warmup, double peak, const std::vector<ProfileDevice>& devices,
                facekit::ThreadPoolInterface* pool) {
  auto loaded = facekit::Model::load_file(path);
  if (!loaded) {
    std::fprintf(stderr, "facekit profile: %s\n", loaded.status().message());
    return 1;
  }
  auto model = std::make_shared<const facekit::Model>(std::move(*loaded));
  std::vector<DeviceProfile> prof(devices.size());
  for (std::size_t d = 0; d < devices.size(); ++d)
    if (facekit::Status st = profile_on(devices[d], model, runs, warmup, pool, &prof[d]); !st) {
      std::fprintf(stderr, "facekit profile: %s: %s\n", path.c_str(), st.message());
      return 1;
    }

  // The ops that run (reshapes alias their input and take no time).
  std::vector<int> ops;
  for (int i = 0; i < model->op_count(); ++i)
    if (!facekit::ops::aliases_input(model->op(i).type)) ops.push_back(i);
  std::vector<double> total(devices.size(), 0.0);
  double total_flops = 0.0;
  for (int i : ops) {
    total_flops += facekit::ops::op_flops(*model, model->op(i));
    for (std::size_t d = 0; d < devices.size(); ++d) total[d] += prof[d].op_seconds[std::size_t(i)];
  }
  std::printf("%s: model kind '%s', %zu ops, median of %d runs after %d warm-up\n", path.c_str(),
              model->kind().c_str(), ops.size(), runs, warmup);
  for (std::size_t d = 0; d < devices.size(); ++d) std::printf("  device %zu: %s\n", d, prof[d].name.c_str());
  // Rates and the share are the first device's; further devices add a time column and the ratio
  // of their time to the first device's.
  std::printf("%4s  %-40s %-30s %-16s %10s %9s %6s %7s", "#", "op", "type", "output", "us", "GFLOP/s", "%peak", "share");
  for (std::size_t d = 1; d < devices.size(); ++d) std::printf(" %10s %6s", ("us dev" + std::to_string(d)).c_str(), "x");
  std::printf("\n");
  std::map<std::string, std::pair<std::vector<double>, int>> by_type;
  for (int i : ops) {
    const facekit::OpInfo& op = model->op(i);
    const double flops = facekit::ops::op_flops(*model, op);
    const double t = prof[0].op_seconds[std::size_t(i)];
    std::string name = op.name;
    if (name.size() > 40) name = name.substr(0, 37) + "...";
    char rate[32] = "-";
    if (flops > 0 && t > 0) std::snprintf(rate, sizeof rate, "%.2f", flops / t * 1e-9);
    char of_peak[16] = "-";
    if (flops > 0 && t > 0 && peak > 0 && devices[0].options.delegate == facekit::Delegate::cpu)
      std::snprintf(of_peak, sizeof of_peak, "%.0f%%", 100.0 * flops / t * 1e-9 / peak);
    const char* type = facekit::op_type_name(op.type);
    std::printf("%4d  %-40s %-30s %-16s %10.1f %9s %6s %6.1f%%", i, name.c_str(), type,
                shape_of(model->tensor(op.outputs[0])).c_str(), t * 1e6, rate, of_peak,
                total[0] > 0 ? 100.0 * t / total[0] : 0.0);
    for (std::size_t d = 1; d < devices.size(); ++d) {
      const double td = prof[d].op_seconds[std::size_t(i)];
      std::printf(" %10.1f %6.2f", td * 1e6, t > 0 ? td / t : 0.0);
    }
    std::printf("\n");
    auto& bt = by_type[type];
    bt.first.resize(devices.size(), 0.0);
    for (std::size_t d = 0; d < devices.size(); ++d) bt.first[d] += prof[d].op_seconds[std::size_t(i)];
    bt.second += 1;
  }
  std::printf("per type:\n");
  std::vector<std::pair<std::string, std::pair<std::vector<double>, int>>> types(by_type.begin(), by_type.end());
  std::sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.second.first[0] > b.second.first[0]; });
  for (const auto& t : types) {
    std::printf("      %-30s %4d ops %10.1f us %6.1f%%", t.first.c_str(), t.second.second, t.second.first[0] * 1e6,
                total[0] > 0 ? 100.0 * t.second.first[0] / total[0] : 0.0);
    for (std::size_t d = 1; d < devices.size(); ++d) std::printf("  dev%zu %10.1f us", d, t.second.first[d] * 1e6);
    std::printf("\n");
  }
  for (std::size_t d = 0; d < devices.size(); ++d) {
    const double rate = prof[d].whole > 0 ? total_flops / prof[d].whole * 1e-9 : 0.0;
    std::printf("total%s: %.1f us (sum of the op medians), %.1f us (median whole run), %.3f GFLOP, %.2f GFLOP/s",
                devices.size() > 1 ? (" dev" + std::to_string(d)).c_str() : "", total[d] * 1e6, prof[d].whole * 1e6,
                total_flops * 1e-9, rate);
    if (devices[d].options.delegate == facekit::Delegate::cpu)
      std::printf(" (%.0f%% of the FMA peak)", peak > 0 ? 100.0 * rate / peak : 0.0);
    std::printf("\n");
  }
  return 0;
}

/// Median seconds of `runs` calls of f() (after `warmup`); f returns a Status.
template <class F>
facekit::Expected<double> time_median(int runs, int warmup, F&& f) {
  for (int r = 0; r < warmup; ++r) FACEKIT_RETURN_IF_ERROR(f());
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    FACEKIT_RETURN_IF_ERROR(f());
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

/// The whole pipeline: FaceLandmarker::detect() (V2 with blendshapes and the matrix, or the
/// Attention Mesh) on one image, split into its stages, each timed alone on the same data; then
/// every network's per-op table.
int profile_pipeline(const std::string& image_path, const std::string& dir, facekit::FaceMeshModel mesh, int runs,
                     int warmup, double peak, const ProfileDevice& device, int threads) {
  auto img = facekit::load_image(image_path);
  if (!img) {
    std::fprintf(stderr, "facekit profile: %s\n", img.status().message());
    return 1;
  }
  facekit::FaceLandmarkerOptions o;
  o.landmark_model = mesh;
  o.output_face_blendshapes = o.output_facial_transformation_matrixes = mesh == facekit::FaceMeshModel::v2;
  o.num_threads = threads;
  o.delegate = device.options.delegate;
  o.opencl_platform = device.options.platform;
  o.opencl_device = device.options.device;
  auto lm = facekit::FaceLandmarker::create_from_dir(dir, o);
  if (!lm) {
    std::fprintf(stderr, "facekit profile: %s\n", lm.status().message());
    return 1;
  }
  const facekit::ImageView view = img->view();
  facekit::FaceLandmarkerResult result;
  if (facekit::Status st = lm->detect(view, result); !st || result.faces.empty()) {
    std::fprintf(stderr, "facekit profile: %s: %s\n", image_path.c_str(),
                 st ? "no face found: the pipeline profile needs an image with a face" : st.message());
    return 1;
  }
  const facekit::FaceLandmarks face = result.faces[0];
  std::vector<facekit::Detection> detections;
  std::array<facekit::NormalizedLandmark, facekit::kFaceMeshV2Landmarks> landmarks;
  float presence = 0, matrix[16];
  bool present = false;
  struct Row {
    const char* name;
    double seconds;
  };
  std::vector<Row> rows;
  facekit::Status failed;
  auto timed = [&](const char* name, auto&& f) {
    if (!failed) return 0.0;
    auto t = time_median(runs, warmup, f);
    if (!t) {
      failed = t.status();
      return 0.0;
    }
    rows.push_back({name, *t});
    return *t;
  };
  auto ok = [] { return facekit::Status::ok(); };
  const double whole = timed("detect() (whole frame)", [&] { return lm->detect(view, result); });
  const double det = timed("detector stage", [&] { return lm->detector().run(view, detections); });
  const double det_net = timed("detector network", [&] { return lm->detector().session().run(); });
  const double mesh_stage = timed("mesh stage (1 face)", [&] {
    return lm->mesh().run(view, face.roi, 0.5f, &presence, landmarks.data(), &present);
  });
  const double mesh_net = timed("mesh network", [&] { return lm->landmark_session().run(); });
  double blend = 0.0, geometry = 0.0;
  if (lm->blendshape_session())
    blend = timed("blendshape network", [&] { return lm->blendshape_session()->run(); });
  if (lm->geometry())
    geometry = timed("transformation matrix", [&] {
      lm->geometry()->estimate_pose(face.landmarks.data(), view.width, view.height, matrix);
      return ok();
    });
  if (!failed) {
    std::fprintf(stderr, "facekit profile: %s\n", failed.message());
    return 1;
  }
  std::printf("pipeline: FaceLandmarker (%s%s) on %s (%dx%d, %zu face), %s, %d thread(s), median of %d runs\n",
              mesh == facekit::FaceMeshModel::v2 ? "Face Mesh V2" : "Attention Mesh",
              lm->blendshape_session() ? ", blendshapes, matrix" : "", image_path.c_str(), view.width, view.height,
              result.faces.size(), lm->backend_name(), threads, runs);
  auto line = [&](const char* what, double t) {
    std::printf("  %-52s %10.1f us %6.1f%%\n", what, t * 1e6, whole > 0 ? 100.0 * t / whole : 0.0);
  };
  line("detector: network", det_net);
  line("detector: letterbox, anchors, NMS", det - det_net);
  line("mesh: network", mesh_net);
  line("mesh: ROI crop, decoding", mesh_stage - mesh_net);
  if (lm->blendshape_session()) line("blendshapes: network (+ input, ~1 us)", blend);
  if (lm->geometry()) line("transformation matrix (Procrustes)", geometry);
  line("rest: detect() minus the above (ROIs, glue)", whole - det - mesh_stage - blend - geometry);
  line("detect() total", whole);
  std::printf("\n");
  int status = 0;
  std::vector<ProfileDevice> devices{device};
  facekit::ThreadPool pool(threads);
  std::vector<std::string> files{dir + "/" + (mesh == facekit::FaceMeshModel::v2 ? "face_detector.fkm"
                                                                                  : "face_detection_short_range.fkm"),
                                 dir + "/" + (mesh == facekit::FaceMeshModel::v2 ? "face_landmarks_detector.fkm"
                                                                                  : "face_landmark_with_attention.fkm")};
  if (lm->blendshape_session()) files.push_back(dir + "/face_blendshapes.fkm");
  for (const std::string& f : files)
    if (profile_one(f, runs, warmup, peak, devices, threads > 1 ? &pool : nullptr) != 0) status = 1;
  return status;
}

}  // namespace

int cmd_profile(const std::vector<std::string>& args) {
  std::vector<std::string> models;
  std::vector<ProfileDevice> devices;
  int runs = 50, warmup = 5, threads = 1;
  std::string pipeline_image, models_dir = "weights";
  facekit::FaceMeshModel mesh = facekit::FaceMeshModel::v2;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: facekit profile MODEL.fkm... [--runs N (50)] [--warmup N (5)] [--device D]...\n"
                  "                       [--threads N (1)]\n"
                  "  every op of each model: output shape, median time, GFLOP/s, share of the run;\n"
                  "  each --device (cpu, opencl, opencl:P:D; default cpu) adds a column of times;\n"
                  "  --threads N splits the CPU's ops over N threads (the peak is then N cores')\n"
                  "       facekit profile --pipeline IMAGE [--models DIR] [--mesh v2|attention] [...]\n"
                  "  the whole FaceLandmarker on IMAGE (V2: with blendshapes and the matrix): each\n"
                  "  stage's time and share of detect(), then every network's per-op table\n");
      return 0;
    }
    if (a == "--device") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit profile: --device needs a value\n");
        return 1;
      }
      ProfileDevice d;
      d.label = args[++i];
      struct {
        facekit::Delegate delegate;
        int opencl_platform, opencl_device;
        bool cpu_fallback;
      } o{};
      if (const std::string err = parse_device(d.label, &o, false); !err.empty()) {
        std::fprintf(stderr, "facekit profile: %s\n", err.c_str());
        return 1;
      }
      d.options = facekit::device_options_of(o);
      devices.push_back(d);
      continue;
    }
    if (a == "--pipeline" || a == "--models" || a == "--mesh") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit profile: %s needs a value\n", a.c_str());
        return 1;
      }
      const std::string v = args[++i];
      if (a == "--pipeline") {
        pipeline_image = v;
      } else if (a == "--models") {
        models_dir = v;
      } else if (v == "v2" || v == "attention") {
        mesh = v == "v2" ? facekit::FaceMeshModel::v2 : facekit::FaceMeshModel::attention;
      } else {
        std::fprintf(stderr, "facekit profile: --mesh: '%s' is not v2 or attention\n", v.c_str());
        return 1;
      }
      continue;
    }
    if (a == "--threads") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit profile: --threads needs a value\n");
        return 1;
      }
      if (const std::string err = parse_threads(args[++i], &threads); !err.empty()) {
        std::fprintf(stderr, "facekit profile: %s\n", err.c_str());
        return 1;
      }
      continue;
    }
    if (a == "--runs" || a == "--warmup") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "facekit profile: %s needs a value\n", a.c_str());
        return 1;
      }
      const std::string v = args[++i];
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (!end || *end || n < (a == "--runs" ? 1 : 0) || n > 100000) {
        std::fprintf(stderr, "facekit profile: %s '%s' is not a count in %d..100000\n", a.c_str(), v.c_str(),
                     a == "--runs" ? 1 : 0);
        return 1;
      }
      (a == "--runs" ? runs : warmup) = int(n);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "facekit profile: unknown option '%s'\n", a.c_str());
      return 1;
    } else {
      models.push_back(a);
    }
  }
  if (models.empty() && pipeline_image.empty()) {
    std::fprintf(stderr,
                 "facekit profile: no model file given (e.g. weights/face_landmarks_detector.fkm, or --pipeline IMAGE)\n");
    return 1;
  }
  const double core_peak = fma_peak_gflops();
  std::printf("machine: one core's float FMA peak %.1f GFLOP/s (%s, probe: 12 chains of fused multiply-adds)\n",
              core_peak, facekit::default_arch::name());
  // With threads, "% of peak" is of that many cores' peak.
  const double peak = core_peak * threads;
  facekit::ThreadPool pool(threads);
  if (threads > 1) std::printf("threads: %d (the CPU's ops split over them; %%peak of %d cores)\n", threads, threads);
  if (devices.empty()) devices.push_back(ProfileDevice{"cpu", {}});
  if (!pipeline_image.empty()) {
    if (!models.empty() || devices.size() > 1) {
      std::fprintf(stderr, "facekit profile: --pipeline takes no model files and one --device\n");
      return 1;
    }
    return profile_pipeline(pipeline_image, models_dir, mesh, runs, warmup, peak, devices[0], threads);
  }
  int status = 0;
  for (const std::string& m : models)
    if (profile_one(m, runs, warmup, peak, devices, threads > 1 ? &pool : nullptr) != 0) status = 1;
  return status;
}

}  // namespace facekit_cli
