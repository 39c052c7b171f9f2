/* arm/gemm_neon.h: shared pieces of the NEON GEMMs (4x4 blocking, reduction, requantization). */
#ifndef S2C_GEMM_NEON_H
#define S2C_GEMM_NEON_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "../s2c_internal.h"

enum { S2C_NEON_R = 4, S2C_NEON_J = 4 };

/* [hsum(a), hsum(b), hsum(c), hsum(d)] (vpaddq_s32 wraps like every other add here). */
static inline int32x4_t s2c_neon_hsum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

/* s2c_requant_clamp on 4 lanes: SRSHL by -shift is exactly (x + 2^(shift-1)) >> shift (round half
 * up, arithmetic); |x| < 2^62 so nothing saturates before the narrowing. SQXTN saturates to int32,
 * which cannot change the result of the later clamp to [lo, hi] (a sub-range of int32). */
static inline int16x4_t s2c_neon_requant4(int32x4_t acc, int32x4_t mult, int32x4_t shift, int32x4_t lo, int32x4_t hi) {
    int64x2_t p0 = vmull_s32(vget_low_s32(acc), vget_low_s32(mult));
    int64x2_t p1 = vmull_high_s32(acc, mult);
    p0 = vrshlq_s64(p0, vnegq_s64(vmovl_s32(vget_low_s32(shift))));
    p1 = vrshlq_s64(p1, vnegq_s64(vmovl_high_s32(shift)));
    int32x4_t r = vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1));
    return vmovn_s32(vminq_s32(vmaxq_s32(r, lo), hi));
}

/* Block edges: rows/channels past the end reuse the last valid one (results not stored). */
static inline void s2c_neon_edges(const void *a, ptrdiff_t lda, size_t esz, const int8_t *w, ptrdiff_t ldw,
                                  int i, int m, int j, int n, const void *ap[4], const int8_t *wp[4], int jq[4]) {
    for (int r = 0; r < S2C_NEON_R; r++)
        ap[r] = (const char *)a + (size_t)((i + r < m ? i + r : m - 1) * lda) * esz;
    for (int q = 0; q < S2C_NEON_J; q++) {
        jq[q] = j + q < n ? j + q : n - 1;
        wp[q] = w + jq[q] * ldw;
    }
}

/* Reduces the 4x4 accumulators, adds the scalar tail and bias, requantizes, stores the valid part. */
static inline void s2c_neon_finish(int16_t *c, ptrdiff_t ldc, int32x4_t acc[4][4], uint32_t tail[4][4],
                                   const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                   const int jq[4], int i, int m, int j, int n, int lo, int hi) {
    const int32_t mv_[4] = {mult[jq[0]], mult[jq[1]], mult[jq[2]], mult[jq[3]]};
    const int32_t sv_[4] = {shift[jq[0]], shift[jq[1]], shift[jq[2]], shift[jq[3]]};
    const int32_t bv_[4] = {bias ? bias[jq[0]] : 0, bias ? bias[jq[1]] : 0, bias ? bias[jq[2]] : 0,
                            bias ? bias[jq[3]] : 0};
    const int32x4_t mv = vld1q_s32(mv_), sv = vld1q_s32(sv_), bv = vld1q_s32(bv_);
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    const int nr = m - i < S2C_NEON_R ? m - i : S2C_NEON_R, nq = n - j < S2C_NEON_J ? n - j : S2C_NEON_J;
    for (int r = 0; r < nr; r++) {
        int32x4_t s = s2c_neon_hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
        s = vaddq_s32(vaddq_s32(s, vreinterpretq_s32_u32(vld1q_u32(tail[r]))), bv);
        int16_t out[4];
        vst1_s16(out, s2c_neon_requant4(s, mv, sv, lov, hiv));
        memcpy(c + (i + r) * ldc + j, out, (size_t)nq * sizeof(int16_t));
    }
}

#endif
#endif /* S2C_GEMM_NEON_H */
