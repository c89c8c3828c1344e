// tests/backend_check.hpp - runs one model on two backends and compares every output: the check
// behind the OpenCL tests (the CPU scalar reference against the device), and the one-op models
// that the kernel case lists (tests/kernel_cases.hpp) become for it.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <facekit/runtime/backend.hpp>
#include <facekit/runtime/cpu_backend.hpp>

#ifdef FACEKIT_HAVE_CONVERTER
#include "convert/model_writer.hpp"
#endif

namespace backend_check {

/// Deterministic inputs in [-1, 1) (xorshift32).
inline void fill_random(uint32_t seed, float* x, std::size_t n) {
  uint32_t s = seed ? seed : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x[i] = float(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
}

/// Worst error of `got` against `want`, relative to max(|want_i|, rms(want)): outputs that are
/// sums of many terms may be small where they cancel.
inline double worst_relative(const float* want, const float* got, std::size_t n) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += double(want[i]) * want[i];
  const double rms = n ? std::sqrt(ss / double(n)) : 0.0;
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double scale = std::max({std::fabs(double(want[i])), rms, 1e-30});
    worst = std::max(worst, std::fabs(double(got[i]) - want[i]) / scale);
  }
  return worst;
}

/// Fills input `input` (n floats) of run `run` (the same values go to both backends).
using InputFill = std::function<void(int input, int run, float* x, std::size_t n)>;

/// Runs `model` on the CPU's scalar kernels and on `device` with the inputs `fill` gives, `runs`
/// times (the device session is reused), and returns the worst relative error of all outputs.
/// Fails the test with the backend's message when a session cannot be made.
inline double compare_with_scalar(const facekit::Backend& device, std::shared_ptr<const facekit::Model> model,
                                  const InputFill& fill, int runs = 2) {
  facekit::CpuBackend<facekit::scalar_arch> scalar;
  auto ref = facekit::make_session(scalar, model, "scalar reference");
  REQUIRE_MESSAGE(ref, ref.status().message());
  auto dev = facekit::make_session(device, model, device.name());
  REQUIRE_MESSAGE(dev, dev.status().message());
  facekit::BackendSession& a = **ref;
  facekit::BackendSession& b = **dev;
  double worst = 0;
  for (int r = 0; r < runs; ++r) {
    for (std::size_t i = 0; i < model->inputs().size(); ++i) {
      const std::size_t n = a.input_info(int(i)).elements();
      fill(int(i), r, a.input(int(i)), n);
      fill(int(i), r, b.input(int(i)), n);
    }
    REQUIRE(a.run());
    const facekit::Status st = b.run();
    REQUIRE_MESSAGE(st, st.message());
    for (std::size_t o = 0; o < model->outputs().size(); ++o)
      worst = std::max(worst, worst_relative(a.output(int(o)), b.output(int(o)), a.output_info(int(o)).elements()));
  }
  return worst;
}

/// The same with random inputs in [-1, 1) (seeded).
inline double compare_with_scalar(const facekit::Backend& device, std::shared_ptr<const facekit::Model> model,
                                  uint32_t seed = 1, int runs = 2) {
  return compare_with_scalar(
      device, std::move(model),
      [seed](int i, int r, float* x, std::size_t n) { fill_random(seed + uint32_t(101 * r + i), x, n); }, runs);
}

#ifdef FACEKIT_HAVE_CONVERTER
/// A model built by hand (the converter's output graph), serialised and loaded as a file would be.
inline std::shared_ptr<const facekit::Model> load_out_model(const facekit::convert::OutModel& m) {
  auto bytes = facekit::convert::write_model(m);
  REQUIRE_MESSAGE(bytes, bytes.status().message());
  auto model = facekit::Model::copy_from_bytes(bytes->data(), bytes->size());
  REQUIRE_MESSAGE(model, model.status().message());
  return std::make_shared<const facekit::Model>(std::move(*model));
}

/// Adds a tensor and returns its index.
inline uint32_t add_tensor(facekit::convert::OutModel& m, const std::string& name, std::vector<int32_t> dims,
                           std::vector<float> data = {},
                           facekit::format::Layout layout = facekit::format::Layout::plain) {
  facekit::convert::OutTensor t;
  t.name = name;
  t.dims = std::move(dims);
  if (!data.empty()) {
    t.kind = facekit::format::TensorKind::constant;
    t.layout = layout;
    t.data = std::move(data);
  }
  m.tensors.push_back(std::move(t));
  return uint32_t(m.tensors.size() - 1);
}

/// One op reading `inputs` (kNoTensor for an absent one) and writing `output`.
template <class P>
void add_op(facekit::convert::OutModel& m, facekit::OpType type, std::vector<uint32_t> inputs, uint32_t output,
            const P& params) {
  facekit::convert::OutOp op;
  op.type = type;
  op.name = facekit::op_type_name(type);
  op.inputs = std::move(inputs);
  op.outputs = {output};
  op.params = facekit::OpParams::from(params);
  m.ops.push_back(std::move(op));
}
#endif

}  // namespace backend_check
