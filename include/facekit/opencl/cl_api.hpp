// facekit/opencl/cl_api.hpp - the OpenCL C API as facekit uses it: version 1.2 (what PoCL, the
// GPU vendors' ICDs and ocl-icd all provide), every call checked, errors named.
//
//   FACEKIT_CL_CHECK(clFinish(queue));   // returns Status "clFinish: CL_OUT_OF_RESOURCES (-5)"
//
// Only the OpenCL backend includes this; with FACEKIT_WITH_OPENCL off nothing here is compiled.
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <cstring>

#include "../status.hpp"

namespace facekit {
namespace opencl {

/// The name of an OpenCL error code ("CL_INVALID_VALUE"), or "unknown OpenCL error".
inline const char* cl_error_name(cl_int e) noexcept {
  switch (e) {
#define FACEKIT_CL_ERR(name) \
  case name: return #name;
    FACEKIT_CL_ERR(CL_SUCCESS)
    FACEKIT_CL_ERR(CL_DEVICE_NOT_FOUND)
    FACEKIT_CL_ERR(CL_DEVICE_NOT_AVAILABLE)
    FACEKIT_CL_ERR(CL_COMPILER_NOT_AVAILABLE)
    FACEKIT_CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    FACEKIT_CL_ERR(CL_OUT_OF_RESOURCES)
    FACEKIT_CL_ERR(CL_OUT_OF_HOST_MEMORY)
    FACEKIT_CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE)
    FACEKIT_CL_ERR(CL_MEM_COPY_OVERLAP)
    FACEKIT_CL_ERR(CL_IMAGE_FORMAT_MISMATCH)
    FACEKIT_CL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    FACEKIT_CL_ERR(CL_BUILD_PROGRAM_FAILURE)
    FACEKIT_CL_ERR(CL_MAP_FAILURE)
    FACEKIT_CL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    FACEKIT_CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    FACEKIT_CL_ERR(CL_COMPILE_PROGRAM_FAILURE)
    FACEKIT_CL_ERR(CL_LINKER_NOT_AVAILABLE)
    FACEKIT_CL_ERR(CL_LINK_PROGRAM_FAILURE)
    FACEKIT_CL_ERR(CL_DEVICE_PARTITION_FAILED)
    FACEKIT_CL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    FACEKIT_CL_ERR(CL_INVALID_VALUE)
    FACEKIT_CL_ERR(CL_INVALID_DEVICE_TYPE)
    FACEKIT_CL_ERR(CL_INVALID_PLATFORM)
    FACEKIT_CL_ERR(CL_INVALID_DEVICE)
    FACEKIT_CL_ERR(CL_INVALID_CONTEXT)
    FACEKIT_CL_ERR(CL_INVALID_QUEUE_PROPERTIES)
    FACEKIT_CL_ERR(CL_INVALID_COMMAND_QUEUE)
    FACEKIT_CL_ERR(CL_INVALID_HOST_PTR)
    FACEKIT_CL_ERR(CL_INVALID_MEM_OBJECT)
    FACEKIT_CL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    FACEKIT_CL_ERR(CL_INVALID_IMAGE_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_SAMPLER)
    FACEKIT_CL_ERR(CL_INVALID_BINARY)
    FACEKIT_CL_ERR(CL_INVALID_BUILD_OPTIONS)
    FACEKIT_CL_ERR(CL_INVALID_PROGRAM)
    FACEKIT_CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE)
    FACEKIT_CL_ERR(CL_INVALID_KERNEL_NAME)
    FACEKIT_CL_ERR(CL_INVALID_KERNEL_DEFINITION)
    FACEKIT_CL_ERR(CL_INVALID_KERNEL)
    FACEKIT_CL_ERR(CL_INVALID_ARG_INDEX)
    FACEKIT_CL_ERR(CL_INVALID_ARG_VALUE)
    FACEKIT_CL_ERR(CL_INVALID_ARG_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_KERNEL_ARGS)
    FACEKIT_CL_ERR(CL_INVALID_WORK_DIMENSION)
    FACEKIT_CL_ERR(CL_INVALID_WORK_GROUP_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_WORK_ITEM_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_GLOBAL_OFFSET)
    FACEKIT_CL_ERR(CL_INVALID_EVENT_WAIT_LIST)
    FACEKIT_CL_ERR(CL_INVALID_EVENT)
    FACEKIT_CL_ERR(CL_INVALID_OPERATION)
    FACEKIT_CL_ERR(CL_INVALID_GL_OBJECT)
    FACEKIT_CL_ERR(CL_INVALID_BUFFER_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_MIP_LEVEL)
    FACEKIT_CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE)
    FACEKIT_CL_ERR(CL_INVALID_PROPERTY)
    FACEKIT_CL_ERR(CL_INVALID_IMAGE_DESCRIPTOR)
    FACEKIT_CL_ERR(CL_INVALID_COMPILER_OPTIONS)
    FACEKIT_CL_ERR(CL_INVALID_LINKER_OPTIONS)
    FACEKIT_CL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef FACEKIT_CL_ERR
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL driver is installed: the ICD loader found no platform)";
    default: return "unknown OpenCL error";
  }
}

/// A failed call as a Status: "clCreateBuffer: CL_OUT_OF_RESOURCES (-5)". `call` may be the whole
/// call expression; its function name is what is shown.
inline Status cl_error(const char* call, cl_int e) {
  return Status::error("%.*s: %s (%d)", int(std::strcspn(call, "( ")), call, cl_error_name(e), int(e));
}

}  // namespace opencl
}  // namespace facekit

/// Runs an OpenCL call returning cl_int and returns its error, named, from the enclosing function.
#define FACEKIT_CL_CHECK(call)                                                          \
  do {                                                                                  \
    const cl_int facekit_cl_err_ = (call);                                              \
    if (facekit_cl_err_ != CL_SUCCESS) return ::facekit::opencl::cl_error(#call, facekit_cl_err_); \
  } while (0)
