/* arm/gemm_neon.c: NEON GEMMs (int8 / int16 activations x int8 weights), bit-exact with gemm_c.c: the 4x4
 * dot-product kernels, and the int16 table entry that picks them or gemm_neon_bcast.c's by shape. */
#if defined(__aarch64__)
#include "gemm_neon.h"

/* gemm_s8: SMULL gives exact int16 products (|a*w| <= 2^14); SADALP pairwise-adds them into int32
 * lanes (a plain int16 SMLAL accumulation could overflow: 2 * 2^14 = 2^15). Lanes wrap mod 2^32 like
 * the C reference; bound |bias| + k * 2^14 < 2^31. gemm_s16: SMLAL on int16 x sign-extended int8,
 * products <= 2^22, bound |bias| + k * 2^22 < 2^31.
 * Blocking 4 rows x 4 channels, k in steps of 16 (s8) / 8 (s16), scalar tail. OpenMP over row blocks. */

enum { R = S2C_NEON_R, J = S2C_NEON_J };

static void row_block_s8(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
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
                S2C_UNROLL for (int q = 0; q < J; q++) {
                    acc[r][q] = vpadalq_s16(acc[r][q], vmull_s8(vget_low_s8(av), vget_low_s8(wv[q])));
                    acc[r][q] = vpadalq_s16(acc[r][q], vmull_high_s8(av, wv[q]));
                }
            }
        }
        uint32_t tail[R][J] = {{0}};
        for (; t < k; t++)
            S2C_UNROLL for (int r = 0; r < R; r++)
                S2C_UNROLL for (int q = 0; q < J; q++) tail[r][q] += (uint32_t)(ap[r][t] * wp[q][t]);
        s2c_neon_finish(c, ldc, acc, tail, bias, mult, shift, jq, i, m, j, n, lo, hi);
    }
}

static void row_block_s16(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int i, int m, int n, int k, int lo, int hi) {
    for (int j = 0; j < n; j += J) {
        const void *ap_[R];
        const int8_t *wp[J];
        int jq[J];
        s2c_neon_edges(a, lda, 2, w, ldw, i, m, j, n, ap_, wp, jq);
        const int16_t *ap[R] = {ap_[0], ap_[1], ap_[2], ap_[3]};
        int32x4_t acc[R][J];
        S2C_UNROLL for (int r = 0; r < R; r++)
            S2C_UNROLL for (int q = 0; q < J; q++) acc[r][q] = vdupq_n_s32(0);
        int t = 0;
        for (; t + 8 <= k; t += 8) {
            int16x8_t wv[J];
            S2C_UNROLL for (int q = 0; q < J; q++) wv[q] = vmovl_s8(vld1_s8(wp[q] + t));
            S2C_UNROLL for (int r = 0; r < R; r++) {
                int16x8_t av = vld1q_s16(ap[r] + t);
                S2C_UNROLL for (int q = 0; q < J; q++) {
                    acc[r][q] = vmlal_s16(acc[r][q], vget_low_s16(av), vget_low_s16(wv[q]));
                    acc[r][q] = vmlal_high_s16(acc[r][q], av, wv[q]);
                }
            }
        }
        uint32_t tail[R][J] = {{0}};
        for (; t < k; t++)
            S2C_UNROLL for (int r = 0; r < R; r++)
                S2C_UNROLL for (int q = 0; q < J; q++) tail[r][q] += (uint32_t)(ap[r][t] * wp[q][t]);
        s2c_neon_finish(c, ldc, acc, tail, bias, mult, shift, jq, i, m, j, n, lo, hi);
    }
}

void s2c_gemm_s8_neon(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block_s8(c, ldc, a, lda, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}

void s2c_gemm_s16_neon_dot(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return;
    const int nb = (m + R - 1) / R;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block_s16(c, ldc, a, lda, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}

/* The table entry: the broadcast layout (gemm_neon_bcast.c) where its per-call weight packing (n k) has
 * paid for itself, the dot-product kernel above otherwise; both exact, so the choice never changes the
 * output. */
void s2c_gemm_s16_neon(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                       ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       int m, int n, int k, int lo, int hi) {
    if (m < 8 || (int64_t)m * 8 < k || s2c_gemm_s16_neon_bcast(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi))
        s2c_gemm_s16_neon_dot(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}
#endif
