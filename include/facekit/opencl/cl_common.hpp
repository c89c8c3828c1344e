// facekit/opencl/cl_common.hpp - OpenCL C shared by the op kernels: ClDevice::program() compiles
// it in front of every ClSource.
//
// The fused activation matches kernels/common.hpp's (Activation: 0 none, 1 relu, 2 relu6, 3 prelu
// with one alpha per channel); fk_load16 / fk_store16 move a packed tile's 16 channels. fk_div and fk_sqrt round as IEEE float32 does (OpenCL only asks
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

// Sixteen channels at a time (a packed tile; kernels/pack.hpp): min(n, 16) floats from p, zeros
// after them (n may be <= 0). `room` floats are readable from p (the rest of the tensor): with 16
// of them, one vector load, masked.
inline float16 fk_load16(__global const float* p, int n, int room) {
  if (n >= 16) return vload16(0, p);
  const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  if (room >= 16) return select((float16)0.0f, vload16(0, p), lane < n);
  float v[16];
  for (int j = 0; j < 16; ++j) v[j] = j < n ? p[j] : 0.0f;
  return vload16(0, v);
}

// Stores the first min(n, 16) floats of v at p.
inline void fk_store16(float16 v, __global float* p, int n) {
  if (n >= 16) {
    vstore16(v, 0, p);
    return;
  }
  float t[16];
  vstore16(v, 0, t);
  for (int j = 0; j < n; ++j) p[j] = t[j];
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
