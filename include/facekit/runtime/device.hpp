// facekit/runtime/device.hpp - the Backend (and the CPU thread pool) for a task's options.
//
//   auto backend = facekit::open_backend(options);   // cpu, or opencl:P:D with FACEKIT_WITH_OPENCL
//   if (!backend) ... backend.status().message() says why (no ICD, no such device, build log)
#pragma once

#include <memory>

#include "backend.hpp"
#include "cpu_backend.hpp"
#include "thread_pool.hpp"
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL
#include "../opencl/opencl_backend.hpp"
#endif

namespace facekit {

inline Expected<std::shared_ptr<const Backend>> open_backend(const DeviceOptions& device) {
  if (device.delegate == Delegate::cpu) return cpu_backend();
  if (device.delegate != Delegate::opencl)
    return Status::error("delegate %d is not cpu or opencl", int(device.delegate));
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL
  auto cl = opencl::open_backend(device.platform, device.device);
  if (cl || !device.cpu_fallback) return cl;
  return cpu_backend();
#else
  if (device.cpu_fallback) return cpu_backend();
  return Status::error("delegate opencl: this program was built without OpenCL (define FACEKIT_WITH_OPENCL=1 "
                       "and link OpenCL; CMake: -DFACEKIT_WITH_OPENCL=ON)");
#endif
}

/// Most threads a task's num_threads may ask for.
constexpr int kMaxThreads = 256;

/// The thread pool of a task's options: options.thread_pool, or a pool of options.num_threads
/// that `owned` keeps (null with one thread: the ops run on the caller).
template <class Options>
Expected<ThreadPoolInterface*> thread_pool_of(const Options& o, std::unique_ptr<ThreadPool>* owned) {
  if (o.thread_pool) return o.thread_pool;
  if (o.num_threads < 1 || o.num_threads > kMaxThreads)
    return Status::error("num_threads %d is outside 1..%d", o.num_threads, kMaxThreads);
  if (o.num_threads == 1) return static_cast<ThreadPoolInterface*>(nullptr);
  *owned = std::make_unique<ThreadPool>(o.num_threads);
  return static_cast<ThreadPoolInterface*>(owned->get());
}

/// The DeviceOptions of a task's options (FaceDetectorOptions, FaceLandmarkerOptions).
template <class Options>
DeviceOptions device_options_of(const Options& o) noexcept {
  DeviceOptions d;
  d.delegate = o.delegate;
  d.platform = o.opencl_platform;
  d.device = o.opencl_device;
  d.cpu_fallback = o.cpu_fallback;
  return d;
}

}  // namespace facekit
