/* x86/gemm_avx512vnni.c: AVX-512 VNNI GEMMs (vpdpbusd / vpdpwssd), bit-exact with gemm_c.c. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "../s2c_internal.h"

/* gemm_s8 and the +128 trick. vpdpbusd multiplies UNSIGNED bytes by SIGNED bytes. We feed it
 * a' = a ^ 0x80 (as unsigned: a' = a + 128, in [0, 255]) and the signed weights, so
 *     sum a'*w = sum a*w + 128 * sum w
 * and subtract the per-channel correction 128 * sum_k w[j][k] (precomputed once per call, folded
 * into the bias as corr[j] = bias[j] - 128 * wsum[j]). The intermediate sum a'*w can exceed int32
 * (255 * 128 * k), but vpdpbusd (unlike vpdpbusds) wraps mod 2^32, so corr + sum a'*w equals
 * bias + sum a*w mod 2^32 exactly: the same wrapping int32 the C reference computes. Exact
 * whenever the C reference is (|bias| + k * 2^14 < 2^31).
 *
 * gemm_s16: vpdpwssd (int16 x int16 pairs -> int32, wrapping) on a and sign-extended weights;
 * pair sums are at most 2 * 32768 * 128 = 2^23. Bound k * 2^22 + |bias| < 2^31.
 *
 * Blocking: 4 rows x 4 channels (16 zmm accumulators), k in steps of 64 (s8) / 32 (s16) with one
 * masked tail step (masked loads never fault past the end). Edge rows/channels reuse the last
 * valid one and are not stored. OpenMP splits row blocks (outer loop) only.
 *
 * These are the dot-product kernels (s2c_gemm_*_avx512vnni_dot). The table entries at the end pick
 * them or the broadcast-layout kernels of gemm_avx512vnni_bcast.c by shape. */

#define TGT __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

enum { R = 4, J = 4, CHUNK = 512 };

INL __m128i hsum4(__m512i a, __m512i b, __m512i c, __m512i d) {
#define HALF(x) _mm256_add_epi32(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1))
    __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(HALF(a), HALF(b)), _mm256_hadd_epi32(HALF(c), HALF(d)));
#undef HALF
    return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* s2c_requant_clamp on 16 int32 lanes (even / odd lanes through int64 separately). */
INL __m512i requant16(__m512i acc, __m512i mult, __m512i shift, __m512i lo64, __m512i hi64) {
    const __m512i one = _mm512_set1_epi64(1);
    __m512i se = _mm512_and_si512(shift, _mm512_set1_epi64(0xffffffff));
    __m512i so = _mm512_srli_epi64(shift, 32);
    __m512i pe = _mm512_mul_epi32(acc, mult);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(mult, 32));
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, _mm512_sllv_epi64(one, _mm512_sub_epi64(se, one))), se);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, _mm512_sllv_epi64(one, _mm512_sub_epi64(so, one))), so);
    pe = _mm512_min_epi64(_mm512_max_epi64(pe, lo64), hi64);
    po = _mm512_min_epi64(_mm512_max_epi64(po, lo64), hi64);
    return _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

/* Adds add[jq] per channel, requantizes the 4x4 sums and stores the valid part. */
INL void finish(int16_t *c, ptrdiff_t ldc, __m512i acc[R][J], const int32_t *add, const int32_t *mult,
                const int32_t *shift, const int *jq, int i, int m, int j, int n, __m512i lo64, __m512i hi64) {
    __m512i sum = _mm512_castsi128_si512(hsum4(acc[0][0], acc[0][1], acc[0][2], acc[0][3]));
    sum = _mm512_inserti32x4(sum, hsum4(acc[1][0], acc[1][1], acc[1][2], acc[1][3]), 1);
    sum = _mm512_inserti32x4(sum, hsum4(acc[2][0], acc[2][1], acc[2][2], acc[2][3]), 2);
    sum = _mm512_inserti32x4(sum, hsum4(acc[3][0], acc[3][1], acc[3][2], acc[3][3]), 3);
#define BC4(p) _mm512_broadcast_i32x4(_mm_setr_epi32((p)[jq[0]], (p)[jq[1]], (p)[jq[2]], (p)[jq[3]]))
    if (add) sum = _mm512_add_epi32(sum, BC4(add));
    __m512i res = requant16(sum, BC4(mult), BC4(shift), lo64, hi64);
#undef BC4
    int16_t out[R][J];
    _mm256_storeu_si256((__m256i *)out, _mm512_cvtepi32_epi16(res));  /* in range: truncation exact */
    const int nr = m - i < R ? m - i : R, nq = n - j < J ? n - j : J;
    for (int r = 0; r < nr; r++) memcpy(c + (i + r) * ldc + j, out[r], (size_t)nq * sizeof(int16_t));
}

INL void edges(const void *a, ptrdiff_t lda, size_t esz, const int8_t *w, ptrdiff_t ldw,
               int i, int m, int j, int n, const char *ap[R], const int8_t *wp[J], int jq[J]) {
    S2C_UNROLL for (int r = 0; r < R; r++) ap[r] = (const char *)a + (size_t)((i + r < m ? i + r : m - 1) * lda) * esz;
    S2C_UNROLL for (int q = 0; q < J; q++) {
        jq[q] = j + q < n ? j + q : n - 1;
        wp[q] = w + jq[q] * ldw;
    }
}

/* MARK: - gemm_s8 */

INL void step_s8(__m512i acc[R][J], const char *ap[R], const int8_t *wp[J], int t, __mmask64 km) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i wv[J];
    S2C_UNROLL for (int q = 0; q < J; q++) wv[q] = _mm512_maskz_loadu_epi8(km, wp[q] + t);
    S2C_UNROLL for (int r = 0; r < R; r++) {
        /* masked-off lanes become 0x80 after the xor, but their weights are 0 */
        __m512i av = _mm512_xor_si512(_mm512_maskz_loadu_epi8(km, ap[r] + t), flip);
        S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, wv[q]);
    }
}

static TGT void row_block_s8(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                             ptrdiff_t ldw, const int32_t *corr, const int32_t *mult, const int32_t *shift,
                             int i, int m, int n, int k, int lo, int hi) {
    const __m512i lo64 = _mm512_set1_epi64(lo), hi64 = _mm512_set1_epi64(hi);
    for (int j = 0; j < n; j += J) {
        const char *ap[R];
        const int8_t *wp[J];
        int jq[J];
        edges(a, lda, 1, w, ldw, i, m, j, n, ap, wp, jq);
        __m512i acc[R][J];
        S2C_UNROLL for (int r = 0; r < R; r++)
            S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = _mm512_setzero_si512();
        int t = 0;
        for (; t + 64 <= k; t += 64) step_s8(acc, ap, wp, t, ~(__mmask64)0);
        if (t < k) step_s8(acc, ap, wp, t, ((__mmask64)1 << (k - t)) - 1);
        finish(c, ldc, acc, corr, mult, shift, jq, i, m, j, n, lo64, hi64);
    }
}

/* corr[j] = bias[j] - 128 * sum_k w[j][k] (mod 2^32), via vpdpbusd with all-0x80 (= 128) bytes. */
static TGT void corrections(int32_t *corr, const int8_t *w, ptrdiff_t ldw, const int32_t *bias, int n, int k) {
    const __m512i c128 = _mm512_set1_epi8((char)0x80);
    for (int j = 0; j < n; j++) {
        const int8_t *wr = w + j * ldw;
        __m512i acc = _mm512_setzero_si512();
        int t = 0;
        for (; t + 64 <= k; t += 64) acc = _mm512_dpbusd_epi32(acc, c128, _mm512_loadu_si512(wr + t));
        if (t < k) acc = _mm512_dpbusd_epi32(acc, c128, _mm512_maskz_loadu_epi8(((__mmask64)1 << (k - t)) - 1, wr + t));
        corr[j] = (int32_t)((uint32_t)(bias ? bias[j] : 0) - (uint32_t)_mm512_reduce_add_epi32(acc));
    }
}

void s2c_gemm_s8_avx512vnni_dot(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                                const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
    int32_t corr[CHUNK];
    /* Channels in chunks so the corrections fit on the stack; rows stay the parallel loop. */
    for (int j0 = 0; j0 < n; j0 += CHUNK) {
        const int nc = n - j0 < CHUNK ? n - j0 : CHUNK;
        corrections(corr, w + j0 * ldw, ldw, bias ? bias + j0 : NULL, nc, k);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * nc * k >= S2C_OMP_MIN_WORK)
        for (int b = 0; b < nb; b++)
            row_block_s8(c + j0, ldc, a, lda, w + j0 * ldw, ldw, corr, mult + j0, shift + j0,
                         b * R, m, nc, k, lo, hi);
    }
}

/* MARK: - gemm_s16 */

INL void step_s16(__m512i acc[R][J], const char *ap[R], const int8_t *wp[J], int t, __mmask32 km) {
    __m512i wv[J];
    S2C_UNROLL for (int q = 0; q < J; q++) wv[q] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(km, wp[q] + t));
    S2C_UNROLL for (int r = 0; r < R; r++) {
        __m512i av = _mm512_maskz_loadu_epi16(km, (const int16_t *)ap[r] + t);
        S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = _mm512_dpwssd_epi32(acc[r][q], av, wv[q]);
    }
}

static TGT void row_block_s16(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                              ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                              int i, int m, int n, int k, int lo, int hi) {
    const __m512i lo64 = _mm512_set1_epi64(lo), hi64 = _mm512_set1_epi64(hi);
    for (int j = 0; j < n; j += J) {
        const char *ap[R];
        const int8_t *wp[J];
        int jq[J];
        edges(a, lda, 2, w, ldw, i, m, j, n, ap, wp, jq);
        __m512i acc[R][J];
        S2C_UNROLL for (int r = 0; r < R; r++)
            S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = _mm512_setzero_si512();
        int t = 0;
        for (; t + 32 <= k; t += 32) step_s16(acc, ap, wp, t, ~(__mmask32)0);
        if (t < k) step_s16(acc, ap, wp, t, ((__mmask32)1 << (k - t)) - 1);
        finish(c, ldc, acc, bias, mult, shift, jq, i, m, j, n, lo64, hi64);
    }
}

void s2c_gemm_s16_avx512vnni_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                 const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                 const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                 int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block_s16(c, ldc, a, lda, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}

/* MARK: - Selection
 *
 * By shape only, so deterministic (and both designs are exact, so the choice never changes the
 * output). The broadcast kernels (gemm_avx512vnni_bcast.c) repack the weights per call, n * k work
 * that pays off once there are enough rows; below that the dot-product kernels above run. Crossovers
 * measured on an AMD EPYC (Zen 4), one thread: s16 at m ~ max(16, k / 8), s8 at m ~ max(16, k / 32). */

static int use_bcast(int m, int k, int k_per_row) { return m >= 16 && (int64_t)m * k_per_row >= k; }

void s2c_gemm_s8_avx512vnni(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                            const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int m, int n, int k,
                            int lo, int hi) {
    if (!use_bcast(m, k, 32) ||
        s2c_gemm_s8_avx512vnni_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi))
        s2c_gemm_s8_avx512vnni_dot(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}

void s2c_gemm_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                             const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                             const int32_t *mult, const int32_t *shift, int m, int n, int k,
                             int lo, int hi) {
    if (!use_bcast(m, k, 8) ||
        s2c_gemm_s16_avx512vnni_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi))
        s2c_gemm_s16_avx512vnni_dot(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}
void s2c_gemm_gated_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                   ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                   int m, int hc, int k, int lo, int hi,
                                   const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    if (!use_bcast(m, k, 8) || s2c_gemm_gated_s16_avx512vnni_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, hc,
                                                                   k, lo, hi, lut, gmult, gshift, glo, ghi))
        s2c_gemm_gated_s16_compose(s2c_gemm_s16_avx512vnni, s2c_gated_s16_avx2, c, ldc, a, lda, w, ldw, bias, mult,
                                   shift, m, hc, k, lo, hi, lut, gmult, gshift, glo, ghi);
}
void s2c_gemm_lut_s16_avx512vnni(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                 ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                 int m, int n, int k, int lo, int hi, const int16_t *lut) {
    if (!use_bcast(m, k, 8) ||
        s2c_gemm_lut_s16_avx512vnni_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut))
        s2c_gemm_lut_s16_compose(s2c_gemm_s16_avx512vnni, c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut);
}
#endif
