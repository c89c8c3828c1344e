// facekit/kernels/u8_warp_perspective.hpp - OpenCV's fixed-point warpPerspective (INTER_LINEAR)
// of an 8-bit image into packed R, G, B bytes, bit-exact: the sampler of MediaPipe's CPU crop
// (ImageToTensorCalculator's OpenCV converter; image/image_to_tensor.hpp forms the matrix).
//
// Output pixel (X, Y) samples the input through the inverse homography m (output -> input,
// row-major 3x3, as f64_perspective_transform + f64_invert3x3 give it), in OpenCV's steps:
//   1. per block of 16 rows x up to 64 columns, exactly as WarpPerspectiveInvoker does: X0, Y0,
//      W0 at the block's first column plus M*x1 per column, each product rounded on its own; the
//      source position rounded half to even to 1/32 pixel;
//   2. remapBilinear: integer weights, (sum + 16384) >> 15, with BorderMode::zero
//      (BORDER_CONSTANT 0) or BorderMode::replicate (BORDER_REPLICATE) for neighbours off the
//      image.
// The input pixel layout (RGB, BGR, RGBA) is a template parameter; the output is always R, G, B.
// u8_warp_perspective_to_f32 converts each block row with u8_to_f32 as it is made.
//
// The SIMD path (any xsimd arch with int32, int64, float and double lanes; others take the
// scalar one) gives the same bytes as the scalar reference. Exactness needs IEEE arithmetic: FMA
// contraction is defeated internally (fp.hpp), but -ffast-math (or -fassociative-math) breaks it.
// No heap allocation.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../config.hpp"
#include "fp.hpp"
#include "u8_to_f32.hpp"

namespace facekit {
namespace kernels {

/// What a sample outside the image reads: MediaPipe's BORDER_ZERO (the detector) or
/// BORDER_REPLICATE (landmark crops; also what MediaPipe uses when the mode is unset).
enum class BorderMode { zero, replicate };

/// An 8-bit input pixel: Channels bytes, the byte offsets of R, G and B within it.
template <int Channels, bool Bgr>
struct U8PixelLayout {
  static constexpr int cn = Channels, r = Bgr ? 2 : 0, g = 1, b = Bgr ? 0 : 2;
};
using U8Rgb = U8PixelLayout<3, false>;
using U8Bgr = U8PixelLayout<3, true>;
using U8Rgba = U8PixelLayout<4, false>;

/// x is in_h rows of in_w pixels, in_stride bytes apart; y is [out_h][out_w][3] (R, G, B).
/// Sizes are at most FACEKIT_MAX_IMAGE_DIM.
struct WarpPerspectiveGeometry {
  int in_h, in_w;
  std::ptrdiff_t in_stride;
  int out_h, out_w;
};

namespace detail {

// OpenCV's clip(): x >= a ? (x < b ? x : b - 1) : a.
inline int warp_clip_index(int x, int n) noexcept { return x >= 0 ? (x < n ? x : n - 1) : 0; }

/// remapBilinear outside the interior (a neighbour may be off the image): 8-bit R, G, B of the
/// source position (sx + fx/32, sy + fy/32).
template <class L, BorderMode Border>
void warp_sample_border(const WarpPerspectiveGeometry& g, const uint8_t* x, int sx, int sy, int fx, int fy,
                        int v[3]) noexcept {
  constexpr int CN = L::cn;
  auto row = [&](int r) { return x + std::ptrdiff_t(r) * g.in_stride; };
  const uint8_t *p00, *p01, *p10, *p11;
  if (Border == BorderMode::zero) {
    if (sx >= g.in_w || sx + 1 < 0 || sy >= g.in_h || sy + 1 < 0) {
      v[0] = v[1] = v[2] = 0;  // the whole pixel is the border value
      return;
    }
    // Neighbours outside the image read as 0: point them at a zero pixel.
    static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
    const bool x0 = sx >= 0, x1 = sx + 1 < g.in_w, y0 = sy >= 0, y1 = sy + 1 < g.in_h;
    p00 = x0 && y0 ? row(sy) + sx * CN : kZero;
    p01 = x1 && y0 ? row(sy) + (sx + 1) * CN : kZero;
    p10 = x0 && y1 ? row(sy + 1) + sx * CN : kZero;
    p11 = x1 && y1 ? row(sy + 1) + (sx + 1) * CN : kZero;
  } else {
    const int x0 = warp_clip_index(sx, g.in_w), x1 = warp_clip_index(sx + 1, g.in_w);
    const uint8_t* r0 = row(warp_clip_index(sy, g.in_h));
    const uint8_t* r1 = row(warp_clip_index(sy + 1, g.in_h));
    p00 = r0 + x0 * CN;
    p01 = r0 + x1 * CN;
    p10 = r1 + x0 * CN;
    p11 = r1 + x1 * CN;
  }
  const int w00 = 32 * (32 - fx) * (32 - fy), w01 = 32 * fx * (32 - fy), w10 = 32 * (32 - fx) * fy,
            w11 = 32 * fx * fy;
  v[0] = (p00[L::r] * w00 + p01[L::r] * w01 + p10[L::r] * w10 + p11[L::r] * w11 + 16384) >> 15;
  v[1] = (p00[L::g] * w00 + p01[L::g] * w01 + p10[L::g] * w10 + p11[L::g] * w11 + 16384) >> 15;
  v[2] = (p00[L::b] * w00 + p01[L::b] * w01 + p10[L::b] * w10 + p11[L::b] * w11 + 16384) >> 15;
}

/// warp_sample_border for output pixel i of a block row, stored at dst.
template <class L, BorderMode Border>
void warp_border_pixel(const WarpPerspectiveGeometry& g, const uint8_t* x, double fx, double fy,
                       uint8_t* dst) noexcept {
  const int X = int(fx), Y = int(fy);
  int v[3];
  warp_sample_border<L, Border>(g, x, X >> 5, Y >> 5, X & 31, Y & 31, v);
  dst[0] = uint8_t(v[0]);
  dst[1] = uint8_t(v[1]);
  dst[2] = uint8_t(v[2]);
}

/// R, G, B of a pixel in bits 0, 21 and 42.
template <class L>
inline uint64_t warp_lanes(const uint8_t* p) noexcept {
  return uint64_t(p[L::r]) | uint64_t(p[L::g]) << 21 | uint64_t(p[L::b]) << 42;
}
constexpr uint64_t kWarpLaneHalf = 512u | uint64_t(512) << 21 | uint64_t(512) << 42;

}  // namespace detail

namespace ref {

/// WarpPerspectiveInvoker's line loop for one block row: source positions in 1/32 pixel,
/// rounded half to even, returned as integral doubles. tx/ty/tw hold M0*x1, M3*x1, M6*x1.
/// `wrow` is 32/W0 when the homography is affine (M6 == 0), else ignored.
inline void warp_block_row_coords(const double* tx, const double* ty, const double* tw, double X0, double Y0,
                                  double W0, bool affine, double wrow, int bw, double* fx, double* fy) noexcept {
  for (int i = 0; i < bw; ++i) {
    double wd = wrow;
    if (!affine) {
      wd = W0 + tw[i];
      wd = wd != 0 ? 32.0 / wd : 0.0;
    }
    fx[i] = double(fp::round_to_int((X0 + tx[i]) * wd));
    fy[i] = double(fp::round_to_int((Y0 + ty[i]) * wd));
  }
}

/// remapBilinear over one block row: output pixel i samples the source position
/// (fx[i] / 32, fy[i] / 32); its R, G, B bytes go to dst + 3i.
template <class L, BorderMode Border>
void u8_warp_block_row(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* fx, const double* fy,
                       int bw, uint8_t* dst) noexcept {
  constexpr int CN = L::cn;
  const unsigned W1 = unsigned(g.in_w - 1), H1 = unsigned(g.in_h - 1);
  for (int i = 0; i < bw; ++i, dst += 3) {
    const int X = int(fx[i]), Y = int(fy[i]);
    // OpenCV saturates X >> 5 to int16; any position that saturation changes is far outside
    // the image (<= FACEKIT_MAX_IMAGE_DIM), where clipping or the border gives the same pixel.
    const int sx = X >> 5, sy = Y >> 5, ax = X & 31, ay = Y & 31;
    if (unsigned(sx) < W1 && unsigned(sy) < H1) {
      // sum(w * p) with w = 32*(32-ax)*(32-ay) etc. equals 32 * (row0*(32-ay) + row1*ay) with
      // row = left*(32-ax) + right*ax, so (sum + 16384) >> 15 == (that + 512) >> 10. The three
      // channels ride in 21-bit lanes of one 64-bit integer (every lane stays below 2^18).
      using kernels::detail::warp_lanes;
      const uint8_t* p = x + std::ptrdiff_t(sy) * g.in_stride + sx * CN;
      const uint8_t* q = p + g.in_stride;
      const uint64_t bx = uint64_t(32 - ax), by = uint64_t(32 - ay);
      const uint64_t row0 = warp_lanes<L>(p) * bx + warp_lanes<L>(p + CN) * uint64_t(ax);
      const uint64_t row1 = warp_lanes<L>(q) * bx + warp_lanes<L>(q + CN) * uint64_t(ax);
      const uint64_t sum = row0 * by + row1 * uint64_t(ay) + kernels::detail::kWarpLaneHalf;
      dst[0] = uint8_t((sum >> 10) & 255);
      dst[1] = uint8_t((sum >> 31) & 255);
      dst[2] = uint8_t((sum >> 52) & 255);
    } else {
      int v[3];
      kernels::detail::warp_sample_border<L, Border>(g, x, sx, sy, ax, ay, v);
      dst[0] = uint8_t(v[0]);
      dst[1] = uint8_t(v[1]);
      dst[2] = uint8_t(v[2]);
    }
  }
}

}  // namespace ref

/// True when Arch computes the source positions in double lanes.
template <class Arch>
constexpr bool warp_coords_have_simd() noexcept {
  return has_simd_vectors<double, Arch>();
}

/// True when Arch samples in SIMD lanes (it needs int32, int64, float and double lanes; e.g.
/// 32-bit NEON has no double lanes and takes the scalar path).
template <class Arch>
constexpr bool u8_warp_perspective_has_simd() noexcept {
  return has_simd_vectors<int32_t, Arch>() && has_simd_vectors<int64_t, Arch>() && has_simd_vectors<float, Arch>() &&
         has_simd_vectors<double, Arch>();
}

#if FACEKIT_HAS_SIMD
namespace simd {

/// ref::warp_block_row_coords in double lanes.
template <class A>
void warp_block_row_coords(const double* tx, const double* ty, const double* tw, double X0, double Y0, double W0,
                           bool affine, double wrow, int bw, double* fx, double* fy) noexcept {
  using B = xsimd::batch<double, A>;
  constexpr int N = int(B::size);
  const B x0(X0), y0(Y0), w0(W0), k32(32.0), zero(0.0), hi(double(INT_MAX)), lo(double(INT_MIN)),
      magic(fp::kRoundMagic), wr(wrow);
  int i = 0;
  // The products only feed comparisons and blends before the rounding addition, so nothing
  // can be contracted into an FMA.
  for (; i + N <= bw; i += N) {
    B wd = wr;
    if (!affine) {
      wd = w0 + B::load_unaligned(tw + i);
      wd = xsimd::select(wd != zero, k32 / wd, zero);
    }
    B vx = (x0 + B::load_unaligned(tx + i)) * wd;
    B vy = (y0 + B::load_unaligned(ty + i)) * wd;
    vx = xsimd::select(vx < hi, vx, hi);  // std::min(INT_MAX, v): NaN -> INT_MAX
    vx = xsimd::select(lo < vx, vx, lo);
    vy = xsimd::select(vy < hi, vy, hi);
    vy = xsimd::select(lo < vy, vy, lo);
    ((vx + magic) - magic).store_unaligned(fx + i);
    ((vy + magic) - magic).store_unaligned(fy + i);
  }
  ref::warp_block_row_coords(tx + i, ty + i, tw + i, X0, Y0, W0, affine, wrow, bw - i, fx + i, fy + i);
}

/// 4 bytes at p, the first one lowest.
inline int32_t load_le32(const uint8_t* p) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return int32_t(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);  // one unaligned load (GCC does not always merge the byte loads)
  return int32_t(v);
#endif
}

/// The inverse: v's bytes to p[0..3], lowest first.
inline void store_le32(uint8_t* p, int32_t v) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (int k = 0; k < 4; ++k) p[k] = uint8_t(uint32_t(v) >> (8 * k));
#else
  std::memcpy(p, &v, 4);
#endif
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// GCC 12's unmasked AVX-512 intrinsics (e.g. shifts) start from _mm512_undefined_*() and trip
// false uninitialized warnings wherever they are inlined (GCC PR 105593, see common.hpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/// ref::u8_warp_block_row with the arithmetic in SIMD lanes. Per chunk of pixels: (1) in double
/// lanes, each pixel's byte offset in the image (-1 if a neighbour is off the image, -2 if all
/// are and the border is zero) and its weights; (2) a scalar pass loads the neighbours as 32-bit
/// words; (3) the bilinear weights are applied N pixels at a time; (4) the bytes are
/// interleaved; (5) the pixels marked -1 are redone by the scalar border rules. Writes
/// dst[3 * bw], one byte past the row (dst needs 3 * bw + 1 bytes).
template <class A, class L, BorderMode Border>
void u8_warp_block_row(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* fx, const double* fy,
                       int bw, uint8_t* dst) noexcept {
  using B = xsimd::batch<int32_t, A>;
  using D = xsimd::batch<double, A>;
  using D64 = xsimd::batch<int64_t, A>;
  constexpr bool Zero = Border == BorderMode::zero;
  constexpr int N = int(B::size), ND = int(D::size);
  constexpr int kChunk = 64;
  static_assert(kChunk % N == 0 && kChunk % ND == 0, "a chunk must hold whole batches");
  constexpr int CN = L::cn;
  // The left and right neighbours of a row are two words: the left pixel's bytes 0-3 and the 4
  // bytes that end with the right pixel (RGB: bytes 2-5, RGBA: 4-7), so no byte past the right
  // neighbour is read. Byte k of the right pixel is byte k + kR of the second word.
  constexpr int kR = CN == 3 ? 1 : 0;
  constexpr int kSecond = CN - kR;
  // Locals, not g's fields: the stores below could alias those, forcing reloads.
  const uint8_t* const base = x;
  const std::ptrdiff_t stride = g.in_stride;
  const double fw1 = double(g.in_w - 1), fh1 = double(g.in_h - 1), fstride = double(stride);
  const D w1(fw1), h1(fh1), dstride(fstride), dcn(static_cast<double>(CN)), zero(0.0), k32(32.0), inv32(1.0 / 32),
      bias(15.5), k65536(65536.0), minus1(-1.0), minus2(-2.0), magic(fp::kRoundMagic);
  const D64 magic_bits = xsimd::bitwise_cast<D64>(magic);
  alignas(64) int64_t off[kChunk], wxy64[kChunk];
  alignas(64) int32_t t0[kChunk], t1[kChunk], b0[kChunk], b1[kChunk], wxy[kChunk], packed[kChunk];
  int border[kChunk];
  for (int c0 = 0; c0 < bw; c0 += kChunk) {
    const int n = std::min(kChunk, bw - c0);
    const int nd = (n + ND - 1) / ND * ND, nv = (n + N - 1) / N * N;
    // (1) fx, fy are integers in [INT_MIN, INT_MAX]: sx = fx >> 5 is the nearest integer to
    // (fx - 15.5) / 32 (never a tie); everything below is exact in double, so FMA contraction
    // cannot change it. An integral double v with |v| < 2^51 becomes an int64 as the low bits
    // of v + 1.5 * 2^52 (offsets and weights are far below that).
    bool any_on_image = !Zero;
    for (int i = 0; i < nd; i += ND) {
      D X, Y;
      if (i + ND <= n) {
        X = D::load_unaligned(fx + c0 + i);
        Y = D::load_unaligned(fy + c0 + i);
      } else {
        alignas(64) double tx[ND] = {}, ty[ND] = {};
        for (int k = 0; k < n - i; ++k) {
          tx[k] = fx[c0 + i + k];
          ty[k] = fy[c0 + i + k];
        }
        X = D::load_aligned(tx);
        Y = D::load_aligned(ty);
      }
      const D sx = (((X - bias) * inv32 + magic) - magic), sy = (((Y - bias) * inv32 + magic) - magic);
      const D ax = X - sx * k32, ay = Y - sy * k32;
      const auto inside = (sx >= zero) & (sx < w1) & (sy >= zero) & (sy < h1);
      D o = xsimd::select(inside, sy * dstride + sx * dcn, minus1);
      if (Zero) {  // no neighbour on the image: zero words already give the border value 0
        const auto away = (sx < minus1) | (sx > w1) | (sy < minus1) | (sy > h1);
        o = xsimd::select(away, minus2, o);
        any_on_image = any_on_image || xsimd::any(o != minus2);
      }
      (xsimd::bitwise_cast<D64>(o + magic) - magic_bits).store_aligned(off + i);
      (xsimd::bitwise_cast<D64>((ax + ay * k65536) + magic) - magic_bits).store_aligned(wxy64 + i);
    }
    if (!any_on_image) {  // e.g. a letterbox bar
      std::memset(dst + 3 * c0, 0, std::size_t(3 * n));
      continue;
    }
    // (2)
    int nb = 0;
    for (int i = 0; i < n; ++i) {
      const std::ptrdiff_t o = std::ptrdiff_t(off[i]);
      wxy[i] = int32_t(wxy64[i]);
      if (o >= 0) {
        const uint8_t* p = base + o;
        t0[i] = load_le32(p);
        t1[i] = load_le32(p + kSecond);
        b0[i] = load_le32(p + stride);
        b1[i] = load_le32(p + stride + kSecond);
      } else {
        if (o == -1) border[nb++] = i;
        t0[i] = t1[i] = b0[i] = b1[i] = 0;
      }
    }
    for (int i = n; i < nv; ++i) t0[i] = t1[i] = b0[i] = b1[i] = wxy[i] = 0;
    // (3)
    for (int i = 0; i < nv; i += N) {
      const B w = B::load_aligned(wxy + i), ax = w & B(31), ay = w >> 16;
      const B w0 = B::load_aligned(t0 + i), w1 = B::load_aligned(t1 + i), w2 = B::load_aligned(b0 + i),
              w3 = B::load_aligned(b1 + i);
      const B m255(255), half(512);
      // The scalar path's integers, rearranged exactly: left*(32-a) + right*a == 32*left +
      // (right-left)*a; every intermediate fits in int32 (|row| <= 8160, sum < 2^18).
      auto channel = [&](int k) {
        const B l0 = (w0 >> (8 * k)) & m255, r0 = (w1 >> (8 * (k + kR))) & m255;
        const B l1 = (w2 >> (8 * k)) & m255, r1 = (w3 >> (8 * (k + kR))) & m255;
        const B row0 = (l0 << 5) + (r0 - l0) * ax, row1 = (l1 << 5) + (r1 - l1) * ax;
        return ((row0 << 5) + (row1 - row0) * ay + half) >> 10;
      };
      const B v = channel(L::r) | channel(L::g) << 8 | channel(L::b) << 16;
      v.store_aligned(packed + i);
    }
    // (4) One 4-byte store per pixel: the fourth byte (zero) is overwritten by the next pixel,
    // or lands in dst's spare byte.
    uint8_t* d = dst + 3 * c0;
    for (int i = 0; i < n; ++i, d += 3) store_le32(d, packed[i]);
    // (5)
    for (int k = 0; k < nb; ++k) {
      const int i = border[k];
      kernels::detail::warp_border_pixel<L, Border>(g, x, fx[c0 + i], fy[c0 + i], dst + 3 * (c0 + i));
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

namespace detail {

template <class Arch>
void warp_block_row_coords(const double* tx, const double* ty, const double* tw, double X0, double Y0, double W0,
                           bool affine, double wrow, int bw, double* fx, double* fy) noexcept {
  if constexpr (warp_coords_have_simd<Arch>()) {
#if FACEKIT_HAS_SIMD
    simd::warp_block_row_coords<Arch>(tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
#endif
  } else {
    ref::warp_block_row_coords(tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
  }
}

/// One block row of output bytes (dst: 3 * bw + 1 bytes).
template <class Arch, class L, BorderMode Border>
void u8_warp_block_row(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* fx, const double* fy,
                       int bw, uint8_t* dst) noexcept {
  if constexpr (u8_warp_perspective_has_simd<Arch>()) {
#if FACEKIT_HAS_SIMD
    simd::u8_warp_block_row<Arch, L, Border>(g, x, fx, fy, bw, dst);
#endif
  } else {
    ref::u8_warp_block_row<L, Border>(g, x, fx, fy, bw, dst);
  }
}

/// WarpPerspectiveInvoker + remapBilinear: each block row of bytes goes to
/// store(bytes, first output element, element count).
template <class Arch, class L, BorderMode Border, class Store>
void u8_warp_perspective_rows(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* m,
                              const Store& store) noexcept {
  // WarpPerspectiveInvoker's blocks (BLOCK_SZ 32): only the width matters to the arithmetic,
  // because X0/Y0/W0 are evaluated at each block's first column.
  const int out_w = g.out_w, out_h = g.out_h;
  const int bh0 = std::min(16, out_h);
  const int bw0 = std::min(1024 / bh0, out_w);
  // M*x1 per block column, each product rounded on its own.
  double tx[1024], ty[1024], tw[1024], fx[1024], fy[1024];
  uint8_t row[3 * 1024 + 1];
  for (int x1 = 0; x1 < bw0; ++x1) {
    tx[x1] = fp::mul(m[0], double(x1));
    ty[x1] = fp::mul(m[3], double(x1));
    tw[x1] = fp::mul(m[6], double(x1));
  }
  const bool affine = m[6] == 0.0;  // then W0 + M6*x1 == W0 exactly: one division per row
  for (int y = 0; y < out_h; ++y) {
    for (int xb = 0; xb < out_w; xb += bw0) {
      const int bw = std::min(bw0, out_w - xb);
      const double X0 = fp::mul(m[0], double(xb)) + fp::mul(m[1], double(y)) + m[2];
      const double Y0 = fp::mul(m[3], double(xb)) + fp::mul(m[4], double(y)) + m[5];
      const double W0 = fp::mul(m[6], double(xb)) + fp::mul(m[7], double(y)) + m[8];
      const double wrow = W0 != 0 ? 32.0 / W0 : 0.0;
      warp_block_row_coords<Arch>(tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
      u8_warp_block_row<Arch, L, Border>(g, x, fx, fy, bw, row);
      store(row, (std::size_t(y) * std::size_t(out_w) + std::size_t(xb)) * 3, std::size_t(3 * bw));
    }
  }
}

}  // namespace detail

/// The warp into bytes: y is [out_h][out_w][3] R, G, B. m is the row-major 3x3 map from output
/// pixel to input position. x (in_h x in_w pixels of layout L) and y do not overlap.
template <class Arch, class L, BorderMode Border>
void u8_warp_perspective(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* m, uint8_t* y) noexcept {
  detail::u8_warp_perspective_rows<Arch, L, Border>(
      g, x, m, [y](const uint8_t* row, std::size_t at, std::size_t n) { std::memcpy(y + at, row, n); });
}

/// The same bytes v, written as u8_to_f32 floats v * scale + offset (y: [out_h][out_w][3]).
template <class Arch, class L, BorderMode Border>
void u8_warp_perspective_to_f32(const WarpPerspectiveGeometry& g, const uint8_t* x, const double* m, float scale,
                                float offset, float* y) noexcept {
  if constexpr (u8_to_f32_has_simd<Arch>()) {
    detail::u8_warp_perspective_rows<Arch, L, Border>(
        g, x, m, [=](const uint8_t* row, std::size_t at, std::size_t n) {
          u8_to_f32<Arch>(row, n, scale, offset, y + at);
        });
  } else {
    // Without SIMD lanes a table lookup per byte is faster than the rounded product (same bits).
    float lut[256];
    u8_to_f32_table(scale, offset, lut);
    detail::u8_warp_perspective_rows<Arch, L, Border>(
        g, x, m, [y, &lut](const uint8_t* row, std::size_t at, std::size_t n) {
          for (std::size_t i = 0; i < n; ++i) y[at + i] = lut[row[i]];
        });
  }
}

}  // namespace kernels
}  // namespace facekit
