/* s2c_internal.h: private declarations shared by the kernel files (ISA variants, OpenMP policy). */
#ifndef S2C_INTERNAL_H
#define S2C_INTERNAL_H

#include "s2c_fixedpoint.h"
#include "s2c_ops.h"

/* Parallel regions only pay off above this many multiply-adds; below it the kernel runs on the
 * calling thread. Either way rows are independent, so the output never depends on it. */
#define S2C_OMP_MIN_WORK ((int64_t)1 << 16)

/* Fully unrolls the loop that follows (a constant trip count over register blocks). Clang unrolls
 * such loops by itself; GCC at -O2 does not, and then keeps the accumulator arrays in memory,
 * with a load and a store around every multiply-accumulate (docs/kernels.md, GCC builds). */
#define S2C_UNROLL _Pragma("GCC unroll 16")

/* Modular int32 add (two's complement wrap, no UB): the accumulator semantics of every variant. */
static inline int32_t s2c_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* One output element of s2c_dwconv_s16 (the specification, used by the C reference and by the
 * ISA variants for channel tails and large kernels). int32 sum modulo 2^32, then requant. */
static inline int16_t s2c_dwconv_s16_point(const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                                           const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                           int lo, int hi, int y, int x, int ch) {
    const int p = k / 2;
    uint32_t acc = bias ? (uint32_t)bias[ch] : 0;
    for (int ky = 0; ky < k; ky++) {
        const int yy = y + ky - p;
        if (yy < 0 || yy >= h) continue;
        for (int kx = 0; kx < k; kx++) {
            const int xx = x + kx - p;
            if (xx < 0 || xx >= w) continue;
            acc += (uint32_t)(in[((ptrdiff_t)yy * w + xx) * c + ch] * wgt[(ch * k + ky) * k + kx]);
        }
    }
    return (int16_t)s2c_requant_clamp((int32_t)acc, mult[ch], shift[ch], lo, hi);
}

/* The accumulator range outside which s2c_requant_clamp(acc, mult, shift, lo, hi) is constant (SIMD
 * requants clamp acc to it first, then work in 32-bit lanes): *alo is the largest int32 acc with
 * requant(acc) <= lo (INT32_MIN if none), *ahi the smallest with requant(acc) >= hi (INT32_MAX if none).
 * requant is non-decreasing in acc (mult >= 0), so for every acc
 *   clamp(requant(acc), lo, hi) == clamp(requant(min(max(acc, alo), ahi)), lo, hi),
 * and for acc in [alo, ahi] requant(acc) lies in (lo - 2^30 - 1, hi + 2^30 + 1) (one step of
 * requant is at most ceil(mult / 2^shift) <= 2^30), so it fits an int32 lane. (If alo > ahi, then
 * lo == hi and the clamp gives it.) Binary searches: 2 x 32 scalar requants, once per channel and call. */
static inline void s2c_requant_acc_bounds(int32_t mult, int shift, int32_t lo, int32_t hi, int32_t *alo, int32_t *ahi) {
    int64_t a = INT32_MIN, b = INT32_MAX;
    if (s2c_requant(INT32_MAX, mult, shift) < hi) *ahi = INT32_MAX;
    else if (s2c_requant(INT32_MIN, mult, shift) >= hi) *ahi = INT32_MIN;
    else {  /* requant(a) < hi <= requant(b) */
        while (b - a > 1) {
            const int64_t mid = a + (b - a) / 2;
            if (s2c_requant((int32_t)mid, mult, shift) >= hi) b = mid; else a = mid;
        }
        *ahi = (int32_t)b;
    }
    a = INT32_MIN; b = INT32_MAX;
    if (s2c_requant(INT32_MIN, mult, shift) > lo) *alo = INT32_MIN;
    else if (s2c_requant(INT32_MAX, mult, shift) <= lo) *alo = INT32_MAX;
    else {  /* requant(a) <= lo < requant(b) */
        while (b - a > 1) {
            const int64_t mid = a + (b - a) / 2;
            if (s2c_requant((int32_t)mid, mult, shift) <= lo) a = mid; else b = mid;
        }
        *alo = (int32_t)a;
    }
}

/* floor(a / b) for b > 0 (C's / truncates towards zero). */
static inline int64_t s2c_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return q - (a % b != 0 && a < 0);
}

/* LayerNorm's r for a row whose sum of squared deviations is v: max(1, isqrt64(v + eps_q)), the add
 * saturating at 2^64 - 1 (never wrapping). */
static inline uint32_t s2c_layernorm_r(uint64_t v, uint64_t eps_q) {
    const uint32_t r = s2c_isqrt64(v + eps_q < v ? UINT64_MAX : v + eps_q);
    return r ? r : 1;
}

/* One output of s2c_layernorm_s16 from d = c x_i - S and r (the specification, used by the C reference
 * and by the ISA variants for channel tails): t = floor((2^15 d + r) / 2r), then the requant with b 2^16. */
static inline int16_t s2c_layernorm_s16_point(int64_t d, uint32_t r, int32_t g, int32_t b, int shift, int lo, int hi) {
    const int64_t t = s2c_floor_div(d * 32768 + r, 2 * (int64_t)r);  /* |d 2^15| <= 2^41 */
    const int64_t y = (t * g + (int64_t)b * 65536 + ((int64_t)1 << (shift - 1))) >> shift;
    return (int16_t)(y < lo ? lo : y > hi ? hi : y);
}

/* One row of s2c_layernorm_s16_c (ops_c.c): the ISA variants' fallback outside their bounds. */
void s2c_layernorm_s16_row_c(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g,
                             const int32_t *b, int shift, int lo, int hi);

/* gemm_gated_s16 as its definition: gemm (n = 2 hc) in bands of rows into a heap buffer, then gated
 * (gemm_c.c). The C reference is this with the C kernels; levels without a fused kernel use it with
 * theirs, and the fused kernels fall back on it. */
void s2c_gemm_gated_s16_compose(s2c_gemm_s16_fn gemm, s2c_gated_s16_fn gated, int16_t *c, ptrdiff_t ldc,
                                const int16_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw,
                                const int32_t *bias, const int32_t *mult, const int32_t *shift, int m, int hc,
                                int k, int lo, int hi, const int16_t *lut, int32_t gmult, int gshift, int glo,
                                int ghi);

/* gemm_lut_s16 as its definition: gemm, then the table in place (gemm_c.c). */
void s2c_gemm_lut_s16_compose(s2c_gemm_s16_fn gemm, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                              const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                              const int32_t *shift, int m, int n, int k, int lo, int hi, const int16_t *lut);

#if defined(__x86_64__)
void s2c_gemm_s8_avx2(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int m, int n, int k, int lo, int hi);
void s2c_gemm_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                       ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int m, int n, int k, int lo, int hi);
/* The two AVX2 designs behind the two functions above (x86/gemm_avx2.c picks one by shape): dot
 * products along k (_dot) and the broadcast layout with repacked weights (_bcast, which returns
 * non-zero when it cannot get its buffers; the caller then runs _dot over the whole output). */
void s2c_gemm_s8_avx2_dot(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi);
void s2c_gemm_s16_avx2_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi);
int s2c_gemm_s8_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi);
int s2c_gemm_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                            ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                            int m, int n, int k, int lo, int hi);
/* gemm_gated_s16: the fused broadcast-layout kernels where the shape takes the broadcast design, the
 * composition of the level's gemm_s16 and gated_s16 otherwise; _bcast return non-zero (nothing
 * written) when they cannot get their buffer. */
void s2c_gemm_gated_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                             ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                             int m, int hc, int k, int lo, int hi,
                             const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);
int s2c_gemm_gated_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                  ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                  int m, int hc, int k, int lo, int hi,
                                  const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);
void s2c_gemm_gated_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                   ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                   int m, int hc, int k, int lo, int hi,
                                   const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);
int s2c_gemm_gated_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                        const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                                        const int32_t *shift, int m, int hc, int k, int lo, int hi,
                                        const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);
/* gemm_lut_s16: the broadcast-layout kernels with the lookup in their store (masked vpgatherdd) where
 * the shape takes the broadcast design, the composition otherwise (_bcast: non-zero = nothing written). */
void s2c_gemm_lut_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi, const int16_t *lut);
int s2c_gemm_lut_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                int m, int n, int k, int lo, int hi, const int16_t *lut);
void s2c_gemm_lut_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                 ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                 int m, int n, int k, int lo, int hi, const int16_t *lut);
int s2c_gemm_lut_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                      int m, int n, int k, int lo, int hi, const int16_t *lut);
/* AMX tiles (x86/gemm_amx.c; the VNNI kernels below for small shapes). */
void s2c_gemm_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                      const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                      const int32_t *mult, const int32_t *shift, int m, int n, int k,
                      int lo, int hi);
void s2c_gemm_lut_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi, const int16_t *lut);
void s2c_gemm_gated_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                            ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                            int m, int hc, int k, int lo, int hi,
                            const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);
void s2c_gemm_s8_avx512vnni(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                            const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int m, int n, int k,
                            int lo, int hi);
void s2c_gemm_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                             const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                             const int32_t *mult, const int32_t *shift, int m, int n, int k,
                             int lo, int hi);
/* The two AVX-512 VNNI designs behind the two functions above (x86/gemm_avx512vnni.c picks one by
 * shape): dot products along k (_dot) and the broadcast layout with repacked weights (_bcast, which
 * returns -1 without writing anything when it cannot get its packing buffer). Exported for the
 * harness in scripts/aarch64/check_main.c, which checks and times both. */
void s2c_gemm_s8_avx512vnni_dot(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                                const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                int lo, int hi);
void s2c_gemm_s16_avx512vnni_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                 const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                 const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                 int lo, int hi);
int s2c_gemm_s8_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                                 const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                 const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                 int lo, int hi);
int s2c_gemm_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                  const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                  int lo, int hi);
#endif

#if defined(__aarch64__)
void s2c_gemm_s8_neon(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int m, int n, int k, int lo, int hi);
void s2c_gemm_s16_neon(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                       ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int m, int n, int k, int lo, int hi);
/* The two int16 designs behind s2c_gemm_s16_neon (gemm_neon.c picks one by shape). */
void s2c_gemm_s16_neon_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi);
int s2c_gemm_s16_neon_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                            ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                            int m, int n, int k, int lo, int hi);
void s2c_gemm_s8_neon_dotprod(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                              const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                              const int32_t *mult, const int32_t *shift, int m, int n, int k,
                              int lo, int hi);
void s2c_gemm_s16_neon_dotprod(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                               const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                               const int32_t *mult, const int32_t *shift, int m, int n, int k,
                               int lo, int hi);
#endif

/* Elementwise kernels. */
#if defined(__x86_64__)
void s2c_add_requant_s16_avx2(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                              int shift, ptrdiff_t n, int lo, int hi);
#endif
#if defined(__aarch64__)
void s2c_add_requant_s16_neon(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                              int shift, ptrdiff_t n, int lo, int hi);
#endif

/* Layer kernels (s2c_ops.h). */
#if defined(__x86_64__)
void s2c_dwconv_s16_avx2(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi);
void s2c_layernorm_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                            uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi);
void s2c_gated_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi);
void s2c_rescale_s16_avx2(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                          const int32_t *shift, int lo, int hi);
void s2c_window_attn_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                              int c, int heads, int win, int32_t logit_mult, int logit_shift,
                              const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift);
/* AVX-512 (F, BW, VL, VNNI) layer kernels of the VNNI level (x86/ops_avx512.c). */
void s2c_dwconv_s16_avx512vnni(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                               const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi);
void s2c_add_requant_s16_avx512vnni(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                                    int shift, ptrdiff_t n, int lo, int hi);
void s2c_layernorm_s16_avx512vnni(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                                  uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi);
void s2c_window_attn_s16_avx512vnni(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                                    int c, int heads, int win, int32_t logit_mult, int logit_shift,
                                    const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift);
#endif

#if defined(__aarch64__)
void s2c_dwconv_s16_neon(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi);
void s2c_layernorm_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                            uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi);
void s2c_gated_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi);
void s2c_rescale_s16_neon(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                          const int32_t *shift, int lo, int hi);
void s2c_lut16_s16_neon(int16_t *out, const int16_t *in, ptrdiff_t n, const int16_t *lut);
void s2c_window_attn_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                              int c, int heads, int win, int32_t logit_mult, int logit_shift,
                              const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift);
#endif

#if defined(__wasm_simd128__)
/* WebAssembly SIMD128 (the files in wasm/). */
void s2c_gemm_s8_simd128(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                         ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                         int m, int n, int k, int lo, int hi);
void s2c_gemm_s16_simd128(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi);
void s2c_dwconv_s16_simd128(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                            const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi);
void s2c_layernorm_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                               uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi);
void s2c_gated_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                           const int16_t *lut, int32_t mult, int shift, int lo, int hi);
void s2c_add_requant_s16_simd128(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                                 int shift, ptrdiff_t n, int lo, int hi);
void s2c_window_attn_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                                 int c, int heads, int win, int32_t logit_mult, int logit_shift,
                                 const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift);
#endif

#endif /* S2C_INTERNAL_H */
