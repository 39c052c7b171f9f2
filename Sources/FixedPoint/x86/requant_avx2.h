/* requant_avx2.h: the frozen requantization rule (s2c_fixedpoint.h) on AVX2 lanes, shared by
 * every AVX2 kernel so there is exactly one vector copy of it. Private; include after
 * <immintrin.h> and a definition of INL (static inline, always_inline, target("avx2")). */
#ifndef S2C_REQUANT_AVX2_H
#define S2C_REQUANT_AVX2_H

/* Arithmetic 64-bit right shift by per-lane counts (AVX2 has only the logical one):
 * for x < 0, ~x >= 0 and ~(~x >> s) == floor(x / 2^s). */
INL __m256i sra64(__m256i x, __m256i s) {
    __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
}

INL __m256i clamp64(__m256i x, __m256i lo, __m256i hi) {
    x = _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
    return _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
}

/* s2c_requant_clamp on 8 int32 lanes: even and odd lanes go through int64 separately. */
INL __m256i requant8(__m256i acc, __m256i mult, __m256i shift, __m256i lo64, __m256i hi64) {
    const __m256i one = _mm256_set1_epi64x(1);
    __m256i se = _mm256_and_si256(shift, _mm256_set1_epi64x(0xffffffff));
    __m256i so = _mm256_srli_epi64(shift, 32);
    __m256i pe = _mm256_mul_epi32(acc, mult);  /* signed low dword of each qword */
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(mult, 32));
    pe = _mm256_add_epi64(pe, _mm256_sllv_epi64(one, _mm256_sub_epi64(se, one)));
    po = _mm256_add_epi64(po, _mm256_sllv_epi64(one, _mm256_sub_epi64(so, one)));
    pe = clamp64(sra64(pe, se), lo64, hi64);
    po = clamp64(sra64(po, so), lo64, hi64);
    return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

#endif /* S2C_REQUANT_AVX2_H */
