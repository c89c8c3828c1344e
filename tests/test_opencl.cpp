// The OpenCL backend against the CPU's scalar reference: each op on awkward shapes (one-op
// models), each converted model on random inputs, within 1e-4 relative. Built only with
// FACEKIT_WITH_OPENCL; the device is OpenCL platform 0, device 0 (FACEKIT_TEST_OPENCL_DEVICE=P:D
// picks another). Without a device, every test here fails and says why.
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <facekit/opencl/opencl_backend.hpp>

#include "backend_check.hpp"
#include "opencl_test_device.hpp"
#include "test_util.hpp"

using backend_check::compare_with_scalar;

namespace {

constexpr double kTolerance = 1e-4;

#ifdef FACEKIT_HAVE_CONVERTER
using backend_check::add_op;
using backend_check::add_tensor;
using facekit::OpType;

TEST_CASE("opencl ops: relu, logistic and add match the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  for (int n : {1, 7, 16, 33, 1000}) {
    CAPTURE(n);
    for (OpType t : {OpType::relu, OpType::logistic}) {
      facekit::convert::OutModel m;
      const uint32_t x = add_tensor(m, "x", {1, 1, n, 1}), y = add_tensor(m, "y", {1, 1, n, 1});
      add_op(m, t, {x}, y, facekit::NoParams{});
      m.inputs = {x};
      m.outputs = {y};
      CHECK(compare_with_scalar(dev, backend_check::load_out_model(m)) <= kTolerance);
    }
  }
  struct AddCase {
    int h, w, c, b_c;
    facekit::Activation act;
  };
  for (const AddCase& k : {AddCase{1, 1, 1, 1, facekit::Activation::none}, AddCase{3, 5, 7, 7, facekit::Activation::relu},
                           AddCase{4, 3, 24, 16, facekit::Activation::relu6}, AddCase{5, 5, 33, 17, facekit::Activation::prelu}}) {
    CAPTURE(k.c);
    CAPTURE(k.b_c);
    facekit::convert::OutModel m;
    const uint32_t a = add_tensor(m, "a", {1, k.h, k.w, k.c}), b = add_tensor(m, "b", {1, k.h, k.w, k.b_c});
    uint32_t alpha = facekit::kNoTensor;
    if (k.act == facekit::Activation::prelu) {
      std::vector<float> al(std::size_t((k.c + facekit::kPackTile - 1) / facekit::kPackTile * facekit::kPackTile), 0.0f);
      backend_check::fill_random(9, al.data(), std::size_t(k.c));
      alpha = add_tensor(m, "alpha", {k.c}, al, facekit::format::Layout::channel_padded);
    }
    const uint32_t y = add_tensor(m, "y", {1, k.h, k.w, k.c});
    facekit::AddParams p{};
    p.activation = k.act;
    add_op(m, OpType::add, {a, b, alpha}, y, p);
    m.inputs = {a, b};
    m.outputs = {y};
    CHECK(compare_with_scalar(dev, backend_check::load_out_model(m)) <= kTolerance);
  }
}
#endif

}  // namespace

#endif  // FACEKIT_WITH_OPENCL
