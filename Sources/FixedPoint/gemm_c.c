/* gemm_c.c: scalar C reference GEMMs with fused requantization: the specification for every ISA variant. */
#include <stdlib.h>

#include "s2c_internal.h"

/* Bounds (see s2c_fixedpoint.h): the int32 sum is exact when |bias| + k * 128 * 128 < 2^31 (s8) or
 * |bias| + k * 32768 * 128 < 2^31 (s16); beyond that all variants wrap identically (mod 2^32). */

void s2c_gemm_s8_c(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                   ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int m, int n, int k, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int i = 0; i < m; i++) {
        const int8_t *ar = a + i * lda;
        for (int j = 0; j < n; j++) {
            const int8_t *wr = w + j * ldw;
            uint32_t acc = bias ? (uint32_t)bias[j] : 0;
            for (int t = 0; t < k; t++) acc += (uint32_t)(ar[t] * wr[t]);
            c[i * ldc + j] = (int16_t)s2c_requant_clamp((int32_t)acc, mult[j], shift[j], lo, hi);
        }
    }
}

void s2c_gemm_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                    ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                    int m, int n, int k, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int i = 0; i < m; i++) {
        const int16_t *ar = a + i * lda;
        for (int j = 0; j < n; j++) {
            const int8_t *wr = w + j * ldw;
            uint32_t acc = bias ? (uint32_t)bias[j] : 0;
            for (int t = 0; t < k; t++) acc += (uint32_t)(ar[t] * wr[t]);
            c[i * ldc + j] = (int16_t)s2c_requant_clamp((int32_t)acc, mult[j], shift[j], lo, hi);
        }
    }
}

/* MARK: - gemm_gated_s16 (fc1 + gated product)
 *
 * The composition that defines it: fc1's 2 hc outputs of a band of rows into a buffer (the table's
 * gemm_s16), then the gated product of those rows (the table's gated_s16). Rows are independent in
 * both, so bands change nothing. Levels without a fused kernel (and the fused kernels' fallbacks)
 * run this with their own gemm_s16 and gated_s16. */
void s2c_gemm_gated_s16_compose(s2c_gemm_s16_fn gemm, s2c_gated_s16_fn gated, int16_t *c, ptrdiff_t ldc,
                                const int16_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw,
                                const int32_t *bias, const int32_t *mult, const int32_t *shift, int m, int hc,
                                int k, int lo, int hi, const int16_t *lut, int32_t gmult, int gshift, int glo,
                                int ghi) {
    if (m <= 0 || hc <= 0) return;
    /* bands of rows whose fc1 output (2 hc int16 a row) is about 1 MiB, at least 48 rows */
    int band = (int)(((int64_t)1 << 20) / ((int64_t)4 * hc));
    if (band < 48) band = 48;
    if (band > m) band = m;
    int16_t *buf = malloc((size_t)band * 2 * (size_t)hc * sizeof(int16_t));
    if (buf) {
        for (int i0 = 0; i0 < m; i0 += band) {
            const int rows = m - i0 < band ? m - i0 : band;
            gemm(buf, 2 * (ptrdiff_t)hc, a + (ptrdiff_t)i0 * lda, lda, w, ldw, bias, mult, shift, rows, 2 * hc, k, lo, hi);
            gated(c + (ptrdiff_t)i0 * ldc, ldc, buf, 2 * (ptrdiff_t)hc, rows, hc, lut, gmult, gshift, glo, ghi);
        }
        free(buf);
        return;
    }
    /* No heap: one row and up to CH channels of each half at a time, on the stack. */
    enum { CH = 256 };
    int16_t t[2 * CH];
    for (int i = 0; i < m; i++)
        for (int j0 = 0; j0 < hc; j0 += CH) {
            const int cw = hc - j0 < CH ? hc - j0 : CH;
            const int16_t *ar = a + (ptrdiff_t)i * lda;
            gemm(t, cw, ar, lda, w + (ptrdiff_t)j0 * ldw, ldw, bias ? bias + j0 : NULL, mult + j0, shift + j0, 1, cw, k,
                 lo, hi);
            gemm(t + cw, cw, ar, lda, w + (ptrdiff_t)(hc + j0) * ldw, ldw, bias ? bias + hc + j0 : NULL, mult + hc + j0,
                 shift + hc + j0, 1, cw, k, lo, hi);
            gated(c + (ptrdiff_t)i * ldc + j0, ldc, t, 2 * cw, 1, cw, lut, gmult, gshift, glo, ghi);
        }
}

void s2c_gemm_gated_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int hc, int k, int lo, int hi,
                          const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    s2c_gemm_gated_s16_compose(s2c_gemm_s16_c, s2c_gated_s16_c, c, ldc, a, lda, w, ldw, bias, mult, shift, m, hc, k,
                               lo, hi, lut, gmult, gshift, glo, ghi);
}

/* MARK: - gemm_lut_s16 (pw1 + GELU table)
 *
 * The definition: the level's gemm_s16, then the table looked up in place, row by row (the plain
 * C loop: levels without a fused kernel run this with their own gemm_s16). */
void s2c_gemm_lut_s16_compose(s2c_gemm_s16_fn gemm, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                              const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                              const int32_t *shift, int m, int n, int k, int lo, int hi, const int16_t *lut) {
    if (m <= 0 || n <= 0) return;
    gemm(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n >= S2C_OMP_MIN_WORK * 4)
    for (int i = 0; i < m; i++) {
        int16_t *cr = c + (ptrdiff_t)i * ldc;
        for (int j = 0; j < n; j++) cr[j] = lut[(uint16_t)cr[j]];
    }
}

void s2c_gemm_lut_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                        ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                        int m, int n, int k, int lo, int hi, const int16_t *lut) {
    s2c_gemm_lut_s16_compose(s2c_gemm_s16_c, c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut);
}
