/* wasm/gemm_simd128.c: WebAssembly SIMD128 GEMMs (int16 or int8 activations x int8 weights), bit-exact
 * with gemm_c.c. Dot-product layout: blocks of 4 rows x 2 output channels, each accumulator an i32x4 of
 * partial sums along k, eight k at a time by i32x4.dot_i16x8_s (weights, and int8 activations, widened
 * by i16x8.load8x8_s); the requant then has the 4 rows of one channel in its lanes, so its multiplier
 * and shift are scalars (simd128.h).
 *
 * Exactness: every product a * w fits in 23 bits and dot_i16x8_s adds two of them exactly; all other
 * adds are i32x4.add, which wraps modulo 2^32 like the C reference's uint32 sums, so the int32 sums are
 * the reference's bit for bit in any order; the requant is the frozen formula in i64x2 lanes. Reads
 * stay inside the operands: the k tails (k % 8) are scalar. */
#if defined(__wasm_simd128__)
#include "simd128.h"

/* Eight activations widened to int16 lanes, and one activation; a8 is a constant after inlining. */
S2C_INLINE v128_t load8(const void *a, ptrdiff_t i, int a8) {
    return a8 ? wasm_i16x8_load8x8((const int8_t *)a + i) : wasm_v128_load((const int16_t *)a + i);
}
S2C_INLINE int elem(const void *a, ptrdiff_t i, int a8) {
    return a8 ? ((const int8_t *)a)[i] : ((const int16_t *)a)[i];
}

/* Rows [i0, i0 + 4) x channels [j0, j0 + nc), nc = 1 or 2 (constants after inlining). */
S2C_INLINE void block4(int16_t *c, ptrdiff_t ldc, const void *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift, int k, int lo, int hi,
                       int i0, int j0, int nc, int a8) {
    const ptrdiff_t r0 = i0 * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
    const int8_t *w0 = w + j0 * ldw, *w1 = nc > 1 ? w0 + ldw : w0;
    const v128_t z = wasm_i32x4_splat(0);
    v128_t s00 = z, s10 = z, s20 = z, s30 = z, s01 = z, s11 = z, s21 = z, s31 = z;
    int t = 0;
    for (; t + 8 <= k; t += 8) {
        const v128_t x0 = load8(a, r0 + t, a8), x1 = load8(a, r1 + t, a8);
        const v128_t x2 = load8(a, r2 + t, a8), x3 = load8(a, r3 + t, a8);
        const v128_t v0 = wasm_i16x8_load8x8(w0 + t);
        s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(x0, v0));
        s10 = wasm_i32x4_add(s10, wasm_i32x4_dot_i16x8(x1, v0));
        s20 = wasm_i32x4_add(s20, wasm_i32x4_dot_i16x8(x2, v0));
        s30 = wasm_i32x4_add(s30, wasm_i32x4_dot_i16x8(x3, v0));
        if (nc > 1) {
            const v128_t v1 = wasm_i16x8_load8x8(w1 + t);
            s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(x0, v1));
            s11 = wasm_i32x4_add(s11, wasm_i32x4_dot_i16x8(x1, v1));
            s21 = wasm_i32x4_add(s21, wasm_i32x4_dot_i16x8(x2, v1));
            s31 = wasm_i32x4_add(s31, wasm_i32x4_dot_i16x8(x3, v1));
        }
    }
    uint32_t tail0[4] = {0, 0, 0, 0}, tail1[4] = {0, 0, 0, 0};
    for (; t < k; t++) {
        const int x[4] = {elem(a, r0 + t, a8), elem(a, r1 + t, a8), elem(a, r2 + t, a8), elem(a, r3 + t, a8)};
        for (int r = 0; r < 4; r++) {
            tail0[r] += (uint32_t)(x[r] * w0[t]);
            if (nc > 1) tail1[r] += (uint32_t)(x[r] * w1[t]);
        }
    }
    int16_t *o = c + i0 * ldc + j0;
    v128_t q0 = wasm_i32x4_add(s2c_wasm_hsum4(s00, s10, s20, s30), wasm_v128_load(tail0));
    q0 = s2c_wasm_requant4(wasm_i32x4_add(q0, wasm_i32x4_splat(bias ? bias[j0] : 0)), mult[j0], shift[j0], lo, hi);
    if (nc > 1) {
        v128_t q1 = wasm_i32x4_add(s2c_wasm_hsum4(s01, s11, s21, s31), wasm_v128_load(tail1));
        q1 = s2c_wasm_requant4(wasm_i32x4_add(q1, wasm_i32x4_splat(bias ? bias[j0 + 1] : 0)), mult[j0 + 1],
                               shift[j0 + 1], lo, hi);
        const v128_t p = s2c_wasm_pairs16(q0, q1);
        wasm_v128_store32_lane(o, p, 0);
        wasm_v128_store32_lane(o + ldc, p, 1);
        wasm_v128_store32_lane(o + 2 * ldc, p, 2);
        wasm_v128_store32_lane(o + 3 * ldc, p, 3);
    } else {
        o[0] = (int16_t)wasm_i32x4_extract_lane(q0, 0);
        o[ldc] = (int16_t)wasm_i32x4_extract_lane(q0, 1);
        o[2 * ldc] = (int16_t)wasm_i32x4_extract_lane(q0, 2);
        o[3 * ldc] = (int16_t)wasm_i32x4_extract_lane(q0, 3);
    }
}

/* One row (the m % 4 tail): one channel at a time, scalar requant. */
S2C_INLINE void row1(int16_t *c, const void *a, ptrdiff_t ar, const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                     const int32_t *mult, const int32_t *shift, int n, int k, int lo, int hi, int a8) {
    for (int j = 0; j < n; j++) {
        const int8_t *wr = w + j * ldw;
        v128_t s = wasm_i32x4_splat(0);
        int t = 0;
        for (; t + 8 <= k; t += 8) s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(load8(a, ar + t, a8), wasm_i16x8_load8x8(wr + t)));
        uint32_t acc = (uint32_t)s2c_wasm_hsum1(s) + (bias ? (uint32_t)bias[j] : 0);
        for (; t < k; t++) acc += (uint32_t)(elem(a, ar + t, a8) * wr[t]);
        c[j] = (int16_t)s2c_requant_clamp((int32_t)acc, mult[j], shift[j], lo, hi);
    }
}

S2C_INLINE void gemm(int16_t *c, ptrdiff_t ldc, const void *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw,
                     const int32_t *bias, const int32_t *mult, const int32_t *shift, int m, int n, int k, int lo,
                     int hi, int a8) {
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        int j = 0;
        for (; j + 2 <= n; j += 2) block4(c, ldc, a, lda, w, ldw, bias, mult, shift, k, lo, hi, i, j, 2, a8);
        if (j < n) block4(c, ldc, a, lda, w, ldw, bias, mult, shift, k, lo, hi, i, j, 1, a8);
    }
    for (; i < m; i++) row1(c + i * ldc, a, i * lda, w, ldw, bias, mult, shift, n, k, lo, hi, a8);
}

void s2c_gemm_s16_simd128(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi) {
    gemm(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, 0);
}

void s2c_gemm_s8_simd128(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                         ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                         int m, int n, int k, int lo, int hi) {
    gemm(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, 1);
}
#endif
