// facekit/opencl/opencl_backend.hpp - the OpenCL backend: the Backend interface
// (runtime/backend.hpp) on one OpenCL device.
//
//   auto backend = facekit::opencl::open_backend(0, 0);   // platform 0, device 0
//   auto session = facekit::make_session(**backend, model, "detector");
//
// A program uploads the model's constants once, into one device buffer shared by its sessions.
// A session owns one arena buffer laid out by the shared activation plan, its kernels with their
// arguments set once, and host copies of the inputs and outputs. run() uploads the inputs written
// through input() (a device crop writes its input in place), enqueues the launches, and reads the
// outputs back: one upload and one download per run, nothing allocated. The camera image goes up
// once per frame for all the sessions of a pipeline: the ClFrame that ClBackend::new_frame() makes
// (opencl/cl_crop.hpp) keeps it on the device for every crop_input of that frame.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../image/image_to_tensor.hpp"
#include "../runtime/activation_plan.hpp"
#include "../runtime/backend.hpp"
#include "cl_api.hpp"
#include "cl_crop.hpp"
#include "cl_device.hpp"
#include "cl_op_table.hpp"
#include "cl_step.hpp"

namespace facekit {
namespace opencl {

class ClProgram;

class ClSession final : public BackendSession {
 public:
  ~ClSession() override {
    if (profiling_queue_) clReleaseCommandQueue(profiling_queue_);
    for (cl_kernel k : kernels_) clReleaseKernel(k);
    if (arena_) clReleaseMemObject(arena_);
    if (queue_) clReleaseCommandQueue(queue_);
  }

  static Expected<std::unique_ptr<BackendSession>> create(std::shared_ptr<const ClProgram> program);

  float* input(int i) noexcept override {
    on_device_[std::size_t(i)] = false;
    return host_inputs_[std::size_t(i)].data();
  }
  using BackendSession::crop_input;
  Status crop_input(int i, BackendFrame& frame, const ImageCrop& crop) override;
  Status run() noexcept override;
  const float* output(int i) noexcept override { return host_outputs_[std::size_t(i)].data(); }
  Status run_profiled(double* seconds) noexcept override;
  /// Camera images this session's crops uploaded (into a shared frame or its own): a test's count.
  uint64_t image_uploads() const noexcept { return image_uploads_; }

 private:
  explicit ClSession(std::shared_ptr<const ClProgram> program);
  /// run() on `queue`; with `seconds`, each launch is timed by its profiling event.
  Status run_on(cl_command_queue queue, double* seconds) noexcept;
  std::shared_ptr<const ClProgram> program_;
  cl_command_queue queue_ = nullptr;
  cl_command_queue profiling_queue_ = nullptr;  // made on the first run_profiled()
  cl_mem arena_ = nullptr;
  std::vector<cl_kernel> kernels_;
  std::vector<ClLaunch> launches_;
  std::vector<std::vector<float>> host_inputs_, host_outputs_;
  std::vector<bool> on_device_;  // input i was written on the device (crop) since the last run
  ClDeviceCrop crop_;            // crop_input's kernel
  ClFrame own_frame_;            // the device image of a crop from a host frame (uploaded per crop)
  uint64_t image_uploads_ = 0;
};

class ClProgram final : public BackendProgram {
 public:
  ~ClProgram() override {
    if (constants_) clReleaseMemObject(constants_);
  }
  static Expected<std::shared_ptr<const BackendProgram>> create(std::shared_ptr<ClDevice> device,
                                                                std::shared_ptr<const Model> model) {
    if (!model) return Status::error("opencl: model is null");
    const Model& m = *model;
    std::shared_ptr<ClProgram> p(new ClProgram());
    p->device_ = std::move(device);
    p->model_ = model;
    p->ops_.resize(m.ops().size());
    for (std::size_t i = 0; i < m.ops().size(); ++i)
      FACEKIT_RETURN_IF_ERROR(validate_op(m, m.ops()[i], &p->ops_[i]));
    p->plan_ = plan_activations(m);
    // Every constant, 64-byte aligned, in one buffer.
    const std::size_t nt = std::size_t(m.tensor_count());
    p->const_offsets_.assign(nt, 0);
    std::size_t bytes = 0;
    for (std::size_t t = 0; t < nt; ++t) {
      const TensorInfo& ti = m.tensor(uint32_t(t));
      if (!ti.is_constant()) continue;
      p->const_offsets_[t] = bytes;
      bytes += (ti.size_bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
    }
    std::vector<unsigned char> staging(bytes ? bytes : 4, 0);
    for (std::size_t t = 0; t < nt; ++t) {
      const TensorInfo& ti = m.tensor(uint32_t(t));
      if (ti.is_constant() && ti.size_bytes) std::memcpy(staging.data() + p->const_offsets_[t], ti.f32(), ti.size_bytes);
    }
    cl_int e = CL_SUCCESS;
    p->constants_ = clCreateBuffer(p->device_->context(), CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, staging.size(),
                                   staging.data(), &e);
    FACEKIT_CL_CHECK(e);
    return std::shared_ptr<const BackendProgram>(std::move(p));
  }

  const Model& model() const noexcept override { return *model_; }
  std::size_t arena_size() const noexcept override { return plan_.arena_size; }
  Expected<std::unique_ptr<BackendSession>> new_session() const override {
    return ClSession::create(std::static_pointer_cast<const ClProgram>(shared_from_this()));
  }
  ClDevice& device() const noexcept { return *device_; }

 private:
  ClProgram() = default;
  friend class ClSession;
  std::shared_ptr<ClDevice> device_;
  std::shared_ptr<const Model> model_;
  std::vector<ClOpArgs> ops_;
  ActivationPlan plan_;
  std::vector<std::size_t> const_offsets_;
  cl_mem constants_ = nullptr;
};

inline ClSession::ClSession(std::shared_ptr<const ClProgram> program)
    : BackendSession(&program->model()), program_(std::move(program)) {}

inline Expected<std::unique_ptr<BackendSession>> ClSession::create(std::shared_ptr<const ClProgram> program) {
  const ClProgram& p = *program;
  const Model& m = p.model();
  ClDevice& dev = p.device();
  std::unique_ptr<ClSession> s(new ClSession(program));
  cl_int e = CL_SUCCESS;
  s->queue_ = clCreateCommandQueue(dev.context(), dev.id(), 0, &e);
  FACEKIT_CL_CHECK(e);
  s->arena_ = clCreateBuffer(dev.context(), CL_MEM_READ_WRITE, p.plan_.arena_size ? p.plan_.arena_size : 4, nullptr, &e);
  FACEKIT_CL_CHECK(e);
  const ClTensorMap map{s->arena_, p.constants_, p.plan_.offsets.data(), p.const_offsets_.data()};
  ClStepBuilder b(dev, m, map, &s->launches_, &s->kernels_);
  for (std::size_t i = 0; i < p.ops_.size(); ++i) {
    b.begin(m.ops()[i], int(i));
    prepare_step(b, p.ops_[i]);
    if (!b.status()) return b.status();
  }
  for (uint32_t t : m.inputs()) s->host_inputs_.emplace_back(m.tensor(t).elements(), 0.0f);
  for (uint32_t t : m.outputs()) s->host_outputs_.emplace_back(m.tensor(t).elements(), 0.0f);
  s->on_device_.assign(m.inputs().size(), false);
  return std::unique_ptr<BackendSession>(std::move(s));
}

inline Status ClSession::crop_input(int i, BackendFrame& frame, const ImageCrop& crop) {
  int w = 0, h = 0;
  FACEKIT_RETURN_IF_ERROR(image_input_size(i, &w, &h));
  ClDevice& dev = program_->device();
  if (!ClDeviceCrop::supported(dev))  // no doubles: the host crop, uploaded by run()
    return crop_to_tensor(frame.image(), crop.roi, w, h, crop.border, crop.range_min, crop.range_max, input(i));
  // A ClFrame keeps one device copy per context for all its sessions; a host frame's image is
  // copied into this session's own buffer for this crop.
  ClFrame* device_frame = &own_frame_;
  if (frame.delegate() == Delegate::opencl)
    device_frame = static_cast<ClFrame*>(&frame);  // only ClFrame says opencl
  else
    own_frame_.set(frame.image());
  const std::size_t at = program_->plan_.offsets[model().inputs()[std::size_t(i)]] / sizeof(float);
  bool uploaded = false;
  const Status st = crop_.run(dev, queue_, *device_frame, arena_, at, crop, w, h, &uploaded);
  if (uploaded) ++image_uploads_;
  FACEKIT_RETURN_IF_ERROR(st);
  on_device_[std::size_t(i)] = true;
  return Status::ok();
}

inline Status ClSession::run() noexcept { return run_on(queue_, nullptr); }

inline Status ClSession::run_profiled(double* seconds) noexcept {
  if (!profiling_queue_) {
    const ClDevice& dev = program_->device();
    cl_int e = CL_SUCCESS;
    profiling_queue_ = clCreateCommandQueue(dev.context(), dev.id(), CL_QUEUE_PROFILING_ENABLE, &e);
    FACEKIT_CL_CHECK(e);
  }
  FACEKIT_CL_CHECK(clFinish(queue_));  // a device crop was enqueued there: finish it first
  return run_on(profiling_queue_, seconds);
}

inline Status ClSession::run_on(cl_command_queue queue, double* seconds) noexcept {
  const Model& m = model();
  const ClProgram& p = *program_;
  for (std::size_t i = 0; i < host_inputs_.size(); ++i) {
    if (!on_device_[i]) {
      const uint32_t t = m.inputs()[i];
      FACEKIT_CL_CHECK(clEnqueueWriteBuffer(queue, arena_, CL_FALSE, p.plan_.offsets[t], m.tensor(t).size_bytes,
                                            host_inputs_[i].data(), 0, nullptr, nullptr));
    }
    on_device_[i] = false;
  }
  for (const ClLaunch& l : launches_) {
    cl_event ev = nullptr;
    const cl_int e = clEnqueueNDRangeKernel(queue, l.kernel, l.dims, nullptr, l.global, l.local[0] ? l.local : nullptr,
                                            0, nullptr, seconds ? &ev : nullptr);
    if (e != CL_SUCCESS) return cl_error("clEnqueueNDRangeKernel", e).prefix(std::string("opencl op ") + l.op_name);
    if (seconds) {
      cl_ulong t0 = 0, t1 = 0;
      cl_int w = clWaitForEvents(1, &ev);
      if (w == CL_SUCCESS) w = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, nullptr);
      if (w == CL_SUCCESS) w = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
      clReleaseEvent(ev);
      if (w != CL_SUCCESS) return cl_error("clGetEventProfilingInfo", w);
      seconds[l.op_index] += double(t1 - t0) * 1e-9;
    }
  }
  for (std::size_t i = 0; i < host_outputs_.size(); ++i) {
    const uint32_t t = m.outputs()[i];
    FACEKIT_CL_CHECK(clEnqueueReadBuffer(queue, arena_, i + 1 == host_outputs_.size() ? CL_TRUE : CL_FALSE,
                                         p.plan_.offsets[t], m.tensor(t).size_bytes, host_outputs_[i].data(), 0,
                                         nullptr, nullptr));
  }
  if (host_outputs_.empty()) FACEKIT_CL_CHECK(clFinish(queue));
  return Status::ok();
}

/// The Backend of one OpenCL device.
class ClBackend final : public Backend {
 public:
  explicit ClBackend(std::shared_ptr<ClDevice> device) : device_(std::move(device)) {}
  const char* name() const noexcept override { return device_->name().c_str(); }
  Delegate delegate() const noexcept override { return Delegate::opencl; }
  Expected<std::shared_ptr<const BackendProgram>> prepare(std::shared_ptr<const Model> model) const override {
    auto p = ClProgram::create(device_, std::move(model));
    if (!p) {
      Status s = p.status();
      return s.prefix(device_->name());
    }
    return p;
  }
  /// A ClFrame: the pipeline's camera image, uploaded once per frame for all its sessions.
  std::unique_ptr<BackendFrame> new_frame() const override { return std::unique_ptr<BackendFrame>(new ClFrame()); }
  ClDevice& device() const noexcept { return *device_; }

 private:
  std::shared_ptr<ClDevice> device_;
};

/// The backend of OpenCL platform `platform`, device `device`: opened once per process and shared
/// (its context and built programs with it).
inline Expected<std::shared_ptr<const Backend>> open_backend(int platform, int device) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, std::weak_ptr<const Backend>> open;
  std::lock_guard<std::mutex> lock(mutex);
  std::weak_ptr<const Backend>& slot = open[{platform, device}];
  if (auto b = slot.lock()) return b;
  auto dev = ClDevice::open(platform, device);
  if (!dev) {
    Status s = dev.status();
    return s.prefix("delegate opencl:" + std::to_string(platform) + ":" + std::to_string(device));
  }
  std::shared_ptr<const Backend> b = std::make_shared<ClBackend>(std::move(*dev));
  slot = b;
  return b;
}

}  // namespace opencl
}  // namespace facekit
