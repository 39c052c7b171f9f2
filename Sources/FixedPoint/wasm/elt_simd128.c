/* wasm/elt_simd128.c: WebAssembly SIMD128 elementwise kernels, bit-exact with elt_c.c. */
#if defined(__wasm_simd128__)
#include "simd128.h"

/* a mult_a + b mult_b + 2^(shift-1) >> shift, clamped, for two int64 lanes (a, b as int32 lanes 0, 1). */
S2C_INLINE v128_t add2(v128_t a, v128_t b, v128_t ma, v128_t mb, v128_t half, int shift, v128_t lo, v128_t hi,
                       int high) {
    const v128_t pa = high ? wasm_i64x2_extmul_high_i32x4(a, ma) : wasm_i64x2_extmul_low_i32x4(a, ma);
    const v128_t pb = high ? wasm_i64x2_extmul_high_i32x4(b, mb) : wasm_i64x2_extmul_low_i32x4(b, mb);
    v128_t y = wasm_i64x2_shr(wasm_i64x2_add(wasm_i64x2_add(pa, pb), half), (uint32_t)shift);  /* |.| < 2^48 */
    y = wasm_v128_bitselect(lo, y, wasm_i64x2_lt(y, lo));
    return wasm_v128_bitselect(hi, y, wasm_i64x2_gt(y, hi));
}

/* Eight values at a time; one multiplier per input and one shift for the call, so the int64 lanes
 * share their shift count. */
void s2c_add_requant_s16_simd128(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                                 int shift, ptrdiff_t n, int lo, int hi) {
    const v128_t ma = wasm_i32x4_splat(mult_a), mb = wasm_i32x4_splat(mult_b);
    const v128_t half = wasm_i64x2_splat((int64_t)1 << (shift - 1));
    const v128_t lo64 = wasm_i64x2_splat(lo), hi64 = wasm_i64x2_splat(hi);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v128_t av = wasm_v128_load(a + i), bv = wasm_v128_load(b + i);
        v128_t y[4];
        for (int q = 0; q < 2; q++) {
            const v128_t a32 = q ? wasm_i32x4_extend_high_i16x8(av) : wasm_i32x4_extend_low_i16x8(av);
            const v128_t b32 = q ? wasm_i32x4_extend_high_i16x8(bv) : wasm_i32x4_extend_low_i16x8(bv);
            y[2 * q] = add2(a32, b32, ma, mb, half, shift, lo64, hi64, 0);
            y[2 * q + 1] = add2(a32, b32, ma, mb, half, shift, lo64, hi64, 1);
        }
        wasm_v128_store(out + i, wasm_i16x8_narrow_i32x4(wasm_i32x4_shuffle(y[0], y[1], 0, 2, 4, 6),
                                                         wasm_i32x4_shuffle(y[2], y[3], 0, 2, 4, 6)));
    }
    if (i < n) s2c_add_requant_s16_c(out + i, a + i, mult_a, b + i, mult_b, shift, n - i, lo, hi);
}
#endif
