// The OpenCL kernels of the blendshape network (point_normalize, layer_norm, token_dense) and of
// the Attention Mesh's spatial transformer (landmarks_to_transform_matrix,
// transform_tensor_bilinear, transform_landmarks) against the CPU's scalar reference, within
// 1e-4 relative, on the shapes of tests/kernel_cases.hpp; and the device crop (ClSession's
// crop_input) against the CPU's crop_to_tensor, bit for bit. Built only with FACEKIT_WITH_OPENCL
// and the converter (the one-op models are written with it).
#if defined(FACEKIT_WITH_OPENCL) && FACEKIT_WITH_OPENCL && defined(FACEKIT_HAVE_CONVERTER)

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <facekit/image/image_to_tensor.hpp>
#include <facekit/kernels/pack.hpp>
#include <facekit/opencl/opencl_backend.hpp>

#include "backend_check.hpp"
#include "crop_cases.hpp"
#include "kernel_cases.hpp"
#include "opencl_test_device.hpp"
#include "test_util.hpp"

namespace {

using backend_check::add_op;
using backend_check::add_tensor;
using backend_check::compare_with_scalar;
using backend_check::fill_random;
using backend_check::load_out_model;
using facekit::Activation;
using facekit::OpType;
using facekit::convert::OutModel;
using Layout = facekit::format::Layout;

constexpr double kTolerance = 1e-4;

/// `n` values in [lo, hi) (seeded).
std::vector<float> random_values(uint32_t seed, std::size_t n, float lo, float hi) {
  std::vector<float> v(n);
  fill_random(seed, v.data(), n);
  for (float& x : v) x = lo + (x + 1.0f) * 0.5f * (hi - lo);
  return v;
}

/// A per-channel constant (channel_padded) of C values in [lo, hi).
uint32_t add_channel_vector(OutModel& m, const char* name, int C, uint32_t seed, float lo, float hi) {
  std::vector<float> v = random_values(seed, std::size_t(C), lo, hi);
  v.resize(facekit::kernels::f32_channel_padded_size(C), 0.0f);
  return add_tensor(m, name, {C}, v, Layout::channel_padded);
}

/// Inputs: input i of every run is values[i] (its size must be the input's).
backend_check::InputFill fixed_inputs(std::vector<std::vector<float>> values) {
  return [values](int i, int, float* x, std::size_t n) {
    REQUIRE(values[std::size_t(i)].size() == n);
    std::copy(values[std::size_t(i)].begin(), values[std::size_t(i)].end(), x);
  };
}

/// Random inputs in [lo, hi).
backend_check::InputFill random_inputs(float lo, float hi) {
  return [lo, hi](int i, int r, float* x, std::size_t n) {
    const std::vector<float> v = random_values(uint32_t(7 + 101 * r + i), n, lo, hi);
    std::copy(v.begin(), v.end(), x);
  };
}

/// The worst error of one op over its cases, printed at the end of the test.
struct Worst {
  const char* op;
  double worst = 0;
  int cases = 0;
  void add(double e) {
    worst = std::max(worst, e);
    ++cases;
    CHECK(e <= kTolerance);
  }
  ~Worst() { MESSAGE(std::string(op) << ": worst relative error " << worst << " over " << cases << " cases"); }
};

}  // namespace

TEST_CASE("opencl ops: layer_norm matches the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"layer_norm"};
  for (int C : kernel_cases::kLayerNormChannels)
    for (int rows : kernel_cases::kLayerNormRows)
      for (int variant = 0; variant < 3; ++variant) {  // gamma and beta, gamma, neither
        CAPTURE(C);
        CAPTURE(rows);
        CAPTURE(variant);
        OutModel m;
        const uint32_t x = add_tensor(m, "x", {1, rows, C});
        const uint32_t gamma = variant < 2 ? add_channel_vector(m, "gamma", C, 3, 0.5f, 1.5f) : facekit::kNoTensor;
        const uint32_t beta = variant == 0 ? add_channel_vector(m, "beta", C, 4, -0.5f, 0.5f) : facekit::kNoTensor;
        const uint32_t y = add_tensor(m, "y", {1, rows, C});
        add_op(m, OpType::layer_norm, {x, gamma, beta}, y, facekit::LayerNormParams{1e-6f});
        m.inputs = {x};
        m.outputs = {y};
        // An offset well above the spread, as the CPU test: the rounding of x*g - mean*g shows.
        w.add(compare_with_scalar(dev, load_out_model(m), random_inputs(2.0f, 4.0f)));
      }
}

TEST_CASE("opencl ops: token_dense matches the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"token_dense"};
  const Activation acts[] = {Activation::none, Activation::relu, Activation::relu6};
  auto check = [&](int T, int C, int O, bool residual, Activation act) {
    CAPTURE(T);
    CAPTURE(C);
    CAPTURE(O);
    CAPTURE(residual);
    CAPTURE(int(act));
    const std::vector<float> wts = random_values(11, std::size_t(O) * T, -0.2f, 0.2f);
    const std::vector<float> bias = random_values(12, std::size_t(O), -1.0f, 1.0f);
    std::vector<float> packed(facekit::kernels::f32_conv2d_packed_size(O, 1, 1, T));
    facekit::kernels::pack_f32_conv2d(wts.data(), bias.data(), O, 1, 1, T, packed.data());
    OutModel m;
    const uint32_t x = add_tensor(m, "x", {1, T, C});
    const uint32_t wt = add_tensor(m, "w", {O, 1, 1, T}, packed, Layout::conv2d_oc_tile);
    const uint32_t res = residual ? add_tensor(m, "res", {1, O, C}) : facekit::kNoTensor;
    const uint32_t y = add_tensor(m, "y", {1, O, C});
    add_op(m, OpType::token_dense, {x, wt, res}, y, facekit::TokenDenseParams{act});
    m.inputs = residual ? std::vector<uint32_t>{x, res} : std::vector<uint32_t>{x};
    m.outputs = {y};
    w.add(compare_with_scalar(dev, load_out_model(m), random_inputs(-2.0f, 2.0f)));
  };
  // Every token count and channel count; outputs, activation and residual walk along.
  int k = 0;
  for (int T : kernel_cases::kTokenDenseTokens)
    for (int C : kernel_cases::kTokenDenseChannels) {
      const int O = kernel_cases::kTokenDenseOutputs[k % 8];
      check(T, C, O, k % 2 == 1, acts[k % 3]);
      ++k;
    }
  for (const kernel_cases::TokenDenseShape& s : kernel_cases::kTokenDenseModelShapes)
    check(s.T, s.C, s.O, s.residual, s.residual ? Activation::none : Activation::relu);
}

TEST_CASE("opencl ops: point_normalize matches the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"point_normalize"};
  for (int dims : {1, 2, 3, 4})
    for (int n : {2, 7, 146, 333}) {
      CAPTURE(dims);
      CAPTURE(n);
      OutModel m;
      const uint32_t x = add_tensor(m, "x", {1, n, dims}), y = add_tensor(m, "y", {1, n, dims});
      add_op(m, OpType::point_normalize, {x}, y, facekit::NoParams{});
      m.inputs = {x};
      m.outputs = {y};
      w.add(compare_with_scalar(dev, load_out_model(m), random_inputs(100.0f, 900.0f)));
    }
}

TEST_CASE("opencl ops: landmarks_to_transform_matrix matches the scalar reference") {
  // The CPU test's landmarks (test_attention_ops.cpp): a box of half-size (a, b) centred at (cx,
  // cy) in a frame rotated by theta, the rotation landmarks on its axis, one point far away and
  // not in the subset; then `extra` points on an ellipse around it, all in the subset.
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"landmarks_to_transform_matrix"};
  for (double theta : {0.0, 0.4, -1.2, 2.9})
    for (int extra : {0, 40})
      for (int target = 0; target < 2; ++target) {
        CAPTURE(theta);
        CAPTURE(extra);
        CAPTURE(target);
        const double cx = 20.5, cy = 17.25, a = 6.0, b = 2.5;
        const double c = std::cos(theta), s = std::sin(theta);
        std::vector<float> pts;
        auto add = [&](double u, double v) {
          pts.push_back(float(cx + c * u - s * v));
          pts.push_back(float(cy + s * u + c * v));
          pts.push_back(float(u * v));
        };
        add(-a, 0);
        add(a, 0);
        add(-a, -b);
        add(a, -b);
        add(a, b);
        add(-a, b);
        add(1.0, 0.5);
        add(40.0, 40.0);
        std::vector<float> subset = {2, 3, 4, 5, 6, 0, 1};
        for (int i = 0; i < extra; ++i) {
          const double t = 0.37 * i;
          add(1.3 * a * std::cos(t), 0.8 * b * std::sin(t));
          subset.push_back(float(8 + i));
        }
        const int n = int(pts.size() / 3);
        OutModel m;
        const uint32_t x = add_tensor(m, "landmarks", {1, n, 3});
        const uint32_t sub = add_tensor(m, "subset", {int(subset.size())}, subset);
        const uint32_t y = add_tensor(m, "matrix", {1, 4, 4});
        const facekit::LandmarksToTransformMatrixParams p{0, 1, 16, 12, 1.5f, 1.25f, target ? float(theta) : 0.0f};
        add_op(m, OpType::landmarks_to_transform_matrix, {x, sub}, y, p);
        m.inputs = {x};
        m.outputs = {y};
        w.add(compare_with_scalar(dev, load_out_model(m), fixed_inputs({pts})));
      }
}

TEST_CASE("opencl ops: transform_tensor_bilinear matches the scalar reference") {
  // The CPU test's matrices (test_attention_ops.cpp): identity (version 1 samples the last
  // row/column exactly), a fit of the whole input, rotations and scales that put part of the crop
  // outside; the matrix a constant, or an activation as in the Attention Mesh.
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"transform_tensor_bilinear"};
  using kernel_cases::affine4;
  for (const kernel_cases::BilinearShape& s : kernel_cases::kBilinearShapes)
    for (int C : kernel_cases::kBilinearChannels) {
      const std::vector<float> matrices[] = {
          affine4(0, 1, 1, 0, 0),
          affine4(0.0, double(s.iw - 1) / std::max(1, s.ow - 1), double(s.ih - 1) / std::max(1, s.oh - 1), 0, 0),
          affine4(0.3, 1.5, 1.5, s.iw / 2.0, s.ih / 4.0),
          affine4(-1.1, 0.7, 1.3, s.iw / 2.0 + 0.7, s.ih / 2.0 - 1.3),
          affine4(2.5, 0.9, 1.1, s.iw / 2.0 - 2.1, s.ih / 2.0 + 0.4)};
      int k = 0;
      for (const std::vector<float>& mat : matrices)
        for (int pc = 0; pc < 2; ++pc, ++k) {
          CAPTURE(s.ih);
          CAPTURE(s.iw);
          CAPTURE(C);
          CAPTURE(k);
          const bool matrix_input = k % 3 == 2;
          OutModel m;
          const uint32_t x = add_tensor(m, "x", {1, s.ih, s.iw, C});
          const uint32_t mt = matrix_input ? add_tensor(m, "matrix", {1, 4, 4}) : add_tensor(m, "matrix", {4, 4}, mat);
          const uint32_t y = add_tensor(m, "y", {1, s.oh, s.ow, C});
          add_op(m, OpType::transform_tensor_bilinear, {x, mt}, y, facekit::TransformTensorBilinearParams{pc});
          m.inputs = matrix_input ? std::vector<uint32_t>{x, mt} : std::vector<uint32_t>{x};
          m.outputs = {y};
          const std::vector<float> xs = random_values(uint32_t(31 + C), std::size_t(s.ih) * s.iw * C, -3.0f, 3.0f);
          w.add(compare_with_scalar(dev, load_out_model(m),
                                    matrix_input ? fixed_inputs({xs, mat}) : fixed_inputs({xs})));
        }
    }
}

TEST_CASE("opencl ops: transform_landmarks matches the scalar reference") {
  const facekit::Backend& dev = opencl_test::device();
  Worst w{"transform_landmarks"};
  for (int dims : {2, 3})
    for (int n : {1, 71, 478})
      for (int variant = 0; variant < 3; ++variant) {  // no factor; factor; factor and scale 0.5
        CAPTURE(dims);
        CAPTURE(n);
        CAPTURE(variant);
        OutModel m;
        const uint32_t x = add_tensor(m, "points", {1, n, dims}), mt = add_tensor(m, "matrix", {1, 4, 4});
        const uint32_t f =
            variant ? add_tensor(m, "factor", {16}, random_values(5, 16, -2.5f, 2.5f)) : facekit::kNoTensor;
        const uint32_t y = add_tensor(m, "y", {1, n, dims});
        add_op(m, OpType::transform_landmarks, {x, mt, f}, y,
               facekit::TransformLandmarksParams{variant == 2 ? 0.5f : 1.0f});
        m.inputs = {x, mt};
        m.outputs = {y};
        w.add(compare_with_scalar(dev, load_out_model(m), random_inputs(-10.0f, 10.0f)));
      }
}

namespace {

/// A model whose output is its image input [1, h, w, 3] unchanged: transform_tensor_bilinear by
/// the identity without the pixel-centre correction samples every pixel at its centre exactly
/// (weights 1 and 0), so the device crop can be read back through it.
std::shared_ptr<const facekit::Model> image_passthrough_model(int w, int h) {
  OutModel m;
  const uint32_t x = add_tensor(m, "image", {1, h, w, 3});
  const uint32_t mt = add_tensor(m, "identity", {4, 4}, kernel_cases::affine4(0, 1, 1, 0, 0));
  const uint32_t y = add_tensor(m, "y", {1, h, w, 3});
  add_op(m, OpType::transform_tensor_bilinear, {x, mt}, y, facekit::TransformTensorBilinearParams{0});
  m.inputs = {x};
  m.outputs = {y};
  return load_out_model(m);
}

/// Floats of the device crop (session `s`, whose model is image_passthrough_model) that differ
/// from crop_to_tensor's bits. With `frame`, its image is cropped through it (the frame must hold
/// `image`); without, `image` on its own.
std::size_t device_crop_differences(facekit::BackendSession& s, const facekit::ImageView& image,
                                    const facekit::ImageCrop& crop, facekit::BackendFrame* frame = nullptr) {
  const facekit::TensorInfo& t = s.input_info(0);
  const int w = t.dims[2], h = t.dims[1];
  std::vector<float> want(std::size_t(w) * h * 3);
  REQUIRE(facekit::crop_to_tensor<facekit::scalar_arch>(image, crop.roi, w, h, crop.border, crop.range_min,
                                                        crop.range_max, want.data()));
  const facekit::Status st = frame ? s.crop_input(0, *frame, crop) : s.crop_input(0, image, crop);
  REQUIRE_MESSAGE(st, st.message());
  const facekit::Status rs = s.run();
  REQUIRE_MESSAGE(rs, rs.message());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) bad += std::memcmp(&want[i], s.output(0) + i, sizeof(float)) != 0;
  return bad;
}

}  // namespace

TEST_CASE("opencl crop: the device crop is bit-identical to crop_to_tensor") {
  // The crop cases of tests/data/crops (rotated, scaled, off-image ROIs on the test images, with
  // both borders; the synthetic letterboxes include exact rounding ties), each pixel format with
  // padded rows, and two value ranges. One session per output size crops images of different
  // sizes in turn: its image buffer grows, and is reused for smaller ones.
  const facekit::Backend& dev = opencl_test::device();
  const bool on_device =
      facekit::opencl::ClDeviceCrop::supported(static_cast<const facekit::opencl::ClBackend&>(dev).device());
  MESSAGE("device crop: " << std::string(on_device ? "on the device (fp64)" : "no fp64: the host crop is uploaded"));
  const crop_data::json cases = crop_data::crop_cases();
  std::size_t floats = 0, bad = 0;
  int crops = 0;
  auto run_case = [&](const crop_data::json& c, const facekit::Image& img) {
    const int w = c.at("out_width"), h = c.at("out_height");
    auto session = facekit::make_session(dev, image_passthrough_model(w, h), dev.name());
    REQUIRE_MESSAGE(session, session.status().message());
    facekit::ImageCrop crop{crop_data::roi_of(c), crop_data::border_of(c), 0.0f, 1.0f};
    for (const facekit::Image* im : {&img, &img}) {  // twice: the second reuses the kernel and buffer
      const std::size_t b = device_crop_differences(**session, im->view(), crop);
      bad += b;
      floats += std::size_t(w) * h * 3;
      ++crops;
    }
    crop.range_min = -1.0f;
    for (facekit::PixelFormat f : {facekit::PixelFormat::bgr8, facekit::PixelFormat::rgba8}) {
      const std::vector<uint8_t> px = crop_data::convert(img, f, 5);
      const facekit::ImageView v{px.data(), img.width, img.height,
                                 std::ptrdiff_t(img.width * facekit::channels_of(f) + 5), f};
      const std::size_t b = device_crop_differences(**session, v, crop);
      CHECK_MESSAGE(b == 0, c.at("name").get<std::string>() << " " << facekit::pixel_format_name(f));
      bad += b;
      floats += std::size_t(w) * h * 3;
      ++crops;
    }
  };
  for (const crop_data::json& c : cases.at("cases")) {
    CAPTURE(c.at("name").get<std::string>());
    auto img = facekit::load_image(test_util::image_path(c.at("image").get<std::string>()));
    REQUIRE_MESSAGE(img, img.status().message());
    run_case(c, *img);
  }
  for (const crop_data::json& c : cases.at("synthetic_cases")) {
    CAPTURE(c.at("name").get<std::string>());
    run_case(c, crop_data::synthetic(c.at("width"), c.at("height")));
  }
  CHECK(bad == 0);
  MESSAGE("device crop: " << bad << " of " << floats << " floats differ from crop_to_tensor in " << crops << " crops");
}

TEST_CASE("opencl crop: awkward images and ROIs are bit-identical to crop_to_tensor") {
  // test_image.cpp's awkward crops: 1-pixel and odd images, every pixel format with and without
  // padded rows, ROIs off and around the image, block and chunk remainders, both borders.
  const facekit::Backend& dev = opencl_test::device();
  const facekit::PixelFormat formats[] = {facekit::PixelFormat::rgb8, facekit::PixelFormat::bgr8,
                                          facekit::PixelFormat::rgba8};
  std::size_t bad = 0;
  int crops = 0;
  for (const auto& o : crop_data::kAwkwardOutputSizes) {
    auto session = facekit::make_session(dev, image_passthrough_model(o[0], o[1]), dev.name());
    REQUIRE_MESSAGE(session, session.status().message());
    for (const auto& sz : crop_data::kAwkwardImageSizes) {
      const facekit::Image img = crop_data::synthetic(sz[0], sz[1]);
      for (int f = 0; f < 3; ++f) {
        const int pad = f == 0 ? 0 : 5;
        const std::vector<uint8_t> px = crop_data::convert(img, formats[f], pad);
        const facekit::ImageView v{px.data(), sz[0], sz[1],
                                   std::ptrdiff_t(sz[0] * facekit::channels_of(formats[f]) + pad), formats[f]};
        for (const facekit::RotatedRect& roi : crop_data::awkward_rois(sz[0], sz[1]))
          for (facekit::BorderMode border : {facekit::BorderMode::zero, facekit::BorderMode::replicate}) {
            CAPTURE(sz[0]);
            CAPTURE(sz[1]);
            CAPTURE(f);
            CAPTURE(roi.cx);
            CAPTURE(o[0]);
            const std::size_t b = device_crop_differences(**session, v, facekit::ImageCrop{roi, border, -1.0f, 1.0f});
            CHECK(b == 0);
            bad += b;
            ++crops;
          }
      }
    }
  }
  MESSAGE("device crop, awkward cases: " << bad << " floats differ in " << crops << " crops");
}

TEST_CASE("opencl crop: a frame is uploaded once per context and shared by its sessions, bit-identical") {
  // Two sessions of one backend share its context: the first crop of a frame uploads the image,
  // the others find it there. A session on a second context of the same device (a ClDevice opened
  // apart from open_backend's cache) gets its own copy, once per frame too. Images grow and shrink
  // (the buffers grow once). A host frame's image is uploaded by each crop.
  using facekit::opencl::ClSession;
  const facekit::Backend& dev = opencl_test::device();
  const auto& cl = static_cast<const facekit::opencl::ClBackend&>(dev);
  const uint64_t up = facekit::opencl::ClDeviceCrop::supported(cl.device()) ? 1 : 0;  // no fp64: host crops
  int p = 0, d = 0;
  opencl_test::device_indices(&p, &d);
  auto second = facekit::opencl::ClDevice::open(p, d);
  REQUIRE_MESSAGE(second, second.status().message());
  const facekit::opencl::ClBackend other(std::move(*second));
  REQUIRE(other.device().context() != cl.device().context());
  auto a = facekit::make_session(dev, image_passthrough_model(32, 24), dev.name());
  auto b = facekit::make_session(dev, image_passthrough_model(16, 16), dev.name());
  auto c = facekit::make_session(other, image_passthrough_model(20, 12), other.name());
  REQUIRE_MESSAGE(a, a.status().message());
  REQUIRE_MESSAGE(b, b.status().message());
  REQUIRE_MESSAGE(c, c.status().message());
  facekit::BackendSession* sessions[3] = {a->get(), b->get(), c->get()};
  auto uploads = [&](int k) { return static_cast<ClSession*>(sessions[k])->image_uploads(); };
  std::unique_ptr<facekit::BackendFrame> frame = dev.new_frame();
  REQUIRE(frame->delegate() == facekit::Delegate::opencl);
  const auto& cl_frame = static_cast<const facekit::opencl::ClFrame&>(*frame);
  const facekit::Image images[3] = {crop_data::synthetic(40, 30), crop_data::synthetic(97, 61),
                                    crop_data::synthetic(41, 29)};
  for (const facekit::Image& img : images) {
    CAPTURE(img.width);
    frame->set(img.view());
    const uint64_t before[3] = {uploads(0), uploads(1), uploads(2)}, frame_before = cl_frame.uploads();
    const facekit::RotatedRect roi{img.width * 0.45f, img.height * 0.55f, img.width * 0.7f, img.height * 0.6f, 0.3f};
    for (int k : {0, 1, 0, 2, 2, 1}) {
      CAPTURE(k);
      const facekit::ImageCrop crop{roi, k == 1 ? facekit::BorderMode::zero : facekit::BorderMode::replicate, -1.0f,
                                    1.0f};
      CHECK(device_crop_differences(*sessions[k], img.view(), crop, frame.get()) == 0);
    }
    CHECK(uploads(0) - before[0] == up);  // the first crop of the frame on the first context
    CHECK(uploads(1) - before[1] == 0);   // same context: shared
    CHECK(uploads(2) - before[2] == up);  // the second context's own copy
    CHECK(cl_frame.uploads() - frame_before == 2 * up);
  }
  // A host frame: each crop uploads into the session's own buffer.
  const uint64_t before = uploads(0);
  const facekit::ImageCrop crop{facekit::RotatedRect{20, 15, 30, 20, 0}, facekit::BorderMode::zero, 0.0f, 1.0f};
  CHECK(device_crop_differences(*sessions[0], images[0].view(), crop) == 0);
  CHECK(device_crop_differences(*sessions[0], images[0].view(), crop) == 0);
  CHECK(uploads(0) - before == 2 * up);
}

TEST_CASE("opencl crop: bad crops are refused with the CPU's messages") {
  const facekit::Backend& dev = opencl_test::device();
  auto session = facekit::make_session(dev, image_passthrough_model(8, 8), dev.name());
  REQUIRE_MESSAGE(session, session.status().message());
  const facekit::Image img = crop_data::synthetic(16, 16);
  facekit::ImageCrop crop{facekit::RotatedRect{8, 8, 0, 4, 0}, facekit::BorderMode::zero, 0.0f, 1.0f};
  const facekit::Status st = (*session)->crop_input(0, img.view(), crop);
  CHECK_FALSE(st);
  CHECK(std::string(st.message()).find("ROI size") != std::string::npos);
  crop.roi.w = 4;
  crop.range_max = 0.0f;
  CHECK_FALSE((*session)->crop_input(0, img.view(), crop));
}

#endif  // FACEKIT_WITH_OPENCL && FACEKIT_HAVE_CONVERTER
