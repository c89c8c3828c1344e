// facekit/image/image.hpp - pixel buffers and image file decoding.
//
//   auto img = facekit::load_image("photo.jpg");          // RGB8, decoded by stb_image
//   if (!img) { std::fprintf(stderr, "%s\n", img.status().message()); return 1; }
//   facekit::ImageView v = img->view();                    // or wrap your own pixels:
//   facekit::ImageView cam{frame_ptr, 640, 480, 640 * 4, facekit::PixelFormat::rgba8};
//
// Decoding uses stb_image's declarations (<stb_image.h>); a program that calls load_image or
// load_image_from_memory links an stb_image implementation (Debian: libstb, pkg-config "stb").
// FACEKIT_NO_STB_IMAGE leaves both out (and <stb_image.h> unincluded): pixels then come from
// ImageViews of the program's own buffers. FACEKIT_NO_STDIO leaves out load_image only.
// Decoding is `stbi_load(path, &w, &h, &n, 3)`: 8-bit RGB, no colour management, no EXIF
// rotation, exactly how the MediaPipe goldens (tests/data/golden) were decoded. Other decoders
// give other pixels for the same JPEG and measurably different landmarks.
#pragma once

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#ifndef FACEKIT_NO_STB_IMAGE
#include <stb_image.h>
#endif

#include "../config.hpp"
#include "../status.hpp"

namespace facekit {

/// Byte order of a pixel. Every format is 8 bits per channel.
enum class PixelFormat { rgb8, rgba8, bgr8 };

constexpr int channels_of(PixelFormat f) noexcept { return f == PixelFormat::rgba8 ? 4 : 3; }

inline const char* pixel_format_name(PixelFormat f) noexcept {
  switch (f) {
    case PixelFormat::rgb8: return "rgb8";
    case PixelFormat::rgba8: return "rgba8";
    case PixelFormat::bgr8: return "bgr8";
  }
  return "unknown";
}

/// Pixels owned by someone else. Rows are `stride` bytes apart (padding allowed); the alpha of
/// rgba8 is ignored by every facekit function.
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  std::ptrdiff_t stride = 0;  ///< bytes per row, at least width * channels
  PixelFormat format = PixelFormat::rgb8;

  int channels() const noexcept { return channels_of(format); }
  const uint8_t* row(int y) const noexcept { return data + std::ptrdiff_t(y) * stride; }
  /// Checks everything a facekit function relies on; the message names the bad field and value.
  Status validate() const;
};

inline Status ImageView::validate() const {
  if (format != PixelFormat::rgb8 && format != PixelFormat::rgba8 && format != PixelFormat::bgr8)
    return Status::error("image: unknown pixel format %d", int(format));
  if (data == nullptr) return Status::error("image: pixel data is null");
  if (width <= 0 || width > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("image: width %d is outside [1, %d] (FACEKIT_MAX_IMAGE_DIM)", width, FACEKIT_MAX_IMAGE_DIM);
  if (height <= 0 || height > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("image: height %d is outside [1, %d] (FACEKIT_MAX_IMAGE_DIM)", height,
                         FACEKIT_MAX_IMAGE_DIM);
  const std::ptrdiff_t min_stride = std::ptrdiff_t(width) * channels();
  if (stride < min_stride)
    return Status::error("image: stride %td bytes is smaller than width %d x %d channels (%s) = %td", stride, width,
                         channels(), pixel_format_name(format), min_stride);
  return Status::ok();
}

/// An RGB8 image that owns its pixels; rows are packed (stride = width * 3).
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  Image(int w, int h) : width(w), height(h), pixels(std::size_t(w) * std::size_t(h) * 3) {}

  std::ptrdiff_t stride() const noexcept { return std::ptrdiff_t(width) * 3; }
  ImageView view() const noexcept { return ImageView{pixels.data(), width, height, stride(), PixelFormat::rgb8}; }
};

/// A packed RGB8 copy of any view (BGR swapped, alpha dropped).
inline Expected<Image> to_rgb_image(const ImageView& v) {
  FACEKIT_RETURN_IF_ERROR(v.validate());
  Image out(v.width, v.height);
  const int cn = v.channels();
  const bool bgr = v.format == PixelFormat::bgr8;
  for (int y = 0; y < v.height; ++y) {
    const uint8_t* s = v.row(y);
    uint8_t* d = out.pixels.data() + std::size_t(y) * std::size_t(out.stride());
    for (int x = 0; x < v.width; ++x, s += cn, d += 3) {
      d[0] = s[bgr ? 2 : 0];
      d[1] = s[1];
      d[2] = s[bgr ? 0 : 2];
    }
  }
  return out;
}

#ifndef FACEKIT_NO_STB_IMAGE
namespace detail {

inline Status check_decoded_size(const char* what, int w, int h) {
  if (w <= 0 || h <= 0 || w > FACEKIT_MAX_IMAGE_DIM || h > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("%s: %dx%d pixels is outside the accepted 1..%d per side (FACEKIT_MAX_IMAGE_DIM)", what, w, h,
                         FACEKIT_MAX_IMAGE_DIM);
  return Status::ok();
}

inline const char* stbi_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

/// Takes ownership of an stbi RGB8 buffer.
inline Expected<Image> adopt_stbi(const char* what, stbi_uc* px, int w, int h, int info_w, int info_h) {
  if (!px) return Status::error("%s: decoding failed (stb_image: %s)", what, stbi_reason());
  if (w != info_w || h != info_h) {
    stbi_image_free(px);
    return Status::error("%s: decoded size %dx%d differs from the header's %dx%d", what, w, h, info_w, info_h);
  }
  Image img;
  img.width = w;
  img.height = h;
  img.pixels.assign(px, px + std::size_t(w) * std::size_t(h) * 3);
  stbi_image_free(px);
  return img;
}

}  // namespace detail

/// Decodes an encoded image (any format stb_image reads: JPEG, PNG, BMP, GIF, ...) to RGB8.
/// The declared size is checked against FACEKIT_MAX_IMAGE_DIM before decoding.
inline Expected<Image> load_image_from_memory(const void* bytes, std::size_t size) {
  const char* what = "image in memory";
  if (bytes == nullptr) return Status::error("%s: data is null", what);
  if (size == 0) return Status::error("%s: size is 0 bytes", what);
  if (size > std::size_t(INT_MAX)) return Status::error("%s: %zu bytes is more than stb_image accepts", what, size);
  const auto* p = static_cast<const stbi_uc*>(bytes);
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(p, int(size), &w, &h, &n))
    return Status::error("%s: not a supported image (%zu bytes; stb_image: %s)", what, size, detail::stbi_reason());
  FACEKIT_RETURN_IF_ERROR(detail::check_decoded_size(what, w, h));
  int dw = 0, dh = 0, dn = 0;
  stbi_uc* px = stbi_load_from_memory(p, int(size), &dw, &dh, &dn, 3);
  return detail::adopt_stbi(what, px, dw, dh, w, h);
}

#ifndef FACEKIT_NO_STDIO
/// Reads and decodes an image file to RGB8 (same decoding as stbi_load(path, &w, &h, &n, 3)).
inline Expected<Image> load_image(const std::string& path) {
  const std::string what = "image '" + path + "'";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error("%s: cannot open: %s", what.c_str(), std::strerror(errno));
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_file(f, &w, &h, &n)) {  // restores the file position
    std::fclose(f);
    return Status::error("%s: not a supported image file (stb_image: %s)", what.c_str(), detail::stbi_reason());
  }
  Status size_ok = detail::check_decoded_size(what.c_str(), w, h);
  if (!size_ok) {
    std::fclose(f);
    return size_ok;
  }
  int dw = 0, dh = 0, dn = 0;
  stbi_uc* px = stbi_load_from_file(f, &dw, &dh, &dn, 3);
  std::fclose(f);
  return detail::adopt_stbi(what.c_str(), px, dw, dh, w, h);
}
#endif  // FACEKIT_NO_STDIO
#endif  // FACEKIT_NO_STB_IMAGE

}  // namespace facekit
