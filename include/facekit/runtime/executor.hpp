// facekit/runtime/executor.hpp - runs a loaded model graph on the CPU: the CPU backend's program
// and session (runtime/backend.hpp is the interface; runtime/cpu_backend.hpp the backend).
//
//   auto model = std::make_shared<const facekit::Model>(std::move(*facekit::Model::load_file(path)));
//   auto program = facekit::Program::create(model);    // once: checks ops, picks kernels, plans memory
//   facekit::Session session(*program);                // per thread: owns the activation arena
//   // or, allocating nothing: Session::create_in(*program, buffer, (*program)->arena_size())
//   std::copy(pixels, pixels + n, session.input(0));   // or session.crop_input(0, image, crop)
//   session.run();                                     // no allocation, no branching on shapes
//   const float* scores = session.output(1);
//
// A Program is immutable and can be shared by any number of Sessions (threads). Each Session
// allocates its arena once (or uses caller memory: create_in); run() is a flat loop over prepared
// steps.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "../image/image_to_tensor.hpp"
#include "../model/model.hpp"
#include "../ops/op_table.hpp"
#include "activation_plan.hpp"
#include "backend.hpp"
#include "thread_pool.hpp"

namespace facekit {

class Session;

/// A model prepared for the CPU: the BackendProgram of the CPU backend (runtime/cpu_backend.hpp).
class Program final : public BackendProgram {
 public:
  /// Validates every op against its tensors, chooses each kernel for `Arch`, and plans memory.
  template <class Arch = default_arch>
  static Expected<std::shared_ptr<const Program>> create(std::shared_ptr<const Model> model);

  const Model& model() const noexcept override { return *model_; }
  std::size_t arena_size() const noexcept override { return plan_.arena_size; }
  Expected<std::unique_ptr<BackendSession>> new_session() const override;
  Expected<std::unique_ptr<BackendSession>> new_session_in(void* memory, std::size_t size) const override;
  const std::vector<CpuStep>& steps() const noexcept { return steps_; }
  /// Arena offset of an activation tensor (after aliasing).
  std::size_t offset(uint32_t tensor) const noexcept { return plan_.offsets[tensor]; }

 private:
  using CropFn = Status (*)(const ImageView&, const RotatedRect&, int, int, BorderMode, float, float, float*);
  Program() = default;
  std::shared_ptr<const Model> model_;
  std::vector<CpuStep> steps_;  // tensor indices set, pointers unbound
  ActivationPlan plan_;
  CropFn crop_ = nullptr;       // crop_to_tensor<Arch>
  friend class Session;
};

template <class Arch>
Expected<std::shared_ptr<const Program>> Program::create(std::shared_ptr<const Model> model) {
  if (!model) return Status::error("Program::create: model is null");
  const Model& m = *model;
  auto prog = std::shared_ptr<Program>(new Program());
  prog->model_ = model;
  prog->steps_.reserve(m.ops().size());
  for (std::size_t i = 0; i < m.ops().size(); ++i) {
    const OpInfo& op = m.ops()[i];
    CpuStep s;
    FACEKIT_RETURN_IF_ERROR(ops::prepare_cpu_step<Arch>(m, op, &s));
    s.op_index = int(i);
    if (!ops::aliases_input(op.type)) prog->steps_.push_back(s);
  }
  prog->plan_ = plan_activations(m);
  prog->crop_ = &crop_to_tensor<Arch>;
  return std::shared_ptr<const Program>(std::move(prog));
}

/// Per-thread execution state on the CPU: the activation arena and the steps bound to it.
class Session final : public BackendSession {
 public:
  explicit Session(std::shared_ptr<const Program> program)
      : BackendSession(&program->model()), program_(std::move(program)) {
    const Program& p = *program_;
    arena_ = detail::AlignedBytes::allocate(p.plan_.arena_size ? p.plan_.arena_size : kTensorAlignment);
    bind(arena_.ptr.get(), arena_.size);
  }
  /// A session whose arena is caller memory (firmware: a static buffer), so that it allocates
  /// nothing for activations: `memory` is 64-byte aligned, at least program->arena_size() bytes,
  /// and outlives the session. The error names the needed and the given sizes.
  static Expected<std::unique_ptr<Session>> create_in(std::shared_ptr<const Program> program, void* memory,
                                                      std::size_t size) {
    if (!program) return Status::error("Session::create_in: program is null");
    FACEKIT_RETURN_IF_ERROR(check_arena_memory(program->arena_size(), memory, size));
    return std::unique_ptr<Session>(new Session(std::move(program), memory, size));
  }
  /// create_in's check of caller memory for an arena of `needed` bytes.
  static Status check_arena_memory(std::size_t needed, const void* memory, std::size_t size) {
    if (memory == nullptr) return Status::error("arena memory is null (%zu bytes needed)", needed);
    const std::size_t misalign = std::size_t(reinterpret_cast<std::uintptr_t>(memory) % kTensorAlignment);
    if (misalign != 0)
      return Status::error("arena memory must be %zu-byte aligned (address %% %zu = %zu)", kTensorAlignment,
                           kTensorAlignment, misalign);
    if (size < needed)
      return Status::error("arena memory is %zu bytes, the model needs %zu (Program::arena_size)", size, needed);
    return Status::ok();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Runs every step. No allocation, no validation: the Program checked everything.
  Status run() noexcept override {
    for (const CpuStep& s : steps_) run_step(s);
    return Status::ok();
  }
  /// run(), adding each op's wall-clock seconds to seconds[op index]. The results are run()'s,
  /// bit for bit.
  Status run_profiled(double* seconds) noexcept override {
    for (const CpuStep& s : steps_) {
      const auto t0 = std::chrono::steady_clock::now();
      run_step(s);
      seconds[s.op_index] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return Status::ok();
  }
  /// Splits each op that splits (OpDef::split) into at most pool->num_threads() parts, fewer
  /// where a part would be too small to pay for the hand-off. Decided here, once.
  void set_thread_pool(ThreadPoolInterface* pool) noexcept override {
    pool_ = pool;
    const int threads = pool ? pool->num_threads() : 1;
    for (CpuStep& s : steps_) s.parts = parts_for(s, threads);
  }

  float* input(int i) noexcept override {
    return const_cast<float*>(tensor_ptr(program_->model().inputs()[std::size_t(i)]));
  }
  using BackendSession::crop_input;
  /// The host crop, read from the frame's image in place.
  Status crop_input(int i, BackendFrame& frame, const ImageCrop& crop) override {
    int w = 0, h = 0;
    FACEKIT_RETURN_IF_ERROR(image_input_size(i, &w, &h));
    return program_->crop_(frame.image(), crop.roi, w, h, crop.border, crop.range_min, crop.range_max, input(i));
  }
  const float* output(int i) noexcept override { return tensor_ptr(program_->model().outputs()[std::size_t(i)]); }
  /// Any tensor by index (activations live in the arena and hold the last run's values).
  const float* tensor(uint32_t t) const noexcept { return tensor_ptr(t); }
  const Program& program() const noexcept { return *program_; }

 private:
  Session(std::shared_ptr<const Program> program, void* memory, std::size_t size)
      : BackendSession(&program->model()), program_(std::move(program)) {
    bind(static_cast<unsigned char*>(memory), size);
  }
  /// Zeroes the arena and points every step at its tensors there.
  void bind(unsigned char* arena, std::size_t size) {
    arena_base_ = arena;
    arena_bytes_ = size;
    std::memset(arena, 0, size);
    steps_ = program_->steps_;
    for (CpuStep& s : steps_) {
      for (int i = 0; i < kMaxOpInputs; ++i) s.in[i] = s.inputs[i] == kNoTensor ? nullptr : step_tensor(s.inputs[i]);
      s.out = const_cast<float*>(step_tensor(s.output));
    }
  }
  /// tensor_ptr() of a tensor a step reads or writes.
  const float* step_tensor(uint32_t t) const noexcept {
    const TensorInfo& ti = program_->model().tensor(t);
    const std::size_t offset = program_->plan_.offsets[t];
    // The plan places every activation a step touches inside the arena (runtime/activation_plan.hpp).
    FACEKIT_ASSERT(ti.is_constant() || (offset != ActivationPlan::kNoOffset && offset + ti.size_bytes <= arena_bytes_));
    (void)ti;
    (void)offset;
    return tensor_ptr(t);
  }
  const float* tensor_ptr(uint32_t t) const noexcept {
    const TensorInfo& ti = program_->model().tensor(t);
    if (ti.is_constant()) return ti.f32();
    return reinterpret_cast<const float*>(arena_base_ + program_->plan_.offsets[t]);
  }

  // A part below this much arithmetic (about a microsecond of work) costs more to hand to another
  // thread than it saves. Measured on 2 cores: 200 kFLOP left most depthwise convs whole (1.25x on
  // the full-range detector), 50 kFLOP gives 1.4-1.55x on every network, 20 kFLOP no more.
  static constexpr double kMinPartFlops = 5e4;

  static int parts_for(const CpuStep& s, int threads) noexcept {
    if (threads <= 1 || !s.run_range || s.split_rows <= 1) return 1;
    const int blocks = (s.split_rows + s.split_align - 1) / s.split_align;
    int n = threads < blocks ? threads : blocks;
    const double worth = s.flops / kMinPartFlops;
    if (worth < double(n)) n = worth < 1.0 ? 1 : int(worth);
    return n;
  }

  void run_step(const CpuStep& s) noexcept {
    if (s.parts <= 1) {
      s.run(s);
      return;
    }
    pool_->parallel_for(s.parts, &run_part, const_cast<CpuStep*>(&s));
  }

  // Part i of a step: whole row blocks, the same split on every run.
  static void run_part(void* step, int i) noexcept {
    const CpuStep& s = *static_cast<const CpuStep*>(step);
    const int blocks = (s.split_rows + s.split_align - 1) / s.split_align;
    const int b0 = int(long(blocks) * i / s.parts), b1 = int(long(blocks) * (i + 1) / s.parts);
    const int end = b1 * s.split_align;
    s.run_range(s, b0 * s.split_align, end < s.split_rows ? end : s.split_rows);
  }

  std::shared_ptr<const Program> program_;
  detail::AlignedBytes arena_;  // empty when the caller gave the memory (create_in)
  unsigned char* arena_base_ = nullptr;
  std::size_t arena_bytes_ = 0;
  std::vector<CpuStep> steps_;
  ThreadPoolInterface* pool_ = nullptr;
};

inline Expected<std::unique_ptr<BackendSession>> Program::new_session() const {
  auto self = std::static_pointer_cast<const Program>(shared_from_this());
  return std::unique_ptr<BackendSession>(new Session(std::move(self)));
}
inline Expected<std::unique_ptr<BackendSession>> Program::new_session_in(void* memory, std::size_t size) const {
  auto self = std::static_pointer_cast<const Program>(shared_from_this());
  auto session = Session::create_in(std::move(self), memory, size);
  if (!session) return session.status();
  return std::unique_ptr<BackendSession>(std::move(*session));
}

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
