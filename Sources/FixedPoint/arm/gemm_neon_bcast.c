/* arm/gemm_neon_bcast.c: NEON int16 x int8 GEMM in the broadcast layout, bit-exact with gemm_c.c; the
 * NEON twin of x86/gemm_avx2_bcast.c. s2c_gemm_s16_neon (gemm_neon.c) runs it for shapes with enough rows
 * to repay the weight packing, and the 4x4 dot-product kernel otherwise.
 *
 * Layout. One int32x4 accumulator holds 4 OUTPUT CHANNELS of one row, so nothing is summed horizontally
 * and the requant constants are per lane. The weights are packed once per call as int16 (sign-extended)
 * [8-channel block][k][8 channels]; per k the row's activation a[t] multiplies 8 channels' weights by
 * SMLAL / SMLAL2 by element (the activation is a lane of a vector of 8 consecutive k: no broadcast, no
 * widening in the loop). Products are exact (|a w| <= 2^22) and the lanes wrap mod 2^32 like the
 * reference's uint32 sum, in any order. Accumulators start at the bias.
 *
 * Blocking. 16 channels x 4 rows (16 accumulators, 4 activation vectors in v0-v15 as by-element operands
 * need, 2 weight vectors); a last single 8-channel block runs 8 rows. k in steps of 8, the tail with the
 * scalar by-element form. Rows past the end repeat the last row and are not stored; channels past n have
 * zero weights and mult = shift = 1 and are not stored. OpenMP splits work items of RB rows; inside one,
 * every channel group runs over the item's rows. If the packing buffer cannot be had the function returns
 * -1 without writing anything and the caller runs the dot-product kernel (same output). */
#if defined(__aarch64__)
#include <stdlib.h>

#include "gemm_neon.h"

enum { VB = 8, RB = 32, PACK_MAX = 64 << 20 };

typedef struct {
    int nvb, k;
    int16_t *panel;       /* [nvb][k][8] */
    int32_t *bias, *mult, *shift;  /* [nvb * 8] */
} Packed;

static int pack(Packed *pk, const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                const int32_t *shift, int n, int k) {
    pk->nvb = (n + VB - 1) / VB;
    pk->k = k;
    const size_t np = (size_t)pk->nvb * VB;
    const size_t bytes = np * (size_t)(k > 0 ? k : 1) * 2 + 3 * np * 4;
    if (bytes > PACK_MAX) return -1;
    char *buf = malloc(bytes);
    if (!buf) return -1;
    pk->bias = (int32_t *)buf;
    pk->mult = pk->bias + np;
    pk->shift = pk->mult + np;
    pk->panel = (int16_t *)(pk->shift + np);
    for (size_t j = 0; j < np; j++) {
        const int in = (int)j < n;
        pk->bias[j] = in && bias ? bias[j] : 0;
        pk->mult[j] = in ? mult[j] : 1;
        pk->shift[j] = in ? shift[j] : 1;
    }
    for (int v = 0; v < pk->nvb; v++)
        for (int t = 0; t < k; t++)
            for (int l = 0; l < VB; l++) {
                const int j = v * VB + l;
                pk->panel[((size_t)v * k + t) * VB + l] = j < n ? w[(ptrdiff_t)j * ldw + t] : 0;
            }
    return 0;
}

/* Rows i..i+nr-1 (R computed), NV (1 or 2) blocks from v0. */
static inline __attribute__((always_inline)) void kern(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                                       const Packed *pk, int R, int NV, int v0, int i, int nr, int n,
                                                       int lo, int hi) {
    const int k = pk->k;
    const int16_t *ap[8];
    S2C_UNROLL for (int r = 0; r < R; r++) ap[r] = a + (ptrdiff_t)(i + (r < nr ? r : nr - 1)) * lda;
    const int16_t *wp[2];
    S2C_UNROLL for (int q = 0; q < NV; q++) wp[q] = pk->panel + (size_t)(v0 + q) * k * VB;
    int32x4_t acc[8][4];
    S2C_UNROLL for (int q = 0; q < 2 * NV; q++) {
        const int32x4_t b = vld1q_s32(pk->bias + v0 * VB + 4 * q);
        S2C_UNROLL for (int r = 0; r < R; r++) acc[r][q] = b;
    }
    int t = 0;
    for (; t + 8 <= k; t += 8) {
        int16x8_t av[8];
        S2C_UNROLL for (int r = 0; r < R; r++) av[r] = vld1q_s16(ap[r] + t);
#define LANE(l)                                                                                         \
        {                                                                                               \
            int16x8_t wv[2];                                                                            \
            S2C_UNROLL for (int q = 0; q < NV; q++) wv[q] = vld1q_s16(wp[q] + (size_t)(t + (l)) * VB);   \
            S2C_UNROLL for (int r = 0; r < R; r++)                                                      \
                S2C_UNROLL for (int q = 0; q < NV; q++) {                                               \
                    acc[r][2 * q] = vmlal_laneq_s16(acc[r][2 * q], vget_low_s16(wv[q]), av[r], l);       \
                    acc[r][2 * q + 1] = vmlal_high_laneq_s16(acc[r][2 * q + 1], wv[q], av[r], l);        \
                }                                                                                       \
        }
        LANE(0) LANE(1) LANE(2) LANE(3) LANE(4) LANE(5) LANE(6) LANE(7)
#undef LANE
    }
    for (; t < k; t++) {
        int16x8_t wv[2];
        S2C_UNROLL for (int q = 0; q < NV; q++) wv[q] = vld1q_s16(wp[q] + (size_t)t * VB);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            const int16_t x = ap[r][t];
            S2C_UNROLL for (int q = 0; q < NV; q++) {
                acc[r][2 * q] = vmlal_n_s16(acc[r][2 * q], vget_low_s16(wv[q]), x);
                acc[r][2 * q + 1] = vmlal_high_n_s16(acc[r][2 * q + 1], wv[q], x);
            }
        }
    }
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    const int j0 = v0 * VB, nq = n - j0 < NV * VB ? n - j0 : NV * VB;
    S2C_UNROLL for (int r = 0; r < R; r++) {
        if (r >= nr) break;
        int16_t out[16];
        S2C_UNROLL for (int q = 0; q < 2 * NV; q++)
            vst1_s16(out + 4 * q, s2c_neon_requant4(acc[r][q], vld1q_s32(pk->mult + j0 + 4 * q),
                                                    vld1q_s32(pk->shift + j0 + 4 * q), lov, hiv));
        memcpy(c + (ptrdiff_t)(i + r) * ldc + j0, out, (size_t)nq * sizeof(int16_t));
    }
}

static __attribute__((noinline)) void kern_4x2(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                               const Packed *pk, int v0, int i, int nr, int n, int lo, int hi) {
    kern(c, ldc, a, lda, pk, 4, 2, v0, i, nr, n, lo, hi);
}

static __attribute__((noinline)) void kern_8x1(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                               const Packed *pk, int v0, int i, int nr, int n, int lo, int hi) {
    kern(c, ldc, a, lda, pk, 8, 1, v0, i, nr, n, lo, hi);
}

static void rows(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const Packed *pk, int i0, int i1,
                 int n, int lo, int hi) {
    for (int v0 = 0; v0 < pk->nvb; v0 += 2) {
        const int nv = pk->nvb - v0 < 2 ? 1 : 2, R = nv == 2 ? 4 : 8;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            if (nv == 2) kern_4x2(c, ldc, a, lda, pk, v0, i, nr, n, lo, hi);
            else kern_8x1(c, ldc, a, lda, pk, v0, i, nr, n, lo, hi);
        }
    }
}

int s2c_gemm_s16_neon_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                            ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                            int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    if (pack(&pk, w, ldw, bias, mult, shift, n, k)) return -1;
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++) rows(c, ldc, a, lda, &pk, b * RB, m - b * RB < RB ? m : b * RB + RB, n, lo, hi);
    free(pk.bias);
    return 0;
}
#endif
