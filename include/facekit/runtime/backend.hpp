// facekit/runtime/backend.hpp - the seam between the pipelines and the device that runs the
// networks: a small interface in the shape of ggml's ggml_backend_i.
//
//   std::shared_ptr<facekit::Backend> cpu = facekit::cpu_backend();          // runtime/cpu_backend.hpp
//   auto program = cpu->prepare(model);      // once: ops validated, kernels chosen, memory planned
//   auto session = (*program)->new_session();  // per thread: owns the activation arena
//   auto frame = cpu->new_frame();           // per pipeline: the camera image, shared by its sessions
//   frame->set(image);                       // per frame, then any number of crops of it:
//   (*session)->crop_input(0, *frame, crop);  // or write (*session)->input(0) by hand
//   (*session)->run();
//   const float* scores = (*session)->output(1);
//
// The model file, its validation (ops/<name>.hpp: OpDef<T>::validate gives each op's typed Args,
// which every backend consumes) and the activation plan (runtime/activation_plan.hpp) are shared.
// A backend owns its kernels, its arena and the copies between host and device. The CPU backend
// (Program, Session) is one implementation; the OpenCL one (opencl/) another. Stages talk to
// BackendSession and BackendFrame only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "../image/image_to_tensor.hpp"
#include "../model/model.hpp"
#include "../status.hpp"

namespace facekit {

class ThreadPoolInterface;  // runtime/thread_pool.hpp

/// Which device runs the networks (MediaPipe's word for it).
enum class Delegate : uint8_t { cpu, opencl };

inline const char* delegate_name(Delegate d) noexcept { return d == Delegate::opencl ? "opencl" : "cpu"; }

/// The device of a pipeline: `delegate` with, for OpenCL, the platform and device indices
/// (`facekit devices` lists them).
struct DeviceOptions {
  Delegate delegate = Delegate::cpu;
  int platform = 0;
  int device = 0;
  /// When the OpenCL device cannot be used (no ICD, no device, a failed kernel build), run on the
  /// CPU instead of failing. Off by default: asking for a device and silently not getting it
  /// would hide the failure.
  bool cpu_fallback = false;
};

/// An image input filled from a camera image the way MediaPipe's ImageToTensorCalculator does:
/// the rotated rectangle `roi` (pixels) resampled to the input tensor's size, the bytes 0..255
/// mapped linearly onto [range_min, range_max].
struct ImageCrop {
  RotatedRect roi;
  BorderMode border = BorderMode::replicate;
  float range_min = 0.0f, range_max = 1.0f;
};

/// The camera image of one frame, shared by every session of a pipeline that crops it (the
/// detector's letterbox, the mesh model's ROI of each face). Backend::new_frame() makes one per
/// pipeline. On the CPU it only holds the view; a device backend's frame keeps the image in device
/// memory, uploaded once per frame by the first crop that needs it and read by all the others.
/// A BackendFrame made directly (on the stack) is a host frame: any backend accepts it (a device
/// then uploads the image for each crop).
class BackendFrame {
 public:
  BackendFrame() = default;
  BackendFrame(const BackendFrame&) = delete;
  BackendFrame& operator=(const BackendFrame&) = delete;
  virtual ~BackendFrame() = default;

  /// Starts a frame. The crops read `image` until the next set(): its pixels must stay valid and
  /// unchanged until then, and the next set() must come after the sessions' run() (a crop on a
  /// device is read there).
  void set(const ImageView& image) noexcept {
    image_ = image;
    ++serial_;
  }
  const ImageView& image() const noexcept { return image_; }
  /// Counts set(): a device copy of the image made at serial s is current while serial() == s.
  uint64_t serial() const noexcept { return serial_; }
  /// The backend whose frame this is (cpu for a host frame).
  Delegate delegate() const noexcept { return delegate_; }

 protected:
  explicit BackendFrame(Delegate delegate) noexcept : delegate_(delegate) {}

 private:
  ImageView image_{};
  uint64_t serial_ = 0;
  Delegate delegate_ = Delegate::cpu;
};

/// Caller-owned memory for a session's activations (firmware: a static buffer): 64-byte aligned,
/// at least the program's arena_size() bytes, alive as long as the session. Empty (the default):
/// the session allocates its own.
struct ArenaMemory {
  void* data = nullptr;
  std::size_t size = 0;
  bool empty() const noexcept { return data == nullptr && size == 0; }
};

/// One prepared network on one device, with its own activation memory: one per thread.
class BackendSession {
 public:
  virtual ~BackendSession() = default;
  /// Host memory of input `i` (model order). What is written there before run() is the input.
  virtual float* input(int i) noexcept = 0;
  /// Fills image input `i` ([1, H, W, 3]) with `crop` of the frame's image, on the device that
  /// runs the network. The bytes match the CPU's crop_to_tensor. A frame of this session's
  /// backend (Backend::new_frame) shares one device copy of the image between the sessions.
  virtual Status crop_input(int i, BackendFrame& frame, const ImageCrop& crop) = 0;
  /// The same for an image outside any frame (a device uploads it for this crop alone).
  Status crop_input(int i, const ImageView& image, const ImageCrop& crop) {
    BackendFrame frame;
    frame.set(image);
    return crop_input(i, frame, crop);
  }
  /// Runs the network. Allocates nothing.
  virtual Status run() noexcept = 0;
  /// Output `i` (model order) in host memory after run(); valid until the next run().
  virtual const float* output(int i) noexcept = 0;
  /// The per-op profile: run(), adding each op's seconds on the device to seconds[op index]
  /// (model().op_count() of them; ops that run nothing, as reshapes, add none). Slower than run()
  /// (it waits for each op); the outputs are run()'s.
  virtual Status run_profiled(double* seconds) noexcept = 0;
  /// Lets run() split the ops over `pool`'s threads (null: the calling thread only). The results
  /// are bit-identical to one thread's. The pool must outlive its use here. A backend whose device
  /// has its own parallelism (OpenCL) ignores it.
  virtual void set_thread_pool(ThreadPoolInterface* pool) noexcept { (void)pool; }

  const Model& model() const noexcept { return *model_; }
  const TensorInfo& input_info(int i) const noexcept { return model_->tensor(model_->inputs()[std::size_t(i)]); }
  const TensorInfo& output_info(int i) const noexcept { return model_->tensor(model_->outputs()[std::size_t(i)]); }

 protected:
  /// crop_input's check: input `i` must be an image tensor [1, H, W, 3]; its width and height.
  Status image_input_size(int i, int* w, int* h) const {
    const TensorInfo& t = input_info(i);
    if (t.rank != 4 || t.dims[0] != 1 || t.dims[3] != 3)
      return Status::error("crop_input: input %d '%s' is not an image tensor [1, H, W, 3]", i, t.name);
    *w = t.dims[2];
    *h = t.dims[1];
    return Status::ok();
  }
  explicit BackendSession(const Model* model) noexcept : model_(model) {}
  BackendSession(const BackendSession&) = default;
  BackendSession& operator=(const BackendSession&) = default;

 private:
  const Model* model_;  // kept alive by the program the session was made from
};

/// A model prepared for one device: immutable, shared by the sessions (threads) made from it.
class BackendProgram : public std::enable_shared_from_this<BackendProgram> {
 public:
  virtual ~BackendProgram() = default;
  virtual const Model& model() const noexcept = 0;
  /// Bytes of the activation arena each session allocates (once).
  virtual std::size_t arena_size() const noexcept = 0;
  /// A new session with its own arena; it keeps this program alive. The program must be owned by
  /// a shared_ptr (Backend::prepare returns one).
  virtual Expected<std::unique_ptr<BackendSession>> new_session() const = 0;
  /// A new session whose arena is caller memory (`size` bytes, 64-byte aligned, at least
  /// arena_size(), outliving the session): nothing is allocated for activations. The CPU backend
  /// has it; a device backend, whose arena lives on the device, says so.
  virtual Expected<std::unique_ptr<BackendSession>> new_session_in(void* memory, std::size_t size) const {
    (void)memory;
    (void)size;
    return Status::error("this backend keeps its activations in device memory: caller arena memory is for the CPU");
  }
};

/// A device: prepares models for itself. Shared by every pipeline that runs on it.
class Backend {
 public:
  virtual ~Backend() = default;
  /// "cpu (avx512bw)", "opencl: <platform> / <device>".
  virtual const char* name() const noexcept = 0;
  virtual Delegate delegate() const noexcept = 0;
  /// Validates every op, chooses the kernels and plans the memory, once.
  virtual Expected<std::shared_ptr<const BackendProgram>> prepare(std::shared_ptr<const Model> model) const = 0;
  /// A frame for the sessions of one pipeline on this device (see BackendFrame): made once, set()
  /// per frame. The default is a host frame (what the CPU needs).
  virtual std::unique_ptr<BackendFrame> new_frame() const { return std::unique_ptr<BackendFrame>(new BackendFrame()); }
};

/// prepare() + new_session() (new_session_in(`arena`) when it is not empty): a model's session on
/// `backend`; errors are prefixed with `what`.
inline Expected<std::unique_ptr<BackendSession>> make_session(const Backend& backend, std::shared_ptr<const Model> model,
                                                              const char* what, ArenaMemory arena = {}) {
  auto program = backend.prepare(std::move(model));
  if (!program) {
    Status s = program.status();
    return s.prefix(what);
  }
  auto session = arena.empty() ? (*program)->new_session() : (*program)->new_session_in(arena.data, arena.size);
  if (!session) {
    Status s = session.status();
    return s.prefix(what);
  }
  return session;
}

}  // namespace facekit
