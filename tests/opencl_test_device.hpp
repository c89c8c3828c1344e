// tests/opencl_test_device.hpp - the OpenCL device the tests run on: platform 0, device 0, or
// FACEKIT_TEST_OPENCL_DEVICE=P:D. Without one the calling test fails, naming what is missing.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <facekit/opencl/opencl_backend.hpp>

namespace opencl_test {

inline void device_indices(int* p, int* d) {
  *p = 0;
  *d = 0;
  if (const char* e = std::getenv("FACEKIT_TEST_OPENCL_DEVICE")) std::sscanf(e, "%d:%d", p, d);
}

inline const facekit::Backend& device() {
  static std::shared_ptr<const facekit::Backend> backend;
  if (!backend) {
    int p = 0, d = 0;
    device_indices(&p, &d);
    auto b = facekit::opencl::open_backend(p, d);
    REQUIRE_MESSAGE(b, b.status().message()
                           << " (the OpenCL tests need a device: on Debian, apt-get install pocl-opencl-icd)");
    backend = *b;
  }
  return *backend;
}

}  // namespace opencl_test
