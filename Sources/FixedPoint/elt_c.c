/* elt_c.c: scalar C reference elementwise kernels. */
#include "s2c_internal.h"

void s2c_add_requant_s16_c(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b,
                           int32_t mult_b, int shift, ptrdiff_t n, int lo, int hi) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (ptrdiff_t i = 0; i < n; i++) {
        /* |a*mult_a| + |b*mult_b| <= 2 * 2^15 * 2^31 = 2^47: no int64 overflow. */
        int64_t v = ((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b + half) >> shift;
        out[i] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}
