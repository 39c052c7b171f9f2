/* wasm/simd128.h: helpers shared by the WebAssembly SIMD128 kernels: the frozen requant on four int32
 * lanes with one multiplier and shift, and horizontal sums. wasm shifts take one count for all lanes,
 * so these kernels arrange their lanes to share a multiplier and shift (rows of one output channel,
 * or one layer-wide pair), and use the scalar s2c_requant_clamp where they cannot. */
#ifndef S2C_WASM_SIMD128_H
#define S2C_WASM_SIMD128_H
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "../s2c_internal.h"

#define S2C_INLINE static inline __attribute__((always_inline))

/* clamp(((int64)v * mult + 2^(shift-1)) >> shift, lo, hi) on four int32 lanes: i64x2.extmul_*_i32x4_s
 * is the exact int64 product, i64x2.shr_s the arithmetic shift, the clamp is in 64 bits, and the
 * clamped values are the low halves. shift in [1, 62], lo <= hi. */
S2C_INLINE v128_t s2c_wasm_requant4(v128_t v, int32_t mult, int shift, int32_t lo, int32_t hi) {
    const v128_t m = wasm_i32x4_splat(mult), half = wasm_i64x2_splat((int64_t)1 << (shift - 1));
    const v128_t vlo = wasm_i64x2_splat(lo), vhi = wasm_i64x2_splat(hi);
    v128_t p0 = wasm_i64x2_shr(wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(v, m), half), (uint32_t)shift);
    v128_t p1 = wasm_i64x2_shr(wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(v, m), half), (uint32_t)shift);
    p0 = wasm_v128_bitselect(vlo, p0, wasm_i64x2_lt(p0, vlo));
    p0 = wasm_v128_bitselect(vhi, p0, wasm_i64x2_gt(p0, vhi));
    p1 = wasm_v128_bitselect(vlo, p1, wasm_i64x2_lt(p1, vlo));
    p1 = wasm_v128_bitselect(vhi, p1, wasm_i64x2_gt(p1, vhi));
    return wasm_i32x4_shuffle(p0, p1, 0, 2, 4, 6);
}

/* The sums of the four lanes of x0..x3 (mod 2^32), as lanes 0..3. */
S2C_INLINE v128_t s2c_wasm_hsum4(v128_t x0, v128_t x1, v128_t x2, v128_t x3) {
    const v128_t t0 = wasm_i32x4_add(wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7));
    const v128_t t1 = wasm_i32x4_add(wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5), wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

/* The sum of the four lanes of x (mod 2^32). */
S2C_INLINE int32_t s2c_wasm_hsum1(v128_t x) {
    x = wasm_i32x4_add(x, wasm_i32x4_shuffle(x, x, 2, 3, 0, 1));
    x = wasm_i32x4_add(x, wasm_i32x4_shuffle(x, x, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(x, 0);
}

/* Two vectors of four in-range int32 (rows r = 0..3 of channels j and j + 1) as int16 pairs, the pair
 * of row r in 32-bit lane r (channel j first in memory), for one 32-bit store per row. */
S2C_INLINE v128_t s2c_wasm_pairs16(v128_t q0, v128_t q1) {
    return wasm_i16x8_shuffle(wasm_i16x8_narrow_i32x4(q0, q1), wasm_i16x8_splat(0), 0, 4, 1, 5, 2, 6, 3, 7);
}

#endif
#endif
