// facekit profile MODEL.fkm... [--runs N] [--warmup N]: every op of a converted model with its
// output shape, median time, GFLOP/s and share of the run, then the time per op type.
//
// Times are medians over the timed runs of each step's wall clock (Session::run_timed); the
// inputs hold a fixed pattern in [0, 1). A short probe first measures one core's FMA peak, so
// that each op's "% of peak" reads directly. FLOPs are each op's own count (OpDef::flops: 2 per
// multiply-add; ops that only move data count 0 and show no rate).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "facekit/kernels/common.hpp"
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

int profile_one(const std::string& path, int runs, int warmup, double peak) {
  auto loaded = facekit::Model::load_file(path);
  if (!loaded) {
    std::fprintf(stderr, "facekit profile: %s\n", loaded.status().message());
    return 1;
  }
  auto model = std::make_shared<const facekit::Model>(std::move(*loaded));
  auto program = facekit::Program::create(model);
  if (!program) {
    std::fprintf(stderr, "facekit profile: %s: %s\n", path.c_str(), program.status().message());
    return 1;
  }
  facekit::Session session(*program);
  for (std::size_t i = 0; i < model->inputs().size(); ++i) {
    float* x = session.input(int(i));
    const std::size_t n = session.input_info(int(i)).elements();
    for (std::size_t k = 0; k < n; ++k) x[k] = float((k * 2654435761u) % 1000u) / 1000.0f;
  }
  const std::vector<facekit::CpuStep>& steps = (*program)->steps();
  std::vector<double> seconds(steps.size());
  for (int r = 0; r < warmup; ++r) session.run();
  std::vector<std::vector<double>> per_step(steps.size());
  std::vector<double> whole;
  for (int r = 0; r < runs; ++r) {
    std::fill(seconds.begin(), seconds.end(), 0.0);
    const auto t0 = std::chrono::steady_clock::now();
    session.run_timed(seconds.data());
    whole.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (std::size_t i = 0; i < steps.size(); ++i) per_step[i].push_back(seconds[i]);
  }

  std::vector<double> med(steps.size());
  double total = 0.0, total_flops = 0.0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    med[i] = median(per_step[i]);
    total += med[i];
    total_flops += facekit::ops::step_flops(steps[i]);
  }
  std::printf("%s: model kind '%s', %zu ops, median of %d runs after %d warm-up\n", path.c_str(),
              model->kind().c_str(), steps.size(), runs, warmup);
  std::printf("%4s  %-40s %-30s %-16s %10s %9s %6s %7s\n", "#", "op", "type", "output", "us", "GFLOP/s", "%peak",
              "share");
  std::map<std::string, std::pair<double, int>> by_type;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const facekit::CpuStep& s = steps[i];
    const double flops = facekit::ops::step_flops(s);
    std::string name = s.name;
    if (name.size() > 40) name = name.substr(0, 37) + "...";
    char rate[32] = "-";
    if (flops > 0 && med[i] > 0) std::snprintf(rate, sizeof rate, "%.2f", flops / med[i] * 1e-9);
    char of_peak[16] = "-";
    if (flops > 0 && med[i] > 0 && peak > 0) std::snprintf(of_peak, sizeof of_peak, "%.0f%%", 100.0 * flops / med[i] * 1e-9 / peak);
    const char* type = facekit::op_type_name(s.type);
    std::printf("%4zu  %-40s %-30s %-16s %10.1f %9s %6s %6.1f%%\n", i, name.c_str(), type,
                shape_of(model->tensor(s.output)).c_str(), med[i] * 1e6, rate, of_peak,
                total > 0 ? 100.0 * med[i] / total : 0.0);
    by_type[type].first += med[i];
    by_type[type].second += 1;
  }
  std::printf("per type:\n");
  std::vector<std::pair<std::string, std::pair<double, int>>> types(by_type.begin(), by_type.end());
  std::sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  for (const auto& t : types)
    std::printf("      %-30s %4d ops %10.1f us %6.1f%%\n", t.first.c_str(), t.second.second, t.second.first * 1e6,
                total > 0 ? 100.0 * t.second.first / total : 0.0);
  const double run_median = median(whole);
  const double rate = run_median > 0 ? total_flops / run_median * 1e-9 : 0.0;
  std::printf("total: %.1f us (sum of the op medians), %.1f us (median whole run), %.3f GFLOP, %.2f GFLOP/s"
              " (%.0f%% of the FMA peak)\n",
              total * 1e6, run_median * 1e6, total_flops * 1e-9, rate, peak > 0 ? 100.0 * rate / peak : 0.0);
  return 0;
}

}  // namespace

int cmd_profile(const std::vector<std::string>& args) {
  std::vector<std::string> models;
  int runs = 50, warmup = 5;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: facekit profile MODEL.fkm... [--runs N (50)] [--warmup N (5)]\n"
                  "  every op of each model: output shape, median time, GFLOP/s, share of the run\n");
      return 0;
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
  if (models.empty()) {
    std::fprintf(stderr, "facekit profile: no model file given (e.g. weights/face_landmarks_detector.fkm)\n");
    return 1;
  }
  const double peak = fma_peak_gflops();
  std::printf("machine: one core's float FMA peak %.1f GFLOP/s (%s, probe: 12 chains of fused multiply-adds)\n",
              peak, facekit::default_arch::name());
  int status = 0;
  for (const std::string& m : models)
    if (profile_one(m, runs, warmup, peak) != 0) status = 1;
  return status;
}

}  // namespace facekit_cli
