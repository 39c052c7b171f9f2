/* x86/avx512_common.h: pieces the AVX-512 GEMM files share (gemm_avx512vnni_bcast.c, gemm_amx.c): the
 * 16 x 16 transpose they repack weights with, and their requant constants (per lane, or one multiplier
 * for all lanes). x86-64 only; include after <immintrin.h> and <string.h>. */
#ifndef S2C_AVX512_COMMON_H
#define S2C_AVX512_COMMON_H

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


/* The 7 requant vectors (the order below) of 16 lanes, from lane l's channel j[l] (-1: a padding lane,
 * zero bias and mult = shift = 1, never stored) and the channels' bias (NULL: zeros), mult and shift. */
static inline void s2c_requant_lanes(__m512i q[7], const int j[16], const int32_t *bias, const int32_t *mult,
                                     const int32_t *shift) {
    int32_t v32[3][16];
    int64_t v64[4][8];
    memset(v32, 0, sizeof v32);
    for (int l = 0; l < 16; l++) {
        const int32_t mj = j[l] >= 0 ? mult[j[l]] : 1, sj = j[l] >= 0 ? shift[j[l]] : 1;
        v32[0][l] = j[l] >= 0 && bias ? bias[j[l]] : 0;
        v32[1][l] = mj;                    /* vpmuldq reads the even lanes */
        if (l & 1) v32[2][l - 1] = mj;     /* odd lanes, moved down by the 64-bit shift */
        v64[l & 1][l / 2] = (int64_t)1 << (sj - 1);
        v64[2 + (l & 1)][l / 2] = sj;
    }
    memcpy(q, v32, sizeof v32);
    memcpy(q + 3, v64, sizeof v64);
}

/* The 7 requant vectors of s2c_requant_clamp with the same (mult, shift) in every lane, in the order both
 * files' per-channel constants use: bias (0), mult (vpmuldq reads the even lanes), mult of the odd lanes
 * moved down, rounding halves of the even / odd lanes (int64), shifts of the even / odd lanes (int64). */
static inline __attribute__((always_inline, target("avx512f"))) void s2c_requant_uniform(__m512i q[7], int32_t mult,
                                                                                        int shift) {
    q[0] = _mm512_setzero_si512();
    q[1] = _mm512_set1_epi32(mult);
    q[2] = _mm512_set1_epi64((int64_t)(uint32_t)mult);
    q[3] = q[4] = _mm512_set1_epi64((int64_t)1 << (shift - 1));
    q[5] = q[6] = _mm512_set1_epi64(shift);
}

/* s2c_requant_clamp on 16 int32 lanes with the constants q (the order above), each result in its own lane:
 * the even / odd lanes' int64 results clamped to [lo, hi] (vpmaxsq / vpminsq), then the odd ones moved
 * back up into the high dwords. */
static inline __attribute__((always_inline, target("avx512f"))) __m512i s2c_requant32(__m512i acc, const __m512i *q,
                                                                                      __m512i lo64, __m512i hi64) {
    __m512i pe = _mm512_mul_epi32(acc, q[1]);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q[2]);
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, q[3]), q[5]);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, q[4]), q[6]);
    pe = _mm512_min_epi64(_mm512_max_epi64(pe, lo64), hi64);
    po = _mm512_min_epi64(_mm512_max_epi64(po, lo64), hi64);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

#endif
