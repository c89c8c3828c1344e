// The synthetic video frames of tests/data/video (written by tests/gen/make_video_golden.py),
// rebuilt byte for byte: a nearest-neighbour affine warp of the source image in 16.16 integer
// arithmetic, so C++ and Python agree exactly.
//
//   video_frames::WarpParams p;  // from the manifest's frame entry
//   facekit::Image frame = video_frames::make_frame(source_rgb, p, 384, 320);
//   uint64_t h = video_frames::fnv1a64(frame);   // must equal the entry's "fnv1a64"
#pragma once

#include <cstddef>
#include <cstdint>

#include "facekit/image/image.hpp"

namespace video_frames {

/// One frame's warp: output pixel (x, y) takes source pixel
///   sx = (a*x + b*y + c) >> frac_bits,  sy = (d*x + e*y + f) >> frac_bits   (floor)
/// or `grey` outside the source; a no_face frame is all `grey`.
struct WarpParams {
  int64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;
  int frac_bits = 16;
  bool no_face = false;
  uint8_t grey[3] = {114, 114, 114};
};

/// Floor of v / 2^bits, whatever the compiler does with >> on negative values (Python's >> floors).
inline int64_t floor_shift(int64_t v, int bits) {
  const int64_t q = v / (int64_t(1) << bits);  // truncates toward zero
  return (q * (int64_t(1) << bits) > v) ? q - 1 : q;
}

/// Builds one width x height RGB8 frame from an RGB8 source image.
inline facekit::Image make_frame(const facekit::Image& src, const WarpParams& p, int width, int height) {
  facekit::Image out(width, height);
  uint8_t* d = out.pixels.data();
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x, d += 3) {
      const uint8_t* s = p.grey;
      if (!p.no_face) {
        const int64_t sx = floor_shift(p.a * x + p.b * y + p.c, p.frac_bits);
        const int64_t sy = floor_shift(p.d * x + p.e * y + p.f, p.frac_bits);
        if (sx >= 0 && sx < src.width && sy >= 0 && sy < src.height)
          s = src.pixels.data() + (std::size_t(sy) * std::size_t(src.width) + std::size_t(sx)) * 3;
      }
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
  return out;
}

/// 64-bit FNV-1a over the packed RGB bytes (row-major, 3 bytes a pixel, no padding).
inline uint64_t fnv1a64(const facekit::Image& img) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t v : img.pixels) {
    h ^= v;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace video_frames
