// facekit/opencl/cl_crop.hpp - MediaPipe's ROI crop of a camera image on the device: what
// ClSession::crop_input runs. The frame (ClFrame) holds the image's bytes as they are (any row
// stride) in device memory; the homography is formed on the host exactly as
// image/image_to_tensor.hpp forms it; a kernel reproduces kernels/u8_warp_perspective.hpp's OpenCV
// fixed-point warp and the value conversion and writes the float tensor where the network reads it.
//
//   ClFrame frame;                                      // one per pipeline (ClBackend::new_frame)
//   ClDeviceCrop crop;                                  // one per session
//   frame.set(image);                                   // per frame
//   if (ClDeviceCrop::supported(device))                // needs doubles (cl_khr_fp64)
//     crop.run(device, queue, frame, arena, offset_in_floats, roi_crop, out_w, out_h, &uploaded);
//
// The source positions are OpenCV's double arithmetic (each product rounded, no contraction,
// correctly rounded division, rounding half to even), then integers: the tensor is bit-identical
// to crop_to_tensor's. A device without doubles cannot do that; the session crops on the host.
// The image is uploaded once per frame and context, by the first crop that needs it; its buffer
// grows only for an image larger than any before: nothing is allocated per frame after the first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../image/image_to_tensor.hpp"
#include "../runtime/backend.hpp"
#include "cl_api.hpp"
#include "cl_device.hpp"

namespace facekit {
namespace opencl {

inline const ClSource kCropSource{"crop", R"CLC(
#pragma OPENCL FP_CONTRACT OFF

// fp::round_to_int: clamp to the int range (NaN -> INT_MAX), round half to even.
inline int fk_round_to_int(double v) {
  v = v < 2147483647.0 ? v : 2147483647.0;
  v = -2147483648.0 < v ? v : -2147483648.0;
  return (int)rint(v);
}

// kernels/u8_warp_perspective.hpp (WarpPerspectiveInvoker + remapBilinear) and u8_to_f32, one
// output pixel per work item. The image: in_h rows of in_w pixels of `cn` bytes, `stride` bytes
// apart, R, G, B at byte ri, gi, bi of a pixel. m: output pixel -> input position (row-major
// 3x3); OpenCV evaluates X0, Y0, W0 at the first column of each block of bw0 columns.
__kernel void u8_warp_perspective_to_f32(__global const uchar* img, int in_w, int in_h, long stride, int cn, int ri,
                                         int gi, int bi, int zero_border, double m0, double m1, double m2, double m3,
                                         double m4, double m5, double m6, double m7, double m8, int bw0,
                                         float scale, float offset, __global float* y, int y_off, int out_w,
                                         int out_h) {
  const int X = get_global_id(0), Y = get_global_id(1);
  if (X >= out_w || Y >= out_h) return;
  const int xb = X / bw0 * bw0, x1 = X - xb;
  const double X0 = m0 * (double)xb + m1 * (double)Y + m2;
  const double Y0 = m3 * (double)xb + m4 * (double)Y + m5;
  const double W0 = m6 * (double)xb + m7 * (double)Y + m8;
  double wd;
  if (m6 == 0.0) {
    wd = W0 != 0.0 ? 32.0 / W0 : 0.0;
  } else {
    wd = W0 + m6 * (double)x1;
    wd = wd != 0.0 ? 32.0 / wd : 0.0;
  }
  const int fx = fk_round_to_int((X0 + m0 * (double)x1) * wd);
  const int fy = fk_round_to_int((Y0 + m3 * (double)x1) * wd);
  const int sx = fx >> 5, sy = fy >> 5, ax = fx & 31, ay = fy & 31;
  // The four neighbours' byte offsets; -1 reads 0 (BORDER_CONSTANT 0).
  long o00, o01, o10, o11;
  if (zero_border) {
    if (sx >= in_w || sx + 1 < 0 || sy >= in_h || sy + 1 < 0) {
      o00 = o01 = o10 = o11 = -1;
    } else {
      const bool x0in = sx >= 0, x1in = sx + 1 < in_w, y0in = sy >= 0, y1in = sy + 1 < in_h;
      const long r0 = (long)sy * stride, r1 = r0 + stride;
      o00 = x0in && y0in ? r0 + sx * cn : -1;
      o01 = x1in && y0in ? r0 + (sx + 1) * cn : -1;
      o10 = x0in && y1in ? r1 + sx * cn : -1;
      o11 = x1in && y1in ? r1 + (sx + 1) * cn : -1;
    }
  } else {  // BORDER_REPLICATE: OpenCV's clip()
    const int cx0 = clamp(sx, 0, in_w - 1), cx1 = clamp(sx + 1, 0, in_w - 1);
    const long r0 = (long)clamp(sy, 0, in_h - 1) * stride, r1 = (long)clamp(sy + 1, 0, in_h - 1) * stride;
    o00 = r0 + cx0 * cn;
    o01 = r0 + cx1 * cn;
    o10 = r1 + cx0 * cn;
    o11 = r1 + cx1 * cn;
  }
  const int w00 = 32 * (32 - ax) * (32 - ay), w01 = 32 * ax * (32 - ay), w10 = 32 * (32 - ax) * ay, w11 = 32 * ax * ay;
  const int at[3] = {ri, gi, bi};
  __global float* out = y + y_off + (Y * out_w + X) * 3;
  for (int k = 0; k < 3; ++k) {
    const int b = at[k];
    const int p00 = o00 >= 0 ? img[o00 + b] : 0, p01 = o01 >= 0 ? img[o01 + b] : 0;
    const int p10 = o10 >= 0 ? img[o10 + b] : 0, p11 = o11 >= 0 ? img[o11 + b] : 0;
    const int v = (p00 * w00 + p01 * w01 + p10 * w10 + p11 * w11 + 16384) >> 15;
    out[k] = (float)v * scale + offset;
  }
}
)CLC"};

/// A frame on OpenCL (ClBackend::new_frame makes it): the camera image in device memory, one
/// buffer per context that crops it. The sessions of one pipeline share a context (they come from
/// one ClBackend, and opencl::open_backend opens each platform:device once), so the image goes up
/// once per frame; sessions on another context get their own buffer in the same frame (correct,
/// just not shared).
class ClFrame final : public BackendFrame {
 public:
  ClFrame() noexcept : BackendFrame(Delegate::opencl) {}
  ~ClFrame() override {
    for (Slot& s : slots_)
      if (s.buffer) clReleaseMemObject(s.buffer);
  }

  /// The frame's image in `context`'s memory, in *out. The first call after set() on a context
  /// uploads it through `queue` (blocking: other queues of the context may read it at once, and
  /// the caller's pixels are not read afterwards) and sets *uploaded; later calls find it there.
  /// The buffer is made on the first call and grown only for a larger image.
  Status device_image(cl_context context, cl_command_queue queue, cl_mem* out, bool* uploaded) {
    *uploaded = false;
    const ImageView& image = this->image();
    FACEKIT_RETURN_IF_ERROR(image.validate());
    Slot* slot = nullptr;
    for (Slot& s : slots_)
      if (s.context == context) slot = &s;
    if (!slot) {  // the first crop on this context: allocates once
      slots_.push_back(Slot{context, nullptr, 0, 0});
      slot = &slots_.back();
    }
    const std::size_t row = std::size_t(image.width) * std::size_t(image.channels());
    const std::size_t bytes = std::size_t(image.height - 1) * std::size_t(image.stride) + row;
    if (bytes > slot->bytes) {
      if (slot->buffer) clReleaseMemObject(slot->buffer);  // a launch still reading it keeps it alive
      slot->buffer = nullptr;
      slot->bytes = 0;
      slot->serial = 0;
      cl_int e = CL_SUCCESS;
      slot->buffer = clCreateBuffer(context, CL_MEM_READ_ONLY, bytes, nullptr, &e);
      FACEKIT_CL_CHECK(e);
      slot->bytes = bytes;
    }
    if (slot->serial != serial()) {
      FACEKIT_CL_CHECK(clEnqueueWriteBuffer(queue, slot->buffer, CL_TRUE, 0, bytes, image.data, 0, nullptr, nullptr));
      slot->serial = serial();
      ++uploads_;
      *uploaded = true;
    }
    *out = slot->buffer;
    return Status::ok();
  }
  /// Images uploaded so far, over all contexts: one per set() and context that cropped it.
  uint64_t uploads() const noexcept { return uploads_; }

 private:
  struct Slot {
    cl_context context;
    cl_mem buffer;
    std::size_t bytes;
    uint64_t serial;  // the frame's serial() of the image in `buffer`; 0: none yet
  };
  std::vector<Slot> slots_;
  uint64_t uploads_ = 0;
};

/// The device crop of one session: its kernel.
class ClDeviceCrop {
 public:
  ClDeviceCrop() = default;
  ClDeviceCrop(const ClDeviceCrop&) = delete;
  ClDeviceCrop& operator=(const ClDeviceCrop&) = delete;
  ~ClDeviceCrop() {
    if (kernel_) clReleaseKernel(kernel_);
  }

  /// False when the device cannot reproduce the CPU's crop (no doubles).
  static bool supported(const ClDevice& device) noexcept { return device.info().fp64; }

  /// Writes crop_to_tensor(frame.image(), crop.roi, out_w, out_h, crop.border, crop.range_min,
  /// crop.range_max) into `out` at element `out_offset` (floats), enqueued on `queue`. The frame's
  /// image is uploaded first if it is not yet on this device (*uploaded then says so).
  Status run(ClDevice& device, cl_command_queue queue, ClFrame& frame, cl_mem out, std::size_t out_offset,
             const ImageCrop& crop, int out_w, int out_h, bool* uploaded) {
    *uploaded = false;
    const ImageView& image = frame.image();
    FACEKIT_RETURN_IF_ERROR(facekit::detail::check_crop_args(image, crop.roi, out_w, out_h, this));
    float scale = 0, offset = 0;
    FACEKIT_RETURN_IF_ERROR(value_scale_offset(crop.range_min, crop.range_max, &scale, &offset));
    CropTransform tr;
    FACEKIT_RETURN_IF_ERROR(crop_transform(crop.roi, out_w, out_h, &tr));
    if (!kernel_) {
      auto program = device.program(kCropSource);
      if (!program) return program.status();
      cl_int e = CL_SUCCESS;
      kernel_ = clCreateKernel(*program, "u8_warp_perspective_to_f32", &e);
      FACEKIT_CL_CHECK(e);
    }
    cl_mem image_buffer = nullptr;
    FACEKIT_RETURN_IF_ERROR(frame.device_image(device.context(), queue, &image_buffer, uploaded));
    const int cn = image.channels();
    int r = 0, g = 1, b = 2;
    if (image.format == PixelFormat::bgr8) {
      r = 2;
      b = 0;
    }
    // WarpPerspectiveInvoker's block width (kernels/u8_warp_perspective.hpp).
    const int bh0 = out_h < 16 ? out_h : 16;
    const int bw0 = 1024 / bh0 < out_w ? 1024 / bh0 : out_w;
    Args a(kernel_);
    a.set(image_buffer).set(cl_int(image.width)).set(cl_int(image.height)).set(cl_long(image.stride)).set(cl_int(cn));
    a.set(cl_int(r)).set(cl_int(g)).set(cl_int(b)).set(cl_int(crop.border == BorderMode::zero ? 1 : 0));
    for (double v : tr.inverse) a.set(cl_double(v));
    a.set(cl_int(bw0)).set(cl_float(scale)).set(cl_float(offset)).set(out).set(cl_int(out_offset));
    a.set(cl_int(out_w)).set(cl_int(out_h));
    FACEKIT_RETURN_IF_ERROR(a.status);
    const std::size_t global[2] = {std::size_t(out_w), std::size_t(out_h)};
    FACEKIT_CL_CHECK(clEnqueueNDRangeKernel(queue, kernel_, 2, nullptr, global, nullptr, 0, nullptr, nullptr));
    return Status::ok();
  }

 private:
  // The kernel's arguments in order; the first failure is kept.
  struct Args {
    explicit Args(cl_kernel kernel) : k(kernel) {}
    cl_kernel k;
    cl_uint i = 0;
    Status status;
    template <class T>
    Args& set(const T& v) {
      const cl_int e = clSetKernelArg(k, i, sizeof v, &v);
      if (e != CL_SUCCESS && status)
        status = cl_error("clSetKernelArg", e).prefix("crop kernel argument " + std::to_string(i));
      ++i;
      return *this;
    }
  };

  cl_kernel kernel_ = nullptr;
};

}  // namespace opencl
}  // namespace facekit
