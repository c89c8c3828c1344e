// facekit/opencl/cl_device.hpp - OpenCL platforms and devices: listing them (`facekit devices`),
// and one device opened for facekit: its context and the programs built for it, each once.
//
//   auto devices = facekit::opencl::list_devices();           // platform x device, with names
//   auto dev = facekit::opencl::ClDevice::open(0, 0);          // platform 0, device 0
//   auto program = (*dev)->program(kMySource);                 // built once per context, cached
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cl_api.hpp"
#include "cl_common.hpp"

namespace facekit {
namespace opencl {

/// OpenCL C source of a group of kernels (compiled after cl_common.hpp's helpers); `name` names
/// it in build errors. Define each as a constant in its op file; its address keys the cache.
struct ClSource {
  const char* name;
  const char* text;
};

struct ClDeviceInfo {
  int platform = 0, device = 0;
  std::string platform_name, device_name, version;
  cl_device_type type = 0;
  cl_uint compute_units = 0;
  std::size_t max_work_group_size = 0;
  cl_ulong global_mem = 0, local_mem = 0;
  bool fp64 = false;
};

namespace detail {

/// A string property of an OpenCL object: `get(size, value, size_ret)` wraps clGet*Info.
template <class Get>
std::string info_string(Get get) {
  std::size_t n = 0;
  if (get(0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  get(n, &s[0], nullptr);
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

inline std::string platform_string(cl_platform_id p, cl_platform_info what) {
  return info_string([&](std::size_t n, void* v, std::size_t* r) { return clGetPlatformInfo(p, what, n, v, r); });
}

inline std::string device_string(cl_device_id d, cl_device_info what) {
  return info_string([&](std::size_t n, void* v, std::size_t* r) { return clGetDeviceInfo(d, what, n, v, r); });
}

inline Status platforms(std::vector<cl_platform_id>* out) {
  cl_uint n = 0;
  const cl_int e = clGetPlatformIDs(0, nullptr, &n);
  if (e == -1001 || (e == CL_SUCCESS && n == 0))
    return Status::error("no OpenCL platform: no driver (ICD) is installed or registered in /etc/OpenCL/vendors "
                         "(on Debian: apt-get install pocl-opencl-icd for the CPU, or the GPU vendor's ICD)");
  FACEKIT_CL_CHECK(e);
  out->resize(n);
  FACEKIT_CL_CHECK(clGetPlatformIDs(n, out->data(), nullptr));
  return Status::ok();
}

inline Status devices(cl_platform_id p, std::vector<cl_device_id>* out) {
  cl_uint n = 0;
  const cl_int e = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &n);
  if (e == CL_DEVICE_NOT_FOUND) {
    out->clear();
    return Status::ok();
  }
  FACEKIT_CL_CHECK(e);
  out->resize(n);
  FACEKIT_CL_CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n, out->data(), nullptr));
  return Status::ok();
}

inline ClDeviceInfo describe(int pi, int di, cl_platform_id p, cl_device_id d) {
  ClDeviceInfo info;
  info.platform = pi;
  info.device = di;
  info.platform_name = platform_string(p, CL_PLATFORM_NAME);
  info.device_name = device_string(d, CL_DEVICE_NAME);
  info.version = device_string(d, CL_DEVICE_VERSION);
  clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof info.type, &info.type, nullptr);
  clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info.compute_units, &info.compute_units, nullptr);
  clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info.max_work_group_size, &info.max_work_group_size,
                  nullptr);
  clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info.global_mem, &info.global_mem, nullptr);
  clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info.local_mem, &info.local_mem, nullptr);
  info.fp64 = device_string(d, CL_DEVICE_EXTENSIONS).find("cl_khr_fp64") != std::string::npos;
  return info;
}

}  // namespace detail

/// Every device of every platform, in index order (what --device opencl:P:D counts).
inline Expected<std::vector<ClDeviceInfo>> list_devices() {
  std::vector<cl_platform_id> ps;
  FACEKIT_RETURN_IF_ERROR(detail::platforms(&ps));
  std::vector<ClDeviceInfo> out;
  for (std::size_t pi = 0; pi < ps.size(); ++pi) {
    std::vector<cl_device_id> ds;
    FACEKIT_RETURN_IF_ERROR(detail::devices(ps[pi], &ds));
    for (std::size_t di = 0; di < ds.size(); ++di) out.push_back(detail::describe(int(pi), int(di), ps[pi], ds[di]));
  }
  return out;
}

/// One opened device: its context, and the programs built for it. Shared (shared_ptr) by the
/// backend, its programs and their sessions; program() may be called from any thread.
class ClDevice {
 public:
  ~ClDevice() {
    for (auto& p : programs_) clReleaseProgram(p.second);
    if (context_) clReleaseContext(context_);
  }
  ClDevice(const ClDevice&) = delete;
  ClDevice& operator=(const ClDevice&) = delete;

  static Expected<std::shared_ptr<ClDevice>> open(int platform, int device) {
    std::vector<cl_platform_id> ps;
    FACEKIT_RETURN_IF_ERROR(detail::platforms(&ps));
    if (platform < 0 || std::size_t(platform) >= ps.size())
      return Status::error("OpenCL platform %d does not exist (%zu platform(s); `facekit devices` lists them)",
                           platform, ps.size());
    std::vector<cl_device_id> ds;
    FACEKIT_RETURN_IF_ERROR(detail::devices(ps[std::size_t(platform)], &ds));
    if (device < 0 || std::size_t(device) >= ds.size())
      return Status::error("OpenCL platform %d has no device %d (%zu device(s); `facekit devices` lists them)",
                           platform, device, ds.size());
    std::shared_ptr<ClDevice> d(new ClDevice());
    d->device_ = ds[std::size_t(device)];
    d->info_ = detail::describe(platform, device, ps[std::size_t(platform)], d->device_);
    cl_int e = CL_SUCCESS;
    d->context_ = clCreateContext(nullptr, 1, &d->device_, nullptr, nullptr, &e);
    FACEKIT_CL_CHECK(e);
    d->name_ = "opencl:" + std::to_string(platform) + ":" + std::to_string(device) + " (" + d->info_.platform_name +
               " / " + d->info_.device_name + ")";
    return d;
  }

  cl_context context() const noexcept { return context_; }
  cl_device_id id() const noexcept { return device_; }
  const ClDeviceInfo& info() const noexcept { return info_; }
  /// "opencl:P:D (platform / device)".
  const std::string& name() const noexcept { return name_; }

  /// The program of `source`, built for this device on first use and kept; a failed build returns
  /// the compiler's log.
  Expected<cl_program> program(const ClSource& source) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = programs_.find(source.text);
    if (it != programs_.end()) return it->second;
    cl_int e = CL_SUCCESS;
    const char* texts[2] = {kClCommonSource, source.text};
    cl_program p = clCreateProgramWithSource(context_, 2, texts, nullptr, &e);
    FACEKIT_CL_CHECK(e);
    e = clBuildProgram(p, 1, &device_, "-cl-std=CL1.2", nullptr, nullptr);
    if (e != CL_SUCCESS) {
      std::size_t n = 0;
      clGetProgramBuildInfo(p, device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
      std::string log(n, '\0');
      if (n) clGetProgramBuildInfo(p, device_, CL_PROGRAM_BUILD_LOG, n, &log[0], nullptr);
      clReleaseProgram(p);
      // The log's start names the first error; Status::error's buffer is small, prefix() is not.
      Status s = Status::error("build log:\n%.480s", log.c_str());
      return s.prefix("clBuildProgram of OpenCL source '" + std::string(source.name) + "' on " + name_ + ": " +
                      cl_error_name(e));
    }
    programs_.emplace(source.text, p);
    return p;
  }

 private:
  ClDevice() = default;
  cl_device_id device_ = nullptr;
  cl_context context_ = nullptr;
  ClDeviceInfo info_;
  std::string name_;
  std::mutex mutex_;
  std::map<const char*, cl_program> programs_;  // keyed by the source text's address
};

}  // namespace opencl
}  // namespace facekit
