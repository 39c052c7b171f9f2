/* x86/transpose_avx512.h: the 16 x 16 transpose of 32-bit elements the AVX-512 kernels repack weights with
 * (gemm_avx512vnni_bcast.c, gemm_amx.c). x86-64 only; include after <immintrin.h>. */
#ifndef S2C_TRANSPOSE_AVX512_H
#define S2C_TRANSPOSE_AVX512_H

/* Transposes a 16 x 16 matrix of 32-bit elements: r[i] lane j -> r[j] lane i. */
static inline __attribute__((always_inline, target("avx512f"))) void s2c_transpose16x32(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    /* u[4b + c], 128-bit lane L: column 4L + c of rows 4b..4b+3 */
    for (int b = 0; b < 4; b++) {
        u[4 * b + 0] = _mm512_unpacklo_epi64(t[4 * b], t[4 * b + 2]);
        u[4 * b + 1] = _mm512_unpackhi_epi64(t[4 * b], t[4 * b + 2]);
        u[4 * b + 2] = _mm512_unpacklo_epi64(t[4 * b + 1], t[4 * b + 3]);
        u[4 * b + 3] = _mm512_unpackhi_epi64(t[4 * b + 1], t[4 * b + 3]);
    }
    /* then a 4 x 4 transpose of 128-bit blocks for each c */
    for (int c = 0; c < 4; c++) {
        const __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xee);
        const __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xee);
        r[c] = _mm512_shuffle_i32x4(v0, v2, 0x88);
        r[4 + c] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
        r[8 + c] = _mm512_shuffle_i32x4(v1, v3, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
    }
}

#endif
