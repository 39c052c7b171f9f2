/* arm/gemm_neon_dotprod.c: NEON SDOT GEMM (int8 x int8), bit-exact with gemm_c.c. */
#if defined(__aarch64__)
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
#pragma omp parallel for schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        row_block(c, ldc, a, lda, w, ldw, bias, mult, shift, b * R, m, n, k, lo, hi);
}
#endif
