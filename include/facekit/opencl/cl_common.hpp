// facekit/opencl/cl_common.hpp - OpenCL C shared by the op kernels: ClDevice::program() compiles
// it in front of every ClSource.
//
// The fused activation matches kernels/common.hpp's (Activation: 0 none, 1 relu, 2 relu6, 3 prelu
// with one alpha per channel).
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
)CLC";

}  // namespace opencl
}  // namespace facekit
