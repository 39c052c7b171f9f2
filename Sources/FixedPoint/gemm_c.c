/* gemm_c.c: scalar C reference GEMMs with fused requantization: the specification for every ISA variant. */
#include "s2c_internal.h"

/* Bounds (see s2c_fixedpoint.h): the int32 sum is exact when |bias| + k * 128 * 128 < 2^31 (s8) or
 * |bias| + k * 32768 * 128 < 2^31 (s16); beyond that all variants wrap identically (mod 2^32). */

void s2c_gemm_s8_c(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                   ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int m, int n, int k, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
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
#pragma omp parallel for schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
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
