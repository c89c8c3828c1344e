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
// Hostile files: the header is read first, and an image claiming more than
// ImageLoadOptions::max_pixels pixels (default 64 Mi) or in a format facekit does not read is
// refused before decoding; truncated or corrupt data gives an error naming the file.
#pragma once

#include <algorithm>
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
/// The encoded formats load_image reads, told by their first bytes.
enum class ImageFormat { unknown, jpeg, png, bmp, gif };

inline const char* image_format_name(ImageFormat f) noexcept {
  switch (f) {
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::png: return "PNG";
    case ImageFormat::bmp: return "BMP";
    case ImageFormat::gif: return "GIF";
    case ImageFormat::unknown: break;
  }
  return "unknown";
}

/// The format whose signature `bytes` start with; unknown when none matches (or size < 8).
/// stb_image also reads TGA, PSD, HDR, PIC and PNM; facekit refuses them: TGA has no signature
/// (any junk may pass for one), HDR is tone-mapped unlike the goldens' 8-bit decoding, and
/// stb_image 2.27's PNM reader overflows (signed header numbers, a heap write for 16-bit files).
inline ImageFormat sniff_image_format(const void* bytes, std::size_t size) noexcept {
  const auto* b = static_cast<const uint8_t*>(bytes);
  if (b == nullptr || size < 8) return ImageFormat::unknown;
  if (b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat::jpeg;
  if (std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::png;
  if (b[0] == 'B' && b[1] == 'M') return ImageFormat::bmp;
  if (std::memcmp(b, "GIF87a", 6) == 0 || std::memcmp(b, "GIF89a", 6) == 0) return ImageFormat::gif;
  return ImageFormat::unknown;
}

/// Default of ImageLoadOptions::max_pixels: 64 Mi pixels (e.g. 8192 x 8192), 192 MiB once decoded
/// to RGB8. Far above any camera's frame; an image claiming more is refused before decoding.
constexpr std::size_t kDefaultMaxImagePixels = std::size_t(1) << 26;

/// How load_image and load_image_from_memory treat what they are given.
struct ImageLoadOptions {
  /// Most pixels (width x height) an image may claim in its header. Checked before any pixel is
  /// decoded, so that a small hostile file cannot make the decoder allocate gigabytes. Must be
  /// at least 1. Each side is also limited to FACEKIT_MAX_IMAGE_DIM.
  std::size_t max_pixels = kDefaultMaxImagePixels;
};

/// What an image file's header declares.
struct ImageInfo {
  ImageFormat format = ImageFormat::unknown;
  int width = 0, height = 0;
};

namespace detail {

inline const char* stbi_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

inline uint32_t be16(const uint8_t* b) { return uint32_t(b[0]) << 8 | b[1]; }
inline uint32_t be32(const uint8_t* b) { return be16(b) << 16 | be16(b + 2); }
inline uint32_t le16(const uint8_t* b) { return uint32_t(b[1]) << 8 | b[0]; }
inline uint32_t le32(const uint8_t* b) { return le16(b + 2) << 16 | le16(b); }

/// The size a PNG, GIF, BMP or JPEG header declares, read without stb_image: its header readers
/// refuse sizes over ~2^30 bytes as "too large" before facekit could name its own limit.
/// `read(offset, buf, n)` returns the bytes it copied. False when the header is cut short.
template <class Read>
bool declared_size(ImageFormat f, Read&& read, long long* w, long long* h) {
  uint8_t b[26];
  switch (f) {
    case ImageFormat::png:  // IHDR is the first chunk: width and height at 16 and 20
      if (read(0, b, 24) != 24) return false;
      *w = be32(b + 16);
      *h = be32(b + 20);
      return true;
    case ImageFormat::gif:  // the logical screen, which every frame lies in
      if (read(0, b, 10) != 10) return false;
      *w = le16(b + 6);
      *h = le16(b + 8);
      return true;
    case ImageFormat::bmp:
      if (read(0, b, 26) != 26) return false;
      if (le32(b + 14) == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sides
        *w = le16(b + 18);
        *h = le16(b + 20);
      } else {  // a negative height means rows top-down
        *w = int32_t(le32(b + 18));
        *h = int32_t(le32(b + 22));
        if (*h < 0) *h = -*h;
      }
      return true;
    case ImageFormat::jpeg: {
      // Segments from the SOI up to the first start-of-frame; each step moves forward.
      unsigned long long pos = 2;
      for (int segment = 0; segment < 65536; ++segment) {
        if (read(pos, b, 2) != 2 || b[0] != 0xFF) return false;
        int fill = 0;
        while (b[1] == 0xFF) {  // fill bytes before a marker
          if (++fill > 65536 || read(++pos, b, 2) != 2) return false;
        }
        const uint8_t m = b[1];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {  // SOFn: P, Y, X
          if (read(pos + 4, b, 5) != 5) return false;
          *h = be16(b + 1);
          *w = be16(b + 3);
          return true;
        }
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // markers without a length
          pos += 2;
          continue;
        }
        if (m == 0xD9 || m == 0xDA) return false;  // image end or scan data before any frame
        if (read(pos + 2, b, 2) != 2 || be16(b) < 2) return false;
        pos += 2 + be16(b);
      }
      return false;
    }
    case ImageFormat::unknown: break;
  }
  return false;
}

inline Status check_pixel_count(const char* what, ImageFormat f, long long w, long long h,
                                const ImageLoadOptions& options) {
  const unsigned long long pixels = (unsigned long long)(w > 0 ? w : 0) * (unsigned long long)(h > 0 ? h : 0);
  if (pixels > options.max_pixels)
    return Status::error("%s: %s header claims %lldx%lld = %llu pixels, more than the limit of %zu (max_pixels)", what,
                         image_format_name(f), w, h, pixels, options.max_pixels);
  return Status::ok();
}

/// The checks made from the header alone, before stbi_info: a format facekit reads and a
/// declared size within max_pixels. `read` as for declared_size.
template <class Read>
Status check_image_header(const char* what, Read&& read, const ImageLoadOptions& options, ImageFormat* format) {
  if (options.max_pixels < 1) return Status::error("%s: max_pixels %zu must be at least 1", what, options.max_pixels);
  uint8_t head[8] = {};
  const std::size_t n = read(0, head, sizeof head);
  *format = sniff_image_format(head, n);
  if (*format == ImageFormat::unknown && n < sizeof head)
    return Status::error("%s: not a supported image: %s", what,
                         n == 0 ? "no bytes (an empty file?)" : "fewer bytes than any image header");
  if (*format == ImageFormat::unknown)
    return Status::error("%s: not a supported image: facekit reads JPEG, PNG, BMP and GIF, and the first bytes match "
                         "none of them",
                         what);
  long long w = 0, h = 0;
  if (declared_size(*format, read, &w, &h)) FACEKIT_RETURN_IF_ERROR(check_pixel_count(what, *format, w, h, options));
  return Status::ok();
}

/// stb_image 2.27 (Debian 12's libstb) writes past its Huffman tables when a JPEG's DHT segment
/// declares more than 256 codes in one table (2.28 refuses them). Such a file is refused before
/// stb_image reads it: every segment is walked as stb_image walks them, the entropy-coded data
/// after each scan header included (progressive JPEGs define tables between scans). Bytes past
/// the end read as 0, as stb_image reads them.
inline bool jpeg_tables_fit(const uint8_t* b, std::size_t size, std::size_t* codes) {
  auto at = [&](std::size_t i) -> std::size_t { return i < size ? b[i] : 0; };
  std::size_t pos = 2;
  while (pos + 1 < size) {
    if (b[pos] != 0xFF) {  // not a marker: before the frame stb_image skips to the next 0xFF
      ++pos;
      continue;
    }
    const uint8_t m = b[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (m == 0xD9) return true;
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
      pos += 2;
      continue;
    }
    const std::size_t len = (at(pos + 2) << 8) | at(pos + 3);
    if (len < 2) return true;
    const std::size_t end = pos + 2 + len;
    if (m == 0xC4) {
      for (std::size_t p = pos + 4; p < end;) {  // tables: class/id, 16 counts, the values
        std::size_t n = 0;
        for (std::size_t i = 1; i <= 16; ++i) n += at(p + i);
        if (n > 256) {
          *codes = n;
          return false;
        }
        p += 17 + n;
      }
    }
    pos = end;
    if (m == 0xDA)  // entropy-coded data up to a marker (not a stuffed 0, a restart or a fill byte)
      while (pos + 1 < size &&
             !(b[pos] == 0xFF && b[pos + 1] != 0x00 && b[pos + 1] != 0xFF && !(b[pos + 1] >= 0xD0 && b[pos + 1] <= 0xD7)))
        ++pos;
  }
  return true;
}

/// The checks on stbi_info's answer: a readable header, a size within the limits.
inline Status check_image_info(const char* what, ImageFormat f, bool info_ok, int w, int h,
                               const ImageLoadOptions& options, ImageInfo* info) {
  if (!info_ok)
    return Status::error("%s: not a supported image: its %s header is truncated or corrupt (stb_image: %s)", what,
                         image_format_name(f), stbi_reason());
  FACEKIT_RETURN_IF_ERROR(check_pixel_count(what, f, w, h, options));
  if (w <= 0 || h <= 0 || w > FACEKIT_MAX_IMAGE_DIM || h > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("%s: %dx%d pixels is outside the accepted 1..%d per side (FACEKIT_MAX_IMAGE_DIM)", what, w, h,
                         FACEKIT_MAX_IMAGE_DIM);
  info->format = f;
  info->width = w;
  info->height = h;
  return Status::ok();
}

/// Takes ownership of an stbi RGB8 buffer.
inline Expected<Image> adopt_stbi(const char* what, stbi_uc* px, int w, int h, const ImageInfo& info) {
  if (!px)
    return Status::error("%s: cannot decode: the %s data is truncated or corrupt (stb_image: %s)", what,
                         image_format_name(info.format), stbi_reason());
  if (w != info.width || h != info.height) {
    stbi_image_free(px);
    return Status::error("%s: decoded size %dx%d differs from the header's %dx%d", what, w, h, info.width, info.height);
  }
  Image img;
  img.width = w;
  img.height = h;
  img.pixels.assign(px, px + std::size_t(w) * std::size_t(h) * 3);
  stbi_image_free(px);
  return img;
}

}  // namespace detail

namespace detail {

inline Expected<ImageInfo> read_image_info(const char* what, const uint8_t* p, std::size_t size,
                                           const ImageLoadOptions& options) {
  if (size > std::size_t(INT_MAX)) return Status::error("%s: %zu bytes is more than stb_image accepts", what, size);
  auto read = [&](unsigned long long at, uint8_t* out, std::size_t n) -> std::size_t {
    if (at >= size) return 0;
    const std::size_t got = std::size_t(std::min<unsigned long long>(n, size - at));
    std::memcpy(out, p + at, got);
    return got;
  };
  ImageFormat format = ImageFormat::unknown;
  FACEKIT_RETURN_IF_ERROR(check_image_header(what, read, options, &format));
  std::size_t codes = 0;  // before stbi_info, which reads the tables ahead of the frame header
  if (format == ImageFormat::jpeg && !jpeg_tables_fit(p, size, &codes))
    return Status::error("%s: corrupt JPEG: a Huffman table declares %zu codes, at most 256 exist", what, codes);
  int w = 0, h = 0, n = 0;
  const bool ok = stbi_info_from_memory(p, int(size), &w, &h, &n) != 0;
  ImageInfo info;
  FACEKIT_RETURN_IF_ERROR(check_image_info(what, format, ok, w, h, options, &info));
  return info;
}

inline Expected<Image> load_image(const char* what, const uint8_t* p, std::size_t size,
                                  const ImageLoadOptions& options) {
  Expected<ImageInfo> info = read_image_info(what, p, size, options);
  if (!info) return info.status();
  int dw = 0, dh = 0, dn = 0;
  stbi_uc* px = stbi_load_from_memory(p, int(size), &dw, &dh, &dn, 3);
  return adopt_stbi(what, px, dw, dh, *info);
}

}  // namespace detail

/// Reads an encoded image's header only: its format and declared size, refused as
/// load_image_from_memory would refuse it before decoding.
inline Expected<ImageInfo> read_image_info_from_memory(const void* bytes, std::size_t size,
                                                       const ImageLoadOptions& options = {}) {
  const char* what = "image in memory";
  if (bytes == nullptr) return Status::error("%s: data is null", what);
  if (size == 0) return Status::error("%s: size is 0 bytes", what);
  return detail::read_image_info(what, static_cast<const uint8_t*>(bytes), size, options);
}

/// Decodes an encoded image (JPEG, PNG, BMP, GIF) to RGB8. The header is read
/// first: a format facekit does not read, or a size over options.max_pixels or
/// FACEKIT_MAX_IMAGE_DIM per side, is refused before any pixel is decoded. Truncated or
/// corrupt data gives an error (or, for JPEG, whose decoder pads missing data, possibly an image).
inline Expected<Image> load_image_from_memory(const void* bytes, std::size_t size,
                                              const ImageLoadOptions& options = {}) {
  const char* what = "image in memory";
  if (bytes == nullptr) return Status::error("%s: data is null", what);
  if (size == 0) return Status::error("%s: size is 0 bytes", what);
  return detail::load_image(what, static_cast<const uint8_t*>(bytes), size, options);
}

#ifndef FACEKIT_NO_STDIO
/// Reads and decodes an image file to RGB8 (the same pixels as stbi_load(path, &w, &h, &n, 3)),
/// refused before decoding as load_image_from_memory says. Errors name the file.
inline Expected<Image> load_image(const std::string& path, const ImageLoadOptions& options = {}) {
  const std::string what = "image '" + path + "'";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error("%s: cannot open: %s", what.c_str(), std::strerror(errno));
  // The whole file first: the checks before decoding walk the JPEG segments to the end.
  long end = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) end = std::ftell(f);
  if (end < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    const int e = errno;
    std::fclose(f);
    return Status::error("%s: cannot read: %s", what.c_str(), std::strerror(e));
  }
  if ((unsigned long)end > (unsigned long)INT_MAX) {
    std::fclose(f);
    return Status::error("%s: %ld bytes is more than stb_image accepts", what.c_str(), end);
  }
  std::vector<uint8_t> bytes(static_cast<std::size_t>(end));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size()) return Status::error("%s: cannot read all of its %ld bytes", what.c_str(), end);
  return detail::load_image(what.c_str(), bytes.data(), bytes.size(), options);
}
#endif  // FACEKIT_NO_STDIO
#endif  // FACEKIT_NO_STB_IMAGE

}  // namespace facekit
