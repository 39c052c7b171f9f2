/* arm/ops_neon.c: NEON layer kernels (depthwise conv, gated product, rescale), bit-exact with ops_c.c. */
#if defined(__aarch64__)
#include "gemm_neon.h"

/* Exactness: SMLAL / SMLAL2 add exact int16 x int16 products (|in * w| <= 2^22) into int32 lanes
 * that wrap mod 2^32 like the C reference; SMULL gives the exact gated product lut * b (<= 2^30).
 * Requantization is s2c_neon_requant4 (SMULL by mult, SRSHL by -shift = round half up, clamp).
 * NEON has no gather, so LUT entries are loaded with scalar loads into a vector.
 * Threads: OpenMP over image rows / rows (outer loop only). */

/* Taps handled by the SIMD dwconv (k <= 7); larger kernels use the C reference. */
enum { DW_MAX_TAPS = 49 };


static void dw_row(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi, int y) {
    const int p = k / 2, taps = k * k;
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    int cb = 0;
    for (; cb + 8 <= c; cb += 8) {
        int16x8_t wv[DW_MAX_TAPS];
        for (int t = 0; t < taps; t++) {
            int16_t tw[8];
            for (int i = 0; i < 8; i++) tw[i] = wgt[(cb + i) * taps + t];
            wv[t] = vld1q_s16(tw);
        }
        const int32x4_t b0 = bias ? vld1q_s32(bias + cb) : vdupq_n_s32(0);
        const int32x4_t b1 = bias ? vld1q_s32(bias + cb + 4) : vdupq_n_s32(0);
        const int32x4_t m0 = vld1q_s32(mult + cb), m1 = vld1q_s32(mult + cb + 4);
        const int32x4_t s0 = vld1q_s32(shift + cb), s1 = vld1q_s32(shift + cb + 4);
        for (int x = 0; x < w; x++) {
            int32x4_t a0 = b0, a1 = b1;
            for (int ky = 0; ky < k; ky++) {
                const int yy = y + ky - p;
                if (yy < 0 || yy >= h) continue;
                for (int kx = 0; kx < k; kx++) {
                    const int xx = x + kx - p;
                    if (xx < 0 || xx >= w) continue;
                    const int16x8_t v = vld1q_s16(in + ((ptrdiff_t)yy * w + xx) * c + cb);
                    const int16x8_t wt = wv[ky * k + kx];
                    a0 = vmlal_s16(a0, vget_low_s16(v), vget_low_s16(wt));
                    a1 = vmlal_high_s16(a1, v, wt);
                }
            }
            vst1q_s16(out + ((ptrdiff_t)y * w + x) * c + cb,
                      vcombine_s16(s2c_neon_requant4(a0, m0, s0, lov, hiv), s2c_neon_requant4(a1, m1, s1, lov, hiv)));
        }
    }
    for (int x = 0; x < w && cb < c; x++)
        for (int ch = cb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

void s2c_dwconv_s16_neon(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    if (k * k > DW_MAX_TAPS) {
        s2c_dwconv_s16_c(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi);
        return;
    }
#pragma omp parallel for schedule(static) if ((int64_t)h * w * c * k * k >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++) dw_row(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y);
}

static void gated_row(int16_t *o, const int16_t *a, const int16_t *bb, int hc, const int16_t *lut,
                      int32_t mult, int shift, int lo, int hi) {
    const int32x4_t mv = vdupq_n_s32(mult), sv = vdupq_n_s32(shift);
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    const int64_t half = (int64_t)1 << (shift - 1);
    int j = 0;
    for (; j + 8 <= hc; j += 8) {
        int16_t l[8];
        for (int i = 0; i < 8; i++) l[i] = lut[(uint16_t)a[j + i]];
        const int16x8_t lv = vld1q_s16(l), bv = vld1q_s16(bb + j);
        const int32x4_t p0 = vmull_s16(vget_low_s16(lv), vget_low_s16(bv)), p1 = vmull_high_s16(lv, bv);
        vst1q_s16(o + j, vcombine_s16(s2c_neon_requant4(p0, mv, sv, lov, hiv), s2c_neon_requant4(p1, mv, sv, lov, hiv)));
    }
    for (; j < hc; j++) {
        const int64_t v = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
        o[j] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

void s2c_gated_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        gated_row(out + r * ldo, in + r * ldi, in + r * ldi + hc, hc, lut, mult, shift, lo, hi);
}

static void rescale_row(int16_t *o, const int16_t *x, int c, const int32_t *mult, const int32_t *shift,
                        int lo, int hi) {
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    int ch = 0;
    for (; ch + 8 <= c; ch += 8) {
        const int16x8_t v = vld1q_s16(x + ch);
        const int16x4_t r0 = s2c_neon_requant4(vmovl_s16(vget_low_s16(v)), vld1q_s32(mult + ch),
                                               vld1q_s32(shift + ch), lov, hiv);
        const int16x4_t r1 = s2c_neon_requant4(vmovl_high_s16(v), vld1q_s32(mult + ch + 4),
                                               vld1q_s32(shift + ch + 4), lov, hiv);
        vst1q_s16(o + ch, vcombine_s16(r0, r1));
    }
    for (; ch < c; ch++) o[ch] = (int16_t)s2c_requant_clamp(x[ch], mult[ch], shift[ch], lo, hi);
}

void s2c_rescale_s16_neon(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                          const int32_t *shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        rescale_row(out + (ptrdiff_t)r * c, in + (ptrdiff_t)r * c, c, mult, shift, lo, hi);
}
#endif
