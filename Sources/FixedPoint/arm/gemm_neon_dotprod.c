/* arm/gemm_neon_dotprod.c: NEON SDOT GEMMs (int8 x int8, and int16 x int8 by byte splitting), bit-exact
 * with gemm_c.c. */
#if defined(__aarch64__)
#include <stdlib.h>

#include "gemm_neon.h"

/* SDOT is signed x signed (no +128 trick needed): each int32 lane gets 4 exact products (<= 2^16
 * together) and wraps mod 2^32 like the C reference; bound |bias| + k * 2^14 < 2^31.
 * Built for ARMv8.2-A+dotprod per function, so the file compiles with any -march. */

#define TGT __attribute__((target("arch=armv8.2-a+dotprod")))

enum { R = S2C_NEON_R, J = S2C_NEON_J };

static TGT void row_block(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int i, int m, int n, int k, int lo, int hi) {
    for (int j = 0; j < n; j += J) {
        const void *ap_[R];
        const int8_t *wp[J];
        int jq[J];
        s2c_neon_edges(a, lda, 1, w, ldw, i, m, j, n, ap_, wp, jq);
        const int8_t *ap[R] = {ap_[0], ap_[1], ap_[2], ap_[3]};
        int32x4_t acc[R][J];
        S2C_UNROLL for (int r = 0; r < R; r++)
            S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = vdupq_n_s32(0);
        int t = 0;
        for (; t + 16 <= k; t += 16) {
            int8x16_t wv[J];
            S2C_UNROLL for (int q = 0; q < J; q++) wv[q] = vld1q_s8(wp[q] + t);
            S2C_UNROLL for (int r = 0; r < R; r++) {
                int8x16_t av = vld1q_s8(ap[r] + t);
                S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = vdotq_s32(acc[r][q], av, wv[q]);
            }
        }
        uint32_t tail[R][J] = {{0}};
        for (; t < k; t++)
            S2C_UNROLL for (int r = 0; r < R; r++)
                S2C_UNROLL for (int q = 0; q < J; q++) tail[r][q] += (uint32_t)(ap[r][t] * wp[q][t]);
        s2c_neon_finish(c, ldc, acc, tail, bias, mult, shift, jq, i, m, j, n, lo, hi);
    }
}

void s2c_gemm_s8_neon_dotprod(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                              const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                              const int32_t *mult, const int32_t *shift, int m, int n, int k,
                              int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block(c, ldc, a, lda, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}
/* MARK: - gemm_s16 on SDOT
 *
 * An int16 activation is a = 256 ah + al with ah = a >> 8 in [-128, 127] (its high byte) and al = a & 255
 * in [0, 255]; with al' = al - 128 (the low byte xor 0x80, a signed byte):
 *     sum_t a_t w_t = 256 sum_t ah_t w_t + sum_t al'_t w_t + 128 sum_t w_t     (mod 2^32)
 * Both sums are SDOT products of signed bytes (16 multiply-adds per instruction, against 4 for SMLAL on
 * int16), wrapping int32 lanes like the reference; 128 sum_t w_t is computed once per call and channel.
 * Every step is a ring operation mod 2^32, so the result is the reference's uint32 sum exactly (and
 * meaningful within the same bound). The activations of a row block are split into ah / al' bytes once
 * (m k work against m n k), the weights are used as they are.
 * Blocking 2 rows x 4 channels (8 + 8 accumulators, 4 weight and 4 activation vectors), k in steps of
 * 16 bytes, a scalar tail; rows / channels past the edge repeat the last valid one and are not stored. */

enum { R2 = 2, SPLIT_MAX_K = 4096 };

static TGT void split_rows(int8_t *hi8, int8_t *lo8, const int16_t *a, ptrdiff_t lda, int i, int m, int k16) {
    S2C_UNROLL for (int r = 0; r < R2; r++) {
        const int16_t *ar = a + (ptrdiff_t)(i + r < m ? i + r : m - 1) * lda;
        for (int t = 0; t < k16; t += 16) {
            const int16x8_t v0 = vld1q_s16(ar + t), v1 = vld1q_s16(ar + t + 8);
            vst1q_s8(hi8 + r * k16 + t, vcombine_s8(vshrn_n_s16(v0, 8), vshrn_n_s16(v1, 8)));
            vst1q_s8(lo8 + r * k16 + t, veorq_s8(vcombine_s8(vmovn_s16(v0), vmovn_s16(v1)), vdupq_n_s8((int8_t)0x80)));
        }
    }
}

static TGT void row_block_s16(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                              ptrdiff_t ldw, const int32_t *mult, const int32_t *shift,
                              const int32_t *corr, int i, int m, int n, int k, int lo, int hi, int8_t *hi8, int8_t *lo8) {
    const int k16 = k & ~15;
    split_rows(hi8, lo8, a, lda, i, m, k16);
    const int16_t *ap[R2];
    S2C_UNROLL for (int r = 0; r < R2; r++) ap[r] = a + (ptrdiff_t)(i + r < m ? i + r : m - 1) * lda;
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    for (int j = 0; j < n; j += J) {
        const int8_t *wp[J];
        int jq[J];
        S2C_UNROLL for (int q = 0; q < J; q++) {
            jq[q] = j + q < n ? j + q : n - 1;
            wp[q] = w + (ptrdiff_t)jq[q] * ldw;
        }
        int32x4_t ah[R2][J], al[R2][J];
        S2C_UNROLL for (int r = 0; r < R2; r++)
            S2C_UNROLL for (int q = 0; q < J; q++) { ah[r][q] = vdupq_n_s32(0); al[r][q] = vdupq_n_s32(0); }
        /* Software-pipelined, two steps per iteration with two register sets (no moves): a step's vectors
         * are loaded one step ahead, so an in-order core (Cortex-A55) does not wait on the load-use latency
         * (llvm-mca, docs/kernels.md). Loads never pass k16: the last step reloads its own vectors. */
#define LOADS(W, H, L, T)                                                                               \
        S2C_UNROLL for (int q = 0; q < J; q++) W[q] = vld1q_s8(wp[q] + (T));                             \
        S2C_UNROLL for (int r = 0; r < R2; r++) { H[r] = vld1q_s8(hi8 + r * k16 + (T)); L[r] = vld1q_s8(lo8 + r * k16 + (T)); }
#define DOTS(W, H, L)                                                                                   \
        S2C_UNROLL for (int r = 0; r < R2; r++)                                                         \
            S2C_UNROLL for (int q = 0; q < J; q++) {                                                    \
                ah[r][q] = vdotq_s32(ah[r][q], H[r], W[q]);                                             \
                al[r][q] = vdotq_s32(al[r][q], L[r], W[q]);                                             \
            }
        if (k16 > 0) {
            int8x16_t wa[J], ha[R2], la[R2], wb[J], hb[R2], lb[R2];
            LOADS(wa, ha, la, 0)
            int t = 0;
            for (; t + 32 <= k16; t += 32) {
                LOADS(wb, hb, lb, t + 16)
                DOTS(wa, ha, la)
                LOADS(wa, ha, la, t + 32 < k16 ? t + 32 : t + 16)
                DOTS(wb, hb, lb)
            }
            if (t < k16) DOTS(wa, ha, la)
        }
#undef LOADS
#undef DOTS
        const int32_t cv_[4] = {corr[jq[0]], corr[jq[1]], corr[jq[2]], corr[jq[3]]};
        const int32_t mv_[4] = {mult[jq[0]], mult[jq[1]], mult[jq[2]], mult[jq[3]]};
        const int32_t sv_[4] = {shift[jq[0]], shift[jq[1]], shift[jq[2]], shift[jq[3]]};
        const int32x4_t cv = vld1q_s32(cv_), mv = vld1q_s32(mv_), sv = vld1q_s32(sv_);
        const int nr = m - i < R2 ? m - i : R2, nq = n - j < J ? n - j : J;
        S2C_UNROLL for (int r = 0; r < R2; r++) {
            if (r >= nr) break;
            uint32_t tail[J] = {0, 0, 0, 0};
            for (int t = k16; t < k; t++)
                S2C_UNROLL for (int q = 0; q < J; q++) tail[q] += (uint32_t)(ap[r][t] * wp[q][t]);
            int32x4_t s = vshlq_n_s32(s2c_neon_hsum4(ah[r][0], ah[r][1], ah[r][2], ah[r][3]), 8);  /* wraps mod 2^32 */
            s = vaddq_s32(vaddq_s32(s, s2c_neon_hsum4(al[r][0], al[r][1], al[r][2], al[r][3])), cv);
            s = vaddq_s32(s, vreinterpretq_s32_u32(vld1q_u32(tail)));
            int16_t out[4];
            vst1_s16(out, s2c_neon_requant4(s, mv, sv, lov, hiv));
            memcpy(c + (ptrdiff_t)(i + r) * ldc + j, out, (size_t)nq * sizeof(int16_t));
        }
    }
}

/* corr[j] = bias[j] + 128 sum_{t < k16} w[j][t] (mod 2^32). */
static void s16_corr(int32_t *corr, const int8_t *w, ptrdiff_t ldw, const int32_t *bias, int n, int k16) {
    for (int j = 0; j < n; j++) {
        uint32_t sw = 0;
        for (int t = 0; t < k16; t++) sw += (uint32_t)w[(ptrdiff_t)j * ldw + t];
        corr[j] = (int32_t)((bias ? (uint32_t)bias[j] : 0u) + 128u * sw);
    }
}

void s2c_gemm_s16_neon_dotprod(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                               const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                               const int32_t *mult, const int32_t *shift, int m, int n, int k,
                               int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    int32_t *corr = k <= SPLIT_MAX_K ? malloc((size_t)n * sizeof(int32_t)) : NULL;
    if (!corr) {  /* very long k (per-thread buffers of 4 k bytes) or no memory: the SMLAL kernel */
        s2c_gemm_s16_neon(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
        return;
    }
    s16_corr(corr, w, ldw, bias, n, k & ~15);
    const int nb = (m + R2 - 1) / R2;
#pragma omp parallel num_threads(s2c_team()) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    {
        int8_t buf[2 * R2 * SPLIT_MAX_K];  /* the block's high and low bytes */
#pragma omp for schedule(static)
        for (int b = 0; b < nb; b++)
            row_block_s16(c, ldc, a, lda, w, ldw, mult, shift, corr, b * R2, m, n, k, lo, hi, buf,
                          buf + R2 * SPLIT_MAX_K);
    }
    free(corr);
}
#endif
