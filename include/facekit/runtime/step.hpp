// facekit/runtime/step.hpp - one prepared op: the kernel chosen at load plus everything it needs.
//
// The ops layer (ops/*.hpp) validates an op and fills a Step once, when a model is prepared;
// the executor then binds tensor addresses and runs `step.run(step)` for each step in order.
// Nothing in a Step is decided per inference.
#pragma once

#include "../kernels/common.hpp"
#include "../op_types.hpp"

namespace facekit {

struct Step;
using StepFn = void (*)(const Step&);

struct Step {
  StepFn run = nullptr;
  const char* name = "";             ///< the op's name, for messages and profiles
  OpType type = OpType::conv2d;
  uint32_t inputs[kMaxOpInputs];     ///< tensor indices (kNoTensor = absent)
  int input_count = 0;
  uint32_t output = kNoTensor;

  // Bound by the executor: activations point into the session's arena, constants into the model.
  const float* in[kMaxOpInputs] = {};
  float* out = nullptr;

  // Kernel selection and geometry (which members are used depends on `type`).
  kernels::Conv2dGeometry conv{};
  kernels::Conv2dFn conv_fn = nullptr;
  kernels::Pool2dGeometry pool{};
  kernels::Pool2dFn pool_fn = nullptr;
  Activation activation = Activation::none;
  int residual_c = 0;    ///< conv: channels of the residual input; add: channels of b
  int pixels = 0;        ///< elementwise: number of pixels (product of the non-channel dims)
  int channels = 0;      ///< elementwise: channels of the output
  std::size_t count = 0; ///< elementwise: total elements
  // concat: output = for each outer index, each input's inner block in turn
  int outer = 0;
  int inner[kMaxOpInputs] = {};
  // pad
  int pad_in_dims[4] = {};
  int pad_before[4] = {};
  int pad_out_dims[4] = {};
  float pad_value = 0.0f;
  // Scalar parameters of ops that have no geometry of their own (the attention mesh's transform
  // ops; see ops/spatial_transform.hpp for which index means what).
  int iparams[4] = {};
  float fparams[4] = {};
};

}  // namespace facekit
