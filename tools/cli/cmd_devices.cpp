// facekit devices: what --device can name. The CPU always; OpenCL platforms and devices when the
// program was built with FACEKIT_WITH_OPENCL.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "facekit/runtime/cpu_backend.hpp"
#include "facekit/runtime/device.hpp"

namespace facekit_cli {

int cmd_devices(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("usage: facekit devices\n  lists what --device takes: cpu and opencl:PLATFORM:DEVICE\n");
    return 0;
  }
  if (!args.empty()) {
    std::fprintf(stderr, "facekit devices: takes no arguments ('%s')\n", args[0].c_str());
    return 1;
  }
  std::printf("%-12s %s\n", "cpu", facekit::cpu_backend()->name());
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL
  auto devices = facekit::opencl::list_devices();
  if (!devices) {
    std::printf("%-12s none: %s\n", "opencl", devices.status().message());
    return 0;
  }
  for (const facekit::opencl::ClDeviceInfo& d : *devices) {
    const char* type = (d.type & CL_DEVICE_TYPE_GPU) ? "GPU" : (d.type & CL_DEVICE_TYPE_CPU) ? "CPU" : "other";
    const std::string id = "opencl:" + std::to_string(d.platform) + ":" + std::to_string(d.device);
    std::printf("%-12s %s / %s (%s, %s, %u compute units, %.1f GiB%s)\n", id.c_str(), d.platform_name.c_str(), d.device_name.c_str(), type, d.version.c_str(), d.compute_units,
                double(d.global_mem) / (1024.0 * 1024.0 * 1024.0), d.fp64 ? ", fp64" : "");
  }
#else
  std::printf("%-12s not built in (configure with -DFACEKIT_WITH_OPENCL=ON)\n", "opencl");
#endif
  return 0;
}

}  // namespace facekit_cli
