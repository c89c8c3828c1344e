// facekit/opencl/cl_common.hpp - OpenCL C shared by the op kernels: ClDevice::program() compiles
// it in front of every ClSource.
//
// The fused activation matches kernels/common.hpp's (Activation: 0 none, 1 relu, 2 relu6, 3 prelu
// with one alpha per channel). fk_div and fk_sqrt round as IEEE float32 does (OpenCL only asks
// 2.5 and 3 ulp of them): on a device with doubles they go through double, whose correctly
// rounded result rounds to the correctly rounded float (53 >= 2 * 24 + 2 bits); without doubles
// they are the device's own. Kernels that must match the CPU's rounding (a layer norm of near-equal
// values magnifies it) use them.
#pragma once

namespace facekit {
namespace opencl {

inline const char* const kClCommonSource = R"CLC(
#define FK_ACT_NONE 0
#define FK_ACT_RELU 1
#define FK_ACT_RELU6 2
#define FK_ACT_PRELU 3
inline float fk_activate(float v, int act, __global const float* alpha, int alpha_off, int c) {
  if (act == FK_ACT_RELU) return v > 0.0f ? v : 0.0f;
  if (act == FK_ACT_RELU6) return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
  if (act == FK_ACT_PRELU) return v >= 0.0f ? v : v * alpha[alpha_off + c];
  return v;
}
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
inline float fk_div(float a, float b) { return (float)((double)a / (double)b); }
inline float fk_sqrt(float a) { return (float)sqrt((double)a); }
#else
inline float fk_div(float a, float b) { return a / b; }
inline float fk_sqrt(float a) { return sqrt(a); }
#endif
)CLC";

}  // namespace opencl
}  // namespace facekit
