// facekit/opencl/cl_step.hpp - what an op's OpenCL definition (opencl/ops/<name>.hpp) sees when a
// session prepares it: ClStepBuilder creates the op's kernels, sets their arguments once (the
// session's buffers and offsets never change) and records the launches that run() enqueues.
//
//   template <>
//   struct ClOpDef<OpType::relu> {
//     static void prepare(ClStepBuilder& b, const ops::OpDef<OpType::relu>::Args& a) {
//       ClKernelArgs k = b.kernel(kElementwiseSource, "f32_relu");
//       k.tensor(b.input(0)).tensor(b.output()).value(cl_int(a.count));
//       b.launch(k, {a.count});
//     }
//   };
//
// Tensors are passed as two arguments, the buffer and the element offset in it:
//   __kernel void f32_relu(__global const float* x, int x_off, __global float* y, int y_off, int n)
// An absent optional input passes the arena and offset -1. Errors are sticky: the first failed
// call is what the builder's status() reports, naming the op, the kernel and the OpenCL call.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "../model/model.hpp"
#include "../op_types.hpp"
#include "cl_api.hpp"
#include "cl_device.hpp"

namespace facekit {
namespace opencl {

/// One kernel launch of a prepared step.
struct ClLaunch {
  cl_kernel kernel = nullptr;
  cl_uint dims = 1;
  std::size_t global[3] = {1, 1, 1};
  std::size_t local[3] = {0, 0, 0};  ///< all 0: the driver chooses
  const char* op_name = "";
  int op_index = 0;                  ///< the model op it belongs to (profiles)
};

/// Where the session's tensors live on the device (set by the session, read by the builder).
struct ClTensorMap {
  cl_mem arena = nullptr;      ///< activations (offsets: ActivationPlan)
  cl_mem constants = nullptr;  ///< every constant tensor of the model (the program's, shared)
  const std::size_t* arena_offsets = nullptr;  ///< bytes, per tensor
  const std::size_t* const_offsets = nullptr;  ///< bytes, per tensor
};

class ClStepBuilder;

/// A kernel whose arguments are being set, in order.
class ClKernelArgs {
 public:
  /// The tensor's buffer and element offset (two arguments); kNoTensor passes (arena, -1).
  ClKernelArgs& tensor(uint32_t t);
  /// A scalar or small struct argument (cl_int, cl_float, ...).
  template <class T>
  ClKernelArgs& value(const T& v);
  /// A raw buffer and element offset.
  ClKernelArgs& buffer(cl_mem mem, cl_int offset);
  cl_kernel kernel() const noexcept { return kernel_; }

 private:
  friend class ClStepBuilder;
  ClKernelArgs(ClStepBuilder* b, cl_kernel k, const char* name) : builder_(b), kernel_(k), name_(name) {}
  void set(std::size_t size, const void* value);
  ClStepBuilder* builder_;
  cl_kernel kernel_;
  const char* name_;
  cl_uint index_ = 0;
};

class ClStepBuilder {
 public:
  ClStepBuilder(ClDevice& device, const Model& model, const ClTensorMap& map, std::vector<ClLaunch>* launches,
                std::vector<cl_kernel>* kernels)
      : device_(device), model_(model), map_(map), launches_(launches), kernels_(kernels) {}

  /// Starts an op; the session calls it before the op's prepare().
  void begin(const OpInfo& op, int op_index) {
    op_ = &op;
    op_index_ = op_index;
  }

  const Model& model() const noexcept { return model_; }
  const OpInfo& op() const noexcept { return *op_; }
  const ClDeviceInfo& device() const noexcept { return device_.info(); }
  /// The op's input tensor `i` (kNoTensor when absent or beyond its count) and its output `i`.
  uint32_t input(int i) const noexcept { return i < op_->input_count ? op_->inputs[i] : kNoTensor; }
  uint32_t output(int i = 0) const noexcept { return op_->outputs[i]; }
  const TensorInfo& tensor_info(uint32_t t) const noexcept { return model_.tensor(t); }

  /// A kernel of `source` (built once per device), owned by the session.
  ClKernelArgs kernel(const ClSource& source, const char* name) {
    if (!status_) return ClKernelArgs(this, nullptr, name);
    auto program = device_.program(source);
    if (!program) {
      fail(program.status());
      return ClKernelArgs(this, nullptr, name);
    }
    cl_int e = CL_SUCCESS;
    cl_kernel k = clCreateKernel(*program, name, &e);
    if (e != CL_SUCCESS) {
      fail(cl_error("clCreateKernel", e).prefix(std::string("kernel ") + name));
      return ClKernelArgs(this, nullptr, name);
    }
    kernels_->push_back(k);
    return ClKernelArgs(this, k, name);
  }

  /// Enqueue `k` over `global` work items (1 to 3 dimensions) in groups of `local` (empty: the
  /// driver chooses). Each global size is rounded up to a multiple of its local size: kernels
  /// check their bounds.
  void launch(const ClKernelArgs& k, std::initializer_list<std::size_t> global,
              std::initializer_list<std::size_t> local = {}) {
    if (!status_) return;
    if (global.size() < 1 || global.size() > 3 || (local.size() != 0 && local.size() != global.size()))
      return fail(Status::error("launch of %s: %zu global and %zu local sizes", k.name_, global.size(), local.size()));
    ClLaunch l;
    l.kernel = k.kernel_;
    l.dims = cl_uint(global.size());
    std::size_t i = 0;
    for (std::size_t g : global) l.global[i++] = g ? g : 1;
    i = 0;
    for (std::size_t s : local) {
      l.local[i] = s;
      if (s) l.global[i] = (l.global[i] + s - 1) / s * s;
      ++i;
    }
    l.op_name = op_->name;
    l.op_index = op_index_;
    launches_->push_back(l);
  }

  /// Records an error (the first one is kept), prefixed with the op.
  void fail(Status s) {
    if (status_) status_ = s.prefix(std::string("opencl op ") + (op_ ? op_->name : "?") + " (" +
                                    (op_ ? op_type_name(op_->type) : "?") + ")");
  }
  const Status& status() const noexcept { return status_; }

 private:
  friend class ClKernelArgs;
  ClDevice& device_;
  const Model& model_;
  ClTensorMap map_;
  std::vector<ClLaunch>* launches_;
  std::vector<cl_kernel>* kernels_;
  const OpInfo* op_ = nullptr;
  int op_index_ = 0;
  Status status_;
};

inline void ClKernelArgs::set(std::size_t size, const void* value) {
  if (!kernel_ || !builder_->status_) return;
  const cl_int e = clSetKernelArg(kernel_, index_, size, value);
  if (e != CL_SUCCESS)
    builder_->fail(cl_error("clSetKernelArg", e).prefix(std::string("kernel ") + name_ + " argument " +
                                                         std::to_string(index_)));
  ++index_;
}

inline ClKernelArgs& ClKernelArgs::tensor(uint32_t t) {
  const ClTensorMap& m = builder_->map_;
  cl_mem mem = m.arena;
  cl_int off = -1;
  if (t != kNoTensor) {
    const bool constant = builder_->model_.tensor(t).is_constant();
    mem = constant ? m.constants : m.arena;
    off = cl_int((constant ? m.const_offsets[t] : m.arena_offsets[t]) / sizeof(float));
  }
  return buffer(mem, off);
}

template <class T>
ClKernelArgs& ClKernelArgs::value(const T& v) {
  set(sizeof(T), &v);
  return *this;
}

inline ClKernelArgs& ClKernelArgs::buffer(cl_mem mem, cl_int offset) {
  set(sizeof(cl_mem), &mem);
  set(sizeof(cl_int), &offset);
  return *this;
}

/// The OpenCL definition of an op: every op of FACEKIT_OPS that runs a step has one
/// (opencl/ops/<name>.hpp); without it, opencl/cl_op_table.hpp does not compile.
template <OpType T>
struct ClOpDef;

}  // namespace opencl
}  // namespace facekit
