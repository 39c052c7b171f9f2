/* x86/gemm_avx2_bcast.c: AVX2 GEMMs in the broadcast ("outer product") layout, bit-exact with
 * gemm_c.c; the AVX2 twin of gemm_avx512vnni_bcast.c. s2c_gemm_{s8,s16}_avx2 (gemm_avx2.c) run them
 * for shapes with enough rows to repay the weight repacking, and the dot-product kernels otherwise.
 *
 * Layout. One ymm accumulator holds 8 OUTPUT CHANNELS of one row (lane l = channel l), so nothing
 * is summed horizontally and the requant constants are per lane. Per k pair the row's two int16
 * activations are broadcast as one int32 and multiplied by vpmaddwd with a packed weight vector
 * holding the same pair for 8 channels ([pair][8 channels][2] int16, the int8 weights
 * sign-extended); vpaddd adds the 8 pair sums into the accumulator. Each pair sum is at most
 * 2 * 32768 * 128 = 2^23 (exact), the accumulation wraps mod 2^32 like the reference's uint32 sum,
 * and int32 addition mod 2^32 does not depend on the order of the terms: the sums are the
 * reference's bit for bit. An odd k ends with a pair whose second weight is 0 and the activation
 * broadcast as one int16 (vpbroadcastw reads exactly a[k-1]). s8 activations are sign-extended to
 * int16 into a per-thread buffer first (once per work item) and then run the same micro-kernels.
 *
 * The weights are repacked once per call into a heap buffer (n * k work against m * n * k for the
 * GEMM), with per-channel constants; channels past n get zero weights and mult = shift = 1 and are
 * never stored. If a buffer cannot be had (allocation failure, or more than PACK_MAX / WIDE_MAX
 * bytes) the function returns non-zero (-1: nothing written; -2: an s8 thread's widening buffer
 * failed, some rows written) and the caller runs the dot-product kernel over the whole output:
 * both are exact, so the output is the same either way. Nothing is read past a row of a or the ends of w,
 * bias, mult, shift (prefetches aside, which never fault and only touch rows that exist), and c is
 * written only inside the m x n block.
 *
 * Requant (the frozen rule, s2c_fixedpoint.h) in int64 lanes without an arithmetic 64-bit shift
 * (AVX2 has only the logical vpsrlvq): the accumulator is first clamped to the channel's [alo, ahi]
 * (s2c_requant_acc_bounds: the range outside which the clamped result is constant, so nothing
 * changes, and inside which the requantized value fits int32); with x = acc * mult + 2^(s-1)
 * (|x| < 2^62 + 2^61), y = x + 2^62 is positive as a uint64 and y >>> s = floor(x / 2^s) + 2^(62-s)
 * exactly (2^62 is a multiple of 2^s, s <= 62); its low 32 bits minus those of 2^(62-s) are the
 * value (it fits int32), which vpmaxsd / vpminsd clamp to [lo, hi]. All the per-channel terms
 * (2^(s-1) + 2^62, s, alo, ahi, the bias's low 32 bits) are precomputed with the weights.
 * vpackssdw then cannot saturate. (Before: a 64-bit clamp by vpcmpgtq / vpblendvb, 22 uops per 8
 * outputs against 14.)
 *
 * Blocking. 16 ymm registers: a group of NJ = 2 channel vectors runs R = 6 rows (12 accumulators,
 * 2 weight vectors, a broadcast and a product); a last single vector runs 12 rows (12 + 1 + 2).
 * Rows past the end of a tile repeat its last row and are not stored. OpenMP splits work items of RB
 * rows (the outer loop) only; inside one, every channel group runs over the RB rows, so their
 * activations stay in L1 / L2 while a group's weights stay in L1. The output never depends on the
 * thread count. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "../s2c_internal.h"

#define TGT __attribute__((target("avx2")))
#define INL static inline __attribute__((always_inline, target("avx2")))

#include "requant_avx2.h"

enum {
    VB = 8,      /* channels per vector */
    RB = 48,     /* rows per parallel work item (a multiple of 6 and 12) */
    PF = 16,     /* k pairs between prefetches of the next rows' activations */
    /* per-vector constants, one ymm each */
    QBIAS = 0, QMULE, QMULO, QADDE, QADDO, QSHE, QSHO, QALO, QAHI, QLO, QHI, QOFF, NQ
};

/* Largest packed buffer (bytes); above it the caller's dot-product kernel runs. */
#define PACK_MAX ((size_t)64 << 20)
/* Largest s8 widening buffer per thread (RB rows of k int16); above it the dot-product kernel runs. */
#define WIDE_MAX ((size_t)8 << 20)

typedef struct {
    int hc;         /* 0: plain GEMM; > 0: gemm_gated_s16's layout (below) */
    int nvb;        /* 8-channel vectors */
    int ks;         /* k pairs, the last one possibly half */
    int ng;         /* channel groups: pairs of vectors, then a single one if nvb is odd */
    __m256i *cst;   /* [nvb][NQ] */
    __m256i *panel; /* group g (vectors 2g, 2g + 1): panel[2g * ks + pair * nj + q] */
} Packed;

static inline void group(const Packed *pk, int g, int *v0, int *nj) {
    *v0 = 2 * g;
    *nj = pk->nvb - 2 * g < 2 ? 1 : 2;
}

/* The weight row (output channel) held by lane l of vector v, or -1 for a padding lane. Plain: channel
 * 8 v + l of n. Gated (hc > 0, n = 2 hc): vectors pair up, 2 g holding the a channels 8 g + l and
 * 2 g + 1 the b channels hc + 8 g + l of the same 8 outputs, so one 6 x 2 tile has both halves. */
static inline int src_channel(const Packed *pk, int v, int l, int n) {
    if (!pk->hc) return v * VB + l < n ? v * VB + l : -1;
    const int j = (v / 2) * VB + l;
    return j < pk->hc ? (v & 1) * pk->hc + j : -1;
}

/* Packs weights and constants (hc > 0: the gated layout, n = 2 hc); NULL when the buffer cannot be had. */
static TGT void *pack(Packed *pk, const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, int n, int k, int lo, int hi, int hc) {
    pk->hc = hc;
    pk->nvb = hc ? 2 * ((hc + VB - 1) / VB) : (n + VB - 1) / VB;
    pk->ks = (k + 1) / 2;
    pk->ng = (pk->nvb + 1) / 2;
    const size_t nvec = (size_t)pk->nvb * NQ + (size_t)pk->nvb * (size_t)pk->ks;
    if (nvec > PACK_MAX / 32) return NULL;
    void *buf = aligned_alloc(32, nvec * 32);
    if (!buf) return NULL;
    pk->cst = buf;
    pk->panel = pk->cst + (size_t)pk->nvb * NQ;
    for (int v = 0; v < pk->nvb; v++) {
        int32_t q32[NQ][VB];
        int64_t *q64 = (int64_t *)q32;  /* row q as 4 int64 lanes: q64[q * 4 + l / 2] */
        memset(q32, 0, sizeof q32);
        for (int l = 0; l < VB; l++) {
            const int j = src_channel(pk, v, l, n);
            const int32_t mj = j >= 0 ? mult[j] : 1, sj = j >= 0 ? shift[j] : 1;
            const int e = l & 1, h = l / 2;
            const int64_t off = (int64_t)1 << (62 - sj);
            q32[QBIAS][l] = j >= 0 && bias ? bias[j] : 0;
            q32[QMULE][l] = mj;          /* vpmuldq reads the even lanes */
            if (e) q32[QMULO][l - 1] = mj;  /* odd lanes, moved down by the 64-bit shift */
            q64[(e ? QADDO : QADDE) * 4 + h] = ((int64_t)1 << (sj - 1)) + ((int64_t)1 << 62);
            q64[(e ? QSHO : QSHE) * 4 + h] = sj;
            s2c_requant_acc_bounds(mj, sj, lo, hi, &q32[QALO][l], &q32[QAHI][l]);
            q32[QLO][l] = lo;
            q32[QHI][l] = hi;
            q32[QOFF][l] = (int32_t)(uint32_t)(uint64_t)off;
        }
        memcpy(pk->cst + (size_t)v * NQ, q32, sizeof q32);
    }
    for (int g = 0; g < pk->ng; g++) {
        int v0, nj;
        group(pk, g, &v0, &nj);
        __m256i *panel = pk->panel + (size_t)v0 * pk->ks;
        for (int q = 0; q < nj; q++)
            for (int p = 0; p < pk->ks; p++) {
                int16_t t[VB][2];
                for (int l = 0; l < VB; l++) {
                    const int j = src_channel(pk, v0 + q, l, n);
                    t[l][0] = j >= 0 ? w[(ptrdiff_t)j * ldw + 2 * p] : 0;
                    t[l][1] = j >= 0 && 2 * p + 1 < k ? w[(ptrdiff_t)j * ldw + 2 * p + 1] : 0;
                }
                _mm256_store_si256(panel + (size_t)p * nj + q, _mm256_loadu_si256((const __m256i *)t));
            }
    }
    return buf;
}

/* Requantizes 8 accumulators with the constants q[NQ]: int32 lanes in [lo, hi] (requant_avx2.h's rq8:
 * acc clamped to [alo, ahi] first, so the value fits int32 and the final clamp is 32-bit). */
INL __m256i requant(__m256i acc, const __m256i *q) {
    acc = _mm256_min_epi32(_mm256_max_epi32(acc, _mm256_load_si256(q + QALO)), _mm256_load_si256(q + QAHI));
    __m256i pe = _mm256_mul_epi32(acc, _mm256_load_si256(q + QMULE));
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_load_si256(q + QMULO));
    pe = _mm256_srlv_epi64(_mm256_add_epi64(pe, _mm256_load_si256(q + QADDE)), _mm256_load_si256(q + QSHE));
    po = _mm256_srlv_epi64(_mm256_add_epi64(po, _mm256_load_si256(q + QADDO)), _mm256_load_si256(q + QSHO));
    const __m256i r = _mm256_sub_epi32(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA), _mm256_load_si256(q + QOFF));
    return _mm256_min_epi32(_mm256_max_epi32(r, _mm256_load_si256(q + QLO)), _mm256_load_si256(q + QHI));
}

/* Stores nq (<= 16) int16 values of row r. */
INL void store16(int16_t *cr, __m256i y, int nq) {
    if (nq >= 16) { _mm256_storeu_si256((__m256i *)cr, y); return; }
    int16_t t[16];
    _mm256_storeu_si256((__m256i *)t, y);
    memcpy(cr, t, (size_t)nq * sizeof(int16_t));
}

/* The gated product of 8 outputs from fc1's requantized a and b lanes (int32 in [lo, hi]):
 * lut[(uint16_t)a] by a 4-byte vpgatherdd at byte offset 2 (idx - 1), which reads lut[idx - 1] and
 * lut[idx] (the high half; lanes with idx = 0 are masked off and take lut[0] from the source, so
 * nothing before the table is read and the last read ends at its end); the logical shift leaves
 * lut[idx] zero-extended, so vpmaddwd against b (an int16 in the low half) is lut * b exactly
 * (|.| <= 2^30); then the frozen requant with the gated multiplier (S2CRq8). Int32 lanes. */
INL __m256i gated8(__m256i ra, __m256i rb, const int16_t *lut, const S2CRq8 *grq) {
    const __m256i idx = _mm256_and_si256(ra, _mm256_set1_epi32(0xffff));
    const __m256i zero = _mm256_setzero_si256();
    const __m256i use = _mm256_xor_si256(_mm256_cmpeq_epi32(idx, zero), _mm256_set1_epi32(-1));
    const __m256i l0 = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)lut[0] << 16));
    const __m256i g = _mm256_mask_i32gather_epi32(l0, (const int *)(const void *)(lut - 1), idx, use, 2);
    return rq8(_mm256_madd_epi16(_mm256_srli_epi32(g, 16), rb), grq);
}

/* lut[(uint16_t)r] for 8 int32 lanes in int16 range: the 4-byte gather of gated8, the high half
 * sign-extended by vpsrad. */
INL __m256i lut8(__m256i r, const int16_t *lut) {
    const __m256i idx = _mm256_and_si256(r, _mm256_set1_epi32(0xffff));
    const __m256i use = _mm256_xor_si256(_mm256_cmpeq_epi32(idx, _mm256_setzero_si256()), _mm256_set1_epi32(-1));
    const __m256i l0 = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)lut[0] << 16));
    return _mm256_srai_epi32(_mm256_mask_i32gather_epi32(l0, (const int *)(const void *)(lut - 1), idx, use, 2), 16);
}

/* Rows i..i+nr-1 (R rows computed, rows past nr repeat the last), channel vectors v0.. (NJ of them).
 * GATED 1 (NJ = 2, the gated layout): the two vectors are a and b of outputs j0..j0+7 of n = hc; the
 * tile stores their gated product (lut, grq) instead of the two halves. GATED 2: every output goes
 * through lut (gemm_lut_s16). */
INL void kern(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m256i *panel,
              const __m256i *cst, int R, int NJ, int GATED, int i, int nr, int m, int j0, int n, int k,
              const int16_t *lut, const S2CRq8 *grq) {
    const int16_t *ap[12];
    S2C_UNROLL for (int r = 0; r < R; r++) ap[r] = a + (ptrdiff_t)(i + (r < nr ? r : nr - 1)) * lda;
    __m256i acc[12][2];
    S2C_UNROLL for (int q = 0; q < NJ; q++) {
        const __m256i b = _mm256_load_si256(cst + q * NQ + QBIAS);
        S2C_UNROLL for (int r = 0; r < R; r++) acc[r][q] = b;
    }
    const int kp = k / 2;
    const __m256i *wp = panel;
    for (int p = 0; p < kp; p++, wp += NJ) {
        if (p % PF == 0)  /* the next R rows (the last row of a where they pass m) */
            S2C_UNROLL for (int r = 0; r < R; r++)
                _mm_prefetch((const char *)(a + (ptrdiff_t)(i + R + r < m ? i + R + r : m - 1) * lda + 2 * p),
                             _MM_HINT_T0);
        __m256i wv[2];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm256_load_si256(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            int32_t v;
            memcpy(&v, ap[r] + 2 * p, sizeof v);
            const __m256i av = _mm256_set1_epi32(v);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, wv[q]));
        }
    }
    if (k & 1) {  /* last pair: (a[k-1], a[k-1]) x (w[k-1], 0) */
        __m256i wv[2];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm256_load_si256(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            const __m256i av = _mm256_set1_epi16(ap[r][k - 1]);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(av, wv[q]));
        }
    }
    if (GATED == 1) {
        const int nq = n - j0 < VB ? n - j0 : VB;
        S2C_UNROLL for (int r = 0; r < R; r++) {
            if (r >= nr) break;
            const __m256i y = gated8(requant(acc[r][0], cst), requant(acc[r][1], cst + NQ), lut, grq);
            const __m128i y16 = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
            int16_t *cr = c + (ptrdiff_t)(i + r) * ldc + j0;
            if (nq >= VB) _mm_storeu_si128((__m128i *)cr, y16);
            else {
                int16_t t[VB];
                _mm_storeu_si128((__m128i *)t, y16);
                memcpy(cr, t, (size_t)nq * sizeof(int16_t));
            }
        }
        return;
    }
    const int nq = n - j0 < NJ * VB ? n - j0 : NJ * VB;
    S2C_UNROLL for (int r = 0; r < R; r++) {
        if (r >= nr) break;
        int16_t *cr = c + (ptrdiff_t)(i + r) * ldc + j0;
        __m256i r0 = requant(acc[r][0], cst);
        __m256i r1 = NJ == 2 ? requant(acc[r][1], cst + NQ) : r0;
        if (GATED == 2) {
            r0 = lut8(r0, lut);
            r1 = NJ == 2 ? lut8(r1, lut) : r0;
        }
        /* per 128-bit lane: [r0 0-3, r1 0-3 | r0 4-7, r1 4-7] -> channels 0-7, 8-15 */
        store16(cr, _mm256_permute4x64_epi64(_mm256_packs_epi32(r0, r1), 0xD8), nq);
    }
}

#define KERN(R, NJ)                                                                                           \
    static TGT __attribute__((noinline)) void kern_##R##x##NJ(                                                \
        int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m256i *panel, const __m256i *cst, \
        int i, int nr, int m, int j0, int n, int k) {                                                         \
        kern(c, ldc, a, lda, panel, cst, R, NJ, 0, i, nr, m, j0, n, k, NULL, NULL);                           \
    }
KERN(6, 2)
KERN(12, 1)

#define KERN_LUT(R, NJ)                                                                                       \
    static TGT __attribute__((noinline)) void kern_lut_##R##x##NJ(                                            \
        int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m256i *panel, const __m256i *cst, \
        int i, int nr, int m, int j0, int n, int k, const int16_t *lut) {                                     \
        kern(c, ldc, a, lda, panel, cst, R, NJ, 2, i, nr, m, j0, n, k, lut, NULL);                            \
    }
KERN_LUT(6, 2)
KERN_LUT(12, 1)

static TGT __attribute__((noinline)) void kern_6x2_gated(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                                         const __m256i *panel, const __m256i *cst, int i, int nr,
                                                         int m, int j0, int n, int k, const int16_t *lut,
                                                         const S2CRq8 *grq) {
    kern(c, ldc, a, lda, panel, cst, 6, 2, 1, i, nr, m, j0, n, k, lut, grq);
}

/* Rows i0..i1-1 of a (m rows in all; indices relative to a and c), every channel group. */
static void rows_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                     int i1, int m, int n, int k) {
    for (int g = 0; g < pk->ng; g++) {
        int v0, nj;
        group(pk, g, &v0, &nj);
        const __m256i *panel = pk->panel + (size_t)v0 * pk->ks, *cst = pk->cst + (size_t)v0 * NQ;
        const int R = nj == 2 ? 6 : 12, j0 = v0 * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            if (nj == 2) kern_6x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k);
            else kern_12x1(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k);
        }
    }
}

/* Rows i0..i1-1 of gemm_lut_s16, every channel group. */
static void rows_lut_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                         int i1, int m, int n, int k, const int16_t *lut) {
    for (int g = 0; g < pk->ng; g++) {
        int v0, nj;
        group(pk, g, &v0, &nj);
        const __m256i *panel = pk->panel + (size_t)v0 * pk->ks, *cst = pk->cst + (size_t)v0 * NQ;
        const int R = nj == 2 ? 6 : 12, j0 = v0 * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            if (nj == 2) kern_lut_6x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lut);
            else kern_lut_12x1(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lut);
        }
    }
}

int s2c_gemm_lut_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                int m, int n, int k, int lo, int hi, const int16_t *lut) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    void *buf = pack(&pk, w, ldw, bias, mult, shift, n, k, lo, hi, 0);
    if (!buf) return -1;
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_lut_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, n, k, lut);
    free(buf);
    return 0;
}

/* Rows i0..i1-1 of gemm_gated_s16: every pair of vectors (a and b of 8 outputs). */
static void rows_gated_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                           int i1, int m, int k, const int16_t *lut, const S2CRq8 *grq) {
    for (int g = 0; g < pk->ng; g++) {
        const __m256i *panel = pk->panel + (size_t)2 * g * pk->ks, *cst = pk->cst + (size_t)2 * g * NQ;
        for (int i = i0; i < i1; i += 6)
            kern_6x2_gated(c, ldc, a, lda, panel, cst, i, i1 - i < 6 ? i1 - i : 6, m, g * VB, pk->hc, k, lut, grq);
    }
}

static TGT void gated_rq(S2CRq8 *q, int32_t mult, int shift, int lo, int hi) { rq8_init1(q, mult, shift, lo, hi); }

int s2c_gemm_gated_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                  ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                  int m, int hc, int k, int lo, int hi,
                                  const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    if (m <= 0 || hc <= 0) return 0;
    Packed pk;
    void *buf = pack(&pk, w, ldw, bias, mult, shift, 2 * hc, k, lo, hi, hc);
    if (!buf) return -1;
    S2CRq8 grq;
    gated_rq(&grq, gmult, gshift, glo, ghi);
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * 2 * hc * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_gated_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, k, lut, &grq);
    free(buf);
    return 0;
}

int s2c_gemm_s16_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                            ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                            int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    void *buf = pack(&pk, w, ldw, bias, mult, shift, n, k, lo, hi, 0);
    if (!buf) return -1;
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, n, k);
    free(buf);
    return 0;
}

/* Rows i0..i1-1 of an s8 GEMM: widened into wide (RB x k int16), then the s16 micro-kernels. */
static TGT void widen(int16_t *wide, const int8_t *a, ptrdiff_t lda, int i0, int i1, int k) {
    for (int i = i0; i < i1; i++) {
        const int8_t *ar = a + (ptrdiff_t)i * lda;
        int16_t *o = wide + (ptrdiff_t)(i - i0) * k;
        int t = 0;
        for (; t + 16 <= k; t += 16)
            _mm256_storeu_si256((__m256i *)(o + t), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(ar + t))));
        for (; t < k; t++) o[t] = ar[t];
    }
}

int s2c_gemm_s8_avx2_bcast(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                           ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           int m, int n, int k, int lo, int hi) {
    if (m <= 0 || n <= 0) return 0;
    const size_t wide_bytes = (size_t)RB * (size_t)(k > 0 ? k : 1) * sizeof(int16_t);
    if (wide_bytes > WIDE_MAX) return -1;
    Packed pk;
    void *buf = pack(&pk, w, ldw, bias, mult, shift, n, k, lo, hi, 0);
    if (!buf) return -1;
    const int nb = (m + RB - 1) / RB;
    int failed = 0;
#pragma omp parallel num_threads(s2c_team()) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK) reduction(| : failed)
    {
        int16_t *wide = malloc(wide_bytes);
        if (!wide) failed = 1;
#pragma omp for schedule(static)
        for (int b = 0; b < nb; b++) {
            if (!wide) continue;
            const int i0 = b * RB, i1 = m - i0 < RB ? m : i0 + RB;
            widen(wide, a, lda, i0, i1, k);
            rows_s16(&pk, c + (ptrdiff_t)i0 * ldc, ldc, wide, k, 0, i1 - i0, i1 - i0, n, k);
        }
        free(wide);
    }
    free(buf);
    if (failed) return -2;  /* some rows may be missing: the caller recomputes all of them */
    return 0;
}
#endif
