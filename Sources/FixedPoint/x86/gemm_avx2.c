/* x86/gemm_avx2.c: AVX2 GEMMs (int8 / int16 activations x int8 weights), bit-exact with gemm_c.c:
 * the dot-product kernels (s2c_gemm_*_avx2_dot) and the table entries that pick them or the
 * broadcast-layout kernels of gemm_avx2_bcast.c by shape. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "../s2c_internal.h"

/* Why not vpmaddubsw: it is unsigned x signed and SATURATES its int16 pair sums ((-128)(-128) * 2 =
 * 32768 does not fit), so it is not exact. Instead both operands are sign-extended to int16 and
 * multiplied with vpmaddwd: each int32 lane gets a0*w0 + a1*w1, at most 2 * 128 * 128 (s8) or
 * 2 * 32768 * 128 = 2^23 (s16), never near overflow; the lane sums then wrap mod 2^32 like the C
 * reference. Bounds on k: see s2c_fixedpoint.h (s8: k * 2^14 + |bias| < 2^31; s16: k * 2^22 + ...).
 *
 * Blocking: 2 rows x 4 output channels per block (8 ymm accumulators + 4 weight vectors fit in the
 * 16 ymm registers); k in steps of 16, a scalar tail for k % 16. Rows/channels past the edge reuse
 * the last valid one and are not stored. OpenMP splits row blocks (outer loop) only. */

#define TGT __attribute__((target("avx2")))
#define INL static inline __attribute__((always_inline, target("avx2")))

enum { R = 2, J = 4 };

/* [hsum(a), hsum(b), hsum(c), hsum(d)]. */
INL __m128i hsum4(__m256i a, __m256i b, __m256i c, __m256i d) {
    __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

#include "requant_avx2.h"

/* One block: accumulate, add tail/bias, requantize, store the valid part. */
INL void block(int16_t *c, ptrdiff_t ldc, const void *a, ptrdiff_t lda, int a16, const int8_t *w,
               ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
               int i, int m, int j, int n, int k, __m256i lo64, __m256i hi64) {
    const int8_t *ap8[R];
    const int16_t *ap16[R];
    const int8_t *wp[J];
    int jq[J];
    S2C_UNROLL for (int r = 0; r < R; r++) {
        int ri = i + r < m ? i + r : m - 1;
        ap8[r] = (const int8_t *)a + ri * lda;
        ap16[r] = (const int16_t *)a + ri * lda;
    }
    S2C_UNROLL for (int q = 0; q < J; q++) {
        jq[q] = j + q < n ? j + q : n - 1;
        wp[q] = w + jq[q] * ldw;
    }
    __m256i acc[R][J];
    S2C_UNROLL for (int r = 0; r < R; r++)
        S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = _mm256_setzero_si256();
    int t = 0;
    for (; t + 16 <= k; t += 16) {
        __m256i wv[J];
        S2C_UNROLL for (int q = 0; q < J; q++)
            wv[q] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wp[q] + t)));
        S2C_UNROLL for (int r = 0; r < R; r++) {
            __m256i av = a16 ? _mm256_loadu_si256((const __m256i *)(ap16[r] + t))
                             : _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ap8[r] + t)));
            S2C_UNROLL for (int q = 0; q < J; q++)
                acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, wv[q]));
        }
    }
    uint32_t tail[R][J] = {{0}};
    for (; t < k; t++)
        S2C_UNROLL for (int r = 0; r < R; r++)
            S2C_UNROLL for (int q = 0; q < J; q++)
                tail[r][q] += (uint32_t)((a16 ? ap16[r][t] : ap8[r][t]) * wp[q][t]);

    __m256i sum = _mm256_set_m128i(hsum4(acc[1][0], acc[1][1], acc[1][2], acc[1][3]),
                                   hsum4(acc[0][0], acc[0][1], acc[0][2], acc[0][3]));
    sum = _mm256_add_epi32(sum, _mm256_loadu_si256((const __m256i *)tail));
    if (bias)
        sum = _mm256_add_epi32(sum, _mm256_broadcastsi128_si256(
                                        _mm_setr_epi32(bias[jq[0]], bias[jq[1]], bias[jq[2]], bias[jq[3]])));
    __m256i mv = _mm256_broadcastsi128_si256(_mm_setr_epi32(mult[jq[0]], mult[jq[1]], mult[jq[2]], mult[jq[3]]));
    __m256i sv = _mm256_broadcastsi128_si256(_mm_setr_epi32(shift[jq[0]], shift[jq[1]], shift[jq[2]], shift[jq[3]]));
    __m256i res = requant8(sum, mv, sv, lo64, hi64);
    /* Values are inside [lo, hi] within int16, so the saturating pack is exact. */
    __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(res, res), 0x08);
    int16_t out[R][J];
    _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(p));
    const int nr = m - i < R ? m - i : R, nq = n - j < J ? n - j : J;
    for (int r = 0; r < nr; r++) memcpy(c + (i + r) * ldc + j, out[r], (size_t)nq * sizeof(int16_t));
}

static TGT void row_block(int16_t *c, ptrdiff_t ldc, const void *a, ptrdiff_t lda, int a16,
                          const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, int i, int m, int n, int k, int lo, int hi) {
    const __m256i lo64 = _mm256_set1_epi64x(lo), hi64 = _mm256_set1_epi64x(hi);
    if (a16)
        for (int j = 0; j < n; j += J)
            block(c, ldc, a, lda, 1, w, ldw, bias, mult, shift, i, m, j, n, k, lo64, hi64);
    else
        for (int j = 0; j < n; j += J)
            block(c, ldc, a, lda, 0, w, ldw, bias, mult, shift, i, m, j, n, k, lo64, hi64);
}

/* The parallel loop lives in a plain function that calls the AVX2 one (the OpenMP-outlined body
 * must not need to inline AVX2 code, e.g. in S2C_PORTABLE builds). */
static void gemm(int16_t *c, ptrdiff_t ldc, const void *a, ptrdiff_t lda, int a16, const int8_t *w,
                 ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                 int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block(c, ldc, a, lda, a16, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}

void s2c_gemm_s8_avx2_dot(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi) {
    gemm(c, ldc, a, lda, 0, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}

void s2c_gemm_s16_avx2_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi) {
    gemm(c, ldc, a, lda, 1, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}

/* MARK: - The table entries: the broadcast-layout kernels (gemm_avx2_bcast.c) where their per-call
 * weight repacking (n * k) has paid for itself, the dot-product kernels above otherwise. Both are
 * exact, so the choice never changes the output. */

static int use_bcast(int m, int k) { return m >= 12 && (int64_t)m * 8 >= k; }

void s2c_gemm_s8_avx2(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int m, int n, int k, int lo, int hi) {
    if (!use_bcast(m, k) || s2c_gemm_s8_avx2_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi))
        s2c_gemm_s8_avx2_dot(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}

void s2c_gemm_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                       ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int m, int n, int k, int lo, int hi) {
    if (!use_bcast(m, k) || s2c_gemm_s16_avx2_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi))
        s2c_gemm_s16_avx2_dot(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}
void s2c_gemm_gated_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                             ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                             int m, int hc, int k, int lo, int hi,
                             const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    if (!use_bcast(m, k) || s2c_gemm_gated_s16_avx2_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, hc, k, lo, hi,
                                                          lut, gmult, gshift, glo, ghi))
        s2c_gemm_gated_s16_compose(s2c_gemm_s16_avx2, s2c_gated_s16_avx2, c, ldc, a, lda, w, ldw, bias, mult, shift,
                                   m, hc, k, lo, hi, lut, gmult, gshift, glo, ghi);
}
void s2c_gemm_lut_s16_avx2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi, const int16_t *lut) {
    if (!use_bcast(m, k) || s2c_gemm_lut_s16_avx2_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut))
        s2c_gemm_lut_s16_compose(s2c_gemm_s16_avx2, c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut);
}
#endif
