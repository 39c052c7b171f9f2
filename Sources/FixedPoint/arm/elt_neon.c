/* arm/elt_neon.c: NEON elementwise kernels, bit-exact with elt_c.c. */
#if defined(__aarch64__)
#include "gemm_neon.h"

/* add_requant_s16 on 8 values per step: SMULL a * mult_a then SMLAL b * mult_b in int64 lanes (|.| < 2^47,
 * exact), SRSHL by -shift = (x + 2^(shift-1)) >> shift (the reference's one rounding, half up), SQXTN to
 * int32 (saturating cannot change the later clamp to a sub-range of int32), clamp, narrow. The C loop does
 * this in scalar int64 arithmetic (llvm-mca, docs/kernels.md: ~22 cycles a value on Cortex-A55). */
static inline int16x4_t add4(int16x4_t a, int16x4_t b, int32x2_t ma, int32x2_t mb, int64x2_t nsh, int32x4_t lo, int32x4_t hi) {
    const int32x4_t a32 = vmovl_s16(a), b32 = vmovl_s16(b);
    const int64x2_t p0 = vrshlq_s64(vmlal_s32(vmull_s32(vget_low_s32(a32), ma), vget_low_s32(b32), mb), nsh);
    const int64x2_t p1 = vrshlq_s64(vmlal_s32(vmull_s32(vget_high_s32(a32), ma), vget_high_s32(b32), mb), nsh);
    return vmovn_s32(vminq_s32(vmaxq_s32(vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1)), lo), hi));
}

static void add_span(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b, int shift,
                     ptrdiff_t i0, ptrdiff_t i1, int lo, int hi) {
    const int32x2_t ma = vdup_n_s32(mult_a), mb = vdup_n_s32(mult_b);
    const int64x2_t nsh = vdupq_n_s64(-shift);
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    ptrdiff_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        const int16x8_t va = vld1q_s16(a + i), vb = vld1q_s16(b + i);
        vst1q_s16(out + i, vcombine_s16(add4(vget_low_s16(va), vget_low_s16(vb), ma, mb, nsh, lov, hiv),
                                        add4(vget_high_s16(va), vget_high_s16(vb), ma, mb, nsh, lov, hiv)));
    }
    const int64_t half = (int64_t)1 << (shift - 1);
    for (; i < i1; i++) {
        const int64_t v = ((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b + half) >> shift;
        out[i] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

/* Chunks of 4096 values per work item (whole chunks: the split never depends on the thread count). */
void s2c_add_requant_s16_neon(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                              int shift, ptrdiff_t n, int lo, int hi) {
    const ptrdiff_t chunk = 4096, nb = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if (n >= 4 * S2C_OMP_MIN_WORK)
    for (ptrdiff_t ib = 0; ib < nb; ib++)
        add_span(out, a, mult_a, b, mult_b, shift, ib * chunk, ib * chunk + chunk < n ? ib * chunk + chunk : n, lo, hi);
}
#endif
