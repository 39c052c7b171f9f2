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

/* The same rule with the per-lane terms computed once ("bias trick", no emulated arithmetic shift):
 * with x = acc * mult + 2^(s-1) (|x| < 2^62 + 2^61), y = x + 2^62 is positive as a uint64 and
 * y >>> s = floor(x / 2^s) + 2^(62-s) exactly (2^62 is a multiple of 2^s for s <= 62), below 2^63, so
 * signed 64-bit compares clamp it against [lo, hi] + 2^(62-s); the bias comes off in 32-bit lanes
 * (the result is inside [lo, hi], within int16). Lanes: l even -> 64-bit lane l / 2 of the *e
 * vectors, l odd -> of the *o vectors (me: mult in the even int32 lanes, mo: mult of lane l + 1 there). */
typedef struct { __m256i me, mo, ae, ao, se, so, le, lo, he, ho, off, alo, ahi, lo32, hi32; } S2CRq8;

/* Constants for 8 lanes with multipliers m[l] and shifts s[l] (1 <= s <= 62), output range [lo, hi]. */
INL void rq8_init(S2CRq8 *q, const int32_t m[8], const int32_t s[8], int lo, int hi) {
    int32_t me[8], mo[8], off[8], alo[8], ahi[8], lo32[8], hi32[8];
    int64_t ae[4], ao[4], se[4], so[4], le[4], lw[4], he[4], hw[4];
    for (int l = 0; l < 8; l++) {
        s2c_requant_acc_bounds(m[l], s[l], lo, hi, &alo[l], &ahi[l]);
        lo32[l] = lo;
        hi32[l] = hi;
        const int64_t o = (int64_t)1 << (62 - s[l]), a = ((int64_t)1 << (s[l] - 1)) + ((int64_t)1 << 62);
        me[l] = m[l];
        mo[l] = (l & 1) ? 0 : m[l + 1];
        off[l] = (int32_t)(uint32_t)(uint64_t)o;
        if (l & 1) { ao[l / 2] = a; so[l / 2] = s[l]; lw[l / 2] = lo + o; hw[l / 2] = hi + o; }
        else { ae[l / 2] = a; se[l / 2] = s[l]; le[l / 2] = lo + o; he[l / 2] = hi + o; }
    }
#define L32(v) _mm256_loadu_si256((const __m256i *)(v))
    q->me = L32(me); q->mo = L32(mo); q->off = L32(off);
    q->ae = L32(ae); q->ao = L32(ao); q->se = L32(se); q->so = L32(so);
    q->le = L32(le); q->lo = L32(lw); q->he = L32(he); q->ho = L32(hw);
    q->alo = L32(alo); q->ahi = L32(ahi); q->lo32 = L32(lo32); q->hi32 = L32(hi32);
#undef L32
}

/* The same constants for one multiplier and shift on every lane. */
INL void rq8_init1(S2CRq8 *q, int32_t m, int s, int lo, int hi) {
    int32_t mm[8], ss[8];
    for (int l = 0; l < 8; l++) { mm[l] = m; ss[l] = s; }
    rq8_init(q, mm, ss, lo, hi);
}

/* 64-bit lanes x (even or odd int32 lanes' products + the rounding term) -> clamped, still biased. */
INL __m256i rq8_half(__m256i x, __m256i s, __m256i lo, __m256i hi) {
    x = _mm256_srlv_epi64(x, s);
    x = _mm256_blendv_epi8(x, lo, _mm256_cmpgt_epi64(lo, x));
    return _mm256_blendv_epi8(x, hi, _mm256_cmpgt_epi64(x, hi));
}

/* Recombines the even and odd halves into int32 lanes and takes the bias off. */
INL __m256i rq8_join(__m256i pe, __m256i po, const S2CRq8 *q) {
    return _mm256_sub_epi32(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA), q->off);
}

/* s2c_requant_clamp on 8 int32 lanes with precomputed constants, in 32-bit lanes wherever it can be:
 * acc is first clamped to [alo, ahi] (s2c_requant_acc_bounds: changes no result, and the requantized
 * value then fits int32), the int64 products and the biased logical shift as above, the bias taken
 * off in the low 32 bits (exact: the value fits), and the clamp to [lo, hi] is vpmaxsd / vpminsd:
 * 14 uops against 22 with 64-bit compares and blends. */
INL __m256i rq8(__m256i acc, const S2CRq8 *q) {
    acc = _mm256_min_epi32(_mm256_max_epi32(acc, q->alo), q->ahi);
    const __m256i pe = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(acc, q->me), q->ae), q->se);
    const __m256i po = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q->mo), q->ao), q->so);
    const __m256i v = _mm256_sub_epi32(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA), q->off);
    return _mm256_min_epi32(_mm256_max_epi32(v, q->lo32), q->hi32);
}

#endif /* S2C_REQUANT_AVX2_H */
