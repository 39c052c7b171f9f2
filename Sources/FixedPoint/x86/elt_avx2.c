/* x86/elt_avx2.c: AVX2 elementwise kernels, bit-exact with elt_c.c. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "../s2c_internal.h"

#define TGT __attribute__((target("avx2")))
#define INL static inline __attribute__((always_inline, target("avx2")))

#include "requant_avx2.h"

/* add_requant_s16 on 16 values per step: a and b sign-extended to int32, a * mult_a + b * mult_b in
 * int64 lanes (vpmuldq on the even and the odd lanes; |.| < 2^47), then the requant of
 * requant_avx2.h's S2CRq8 (the rounding term 2^(shift-1) + 2^62 added, logical shift, clamp against
 * biased bounds): the reference's one rounding, exactly. Tails use the reference's formula. */
INL __m256i add8(__m256i a, __m256i b, __m256i ma, __m256i mb, const S2CRq8 *q, int narrow) {
    const __m256i pe = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, ma), _mm256_mul_epi32(b, mb)), q->ae);
    const __m256i po = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), ma),
                                                         _mm256_mul_epi32(_mm256_srli_epi64(b, 32), mb)), q->ao);
    if (narrow) {  /* the value fits int32: its low 32 bits (bias off), clamped in 32-bit lanes */
        const __m256i v = _mm256_blend_epi32(_mm256_srlv_epi64(pe, q->se), _mm256_slli_epi64(_mm256_srlv_epi64(po, q->so), 32), 0xAA);
        return _mm256_min_epi32(_mm256_max_epi32(_mm256_sub_epi32(v, q->off), q->lo32), q->hi32);
    }
    return rq8_join(rq8_half(pe, q->se, q->le, q->he), rq8_half(po, q->so, q->lo, q->ho), q);
}

/* narrow (shift >= 17): |a mult_a + b mult_b| < 2^47, so the value is below 2^30 + 1 in magnitude and
 * fits int32 lanes; the low 32 bits of the biased shift minus those of 2^(62-shift) are the value and the
 * clamp is vpmaxsd / vpminsd. Otherwise the 64-bit clamp of requant_avx2.h. */
INL void add_loop(int16_t *out, const int16_t *a, const int16_t *b, __m256i ma, __m256i mb, const S2CRq8 *q,
                  ptrdiff_t *pi, ptrdiff_t i1, int narrow) {
    ptrdiff_t i = *pi;
    for (; i + 16 <= i1; i += 16) {
        const __m256i va = _mm256_loadu_si256((const __m256i *)(a + i)), vb = _mm256_loadu_si256((const __m256i *)(b + i));
        const __m256i r0 = add8(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(va)), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(vb)), ma, mb, q, narrow);
        const __m256i r1 = add8(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(va, 1)), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(vb, 1)), ma, mb, q, narrow);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_permute4x64_epi64(_mm256_packs_epi32(r0, r1), 0xD8));
    }
    *pi = i;
}

static TGT void add_span(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                         int shift, ptrdiff_t i0, ptrdiff_t i1, int lo, int hi) {
    S2CRq8 q;
    rq8_init1(&q, 1, shift, lo, hi);  /* only the rounding / shift / bound terms are used */
    const __m256i ma = _mm256_set1_epi32(mult_a), mb = _mm256_set1_epi32(mult_b);
    ptrdiff_t i = i0;
    if (shift >= 17) add_loop(out, a, b, ma, mb, &q, &i, i1, 1);
    else add_loop(out, a, b, ma, mb, &q, &i, i1, 0);
    const int64_t half = (int64_t)1 << (shift - 1);
    for (; i < i1; i++) {
        const int64_t v = ((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b + half) >> shift;
        out[i] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

/* Chunks of 4096 values per work item (whole chunks, so the split never depends on the thread count). */
void s2c_add_requant_s16_avx2(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                              int shift, ptrdiff_t n, int lo, int hi) {
    const ptrdiff_t chunk = 4096, nb = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if (n >= 4 * S2C_OMP_MIN_WORK)
    for (ptrdiff_t ib = 0; ib < nb; ib++)
        add_span(out, a, mult_a, b, mult_b, shift, ib * chunk, ib * chunk + chunk < n ? ib * chunk + chunk : n, lo, hi);
}
#endif
