// The OpenCL kernels of the convolution family and the data-movement ops against the CPU's scalar
// reference: every case of tests/kernel_cases.hpp becomes a one-op model (tests/backend_check.hpp)
// run on both, within 1e-4 relative. Convs run with every activation and with no residual, a
// full one and a narrower (zero-extended) one, as the CPU kernel tests do. Built only with
// FACEKIT_WITH_OPENCL and the converter (the models are written with its OutModel).
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL && defined(FACEKIT_HAVE_CONVERTER)

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <facekit/kernels/pack.hpp>
#include <facekit/opencl/opencl_backend.hpp>

#include "backend_check.hpp"
#include "kernel_cases.hpp"
#include "opencl_test_device.hpp"

namespace {

using backend_check::add_op;
using backend_check::add_tensor;
using facekit::Activation;
using facekit::kNoTensor;
using facekit::OpType;
using facekit::convert::OutModel;
using facekit::format::Layout;

constexpr double kTolerance = 1e-4;
constexpr Activation kActs[] = {Activation::none, Activation::relu, Activation::relu6, Activation::prelu};

/// The worst error of one op over its cases, reported at the end of the test.
struct Worst {
  explicit Worst(const char* name) : op(name) {}
  const char* op;
  double value = 0;
  std::string where;
  /// Runs `m` on both backends; fails the test when it is off by more than kTolerance.
  void check(const OutModel& m, const std::string& what) {
    const double e = backend_check::compare_with_scalar(opencl_test::device(), backend_check::load_out_model(m));
    CHECK_MESSAGE(e <= kTolerance, std::string(op) << " " << what << ": relative error " << e);
    if (e >= value) {
      value = e;
      where = what;
    }
  }
  void report() const { MESSAGE(std::string(op) << ": worst relative error " << value << " (" << where << ")"); }
};

std::vector<float> random_values(uint32_t seed, std::size_t n) {
  std::vector<float> v(n);
  backend_check::fill_random(seed, v.data(), n);
  return v;
}

/// A channel_padded constant of `c` random values.
uint32_t add_channel_vector(OutModel& m, const char* name, int c, uint32_t seed) {
  std::vector<float> v(facekit::kernels::f32_channel_padded_size(c), 0.0f);
  backend_check::fill_random(seed, v.data(), std::size_t(c));
  return add_tensor(m, name, {c}, v, Layout::channel_padded);
}

/// The op's inputs without the absent optional ones at the end.
std::vector<uint32_t> trim(std::vector<uint32_t> v) {
  while (!v.empty() && v.back() == kNoTensor) v.pop_back();
  return v;
}

std::vector<int> residual_channel_counts(int out_c) {
  std::vector<int> v = {0, out_c};
  const int part = out_c * 2 / 3;
  if (part >= 1 && part < out_c) v.push_back(part);
  return v;
}

constexpr const char* kActNames[] = {"none", "relu", "relu6", "prelu"};  // by Activation's value

/// A model of one op `t` from x (dims x_dims, a graph input) to y (dims y_dims).
template <class P>
OutModel single_input_model(OpType t, std::vector<int32_t> x_dims, std::vector<int32_t> y_dims, const P& params) {
  OutModel m;
  const uint32_t x = add_tensor(m, "x", std::move(x_dims)), y = add_tensor(m, "y", std::move(y_dims));
  add_op(m, t, {x}, y, params);
  m.inputs = {x};
  m.outputs = {y};
  return m;
}

/// The conv case's packed weights (random weights and bias, kernels/pack.hpp's layouts).
std::vector<float> packed_weights(const kernel_cases::ConvCase& c) {
  namespace fk = facekit::kernels;
  const int taps = c.kernel_h * c.kernel_w;
  const std::vector<float> w = random_values(7, std::size_t(c.out_c) * taps * (c.depthwise ? 1 : c.in_c));
  const std::vector<float> bias = random_values(11, std::size_t(c.out_c));
  std::vector<float> packed;
  if (c.depthwise) {
    packed.resize(fk::f32_dwconv2d_packed_size(c.kernel_h, c.kernel_w, c.out_c));
    fk::pack_f32_dwconv2d(w.data(), bias.data(), c.kernel_h, c.kernel_w, c.out_c, packed.data());
  } else {
    packed.resize(fk::f32_conv2d_packed_size(c.out_c, c.kernel_h, c.kernel_w, c.in_c));
    fk::pack_f32_conv2d(w.data(), bias.data(), c.out_c, c.kernel_h, c.kernel_w, c.in_c, packed.data());
  }
  return packed;
}

OutModel conv_model(const kernel_cases::ConvCase& c, const std::vector<float>& packed, int residual_c,
                    Activation act) {
  OutModel m;
  const uint32_t x = add_tensor(m, "x", {1, c.in_h, c.in_w, c.in_c});
  const uint32_t w =
      c.depthwise ? add_tensor(m, "w", {1, c.kernel_h, c.kernel_w, c.out_c}, packed, Layout::dwconv2d_c_tile)
                  : add_tensor(m, "w", {c.out_c, c.kernel_h, c.kernel_w, c.in_c}, packed, Layout::conv2d_oc_tile);
  const uint32_t alpha = act == Activation::prelu ? add_channel_vector(m, "alpha", c.out_c, 13) : kNoTensor;
  const uint32_t res = residual_c ? add_tensor(m, "residual", {1, c.out_h(), c.out_w(), residual_c}) : kNoTensor;
  const uint32_t y = add_tensor(m, "y", {1, c.out_h(), c.out_w(), c.out_c});
  const facekit::Conv2dParams p{c.kernel_h,   c.kernel_w,   c.stride_h, c.stride_w, c.dilation_h, c.dilation_w,
                                c.pad_top,    c.pad_left,   c.pad_bottom, c.pad_right, act};
  add_op(m, c.depthwise ? OpType::dwconv2d : OpType::conv2d, trim({x, w, alpha, res}), y, p);
  m.inputs = trim({x, res});
  m.outputs = {y};
  return m;
}

TEST_CASE("opencl ops: conv2d and dwconv2d match the scalar reference (every activation, residuals)") {
  Worst gemm{"conv2d 1x1 (GEMM)"}, conv{"conv2d kxk"}, dw{"dwconv2d"};
  for (const kernel_cases::ConvCase& c : kernel_cases::conv_cases()) {
    const std::vector<float> packed = packed_weights(c);
    Worst& w = c.depthwise ? dw : c.kernel_h * c.kernel_w == 1 ? gemm : conv;
    for (int rc : residual_channel_counts(c.out_c))
      for (Activation act : kActs)
        w.check(conv_model(c, packed, rc, act),
                   c.name + ", act " + kActNames[int(act)] + ", residual_c " + std::to_string(rc));
  }
  gemm.report();
  conv.report();
  dw.report();
}

TEST_CASE("opencl ops: maxpool2d matches the scalar reference") {
  Worst pool{"maxpool2d"};
  for (const kernel_cases::PoolCase& c : kernel_cases::pool_cases()) {
    const facekit::Pool2dParams p{c.kernel,   c.kernel,  c.stride,     c.stride,    c.pad_top,
                                  c.pad_left, c.pad_bottom, c.pad_right, Activation::none};
    pool.check(single_input_model(OpType::maxpool2d, {1, c.in_h, c.in_w, c.channels},
                                  {1, c.out_h(), c.out_w(), c.channels}, p),
               c.name);
  }
  pool.report();
}

TEST_CASE("opencl ops: prelu and mul match the scalar reference") {
  Worst prelu{"prelu"}, mul{"mul"};
  for (const kernel_cases::EltCase& c : kernel_cases::elt_cases())
    for (Worst* w : {&prelu, &mul}) {
      OutModel m;
      const uint32_t x = add_tensor(m, "x", {1, 1, c.pixels, c.channels});
      const uint32_t v = add_channel_vector(m, "v", c.channels, 5);
      const uint32_t y = add_tensor(m, "y", {1, 1, c.pixels, c.channels});
      add_op(m, w == &prelu ? OpType::prelu : OpType::mul, {x, v}, y, facekit::NoParams{});
      m.inputs = {x};
      m.outputs = {y};
      w->check(m, c.name);
    }
  prelu.report();
  mul.report();
}

TEST_CASE("opencl ops: resize_bilinear matches the scalar reference (plain, align_corners, half_pixel)") {
  Worst resize{"resize_bilinear"};
  for (const kernel_cases::ResizeCase& c : kernel_cases::resize_cases())
    for (int mode = 0; mode < 3; ++mode) {
      resize.check(single_input_model(OpType::resize_bilinear, {1, c.in_h, c.in_w, c.channels},
                                      {1, c.out_h, c.out_w, c.channels},
                                      facekit::ResizeBilinearParams{mode == 1, mode == 2}),
                   c.name + " mode " + std::to_string(mode));
    }
  resize.report();
}

TEST_CASE("opencl ops: pad, slice, concat, copy and depth_to_space match the scalar reference") {
  Worst pad{"pad"}, slice{"slice"}, concat{"concat"}, copy{"copy"}, d2s{"depth_to_space"};
  for (const kernel_cases::PadSliceCase& c : kernel_cases::pad_slice_cases()) {
    const std::size_t rank = c.dims.size();
    std::vector<int32_t> padded(rank), cut(rank);
    facekit::PadParams pp{};
    facekit::SliceParams sp{};
    bool sliceable = true;
    for (std::size_t d = 0; d < rank; ++d) {
      padded[d] = c.lo[d] + c.dims[d] + c.hi[d];
      cut[d] = c.dims[d] - c.lo[d] - c.hi[d];
      sliceable = sliceable && cut[d] >= 1;
      // PadParams count the 4 dimensions of the tensor's own rank from the front.
      pp.before[d] = c.lo[d];
      pp.after[d] = c.hi[d];
      sp.begin[d] = c.lo[d];
    }
    pp.value = -1.5f;
    pad.check(single_input_model(OpType::pad, c.dims, padded, pp), c.name);
    if (sliceable) slice.check(single_input_model(OpType::slice, c.dims, cut, sp), c.name);
  }
  for (const kernel_cases::ConcatCase& c : kernel_cases::concat_cases()) {
    OutModel m;
    std::vector<uint32_t> xs;
    std::vector<int32_t> dims = c.dims;
    dims[std::size_t(c.axis)] = 0;
    for (int part : c.parts) {
      std::vector<int32_t> d = c.dims;
      d[std::size_t(c.axis)] = part;
      dims[std::size_t(c.axis)] += part;
      xs.push_back(add_tensor(m, "x" + std::to_string(xs.size()), d));
    }
    const uint32_t y = add_tensor(m, "y", dims);
    add_op(m, OpType::concat, xs, y, facekit::ConcatParams{c.axis});
    m.inputs = xs;
    m.outputs = {y};
    concat.check(m, c.name);
  }
  for (const kernel_cases::EltCase& c : kernel_cases::elt_cases()) {
    copy.check(single_input_model(OpType::copy, {1, c.pixels, c.channels}, {c.pixels * c.channels},
                                  facekit::NoParams{}),
               c.name);
  }
  {  // A constant materialised (a model needs an input: an unused one).
    OutModel m;
    const uint32_t x = add_tensor(m, "x", {3, 17}, random_values(3, 51)), y = add_tensor(m, "y", {3, 17});
    add_op(m, OpType::copy, {x}, y, facekit::NoParams{});
    m.inputs = {add_tensor(m, "unused", {1})};
    m.outputs = {y};
    copy.check(m, "constant 3x17");
  }
  for (const kernel_cases::DepthToSpaceCase& c : kernel_cases::depth_to_space_cases()) {
    const int b = c.block;
    d2s.check(single_input_model(OpType::depth_to_space, {1, c.in_h, c.in_w, c.out_c * b * b},
                                 {1, c.in_h * b, c.in_w * b, c.out_c}, facekit::DepthToSpaceParams{b}),
              std::to_string(c.in_h) + "x" + std::to_string(c.in_w) + "x" + std::to_string(c.out_c) + " block " +
                     std::to_string(b));
  }
  for (const Worst* w : {&pad, &slice, &concat, &copy, &d2s}) w->report();
}

}  // namespace

#endif  // FACEKIT_WITH_OPENCL && FACEKIT_HAVE_CONVERTER
