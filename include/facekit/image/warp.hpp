// facekit/image/warp.hpp - MediaPipe's CPU crop: rotated ROI -> N_w x N_h tensor, bit-exact.
//
//   float tensor[256 * 256 * 3];
//   facekit::RotatedRect roi{cx, cy, w, h, angle};
//   auto st = facekit::crop_to_tensor(img.view(), roi, 256, 256, facekit::BorderMode::replicate,
//                                     0.0f, 1.0f, tensor);
//
// ImageToTensorCalculator's OpenCV converter (docs/pipeline.md 0.3 step 4;
// mediapipe/calculators/tensor/image_to_tensor_converter_opencv.cc) makes an
// 8-bit crop with OpenCV's fixed-point warpPerspective and maps each byte v to v * scale + offset.
// This file reproduces its arithmetic step by step, in OpenCV's order of operations:
//   1. the ROI's corners as cv::RotatedRect::points computes them (float32);
//   2. getPerspectiveTransform: an 8x8 system solved by OpenCV's LU (partial pivoting, back
//      substitution that DIVIDES by the pivot: a reciprocal multiply changes the last bit of the
//      matrix, and with it whole pixels of letterboxed non-square images);
//   3. the closed-form 3x3 inverse (cv::invert);
//   4. per output pixel the source position rounded half-to-even to 1/32 pixel, computed per
//      block of 16 rows x up to 64 columns exactly as WarpPerspectiveInvoker does;
//   5. bilinear sampling with integer weights, (sum + 16384) >> 15, BORDER_CONSTANT(0) or
//      BORDER_REPLICATE rules of remapBilinear.
// No heap allocation; the pixel loops are specialised per input format and border mode. The
// SIMD path (any xsimd arch) gives the same bytes as the scalar one (scalar_arch, the reference).
// Exactness needs IEEE arithmetic: FMA contraction is defeated internally (fp.hpp), but
// -ffast-math (or -fassociative-math) breaks the bit-exact guarantee.
#pragma once

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../status.hpp"
#include "fp.hpp"
#include "geometry.hpp"
#include "image.hpp"

namespace facekit {

/// What a sample outside the image reads: MediaPipe's BORDER_ZERO (the detector) or
/// BORDER_REPLICATE (landmark crops; also what MediaPipe uses when the mode is unset).
enum class BorderMode { zero, replicate };

/// The homographies of one crop as OpenCV computes them (row-major 3x3, double).
struct CropTransform {
  std::array<double, 9> forward{};  ///< image pixel -> output pixel (getPerspectiveTransform)
  std::array<double, 9> inverse{};  ///< output pixel -> image position (what is sampled)
};

/// cv::RotatedRect::points: bottom-left, top-left, top-right, bottom-right corners (float32).
inline std::array<std::array<float, 2>, 4> rect_corners(const RotatedRect& roi) noexcept {
  // MediaPipe passes the angle in degrees as float: (rotation * 180.f) / M_PI.
  const float angle_deg = float(double(roi.angle_rad * 180.0f) / 3.14159265358979323846);
  const double rad = double(angle_deg) * 3.14159265358979323846 / 180.0;
  const float b = float(std::cos(rad)) * 0.5f;
  const float a = float(std::sin(rad)) * 0.5f;
  const float cx = roi.cx, cy = roi.cy, w = roi.w, h = roi.h;
  std::array<std::array<float, 2>, 4> p;
  p[0] = {cx - fp::mul(a, h) - fp::mul(b, w), cy + fp::mul(b, h) - fp::mul(a, w)};
  p[1] = {cx + fp::mul(a, h) - fp::mul(b, w), cy - fp::mul(b, h) - fp::mul(a, w)};
  p[2] = {fp::mul(2.0f, cx) - p[0][0], fp::mul(2.0f, cy) - p[0][1]};
  p[3] = {fp::mul(2.0f, cx) - p[1][0], fp::mul(2.0f, cy) - p[1][1]};
  return p;
}

namespace detail {

/// hal::LU64f on an 8x8 system (a row-major, b right-hand side, solution left in b).
inline bool lu_solve8(double a[8][8], double b[8]) noexcept {
  const int m = 8;
  for (int i = 0; i < m; ++i) {
    int k = i;
    for (int j = i + 1; j < m; ++j)
      if (std::fabs(a[j][i]) > std::fabs(a[k][i])) k = j;
    if (!(std::fabs(a[k][i]) >= DBL_EPSILON * 100)) return false;
    if (k != i) {
      for (int j = i; j < m; ++j) std::swap(a[i][j], a[k][j]);
      std::swap(b[i], b[k]);
    }
    const double d = -1.0 / a[i][i];
    for (int j = i + 1; j < m; ++j) {
      const double alpha = a[j][i] * d;
      for (int c = i + 1; c < m; ++c) a[j][c] += fp::mul(alpha, a[i][c]);
      b[j] += fp::mul(alpha, b[i]);
    }
  }
  for (int i = m - 1; i >= 0; --i) {
    double s = b[i];
    for (int c = i + 1; c < m; ++c) s -= fp::mul(a[i][c], b[c]);
    b[i] = s / a[i][i];
  }
  return true;
}

inline bool invert3(const std::array<double, 9>& s, std::array<double, 9>* t) noexcept {
  using fp::mul;
  const double m00 = s[0], m01 = s[1], m02 = s[2], m10 = s[3], m11 = s[4], m12 = s[5], m20 = s[6], m21 = s[7],
               m22 = s[8];
  const double det = mul(m00, mul(m11, m22) - mul(m12, m21)) - mul(m01, mul(m10, m22) - mul(m12, m20)) +
                     mul(m02, mul(m10, m21) - mul(m11, m20));
  if (det == 0) return false;
  const double r = 1.0 / det;
  *t = {(mul(m11, m22) - mul(m12, m21)) * r, (mul(m02, m21) - mul(m01, m22)) * r, (mul(m01, m12) - mul(m02, m11)) * r,
        (mul(m12, m20) - mul(m10, m22)) * r, (mul(m00, m22) - mul(m02, m20)) * r, (mul(m02, m10) - mul(m00, m12)) * r,
        (mul(m10, m21) - mul(m11, m20)) * r, (mul(m01, m20) - mul(m00, m21)) * r, (mul(m00, m11) - mul(m01, m10)) * r};
  return true;
}

inline Status check_crop_args(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, const void* out) {
  FACEKIT_RETURN_IF_ERROR(image.validate());
  if (out_w <= 0 || out_h <= 0 || out_w > FACEKIT_MAX_IMAGE_DIM || out_h > FACEKIT_MAX_IMAGE_DIM)
    return Status::error("crop: output size %dx%d is outside 1..%d per side", out_w, out_h, FACEKIT_MAX_IMAGE_DIM);
  if (out == nullptr) return Status::error("crop: output buffer is null");
  if (!std::isfinite(roi.cx) || !std::isfinite(roi.cy) || !std::isfinite(roi.angle_rad))
    return Status::error("crop: ROI centre (%g, %g) or angle %g is not finite", double(roi.cx), double(roi.cy),
                         double(roi.angle_rad));
  if (!(roi.w > 0) || !(roi.h > 0) || !std::isfinite(roi.w) || !std::isfinite(roi.h))
    return Status::error("crop: ROI size %gx%g must be positive and finite", double(roi.w), double(roi.h));
  return Status::ok();
}

// OpenCV's clip(): x >= a ? (x < b ? x : b - 1) : a.
inline int clip_index(int x, int n) noexcept { return x >= 0 ? (x < n ? x : n - 1) : 0; }

/// Source byte offsets of the output channels R, G, B inside one input pixel (RGB/RGBA or BGR).
template <int CN, bool Bgr>
struct Layout {
  static constexpr int cn = CN, r = Bgr ? 2 : 0, g = 1, b = Bgr ? 0 : 2;
};

/// remapBilinear outside the interior (a neighbour may be off the image): 8-bit R, G, B of the
/// source position (sx + fx/32, sy + fy/32).
template <class L, bool Zero>
void sample_border(const ImageView& img, int sx, int sy, int fx, int fy, int v[3]) noexcept {
  constexpr int CN = L::cn;
  const uint8_t *p00, *p01, *p10, *p11;
  if (Zero) {
    if (sx >= img.width || sx + 1 < 0 || sy >= img.height || sy + 1 < 0) {
      v[0] = v[1] = v[2] = 0;  // the whole pixel is the border value
      return;
    }
    // Neighbours outside the image read as 0: point them at a zero pixel.
    static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
    const bool x0 = sx >= 0, x1 = sx + 1 < img.width, y0 = sy >= 0, y1 = sy + 1 < img.height;
    p00 = x0 && y0 ? img.row(sy) + sx * CN : kZero;
    p01 = x1 && y0 ? img.row(sy) + (sx + 1) * CN : kZero;
    p10 = x0 && y1 ? img.row(sy + 1) + sx * CN : kZero;
    p11 = x1 && y1 ? img.row(sy + 1) + (sx + 1) * CN : kZero;
  } else {
    const int x0 = clip_index(sx, img.width), x1 = clip_index(sx + 1, img.width);
    const uint8_t* r0 = img.row(clip_index(sy, img.height));
    const uint8_t* r1 = img.row(clip_index(sy + 1, img.height));
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

constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52, see fp::round_to_int

/// WarpPerspectiveInvoker's line loop for one block row: source positions in 1/32 pixel,
/// rounded half to even, returned as integral doubles. tx/ty/tw hold M0*x1, M3*x1, M6*x1.
/// `wrow` is 32/W0 when the homography is affine (M6 == 0), else ignored.
inline void block_row_coords(scalar_arch, const double* tx, const double* ty, const double* tw, double X0, double Y0,
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

#if FACEKIT_HAS_SIMD
template <class Arch>
void block_row_coords_simd(const double* tx, const double* ty, const double* tw, double X0, double Y0, double W0,
                           bool affine, double wrow, int bw, double* fx, double* fy) noexcept {
  using B = xsimd::batch<double, Arch>;
  constexpr int N = int(B::size);
  const B x0(X0), y0(Y0), w0(W0), k32(32.0), zero(0.0), hi(double(INT_MAX)), lo(double(INT_MIN)),
      magic(kRoundMagic), wr(wrow);
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
  block_row_coords(scalar_arch{}, tx + i, ty + i, tw + i, X0, Y0, W0, affine, wrow, bw - i, fx + i, fy + i);
}

template <class Arch>
void block_row_coords(Arch, const double* tx, const double* ty, const double* tw, double X0, double Y0, double W0,
                      bool affine, double wrow, int bw, double* fx, double* fy) noexcept {
  if constexpr (!xsimd::has_simd_register<double, Arch>::value) {  // e.g. 32-bit NEON: no double lanes
    block_row_coords(scalar_arch{}, tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
  } else {
    block_row_coords_simd<Arch>(tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
  }
}
#endif

/// R, G, B of a pixel in bits 0, 21 and 42.
template <class L>
inline uint64_t lanes(const uint8_t* p) noexcept {
  return uint64_t(p[L::r]) | uint64_t(p[L::g]) << 21 | uint64_t(p[L::b]) << 42;
}
constexpr uint64_t kLaneHalf = 512u | uint64_t(512) << 21 | uint64_t(512) << 42;

/// remapBilinear over one block row, plain C++ (the reference for the SIMD path): output pixel i
/// samples the source position (fx[i] / 32, fy[i] / 32); its R, G, B bytes go to dst + 3i.
template <class L, bool Zero>
void sample_block_row_scalar(const ImageView& img, const double* fx, const double* fy, int bw,
                             uint8_t* dst) noexcept {
  constexpr int CN = L::cn;
  const unsigned W1 = unsigned(img.width - 1), H1 = unsigned(img.height - 1);
  for (int i = 0; i < bw; ++i, dst += 3) {
    const int X = int(fx[i]), Y = int(fy[i]);
    // OpenCV saturates X >> 5 to int16; any position that saturation changes is far outside
    // the image (<= FACEKIT_MAX_IMAGE_DIM), where clipping or the border gives the same pixel.
    const int sx = X >> 5, sy = Y >> 5, ax = X & 31, ay = Y & 31;
    if (unsigned(sx) < W1 && unsigned(sy) < H1) {
      // sum(w * p) with w = 32*(32-ax)*(32-ay) etc. equals 32 * (row0*(32-ay) + row1*ay) with
      // row = left*(32-ax) + right*ax, so (sum + 16384) >> 15 == (that + 512) >> 10. The three
      // channels ride in 21-bit lanes of one 64-bit integer (every lane stays below 2^18).
      const uint8_t* p = img.row(sy) + sx * CN;
      const uint8_t* q = p + img.stride;
      const uint64_t bx = uint64_t(32 - ax), by = uint64_t(32 - ay);
      const uint64_t row0 = lanes<L>(p) * bx + lanes<L>(p + CN) * uint64_t(ax);
      const uint64_t row1 = lanes<L>(q) * bx + lanes<L>(q + CN) * uint64_t(ax);
      const uint64_t sum = row0 * by + row1 * uint64_t(ay) + kLaneHalf;
      dst[0] = uint8_t((sum >> 10) & 255);
      dst[1] = uint8_t((sum >> 31) & 255);
      dst[2] = uint8_t((sum >> 52) & 255);
    } else {
      int v[3];
      sample_border<L, Zero>(img, sx, sy, ax, ay, v);
      dst[0] = uint8_t(v[0]);
      dst[1] = uint8_t(v[1]);
      dst[2] = uint8_t(v[2]);
    }
  }
}

/// MediaPipe's byte-to-float conversion, v * scale + offset with the product rounded first
/// (== value_lut's entries): the SIMD path's tail.
inline void bytes_to_floats_scalar(const uint8_t* src, int n, float scale, float offset, float* dst) noexcept {
  for (int i = 0; i < n; ++i) dst[i] = fp::mul(float(src[i]), scale) + offset;
}

#if FACEKIT_HAS_SIMD
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
// false uninitialized warnings wherever they are inlined (GCC PR 105593, see kernels/common.hpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/// sample_block_row_scalar with the arithmetic in SIMD lanes. Per chunk of pixels: (1) in double
/// lanes, each pixel's byte offset in the image (-1 if a neighbour is off the image, -2 if all
/// are and the border is zero) and its weights; (2) a scalar pass loads the neighbours as 32-bit
/// words; (3) the bilinear weights are applied N pixels at a time; (4) the bytes are
/// interleaved; (5) the pixels marked -1 are redone by sample_border. Writes dst[3 * bw], one
/// byte past the row (dst needs 3 * bw + 1 bytes).
template <class Arch, class L, bool Zero>
void sample_block_row_simd(const ImageView& img, const double* fx, const double* fy, int bw, uint8_t* dst) noexcept {
  using B = xsimd::batch<int32_t, Arch>;
  using D = xsimd::batch<double, Arch>;
  using D64 = xsimd::batch<int64_t, Arch>;
  constexpr int N = int(B::size), ND = int(D::size);
  constexpr int kChunk = 64;
  static_assert(kChunk % N == 0 && kChunk % ND == 0, "a chunk must hold whole batches");
  constexpr int CN = L::cn;
  // The left and right neighbours of a row are two words: the left pixel's bytes 0-3 and the 4
  // bytes that end with the right pixel (RGB: bytes 2-5, RGBA: 4-7), so no byte past the right
  // neighbour is read. Byte k of the right pixel is byte k + kR of the second word.
  constexpr int kR = CN == 3 ? 1 : 0;
  constexpr int kSecond = CN - kR;
  // Locals, not img's fields: the stores below could alias those, forcing reloads.
  const uint8_t* const base = img.data;
  const std::ptrdiff_t stride = img.stride;
  const double fw1 = double(img.width - 1), fh1 = double(img.height - 1), fstride = double(stride);
  const D w1(fw1), h1(fh1), dstride(fstride), dcn(static_cast<double>(CN)), zero(0.0), k32(32.0), inv32(1.0 / 32),
      bias(15.5), k65536(65536.0), minus1(-1.0), minus2(-2.0), magic(kRoundMagic);
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
      const int X = int(fx[c0 + i]), Y = int(fy[c0 + i]);
      int v[3];
      sample_border<L, Zero>(img, X >> 5, Y >> 5, X & 31, Y & 31, v);
      uint8_t* e = dst + 3 * (c0 + i);
      e[0] = uint8_t(v[0]);
      e[1] = uint8_t(v[1]);
      e[2] = uint8_t(v[2]);
    }
  }
}

template <class Arch>
void bytes_to_floats_simd(const uint8_t* src, int n, float scale, float offset, float* dst) noexcept {
  using F = xsimd::batch<float, Arch>;
  using I = xsimd::batch<int32_t, Arch>;
  constexpr int N = int(F::size);
  constexpr int kPiece = 256;
  static_assert(kPiece % N == 0, "a piece must hold whole batches");
  const F s(scale), o(offset);
  alignas(64) int32_t wide[kPiece];
  int i = 0;
  while (i + N <= n) {
    const int m = std::min(kPiece, (n - i) / N * N);
    // Widened by a plain loop the compiler vectorises (xsimd 8.1 has no byte -> int32 widening).
    for (int k = 0; k < m; ++k) wide[k] = src[i + k];
    for (int k = 0; k < m; k += N, i += N) {
      // The product is rounded on its own, as in the LUT: never fused with the addition.
      typename F::register_type prod = xsimd::batch_cast<float>(I::load_aligned(wide + k)) * s;
      FACEKIT_FP_OPAQUE(prod);
      (F(prod) + o).store_unaligned(dst + i);
    }
  }
  bytes_to_floats_scalar(src + i, n - i, scale, offset, dst + i);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // FACEKIT_HAS_SIMD

/// True when Arch samples and converts in SIMD lanes (it needs int32, int64, float and double
/// lanes; e.g. 32-bit NEON has no double lanes and takes the scalar path).
template <class Arch>
constexpr bool simd_sampling() noexcept {
#if FACEKIT_HAS_SIMD
  if constexpr (!std::is_same<Arch, scalar_arch>::value)
    return xsimd::has_simd_register<int32_t, Arch>::value && xsimd::has_simd_register<int64_t, Arch>::value &&
           xsimd::has_simd_register<float, Arch>::value && xsimd::has_simd_register<double, Arch>::value;
#endif
  return false;
}

/// One block row of output bytes (dst: 3 * bw + 1 bytes).
template <class Arch, class L, bool Zero>
void sample_block_row(const ImageView& img, const double* fx, const double* fy, int bw, uint8_t* dst) noexcept {
  if constexpr (simd_sampling<Arch>()) {
#if FACEKIT_HAS_SIMD
    sample_block_row_simd<Arch, L, Zero>(img, fx, fy, bw, dst);
#endif
  } else {
    sample_block_row_scalar<L, Zero>(img, fx, fy, bw, dst);
  }
}

/// n bytes to floats: lut[v] on the scalar path (filled by warp_pixels), SIMD arithmetic otherwise.
template <class Arch>
void bytes_to_floats(const uint8_t* src, int n, float scale, float offset, const float* lut, float* dst) noexcept {
  if constexpr (simd_sampling<Arch>()) {
#if FACEKIT_HAS_SIMD
    bytes_to_floats_simd<Arch>(src, n, scale, offset, dst);
#endif
    (void)lut;
  } else {
    (void)scale;
    (void)offset;
    for (int i = 0; i < n; ++i) dst[i] = lut[src[i]];
  }
}

/// Where warp_pixels puts the crop: bytes (u8 != nullptr) or v * scale + offset floats.
struct CropOutput {
  uint8_t* u8 = nullptr;
  float* f32 = nullptr;
  float scale = 1.0f, offset = 0.0f;
};

/// WarpPerspectiveInvoker + remapBilinear into `out` (out_h x out_w x 3, R, G, B).
template <class Arch, class L, bool Zero>
void warp_pixels(const ImageView& img, const std::array<double, 9>& t, int out_w, int out_h,
                 const CropOutput& out) noexcept {
  // WarpPerspectiveInvoker's blocks (BLOCK_SZ 32): only the width matters to the arithmetic,
  // because X0/Y0/W0 are evaluated at each block's first column.
  const int bh0 = std::min(16, out_h);
  const int bw0 = std::min(1024 / bh0, out_w);
  // M*x1 per block column, each product rounded on its own.
  double tx[1024], ty[1024], tw[1024], fx[1024], fy[1024];
  uint8_t row[3 * 1024 + 1];
  float lut[256];
  if (!simd_sampling<Arch>() && out.f32)
    for (int v = 0; v < 256; ++v) lut[v] = fp::mul(float(v), out.scale) + out.offset;
  for (int x1 = 0; x1 < bw0; ++x1) {
    tx[x1] = fp::mul(t[0], double(x1));
    ty[x1] = fp::mul(t[3], double(x1));
    tw[x1] = fp::mul(t[6], double(x1));
  }
  const bool affine = t[6] == 0.0;  // then W0 + M6*x1 == W0 exactly: one division per row
  for (int y = 0; y < out_h; ++y) {
    for (int xb = 0; xb < out_w; xb += bw0) {
      const int bw = std::min(bw0, out_w - xb);
      const double X0 = fp::mul(t[0], double(xb)) + fp::mul(t[1], double(y)) + t[2];
      const double Y0 = fp::mul(t[3], double(xb)) + fp::mul(t[4], double(y)) + t[5];
      const double W0 = fp::mul(t[6], double(xb)) + fp::mul(t[7], double(y)) + t[8];
      const double wrow = W0 != 0 ? 32.0 / W0 : 0.0;
      block_row_coords(Arch{}, tx, ty, tw, X0, Y0, W0, affine, wrow, bw, fx, fy);
      sample_block_row<Arch, L, Zero>(img, fx, fy, bw, row);
      const std::size_t at = (std::size_t(y) * std::size_t(out_w) + std::size_t(xb)) * 3;
      if (out.f32)
        bytes_to_floats<Arch>(row, 3 * bw, out.scale, out.offset, lut, out.f32 + at);
      else
        std::memcpy(out.u8 + at, row, std::size_t(3 * bw));
    }
  }
}

template <class Arch, class L>
void warp_border(const ImageView& img, const std::array<double, 9>& t, int out_w, int out_h, BorderMode border,
                 const CropOutput& out) noexcept {
  if (border == BorderMode::zero)
    warp_pixels<Arch, L, true>(img, t, out_w, out_h, out);
  else
    warp_pixels<Arch, L, false>(img, t, out_w, out_h, out);
}

template <class Arch>
void warp_dispatch(const ImageView& img, const std::array<double, 9>& t, int out_w, int out_h, BorderMode border,
                   const CropOutput& out) noexcept {
  switch (img.format) {
    case PixelFormat::rgb8: warp_border<Arch, Layout<3, false>>(img, t, out_w, out_h, border, out); break;
    case PixelFormat::bgr8: warp_border<Arch, Layout<3, true>>(img, t, out_w, out_h, border, out); break;
    case PixelFormat::rgba8: warp_border<Arch, Layout<4, false>>(img, t, out_w, out_h, border, out); break;
  }
}

}  // namespace detail

/// getPerspectiveTransform(corners of roi -> output corners) and its inverse, as OpenCV computes
/// them. Fails only for a degenerate ROI (zero or non-finite size).
inline Status crop_transform(const RotatedRect& roi, int out_w, int out_h, CropTransform* out) {
  const auto src = rect_corners(roi);
  const float dst[4][2] = {{0.0f, float(out_h)}, {0.0f, 0.0f}, {float(out_w), 0.0f}, {float(out_w), float(out_h)}};
  double a[8][8] = {}, b[8];
  for (int i = 0; i < 4; ++i) {
    const float x = src[std::size_t(i)][0], y = src[std::size_t(i)][1], u = dst[i][0], v = dst[i][1];
    a[i][0] = a[i + 4][3] = x;
    a[i][1] = a[i + 4][4] = y;
    a[i][2] = a[i + 4][5] = 1;
    a[i][6] = -x * u;  // float32 products, as OpenCV forms them
    a[i][7] = -y * u;
    a[i + 4][6] = -x * v;
    a[i + 4][7] = -y * v;
    b[i] = u;
    b[i + 4] = v;
  }
  if (!detail::lu_solve8(a, b))
    return Status::error("crop: ROI (%g, %g, %gx%g, %g rad) gives a singular perspective system", double(roi.cx),
                         double(roi.cy), double(roi.w), double(roi.h), double(roi.angle_rad));
  out->forward = {b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], 1.0};
  if (!detail::invert3(out->forward, &out->inverse))
    return Status::error("crop: ROI (%g, %g, %gx%g, %g rad) gives a singular homography", double(roi.cx),
                         double(roi.cy), double(roi.w), double(roi.h), double(roi.angle_rad));
  return Status::ok();
}

/// The 8-bit RGB crop (out_h x out_w x 3, row-major) that MediaPipe converts to floats.
template <class Arch = default_arch>
Status crop_to_u8(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, BorderMode border,
                         uint8_t* out) {
  FACEKIT_RETURN_IF_ERROR(detail::check_crop_args(image, roi, out_w, out_h, out));
  CropTransform tr;
  FACEKIT_RETURN_IF_ERROR(crop_transform(roi, out_w, out_h, &tr));
  detail::CropOutput o;
  o.u8 = out;
  detail::warp_dispatch<Arch>(image, tr.inverse, out_w, out_h, border, o);
  return Status::ok();
}

/// MediaPipe's value conversion of the 8-bit crop: v * scale + offset in float32, two roundings,
/// scale = (max - min) / 255, offset = min.
inline Status value_scale_offset(float range_min, float range_max, float* scale, float* offset) {
  if (!(range_min < range_max) || !std::isfinite(range_min) || !std::isfinite(range_max))
    return Status::error("crop: value range [%g, %g] must be finite with min < max", double(range_min),
                         double(range_max));
  *scale = (range_max - range_min) / (255.0f - 0.0f);
  *offset = range_min - fp::mul(0.0f, *scale);
  return Status::ok();
}

/// The same conversion as a table: lut[v] for v = 0..255.
inline Status value_lut(float range_min, float range_max, float lut[256]) {
  float scale = 0, offset = 0;
  FACEKIT_RETURN_IF_ERROR(value_scale_offset(range_min, range_max, &scale, &offset));
  for (int v = 0; v < 256; ++v) lut[v] = fp::mul(float(v), scale) + offset;
  return Status::ok();
}

/// The float tensor (NHWC, out_h x out_w x 3, RGB) MediaPipe feeds to a model for this ROI.
/// Every pixel is written; no allocation. Arch only selects the SIMD width: every
/// architecture gives the same bytes.
template <class Arch = default_arch>
Status crop_to_tensor(const ImageView& image, const RotatedRect& roi, int out_w, int out_h, BorderMode border,
                             float range_min, float range_max, float* out) {
  FACEKIT_RETURN_IF_ERROR(detail::check_crop_args(image, roi, out_w, out_h, out));
  detail::CropOutput o;
  o.f32 = out;
  FACEKIT_RETURN_IF_ERROR(value_scale_offset(range_min, range_max, &o.scale, &o.offset));
  CropTransform tr;
  FACEKIT_RETURN_IF_ERROR(crop_transform(roi, out_w, out_h, &tr));
  detail::warp_dispatch<Arch>(image, tr.inverse, out_w, out_h, border, o);
  return Status::ok();
}

/// The detector's input: the whole image (optionally rotated) letterboxed into out_w x out_h
/// with BORDER_ZERO, values in [range_min, range_max]. `crop_to_image` receives the matrix that
/// maps tensor-normalised points back to image-normalised ones (docs/pipeline.md 1.5); may be null.
template <class Arch = default_arch>
Status letterbox_whole_image(const ImageView& image, int out_w, int out_h, float range_min, float range_max,
                                    float* out, Matrix4* crop_to_image, float rotation_rad = 0.0f) {
  FACEKIT_RETURN_IF_ERROR(image.validate());
  RotatedRect roi = whole_image_rect(image.width, image.height);
  roi.angle_rad = rotation_rad;
  auto padded = pad_roi(roi, out_w, out_h, true);
  if (!padded) return padded.status();
  FACEKIT_RETURN_IF_ERROR(
      crop_to_tensor<Arch>(image, padded->roi, out_w, out_h, BorderMode::zero, range_min, range_max, out));
  if (crop_to_image) *crop_to_image = crop_to_image_matrix(padded->roi, image.width, image.height);
  return Status::ok();
}

}  // namespace facekit
