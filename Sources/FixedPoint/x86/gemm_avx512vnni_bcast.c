/* x86/gemm_avx512vnni_bcast.c: AVX-512 VNNI GEMMs in the broadcast ("outer product") layout,
 * bit-exact with gemm_c.c. s2c_gemm_{s8,s16}_avx512vnni (gemm_avx512vnni.c) run them for shapes
 * with enough rows to repay the weight repacking (the codec's 1x1 / im2col convolutions: many
 * pixels, small k) and the dot-product kernels otherwise.
 *
 * Layout. One zmm accumulator holds 16 OUTPUT CHANNELS of one row, so nothing is summed
 * horizontally and the requant constants are per lane. Per k step the row's activations are
 * broadcast (s16: one int32 = 2 int16, a k pair; s8: one int32 = 4 bytes, a k quad) and multiplied
 * with a packed weight vector holding the same k step for 16 channels:
 *   s16: vpdpwssd, weights as [pair][16 channels][2] int16 (sign-extended int8)
 *   s8:  vpdpbusd, weights as [quad][16 channels][4] int8, activations xor 0x80 (see below)
 * Lane l holds channel l / 2 (even l) or 8 + l / 2 (odd l): the requant works on the even and the
 * odd lanes as int64, and this order makes those halves channels 0-7 and 8-15.
 * The weights are repacked once per call into a heap buffer (16 x 16 transposes of 32-bit steps;
 * n * k work against m * n * k for the GEMM) together with per-channel constants (bias,
 * multipliers, rounding halves, shifts); channels past n get zero weights and mult = shift = 1 and
 * are never stored. If the buffer cannot be had (allocation failure, or more than PACK_MAX bytes)
 * the function returns -1 without writing anything and the caller runs the dot-product kernel: both
 * are exact, so the output is the same either way.
 *
 * Exactness. Accumulators start at the bias (s8: the corrected bias, below) and every step adds
 * with vpdpwssd / vpdpbusd, which wrap mod 2^32 (never the saturating ...s forms); int32 addition
 * mod 2^32 is associative and commutative, so the order of the terms does not matter and the sum
 * equals the C reference's uint32 sum bit for bit. k tails: an odd k ends with a pair whose second
 * weight is 0, the activation broadcast as one int16 (vpbroadcastw: reads exactly a[k-1]); a k that
 * is not a multiple of 4 (s8) ends with a quad assembled from the remaining bytes only, padding
 * weights 0. Weights are read by masked loads that stop at k. Nothing is read past a row of a or
 * past the ends of w, bias, mult, shift (prefetches aside, which never fault and only touch rows of
 * a and c that exist), and c is written only inside the m x n block (masked stores for a channel
 * tail). Requant: vpmuldq / vpsravq in int64 as in gemm_avx512vnni.c, then vpmovsqw saturates to
 * int16 and vpmaxsw / vpminsw clamp to [lo, hi]; saturating first cannot change the clamp because
 * -32768 <= lo <= hi <= 32767.
 *   s8: vpdpbusd is unsigned x signed, so a' = a ^ 0x80 = a + 128 and the channel's bias is
 * replaced by bias - 128 * sum_k w (mod 2^32), as in the dot-product kernel.
 *
 * Blocking. Channel blocks of 16 are split into groups of at most 4 (balanced: 6 blocks = 3 + 3);
 * a group of NJ blocks runs R rows at a time with R * NJ <= 24 accumulators (R x NJ = 6 x 4, 8 x 3,
 * 12 x 2, 12 x 1), the NJ weight vectors of a k step loaded once for the R rows. Rows past the
 * end of a tile repeat its last row and are not stored. OpenMP splits work items of RB rows (the
 * outer loop) only; inside one, every channel group runs over the RB rows, so their activations
 * stay in L1 while the group's weights stream from L2. The output never depends on the thread
 * count. Each tile prefetches the activations of the next R rows (every PF k steps) and, for
 * writing, the output lines it will store after its k loop: without them, large m (tensors that
 * do not fit in the caches) ran 5-12% slower. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "../s2c_internal.h"
#include "avx512_common.h"

#define TGT __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

enum {
    VB = 16,     /* channels per vector */
    MAXJ = 4,    /* channel vectors per group */
    MAXR = 12,   /* rows per micro-kernel */
    RB = 48,     /* rows per parallel work item (a multiple of every R) */
    PF = 16,     /* k steps between prefetches of the next rows' activations */
    /* per-block constants, one zmm each */
    QBIAS = 0, QMULT, QMULTO, QHALFE, QHALFO, QSHE, QSHO, NQ
};

/* Largest packed buffer (bytes); above it the caller's dot-product kernel runs. */
#define PACK_MAX ((size_t)64 << 20)

typedef struct {
    int hc;               /* 0: plain GEMM; > 0: gemm_gated_s16's layout (src_channel) */
    int nvb;              /* 16-channel blocks */
    int ks;               /* k steps: pairs (s16) or quads (s8), the last one possibly partial */
    int ng;               /* channel groups */
    __m512i *cst;         /* [nvb][NQ] */
    __m512i *panel;       /* group g (blocks b0..b0+nj): panel[b0 * ks + step * nj + q] */
} Packed;

/* Channel (within its block of 16) held by accumulator lane l: even lanes 0..7, odd lanes 8..15, so
 * that the even / odd halves of the 64-bit requant are channels 0-7 and 8-15 in order. */
static inline int lane_channel(int l) { return (l & 1) ? 8 + l / 2 : l / 2; }

/* The gated layout (hc > 0, n = 2 hc): nbh = ceil(hc / 16) blocks of outputs; group g < nbh / 2 holds
 * blocks [a 2g, a 2g+1, b 2g, b 2g+1] (a: fc1 channels 16 o + lane_channel(l), b: hc + the same), and an
 * odd last one [a, b]: each tile has both halves of its outputs. */
static inline int gated_full(const Packed *pk) { return ((pk->hc + VB - 1) / VB) / 2; }

/* The weight row (output channel) held by lane l of block b, or -1 for a padding lane. */
static inline int src_channel(const Packed *pk, int b, int l, int n) {
    if (!pk->hc) {
        const int j = b * VB + lane_channel(l);
        return j < n ? j : -1;
    }
    const int full = gated_full(pk);
    const int half = b < 4 * full ? (b % 4) / 2 : b - 4 * full;
    const int ob = b < 4 * full ? 2 * (b / 4) + b % 2 : 2 * full;
    const int j = ob * VB + lane_channel(l);
    return j < pk->hc ? half * pk->hc + j : -1;
}

/* Group g: first block and number of blocks (balanced split of nvb into ng groups of <= MAXJ). */
static inline void group(const Packed *pk, int g, int *b0, int *nj) {
    if (pk->hc) {
        const int full = gated_full(pk);
        *b0 = 4 * g;
        *nj = g < full ? 4 : 2;
        return;
    }
    const int base = pk->nvb / pk->ng, ext = pk->nvb % pk->ng;
    *b0 = g * base + (g < ext ? g : ext);
    *nj = base + (g < ext);
}

/* Rows per micro-kernel for a group of nj blocks: at most 24 accumulators. */
static inline int rows_for(int nj) { return nj == 4 ? 6 : nj == 3 ? 8 : 12; }

/* Allocates the buffer and fills the per-channel constants (bias slot from add[], NULL = 0); hc > 0:
 * the gated layout for n = 2 hc. */
static void *alloc_packed(Packed *pk, int n, int ks, const int32_t *add, const int32_t *mult,
                          const int32_t *shift, int hc) {
    pk->hc = hc;
    pk->ks = ks;
    if (hc) {
        const int nbh = (hc + VB - 1) / VB;
        pk->nvb = 2 * nbh;
        pk->ng = (nbh + 1) / 2;
    } else {
        pk->nvb = (n + VB - 1) / VB;
        pk->ng = (pk->nvb + MAXJ - 1) / MAXJ;
    }
    const size_t nvec = (size_t)pk->nvb * NQ + (size_t)pk->nvb * (size_t)ks;
    if (nvec > PACK_MAX / 64) return NULL;
    void *buf = aligned_alloc(64, nvec * 64);
    if (!buf) return NULL;
    pk->cst = buf;
    pk->panel = pk->cst + (size_t)pk->nvb * NQ;
    for (int b = 0; b < pk->nvb; b++) {
        int j[VB];
        for (int l = 0; l < VB; l++) j[l] = src_channel(pk, b, l, n);
        s2c_requant_lanes(pk->cst + (size_t)b * NQ, j, add, mult, shift);
    }
    return buf;
}

/* s2c_requant_clamp on 16 lanes (constants q[NQ]): the int64 results of the even lanes (channels
 * 0-7) and the odd lanes (8-15) are saturated to int16 (vpmovsqw), then clamped to [lo, hi].
 * Saturating first cannot change the result: -32768 <= lo <= hi <= 32767. */
INL __m256i requant(__m512i acc, const __m512i *q, __m256i lo16, __m256i hi16) {
    __m512i pe = _mm512_mul_epi32(acc, q[QMULT]);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q[QMULTO]);
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, q[QHALFE]), q[QSHE]);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, q[QHALFO]), q[QSHO]);
    const __m256i y = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtsepi64_epi16(pe)),
                                              _mm512_cvtsepi64_epi16(po), 1);
    return _mm256_min_epi16(_mm256_max_epi16(y, lo16), hi16);
}

/* Requantizes and stores R x NJ accumulators (rows < nr, channels < n). */
INL void store(int16_t *c, ptrdiff_t ldc, __m512i acc[MAXR][MAXJ], const __m512i *cst, int R, int NJ,
               int i, int nr, int j0, int n, int lo, int hi) {
    const __m256i lo16 = _mm256_set1_epi16((int16_t)lo), hi16 = _mm256_set1_epi16((int16_t)hi);
    S2C_UNROLL for (int r = 0; r < R; r++) {
        if (r >= nr) break;
        int16_t *cr = c + (ptrdiff_t)(i + r) * ldc + j0;
        S2C_UNROLL for (int q = 0; q < NJ; q++) {
            const __m256i y = requant(acc[r][q], cst + q * NQ, lo16, hi16);
            const int rem = n - j0 - q * VB;
            if (rem >= VB) _mm256_storeu_si256((__m256i *)(cr + q * VB), y);
            else if (rem > 0) _mm256_mask_storeu_epi16(cr + q * VB, (__mmask16)((1u << rem) - 1), y);
        }
    }
}

/* Prefetches (for writing) the output lines of rows i..i+nr-1, channels j0..min(j0 + NJ * 16, n) - 1:
 * they are written after the k loop, which hides the misses. */
INL void prefetch_out(int16_t *c, ptrdiff_t ldc, int NJ, int i, int nr, int j0, int n) {
    const int bytes = 2 * (n - j0 < NJ * VB ? n - j0 : NJ * VB);
    for (int r = 0; r < nr; r++) {
        const char *cr = (const char *)(c + (ptrdiff_t)(i + r) * ldc + j0);
        for (int o = 0; o < bytes; o += 64) _mm_prefetch(cr + o, _MM_HINT_ET0);
        _mm_prefetch(cr + bytes - 1, _MM_HINT_ET0);
    }
}

/* Packs channel block b (vector q of a group of nj starting at block b0) in tiles of 16 k steps:
 * row l of a tile is channel b * 16 + lane_channel(l), 16 steps of sb bytes (2 for s16, 4 for s8)
 * loaded with a mask that stops at k (rows past n are 0); s16 sign-extends the bytes to int16.
 * After the transpose, row p is step p0 + p for the 16 lanes. s8 also returns 128 * sum_k w per lane
 * (mod 2^32), by vpdpbusd with 0x80 bytes. */
INL __m512i pack_block(const Packed *pk, __m512i *panel, int ks, int nj, int q, const int8_t *w, ptrdiff_t ldw,
                       int b, int n, int k, int s16) {
    const int sb = s16 ? 2 : 4;
    __m512i wsum = _mm512_setzero_si512();
    for (int p0 = 0; p0 < ks; p0 += 16) {
        const int kb = k - sb * p0 < 16 * sb ? k - sb * p0 : 16 * sb;  /* valid bytes in this tile */
        const __mmask64 km = kb >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << kb) - 1;
        __m512i r[16];
        for (int l = 0; l < 16; l++) {
            const int j = src_channel(pk, b, l, n);
            if (j < 0) r[l] = _mm512_setzero_si512();
            else if (s16) r[l] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8((__mmask32)km, w + (ptrdiff_t)j * ldw + 2 * p0));
            else r[l] = _mm512_maskz_loadu_epi8(km, w + (ptrdiff_t)j * ldw + 4 * p0);
        }
        s2c_transpose16x32(r);
        const int np = ks - p0 < 16 ? ks - p0 : 16;
        for (int p = 0; p < np; p++) {
            _mm512_store_si512(panel + (size_t)(p0 + p) * nj + q, r[p]);
            if (!s16) wsum = _mm512_dpbusd_epi32(wsum, _mm512_set1_epi8((char)0x80), r[p]);
        }
    }
    return wsum;
}

/* MARK: - gemm_s16 */

/* Per-call state of gemm_gated_s16's epilogue: the gated requant constants (NQ vectors, every lane
 * the same multiplier and shift), its output bounds, fc1's bounds as int64 lanes and the LUT. */
typedef struct {
    __m512i q[NQ];
    __m512i lo64, hi64;
    __m256i glo16, ghi16;
    const int16_t *lut;
} GatedEpi;

/* The gated product of 16 outputs from fc1's a and b (int32 lanes in [lo, hi], lane order):
 * lut[(uint16_t)a] by a masked 4-byte vpgatherdd at byte offset 2 (idx - 1) (x86/ops_avx2.c: lanes
 * with idx = 0 take lut[0] from the source; nothing outside the table is read), the logical shift
 * leaves it zero-extended, so vpmaddwd against b (an int16 in the low half) is lut * b exactly
 * (|.| <= 2^30); then requant() with the gated constants: 16 int16 in channel order. */
INL __m256i gated16(__m512i ra, __m512i rb, const GatedEpi *e) {
    const __m512i idx = _mm512_and_si512(ra, _mm512_set1_epi32(0xffff));
    const __mmask16 use = _mm512_test_epi32_mask(idx, idx);
    const __m512i l0 = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)e->lut[0] << 16));
    const __m512i g = _mm512_mask_i32gather_epi32(l0, use, idx, (const void *)(e->lut - 1), 2);
    return requant(_mm512_madd_epi16(_mm512_srli_epi32(g, 16), rb), e->q, e->glo16, e->ghi16);
}

/* Requantizes and stores R x NJ accumulators through lut (gemm_lut_s16): s2c_requant32 (lane order), the
 * masked gather of gated16 sign-extended by vpsrad, lanes put back in channel order (vpermd), vpmovdw. */
INL void store_lut(int16_t *c, ptrdiff_t ldc, __m512i acc[MAXR][MAXJ], const __m512i *cst, int R, int NJ, int i,
                   int nr, int j0, int n, int lo, int hi, const int16_t *lut) {
    const __m512i lo64 = _mm512_set1_epi64(lo), hi64 = _mm512_set1_epi64(hi);
    const __m512i order = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i l0 = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)lut[0] << 16));
    S2C_UNROLL for (int r = 0; r < R; r++) {
        if (r >= nr) break;
        int16_t *cr = c + (ptrdiff_t)(i + r) * ldc + j0;
        S2C_UNROLL for (int q = 0; q < NJ; q++) {
            const __m512i idx = _mm512_and_si512(s2c_requant32(acc[r][q], cst + q * NQ, lo64, hi64), _mm512_set1_epi32(0xffff));
            const __m512i g = _mm512_mask_i32gather_epi32(l0, _mm512_test_epi32_mask(idx, idx), idx, (const void *)(lut - 1), 2);
            const __m256i y = _mm512_cvtepi32_epi16(_mm512_permutexvar_epi32(order, _mm512_srai_epi32(g, 16)));
            const int rem = n - j0 - q * VB;
            if (rem >= VB) _mm256_storeu_si256((__m256i *)(cr + q * VB), y);
            else if (rem > 0) _mm256_mask_storeu_epi16(cr + q * VB, (__mmask16)((1u << rem) - 1), y);
        }
    }
}

/* Rows i..i+nr-1 (R rows computed, rows past nr repeat the last), channel vectors j0.. of one group.
 * ge != NULL (the gated layout): blocks q and q + NJ / 2 are a and b of outputs j0 + 16 q.. of n = hc,
 * and the tile stores their gated product. lut != NULL: the outputs go through lut (gemm_lut_s16). */
INL void kern_s16(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m512i *panel,
                  const __m512i *cst, int R, int NJ, int i, int nr, int m, int j0, int n, int k, int lo, int hi,
                  const GatedEpi *ge, const int16_t *lut) {
    const int16_t *ap[MAXR];
    S2C_UNROLL for (int r = 0; r < R; r++) ap[r] = a + (ptrdiff_t)(i + (r < nr ? r : nr - 1)) * lda;
    __m512i acc[MAXR][MAXJ];
    S2C_UNROLL for (int q = 0; q < NJ; q++) {
        const __m512i b = _mm512_load_si512(cst + q * NQ + QBIAS);
        S2C_UNROLL for (int r = 0; r < R; r++) acc[r][q] = b;
    }
    prefetch_out(c, ldc, NJ, i, nr, j0, n);
    const int kp = k / 2;
    const __m512i *wp = panel;
    for (int p = 0; p < kp; p++, wp += NJ) {
        if (p % PF == 0)  /* the next R rows (the last row of a where they pass m) */
            S2C_UNROLL for (int r = 0; r < R; r++)
                _mm_prefetch((const char *)(a + (ptrdiff_t)(i + R + r < m ? i + R + r : m - 1) * lda + 2 * p),
                             _MM_HINT_T0);
        __m512i wv[MAXJ];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm512_load_si512(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            int32_t v;
            memcpy(&v, ap[r] + 2 * p, sizeof v);
            const __m512i av = _mm512_set1_epi32(v);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm512_dpwssd_epi32(acc[r][q], wv[q], av);
        }
    }
    if (k & 1) {  /* last pair: (a[k-1], a[k-1]) x (w[k-1], 0) */
        __m512i wv[MAXJ];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm512_load_si512(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            const __m512i av = _mm512_set1_epi16(ap[r][k - 1]);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm512_dpwssd_epi32(acc[r][q], wv[q], av);
        }
    }
    if (ge) {
        const int H = NJ / 2;
        S2C_UNROLL for (int r = 0; r < R; r++) {
            if (r >= nr) break;
            int16_t *cr = c + (ptrdiff_t)(i + r) * ldc + j0;
            S2C_UNROLL for (int q = 0; q < H; q++) {
                const __m256i y = gated16(s2c_requant32(acc[r][q], cst + q * NQ, ge->lo64, ge->hi64),
                                          s2c_requant32(acc[r][q + H], cst + (q + H) * NQ, ge->lo64, ge->hi64), ge);
                const int rem = n - j0 - q * VB;
                if (rem >= VB) _mm256_storeu_si256((__m256i *)(cr + q * VB), y);
                else if (rem > 0) _mm256_mask_storeu_epi16(cr + q * VB, (__mmask16)((1u << rem) - 1), y);
            }
        }
        return;
    }
    if (lut) store_lut(c, ldc, acc, cst, R, NJ, i, nr, j0, n, lo, hi, lut);
    else store(c, ldc, acc, cst, R, NJ, i, nr, j0, n, lo, hi);
}

#define KERN_S16(R, NJ)                                                                                       \
    static TGT __attribute__((noinline)) void kern_s16_##R##x##NJ(                                            \
        int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m512i *panel, const __m512i *cst, \
        int i, int nr, int m, int j0, int n, int k, int lo, int hi) {                                         \
        kern_s16(c, ldc, a, lda, panel, cst, R, NJ, i, nr, m, j0, n, k, lo, hi, NULL, NULL);                  \
    }
KERN_S16(6, 4)
KERN_S16(8, 3)
KERN_S16(12, 2)
KERN_S16(12, 1)

#define KERN_LUT(R, NJ)                                                                                       \
    static TGT __attribute__((noinline)) void kern_lut_##R##x##NJ(                                            \
        int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m512i *panel, const __m512i *cst, \
        int i, int nr, int m, int j0, int n, int k, int lo, int hi, const int16_t *lut) {                     \
        kern_s16(c, ldc, a, lda, panel, cst, R, NJ, i, nr, m, j0, n, k, lo, hi, NULL, lut);                   \
    }
KERN_LUT(6, 4)
KERN_LUT(8, 3)
KERN_LUT(12, 2)
KERN_LUT(12, 1)

#define KERN_GATED(R, NJ)                                                                                     \
    static TGT __attribute__((noinline)) void kern_gated_##R##x##NJ(                                          \
        int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const __m512i *panel, const __m512i *cst, \
        int i, int nr, int m, int j0, int n, int k, const GatedEpi *ge) {                                     \
        kern_s16(c, ldc, a, lda, panel, cst, R, NJ, i, nr, m, j0, n, k, 0, 0, ge, NULL);                      \
    }
KERN_GATED(6, 4)
KERN_GATED(12, 2)

/* Rows i0..i1-1 (one parallel work item), every channel group. */
static void rows_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                     int i1, int m, int n, int k, int lo, int hi) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        const __m512i *panel = pk->panel + (size_t)b0 * pk->ks, *cst = pk->cst + (size_t)b0 * NQ;
        const int R = rows_for(nj), j0 = b0 * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            switch (nj) {
            case 4: kern_s16_6x4(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            case 3: kern_s16_8x3(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            case 2: kern_s16_12x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            default: kern_s16_12x1(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            }
        }
    }
}

/* Weight vector (step p, block b): lane l holds channel b * 16 + lane_channel(l), int16 pair
 * (w[2p], w[2p + 1]), 0 past k or n. */
static TGT void pack_s16(Packed *pk, const int8_t *w, ptrdiff_t ldw, int n, int k) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        for (int q = 0; q < nj; q++) pack_block(pk, pk->panel + (size_t)b0 * pk->ks, pk->ks, nj, q, w, ldw, b0 + q, n, k, 1);
    }
}

int s2c_gemm_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                  const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                  int lo, int hi) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    void *buf = alloc_packed(&pk, n, (k + 1) / 2, bias, mult, shift, 0);
    if (!buf) return -1;
    pack_s16(&pk, w, ldw, n, k);
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, n, k, lo, hi);
    free(buf);
    return 0;
}

/* MARK: - gemm_lut_s16 */

static void rows_lut_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                         int i1, int m, int n, int k, int lo, int hi, const int16_t *lut) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        const __m512i *panel = pk->panel + (size_t)b0 * pk->ks, *cst = pk->cst + (size_t)b0 * NQ;
        const int R = rows_for(nj), j0 = b0 * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            switch (nj) {
            case 4: kern_lut_6x4(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi, lut); break;
            case 3: kern_lut_8x3(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi, lut); break;
            case 2: kern_lut_12x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi, lut); break;
            default: kern_lut_12x1(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi, lut); break;
            }
        }
    }
}

int s2c_gemm_lut_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                      int m, int n, int k, int lo, int hi, const int16_t *lut) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    void *buf = alloc_packed(&pk, n, (k + 1) / 2, bias, mult, shift, 0);
    if (!buf) return -1;
    pack_s16(&pk, w, ldw, n, k);
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_lut_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, n, k, lo, hi, lut);
    free(buf);
    return 0;
}

/* MARK: - gemm_gated_s16 */

/* Rows i0..i1-1 of gemm_gated_s16 (one parallel work item), every group. */
static void rows_gated_s16(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, int i0,
                           int i1, int m, int k, const GatedEpi *ge) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        const __m512i *panel = pk->panel + (size_t)b0 * pk->ks, *cst = pk->cst + (size_t)b0 * NQ;
        const int R = rows_for(nj), j0 = 2 * g * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            if (nj == 4) kern_gated_6x4(c, ldc, a, lda, panel, cst, i, nr, m, j0, pk->hc, k, ge);
            else kern_gated_12x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, pk->hc, k, ge);
        }
    }
}

static TGT void gated_epi(GatedEpi *e, int lo, int hi, const int16_t *lut, int32_t gmult, int gshift, int glo,
                          int ghi) {
    _Static_assert(QBIAS == 0 && QMULT == 1 && QMULTO == 2 && QHALFE == 3 && QHALFO == 4 && QSHE == 5 && QSHO == 6 &&
                   NQ == 7, "s2c_requant_uniform's order");
    s2c_requant_uniform(e->q, gmult, gshift);
    e->lo64 = _mm512_set1_epi64(lo);
    e->hi64 = _mm512_set1_epi64(hi);
    e->glo16 = _mm256_set1_epi16((int16_t)glo);
    e->ghi16 = _mm256_set1_epi16((int16_t)ghi);
    e->lut = lut;
}

int s2c_gemm_gated_s16_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                        const int8_t *w, ptrdiff_t ldw, const int32_t *bias, const int32_t *mult,
                                        const int32_t *shift, int m, int hc, int k, int lo, int hi,
                                        const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    if (m <= 0 || hc <= 0) return 0;
    Packed pk;
    void *buf = alloc_packed(&pk, 2 * hc, (k + 1) / 2, bias, mult, shift, hc);
    if (!buf) return -1;
    pack_s16(&pk, w, ldw, 2 * hc, k);
    GatedEpi *ge = aligned_alloc(64, sizeof(GatedEpi));
    if (!ge) {
        free(buf);
        return -1;
    }
    gated_epi(ge, lo, hi, lut, gmult, gshift, glo, ghi);
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * 2 * hc * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_gated_s16(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, k, ge);
    free(ge);
    free(buf);
    return 0;
}

/* MARK: - gemm_s8 */

INL void kern_s8(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const __m512i *panel,
                 const __m512i *cst, int R, int NJ, int i, int nr, int m, int j0, int n, int k, int lo, int hi) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int8_t *ap[MAXR];
    S2C_UNROLL for (int r = 0; r < R; r++) ap[r] = a + (ptrdiff_t)(i + (r < nr ? r : nr - 1)) * lda;
    __m512i acc[MAXR][MAXJ];
    S2C_UNROLL for (int q = 0; q < NJ; q++) {
        const __m512i b = _mm512_load_si512(cst + q * NQ + QBIAS);
        S2C_UNROLL for (int r = 0; r < R; r++) acc[r][q] = b;
    }
    prefetch_out(c, ldc, NJ, i, nr, j0, n);
    const int kq = k / 4, kt = k % 4;
    const __m512i *wp = panel;
    for (int p = 0; p < kq; p++, wp += NJ) {
        if (p % (2 * PF) == 0)
            S2C_UNROLL for (int r = 0; r < R; r++)
                _mm_prefetch((const char *)(a + (ptrdiff_t)(i + R + r < m ? i + R + r : m - 1) * lda + 4 * p),
                             _MM_HINT_T0);
        __m512i wv[MAXJ];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm512_load_si512(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            int32_t v;
            memcpy(&v, ap[r] + 4 * p, sizeof v);
            const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(v), flip);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, wv[q]);
        }
    }
    if (kt) {  /* last quad: the kt remaining bytes, padding weights 0 */
        __m512i wv[MAXJ];
        S2C_UNROLL for (int q = 0; q < NJ; q++) wv[q] = _mm512_load_si512(wp + q);
        S2C_UNROLL for (int r = 0; r < R; r++) {
            int32_t v = 0;
            memcpy(&v, ap[r] + 4 * kq, (size_t)kt);
            const __m512i av = _mm512_xor_si512(_mm512_set1_epi32(v), flip);
            S2C_UNROLL for (int q = 0; q < NJ; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], av, wv[q]);
        }
    }
    store(c, ldc, acc, cst, R, NJ, i, nr, j0, n, lo, hi);
}

#define KERN_S8(R, NJ)                                                                                        \
    static TGT __attribute__((noinline)) void kern_s8_##R##x##NJ(                                             \
        int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const __m512i *panel, const __m512i *cst,  \
        int i, int nr, int m, int j0, int n, int k, int lo, int hi) {                                         \
        kern_s8(c, ldc, a, lda, panel, cst, R, NJ, i, nr, m, j0, n, k, lo, hi);                               \
    }
KERN_S8(6, 4)
KERN_S8(8, 3)
KERN_S8(12, 2)
KERN_S8(12, 1)

static void rows_s8(const Packed *pk, int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, int i0,
                    int i1, int m, int n, int k, int lo, int hi) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        const __m512i *panel = pk->panel + (size_t)b0 * pk->ks, *cst = pk->cst + (size_t)b0 * NQ;
        const int R = rows_for(nj), j0 = b0 * VB;
        for (int i = i0; i < i1; i += R) {
            const int nr = i1 - i < R ? i1 - i : R;
            switch (nj) {
            case 4: kern_s8_6x4(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            case 3: kern_s8_8x3(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            case 2: kern_s8_12x2(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            default: kern_s8_12x1(c, ldc, a, lda, panel, cst, i, nr, m, j0, n, k, lo, hi); break;
            }
        }
    }
}

/* Weight vector (step p, block b): lane l holds channel b * 16 + lane_channel(l), bytes
 * w[4p .. 4p + 3], 0 past k or n. The bias slot becomes bias - 128 * sum_k w (mod 2^32). */
static TGT void pack_s8(Packed *pk, const int8_t *w, ptrdiff_t ldw, int n, int k) {
    for (int g = 0; g < pk->ng; g++) {
        int b0, nj;
        group(pk, g, &b0, &nj);
        for (int q = 0; q < nj; q++) {
            const __m512i s = pack_block(pk, pk->panel + (size_t)b0 * pk->ks, pk->ks, nj, q, w, ldw, b0 + q, n, k, 0);
            __m512i *bias = pk->cst + (size_t)(b0 + q) * NQ + QBIAS;
            _mm512_store_si512(bias, _mm512_sub_epi32(_mm512_load_si512(bias), s));
        }
    }
}

int s2c_gemm_s8_avx512vnni_bcast(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                                 const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                 const int32_t *mult, const int32_t *shift, int m, int n, int k,
                                 int lo, int hi) {
    if (m <= 0 || n <= 0) return 0;
    Packed pk;
    void *buf = alloc_packed(&pk, n, (k + 3) / 4, bias, mult, shift, 0);
    if (!buf) return -1;
    pack_s8(&pk, w, ldw, n, k);
    const int nb = (m + RB - 1) / RB;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)m * n * k >= S2C_OMP_MIN_WORK)
    for (int b = 0; b < nb; b++)
        rows_s8(&pk, c, ldc, a, lda, b * RB, m - b * RB < RB ? m : b * RB + RB, m, n, k, lo, hi);
    free(buf);
    return 0;
}
#endif
