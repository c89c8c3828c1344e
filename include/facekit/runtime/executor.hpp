// facekit/runtime/executor.hpp - runs a loaded model graph on the CPU.
//
//   auto model = std::make_shared<const facekit::Model>(std::move(*facekit::Model::load_file(path)));
//   auto program = facekit::Program::create(model);    // once: checks ops, picks kernels, plans memory
//   facekit::Session session(*program);                // per thread: owns the activation arena
//   std::copy(pixels, pixels + n, session.input(0));
//   session.run();                                     // no allocation, no branching on shapes
//   const float* scores = session.output(1);
//
// A Program is immutable and can be shared by any number of Sessions (threads). Each Session
// allocates its arena once; run() is a flat loop over prepared steps.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "../model/model.hpp"
#include "../ops/op_table.hpp"
#include "memory_plan.hpp"

namespace facekit {

class Program {
 public:
  /// Validates every op against its tensors, chooses each kernel for `Arch`, and plans memory.
  template <class Arch = default_arch>
  static Expected<std::shared_ptr<const Program>> create(std::shared_ptr<const Model> model);

  const Model& model() const noexcept { return *model_; }
  std::size_t arena_size() const noexcept { return arena_size_; }
  const std::vector<CpuStep>& steps() const noexcept { return steps_; }
  /// Arena offset of an activation tensor (after aliasing).
  std::size_t offset(uint32_t tensor) const noexcept { return offsets_[tensor]; }

 private:
  std::shared_ptr<const Model> model_;
  std::vector<CpuStep> steps_;            // tensor indices set, pointers unbound
  std::vector<std::size_t> offsets_;   // per tensor; kNoOffset for constants
  std::size_t arena_size_ = 0;
  static constexpr std::size_t kNoOffset = ~std::size_t(0);
  friend class Session;
};

template <class Arch>
Expected<std::shared_ptr<const Program>> Program::create(std::shared_ptr<const Model> model) {
  if (!model) return Status::error("Program::create: model is null");
  const Model& m = *model;
  auto prog = std::shared_ptr<Program>(new Program());
  prog->model_ = model;
  const std::size_t nt = std::size_t(m.tensor_count());

  // Aliasing ops (reshape) let the output share the input: find each tensor's storage root.
  std::vector<uint32_t> root(nt);
  for (std::size_t t = 0; t < nt; ++t) root[t] = uint32_t(t);
  prog->steps_.reserve(m.ops().size());
  for (const OpInfo& op : m.ops()) {
    CpuStep s;
    FACEKIT_RETURN_IF_ERROR(ops::prepare_cpu_step<Arch>(m, op, &s));
    if (ops::aliases_input(op.type))
      root[op.outputs[0]] = root[op.inputs[0]];
    else
      prog->steps_.push_back(s);
  }

  // Lifetimes per storage root, in op indices; graph inputs live from the start, outputs to the end.
  const int n_ops = m.op_count();
  std::vector<UsageRecord> usage(nt);
  std::vector<int> first(nt, n_ops + 1), last(nt, -1);
  for (uint32_t t : m.inputs()) first[root[t]] = 0;
  for (int i = 0; i < n_ops; ++i) {
    const OpInfo& op = m.op(i);
    for (int k = 0; k < op.output_count; ++k) {
      const uint32_t r = root[op.outputs[k]];
      first[r] = std::min(first[r], i);
      last[r] = std::max(last[r], i);
    }
    for (int k = 0; k < op.input_count; ++k)
      if (op.inputs[k] != kNoTensor && !m.tensor(op.inputs[k]).is_constant()) {
        const uint32_t r = root[op.inputs[k]];
        last[r] = std::max(last[r], i);
      }
  }
  for (uint32_t t : m.outputs()) last[root[t]] = n_ops;
  for (std::size_t t = 0; t < nt; ++t) {
    if (root[t] != t || m.tensor(uint32_t(t)).is_constant() || last[t] < 0) continue;
    usage[t] = UsageRecord{m.tensor(uint32_t(t)).size_bytes, first[t], last[t]};
  }
  const MemoryPlan plan = plan_memory(usage);
  prog->arena_size_ = plan.arena_size;
  prog->offsets_.assign(nt, kNoOffset);
  for (std::size_t t = 0; t < nt; ++t)
    if (!m.tensor(uint32_t(t)).is_constant()) prog->offsets_[t] = plan.offsets[root[t]];
  return std::shared_ptr<const Program>(std::move(prog));
}

/// Per-thread execution state: the activation arena and the steps bound to it.
class Session {
 public:
  explicit Session(std::shared_ptr<const Program> program) : program_(std::move(program)) {
    const Program& p = *program_;
    arena_ = detail::AlignedBytes::allocate(p.arena_size_ ? p.arena_size_ : kTensorAlignment);
    std::memset(arena_.ptr.get(), 0, arena_.size);
    steps_ = p.steps_;
    for (CpuStep& s : steps_) {
      for (int i = 0; i < kMaxOpInputs; ++i) s.in[i] = s.inputs[i] == kNoTensor ? nullptr : tensor_ptr(s.inputs[i]);
      s.out = const_cast<float*>(tensor_ptr(s.output));
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;

  /// Runs every step. No allocation, no validation: the Program checked everything.
  void run() noexcept {
    for (const CpuStep& s : steps_) s.run(s);
  }
  /// run(), adding each step's wall-clock seconds to seconds[i] (program().steps().size() of
  /// them): the per-op profile. The results are run()'s, bit for bit.
  void run_timed(double* seconds) noexcept {
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      steps_[i].run(steps_[i]);
      seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  }

  float* input(int i) noexcept { return const_cast<float*>(tensor_ptr(program_->model().inputs()[std::size_t(i)])); }
  const float* output(int i) const noexcept { return tensor_ptr(program_->model().outputs()[std::size_t(i)]); }
  const TensorInfo& input_info(int i) const noexcept {
    return program_->model().tensor(program_->model().inputs()[std::size_t(i)]);
  }
  const TensorInfo& output_info(int i) const noexcept {
    return program_->model().tensor(program_->model().outputs()[std::size_t(i)]);
  }
  /// Any tensor by index (activations live in the arena and hold the last run's values).
  const float* tensor(uint32_t t) const noexcept { return tensor_ptr(t); }
  const Program& program() const noexcept { return *program_; }

 private:
  const float* tensor_ptr(uint32_t t) const noexcept {
    const TensorInfo& ti = program_->model().tensor(t);
    if (ti.is_constant()) return ti.f32();
    return reinterpret_cast<const float*>(arena_.ptr.get() + program_->offsets_[t]);
  }

  std::shared_ptr<const Program> program_;
  detail::AlignedBytes arena_;
  std::vector<CpuStep> steps_;
};

}  // namespace facekit

// Compile time. Program::create<default_arch> instantiates every kernel variant, which costs a few
// minutes of compilation per translation unit. A program with many translation units can pay it
// once: define FACEKIT_EXTERN_PROGRAM for all of them, and expand FACEKIT_INSTANTIATE_PROGRAM() at
// namespace scope in exactly one .cpp (compiled with the same target flags).
#define FACEKIT_INSTANTIATE_PROGRAM()                                                           \
  template facekit::Expected<std::shared_ptr<const facekit::Program>>                           \
  facekit::Program::create<facekit::default_arch>(std::shared_ptr<const facekit::Model>)
#if defined(FACEKIT_EXTERN_PROGRAM)
extern template facekit::Expected<std::shared_ptr<const facekit::Program>>
facekit::Program::create<facekit::default_arch>(std::shared_ptr<const facekit::Model>);
#endif
