// facekit/kernels/common.hpp - what every CPU kernel shares: geometry structs, the fused epilogue
// (bias + zero-extended residual + activation), tail-safe loads/stores and unrolling helpers.
//
// Conventions for all kernels (NHWC float32, batch 1):
//  * Channels are exact (C = 28 means 28 floats per pixel, no padding).
//  * Activation tensors are 64-byte aligned with >= 64 bytes of slack after them, so a kernel may
//    READ up to one vector past the last channel of the last pixel. It never WRITES past C.
//  * Inputs and outputs never alias (the arena planner keeps live tensors apart).
//  * Packed weights/biases/alphas are whole tiles of kPackTile channels, so whole-vector reads of
//    them are always in bounds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../config.hpp"
#include "../op_types.hpp"

// Register-blocked kernels rely on full inlining (accumulator arrays only stay in registers when
// every helper and lambda touching them is inlined), so it is forced rather than left to heuristics.
// FACEKIT_NO_FORCE_INLINE leaves it to the compiler (much faster sanitizer builds, slow kernels).
#if defined(__GNUC__) && !defined(FACEKIT_NO_FORCE_INLINE)
#define FACEKIT_KERNEL_INLINE inline __attribute__((always_inline))
#define FACEKIT_LAMBDA_INLINE __attribute__((always_inline))
#else
#define FACEKIT_KERNEL_INLINE inline
#define FACEKIT_LAMBDA_INLINE
#endif

namespace facekit {
namespace kernels {

/// Shape of a conv2d / dwconv2d. Bottom/right padding is implied by out_h/out_w.
struct Conv2dGeometry {
  int in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left;
};

/// Shape of a max pool (channels unchanged). Bottom/right padding is implied by out_h/out_w.
struct Pool2dGeometry {
  int in_h, in_w, channels;
  int out_h, out_w;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_top, pad_left;
};

/// What happens after the accumulation: y = act(acc + bias + zero_extend(residual)).
/// `alpha` (channel_padded, PReLU only) and `residual` ([pixels][residual_c]) may be null.
struct Epilogue {
  const float* alpha;
  const float* residual;
  int residual_c;
  Activation act;
};

/// A part of a kernel's output, [begin, end) in the kernel's own unit: conv2d's output pixels
/// (oy * out_w + ox), dwconv2d's output rows, token_dense's output tokens. A kernel computes each
/// unit exactly as the whole run does, so parts run on different threads give the same bits.
struct OutRange {
  int begin, end;
};

using Conv2dFn = void (*)(const Conv2dGeometry&, const float* x, const float* packed_w, const Epilogue&, float* y,
                          OutRange rows);
using Pool2dFn = void (*)(const Pool2dGeometry&, const float* x, float* y);

/// Packed tile geometry shared by the conv kernels: floats per tile = T * (1 + taps).
inline std::size_t packed_tile_stride(int taps) noexcept { return std::size_t(kPackTile) * (1 + std::size_t(taps)); }

/// Calls f(std::integral_constant<int, i>) for i = 0..N-1, fully unrolled at compile time (the
/// register-blocked kernels index accumulator arrays with these constants so they stay in registers).
template <class F, int... I>
FACEKIT_KERNEL_INLINE void unroll_impl(F& f, std::integer_sequence<int, I...>) {
  (void)f;
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, class F>
FACEKIT_KERNEL_INLINE void unroll(F&& f) {
  unroll_impl(f, std::make_integer_sequence<int, N>{});
}

/// Calls f(std::integral_constant<int, k>) for the k in [1, N] equal to n (a runtime value).
/// Lets a loop pick a compile-time variant (e.g. number of live vectors) without a hand switch.
template <int N, class F>
FACEKIT_KERNEL_INLINE void dispatch_1_to(int n, F&& f) {
  unroll<N>([&](auto I) FACEKIT_LAMBDA_INLINE {
    if (n == decltype(I)::value + 1) f(std::integral_constant<int, decltype(I)::value + 1>{});
  });
}

inline int clamp_lanes(int n, int lanes) noexcept { return n < 0 ? 0 : (n > lanes ? lanes : n); }

/// First k in [0, n) with origin + k * step >= 0, and one past the last with origin + k * step < size
/// (the taps of a window that fall inside the image). step >= 1.
inline void clip_taps(int origin, int step, int n, int size, int* lo, int* hi) noexcept {
  int l = origin < 0 ? (-origin + step - 1) / step : 0;
  int h = size - origin > 0 ? (size - origin + step - 1) / step : 0;
  *lo = l < n ? l : n;
  *hi = h < n ? h : n;
  if (*hi < *lo) *hi = *lo;
}

/// Output positions [lo, hi) whose whole window (extent `ext` = (k-1)*dilation+1) is inside [0, size).
inline void interior_range(int out, int stride, int pad, int ext, int size, int* lo, int* hi) noexcept {
  int l = pad > 0 ? (pad + stride - 1) / stride : 0;
  const int last = size - ext + pad;  // largest o*stride that still fits
  int h = last >= 0 ? last / stride + 1 : 0;
  if (l > out) l = out;
  if (h > out) h = out;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

namespace ref {

/// Scalar activation (PReLU reads alpha[c]).
inline float activate(float v, Activation act, const float* alpha, int c) noexcept {
  switch (act) {
    case Activation::none: return v;
    case Activation::relu: return v > 0.0f ? v : 0.0f;
    case Activation::relu6: return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
    case Activation::prelu: return v >= 0.0f ? v : v * alpha[c];
  }
  return v;
}

/// acc already holds the bias. Pixel index p, channel c.
inline float epilogue(float acc, const Epilogue& e, std::size_t p, int c) noexcept {
  if (e.residual && c < e.residual_c) acc += e.residual[p * std::size_t(e.residual_c) + std::size_t(c)];
  return activate(acc, e.act, e.alpha, c);
}

}  // namespace ref

#if FACEKIT_HAS_SIMD
namespace simd {

template <class A>
using vf = xsimd::batch<float, A>;

template <class A>
constexpr int lanes() noexcept {
  return int(vf<A>::size);
}

#if defined(__AVX512VL__)
constexpr bool kNarrowVectorsHave32Registers = true;  // EVEX encodes ymm/xmm16-31
#else
constexpr bool kNarrowVectorsHave32Registers = false;
#endif

/// Vector registers the compiler can use; sizes the register blocks. 64-byte vectors come with
/// 32 registers (AVX-512), and so do 32-byte ones when AVX-512VL is enabled; else 16.
template <class A>
constexpr int vector_registers() noexcept {
  return lanes<A>() >= 16 || (lanes<A>() == 8 && kNarrowVectorsHave32Registers) ? 32 : 16;
}

/// The half-width architecture used for a channel tail of at most half a vector (an AVX-512
/// kernel finishes 24 channels with one zmm and one ymm instead of two zmm: on cores that split
/// zmm ops in two 256-bit halves that is 25% fewer cycles, elsewhere it is no slower). A itself
/// when there is none worth using.
template <class A, class = void>
struct half_arch {
  using type = A;
};
#if XSIMD_WITH_AVX512F && XSIMD_WITH_AVX2
template <class A>
struct half_arch<A, typename std::enable_if<std::is_base_of<xsimd::avx512f, A>::value>::type> {
#if XSIMD_WITH_FMA3_AVX2
  using type = xsimd::fma3<xsimd::avx2>;
#else
  using type = xsimd::avx2;
#endif
};
#endif
template <class A>
using half_arch_t = typename half_arch<A>::type;
template <class A>
constexpr bool has_half_arch() noexcept {
  return !std::is_same<half_arch_t<A>, A>::value;
}

template <class A>
FACEKIT_KERNEL_INLINE vf<A> loadu(const float* p) noexcept {
  return vf<A>::load_unaligned(p);
}
template <class A>
FACEKIT_KERNEL_INLINE void storeu(float* p, const vf<A>& v) noexcept {
  v.store_unaligned(p);
}

// ---- loads/stores of the first n lanes (0 <= n <= lanes) ------------------------------------
// Never touch memory at or past p + n (so they are safe for residuals whose channels end early,
// and for writes). Lanes >= n load as zero. Overloads per ISA family; generic first.

namespace detail {

template <class A>
FACEKIT_KERNEL_INLINE vf<A> load_n(const float* p, int n, xsimd::generic const&) noexcept {
  constexpr int W = lanes<A>();
  if (n >= W) return loadu<A>(p);
  alignas(64) float buf[W] = {};
  for (int i = 0; i < n; ++i) buf[i] = p[i];
  return vf<A>::load_aligned(buf);
}
template <class A>
FACEKIT_KERNEL_INLINE void store_n(float* p, const vf<A>& v, int n, xsimd::generic const&) noexcept {
  constexpr int W = lanes<A>();
  if (n >= W) {
    v.store_unaligned(p);
    return;
  }
  alignas(64) float buf[W];
  v.store_aligned(buf);
  for (int i = 0; i < n; ++i) p[i] = buf[i];
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> fmadd(const vf<A>& a, const vf<A>& b, const vf<A>& c, xsimd::generic const&) noexcept {
  return xsimd::fma(a, b, c);
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmax(const vf<A>& a, const vf<A>& b, xsimd::generic const&) noexcept {
  return xsimd::max(a, b);
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmin(const vf<A>& a, const vf<A>& b, xsimd::generic const&) noexcept {
  return xsimd::min(a, b);
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vexp(const vf<A>& x, xsimd::generic const&) noexcept {
  return xsimd::exp(x);
}

#if XSIMD_WITH_AVX
// vmaskmovps: no fault on masked-off lanes. A full vector still takes the plain path because the
// masked store is slow on some cores.
template <class A>
FACEKIT_KERNEL_INLINE __m256i avx_mask(int n) noexcept {
  const __m256 idx = _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f);
  return _mm256_castps_si256(_mm256_cmp_ps(idx, _mm256_set1_ps(float(n)), _CMP_LT_OQ));
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> load_n(const float* p, int n, xsimd::avx const&) noexcept {
  if (n >= 8) return loadu<A>(p);
  return vf<A>(_mm256_maskload_ps(p, avx_mask<A>(n)));
}
template <class A>
FACEKIT_KERNEL_INLINE void store_n(float* p, const vf<A>& v, int n, xsimd::avx const&) noexcept {
  if (n >= 8) {
    v.store_unaligned(p);
    return;
  }
  _mm256_maskstore_ps(p, avx_mask<A>(n), v);
}
#endif

#if XSIMD_WITH_AVX512F
template <class A>
FACEKIT_KERNEL_INLINE __mmask16 avx512_mask(int n) noexcept {
  return __mmask16((1u << unsigned(n)) - 1u);  // n <= 16
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> load_n(const float* p, int n, xsimd::avx512f const&) noexcept {
  return vf<A>(_mm512_maskz_loadu_ps(avx512_mask<A>(n), p));
}
template <class A>
FACEKIT_KERNEL_INLINE void store_n(float* p, const vf<A>& v, int n, xsimd::avx512f const&) noexcept {
  _mm512_mask_storeu_ps(p, avx512_mask<A>(n), v);
}
// xsimd 8.1 has no AVX-512 fma overload (its generic one relies on contraction).
template <class A>
FACEKIT_KERNEL_INLINE vf<A> fmadd(const vf<A>& a, const vf<A>& b, const vf<A>& c, xsimd::avx512f const&) noexcept {
  return vf<A>(_mm512_fmadd_ps(a, b, c));
}
// GCC 12.2's unmasked AVX-512 max/min/round/shift intrinsics start from _mm512_undefined_ps() and
// trip a false -Wmaybe-uninitialized (GCC PR 105593) wherever they are inlined, including xsimd's
// max/min/exp. The all-lanes masked forms are the same instructions without that.
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmax(const vf<A>& a, const vf<A>& b, xsimd::avx512f const&) noexcept {
  return vf<A>(_mm512_mask_max_ps(a, __mmask16(0xFFFF), a, b));
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmin(const vf<A>& a, const vf<A>& b, xsimd::avx512f const&) noexcept {
  return vf<A>(_mm512_mask_min_ps(a, __mmask16(0xFFFF), a, b));
}
/// e^x: x = n*ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (relative error
/// < 1e-8 on that range), scaled by 2^n with vscalefps (which also saturates to 0 / inf).
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vexp(const vf<A>& x, xsimd::avx512f const&) noexcept {
  const __mmask16 all = 0xFFFF;
  const __m512 xc = _mm512_mask_max_ps(x, all, _mm512_mask_min_ps(x, all, x, _mm512_set1_ps(100.0f)),
                                       _mm512_set1_ps(-110.0f));
  const __m512 t = _mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_mask_roundscale_ps(t, all, t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);  // ln2 split in two
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return vf<A>(_mm512_mask_scalef_ps(p, all, p, n));
}
#endif

}  // namespace detail

/// First n lanes of p (0 <= n <= lanes), the rest zero; reads nothing at or past p + n.
template <class A>
FACEKIT_KERNEL_INLINE vf<A> load_n(const float* p, int n) noexcept {
  return detail::load_n<A>(p, n, A{});
}
/// Writes the first n lanes of v (0 <= n <= lanes) to p; nothing at or past p + n.
template <class A>
FACEKIT_KERNEL_INLINE void store_n(float* p, const vf<A>& v, int n) noexcept {
  detail::store_n<A>(p, v, n, A{});
}
/// a * b + c.
template <class A>
FACEKIT_KERNEL_INLINE vf<A> fmadd(const vf<A>& a, const vf<A>& b, const vf<A>& c) noexcept {
  return detail::fmadd<A>(a, b, c, A{});
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmax(const vf<A>& a, const vf<A>& b) noexcept {
  return detail::vmax<A>(a, b, A{});
}
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vmin(const vf<A>& a, const vf<A>& b) noexcept {
  return detail::vmin<A>(a, b, A{});
}
/// e^x (accurate to a few ulp).
template <class A>
FACEKIT_KERNEL_INLINE vf<A> vexp(const vf<A>& x) noexcept {
  return detail::vexp<A>(x, A{});
}

#if XSIMD_WITH_AVX512F && XSIMD_WITH_AVX2
/// The low half of a vector as a half_arch_t<A> vector (no instruction).
template <class A, class = typename std::enable_if<std::is_base_of<xsimd::avx512f, A>::value>::type>
FACEKIT_KERNEL_INLINE vf<half_arch_t<A>> lower_half(const vf<A>& v) noexcept {
  // _mm512_castps512_ps256 would trip GCC PR 105593 too.
  typedef float v16 __attribute__((vector_size(64)));
  const v16 w = v16(__m512(v));
  return vf<half_arch_t<A>>(__m256(__builtin_shufflevector(w, w, 0, 1, 2, 3, 4, 5, 6, 7)));
}
#else
/// Declared only, so that kernels name it in branches that no arch without AVX-512 instantiates
/// (has_half_arch<A>() is false for all of them).
template <class A>
vf<half_arch_t<A>> lower_half(const vf<A>& v) noexcept;
#endif

/// Covers channels [0, C) with vectors: f(arch, c0, n) for each vector of n <= lanes valid channels
/// starting at c0, arch being A, or half_arch_t<A> for a tail that fits in half a vector. f is a
/// generic lambda, so each body is compiled for both widths.
template <class A, class F>
FACEKIT_KERNEL_INLINE void for_each_channel_vector(int C, F&& f) {
  constexpr int W = lanes<A>();
  int c0 = 0;
  for (; c0 + W <= C; c0 += W) f(A{}, c0, W);
  const int tail = C - c0;
  if (tail <= 0) return;
  if constexpr (has_half_arch<A>()) {
    if (tail <= lanes<half_arch_t<A>>()) {
      f(half_arch_t<A>{}, c0, tail);
      return;
    }
  }
  f(A{}, c0, tail);
}

/// Makes the compiler keep a loaded vector in a register. Without it GCC re-folds a load that
/// feeds several FMAs into each of them (one memory operand per FMA), which doubles the loads of
/// the depthwise kernel and costs ~10%.
template <class A>
FACEKIT_KERNEL_INLINE void keep_in_register(vf<A>& v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(v.data));
#else
  (void)v;
#endif
}

/// Activation on a vector; `alpha` points at the vector's channels of the channel_padded array.
template <Activation Act, class A>
FACEKIT_KERNEL_INLINE vf<A> activate(const vf<A>& v, const float* alpha) noexcept {
  if constexpr (Act == Activation::relu) {
    return vmax<A>(v, vf<A>(0.0f));
  } else if constexpr (Act == Activation::relu6) {
    return vmin<A>(vmax<A>(v, vf<A>(0.0f)), vf<A>(6.0f));
  } else if constexpr (Act == Activation::prelu) {
    return xsimd::select(v < vf<A>(0.0f), v * loadu<A>(alpha), v);
  } else {
    (void)alpha;
    return v;
  }
}

/// The fused conv epilogue for one vector of channels [c, c + lanes):
/// act(acc + residual[0 .. res_n)), acc already holding the bias. `res` points at the residual's
/// channel c of this pixel; res_n = clamp(residual_c - c, 0, lanes) (0: nothing to add).
template <class A, Activation Act, bool Res>
FACEKIT_KERNEL_INLINE vf<A> epilogue(vf<A> acc, const float* res, int res_n, const float* alpha) noexcept {
  if constexpr (Res) {
    if (res_n > 0) acc = acc + load_n<A>(res, res_n);
  }
  (void)res;
  (void)res_n;
  return activate<Act, A>(acc, alpha);
}

/// The same with the residual and the activation chosen at run time (res_n == 0: no residual).
/// Kernels whose inner loop dominates (the conv GEMM) use this: one instantiation instead of
/// eight, for one well-predicted branch per output vector.
template <class A>
FACEKIT_KERNEL_INLINE vf<A> epilogue(vf<A> acc, const float* res, int res_n, const float* alpha,
                                     Activation act) noexcept {
  if (res_n > 0) acc = acc + load_n<A>(res, res_n);
  switch (act) {
    case Activation::relu: return activate<Activation::relu, A>(acc, alpha);
    case Activation::relu6: return activate<Activation::relu6, A>(acc, alpha);
    case Activation::prelu: return activate<Activation::prelu, A>(acc, alpha);
    case Activation::none: break;
  }
  return acc;
}

}  // namespace simd
#endif  // FACEKIT_HAS_SIMD

/// Calls f(std::integral_constant<Activation, act>, std::integral_constant<bool, res>): turns the
/// runtime activation/residual choice into template arguments, once, when a kernel is selected.
template <class F>
auto dispatch_epilogue(Activation act, bool res, F&& f) {
  using N = std::integral_constant<Activation, Activation::none>;
  using R = std::integral_constant<Activation, Activation::relu>;
  using R6 = std::integral_constant<Activation, Activation::relu6>;
  using P = std::integral_constant<Activation, Activation::prelu>;
  using T = std::true_type;
  using F0 = std::false_type;
  switch (act) {
    case Activation::relu: return res ? f(R{}, T{}) : f(R{}, F0{});
    case Activation::relu6: return res ? f(R6{}, T{}) : f(R6{}, F0{});
    case Activation::prelu: return res ? f(P{}, T{}) : f(P{}, F0{});
    case Activation::none: break;
  }
  return res ? f(N{}, T{}) : f(N{}, F0{});
}

}  // namespace kernels
}  // namespace facekit
