/* x86/ops_avx2.c: AVX2 layer kernels (depthwise conv, LayerNorm, LUT, gated product, rescale, window attention), bit-exact with ops_c.c. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "../s2c_internal.h"

/* Exactness:
 * - dwconv: taps are taken in pairs (t, t+1) and interleaved with vpunpck{l,h}wd so one vpmaddwd gives
 *   in_t * w_t + in_t1 * w_t1 per channel (|pair| <= 2^23, exact); lanes add mod 2^32 like the C
 *   reference. The unpacks leave channels [0-3, 8-11] in one accumulator and [4-7, 12-15] in the
 *   other, which is exactly the order vpackssdw (per 128-bit lane) puts back to 0..15.
 * - LUT lookups: a 4-byte vpgatherdd at byte offset 2 (idx - 1) reads lut[idx - 1], lut[idx]; the
 *   high half is lut[idx] (vpsrad 16 sign-extends it). Lanes with idx = 0 are masked off (no read
 *   before the table) and take lut[0] from the source operand; the last read ends exactly at the
 *   end of the 65536-entry table.
 * - Requantization: the gemm_avx2.c scheme (vpmuldq on even/odd lanes, add 2^(s-1), arithmetic
 *   shift built from the logical one, clamp in 64 bits); the clamped values fit int16, so the
 *   saturating packs are exact.
 * Threads: the OpenMP loops live in plain functions that call the AVX2 row functions. */

#define TGT __attribute__((target("avx2")))
#define INL static inline __attribute__((always_inline, target("avx2")))

/* Taps handled by the SIMD dwconv (k <= 7); larger kernels use the C reference. */
enum { DW_MAX_TAPS = 49, DW_MAX_PAIRS = (DW_MAX_TAPS + 1) / 2 };

#include "requant_avx2.h"

/* Packs two vectors of 8 in-range int32 (elements 0-7 and 8-15) into 16 int16 in order. */
INL __m256i pack16(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
}

/* MARK: - Depthwise convolution */


/* Per-call tables of the AVX2 dwconv (shared read-only by the threads): for each 16-channel block,
 * the tap pairs' interleaved weights (vpunpck{l,h}wd order) and the requant constants of the two
 * accumulators (channels [0-3, 8-11] and [4-7, 12-15]); and each tap's offset in elements. */
typedef struct {
    int k, p, taps, pairs, nb;
    ptrdiff_t off[DW_MAX_PAIRS * 2];  /* tap t: ((t / k - p) w + t % k - p) c */
    int dy[DW_MAX_PAIRS * 2], dx[DW_MAX_PAIRS * 2];
    __m256i *wv;      /* [nb][pairs][2] */
    __m256i *bv;      /* [nb][2] bias in accumulator lane order */
    S2CRq8 *rq;       /* [nb][2] */
} DwTables;

static TGT int dw_tables(DwTables *t, int w, int c, const int8_t *wgt, int k, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, int lo, int hi) {
    t->k = k; t->p = k / 2; t->taps = k * k; t->pairs = (t->taps + 1) / 2; t->nb = c / 16;
    for (int q = 0; q < 2 * t->pairs; q++) {
        const int tt = q < t->taps ? q : 0;  /* the padding tap (odd tap count) has weight 0 */
        t->dy[q] = tt / k - t->p;
        t->dx[q] = tt % k - t->p;
        t->off[q] = ((ptrdiff_t)t->dy[q] * w + t->dx[q]) * c;
    }
    const size_t nv = (size_t)t->nb * (2 * t->pairs + 2);
    char *buf = aligned_alloc(32, nv * 32 + (size_t)t->nb * 2 * sizeof(S2CRq8) + 32);
    if (!buf) return -1;
    t->wv = (__m256i *)buf;
    t->bv = t->wv + (size_t)t->nb * 2 * t->pairs;
    t->rq = (S2CRq8 *)(t->bv + (size_t)t->nb * 2);
    for (int b = 0; b < t->nb; b++) {
        const int cb = 16 * b;
        for (int pr = 0; pr < t->pairs; pr++) {
            int16_t t0[16], t1[16];
            for (int i = 0; i < 16; i++) {
                t0[i] = wgt[(cb + i) * t->taps + 2 * pr];
                t1[i] = 2 * pr + 1 < t->taps ? wgt[(cb + i) * t->taps + 2 * pr + 1] : 0;
            }
            const __m256i a = _mm256_loadu_si256((const __m256i *)t0), bb = _mm256_loadu_si256((const __m256i *)t1);
            t->wv[((size_t)b * t->pairs + pr) * 2] = _mm256_unpacklo_epi16(a, bb);
            t->wv[((size_t)b * t->pairs + pr) * 2 + 1] = _mm256_unpackhi_epi16(a, bb);
        }
        for (int hf = 0; hf < 2; hf++) {  /* accumulator hf holds channels cb + 4 hf + {0..3, 8..11} */
            int32_t m8[8], s8[8], b8[8];
            for (int l = 0; l < 8; l++) {
                const int ch = cb + 4 * hf + (l < 4 ? l : l + 4);
                m8[l] = mult[ch]; s8[l] = shift[ch]; b8[l] = bias ? bias[ch] : 0;
            }
            t->bv[2 * b + hf] = _mm256_loadu_si256((const __m256i *)b8);
            rq8_init(&t->rq[2 * b + hf], m8, s8, lo, hi);
        }
    }
    return 0;
}

/* Output pixels x0..x1-1 of row y, channel block b. check: taps may fall outside the image. */
INL void dw_span(int16_t *out, const int16_t *in, int h, int w, int c, const DwTables *t, int b, int y, int x0,
                 int x1, int check) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i *wv = t->wv + (size_t)b * t->pairs * 2;
    const int cb = 16 * b;
    for (int x = x0; x < x1; x++) {
        const int16_t *src = in + ((ptrdiff_t)y * w + x) * c + cb;
        __m256i al = t->bv[2 * b], ah = t->bv[2 * b + 1];
        for (int pr = 0; pr < t->pairs; pr++) {
            __m256i v[2];
            S2C_UNROLL for (int q = 0; q < 2; q++) {
                const int tt = 2 * pr + q;
                const int ok = !check || (y + t->dy[tt] >= 0 && y + t->dy[tt] < h && x + t->dx[tt] >= 0 && x + t->dx[tt] < w);
                v[q] = ok ? _mm256_loadu_si256((const __m256i *)(src + t->off[tt])) : zero;
            }
            al = _mm256_add_epi32(al, _mm256_madd_epi16(_mm256_unpacklo_epi16(v[0], v[1]), wv[2 * pr]));
            ah = _mm256_add_epi32(ah, _mm256_madd_epi16(_mm256_unpackhi_epi16(v[0], v[1]), wv[2 * pr + 1]));
        }
        /* the padding tap of an odd count has weight 0 and reads tap 0 (in bounds) */
        _mm256_storeu_si256((__m256i *)(out + ((ptrdiff_t)y * w + x) * c + cb),
                            _mm256_packs_epi32(rq8(al, &t->rq[2 * b]), rq8(ah, &t->rq[2 * b + 1])));
    }
}

static TGT void dw_row(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi, int y,
                       const DwTables *t) {
    const int p = t->p, inner = y >= p && y + p < h;
    const int xa = p < w ? p : w, xb = w - p > xa ? w - p : xa;  /* [xa, xb): every tap inside the row */
    for (int b = 0; b < t->nb; b++) {
        if (inner) {
            dw_span(out, in, h, w, c, t, b, y, 0, xa, 1);
            dw_span(out, in, h, w, c, t, b, y, xa, xb, 0);
            dw_span(out, in, h, w, c, t, b, y, xb, w, 1);
        } else {
            dw_span(out, in, h, w, c, t, b, y, 0, w, 1);
        }
    }
    for (int x = 0; x < w && 16 * t->nb < c; x++)
        for (int ch = 16 * t->nb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

void s2c_dwconv_s16_avx2(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    DwTables t;
    if (k * k > DW_MAX_TAPS || h <= 0 || w <= 0 || dw_tables(&t, w, c, wgt, k, bias, mult, shift, lo, hi)) {
        s2c_dwconv_s16_c(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi);
        return;
    }
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)h * w * c * k * k >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++) dw_row(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, &t);
    free(t.wv);
}

/* MARK: - LayerNorm */

/* Widest row the SIMD path takes: c <= 1024 keeps |d| <= 2^16 c <= 2^26 in int32 lanes and V <= 2^62
 * (s2c_ops.h). Wider rows, and rows with r >= 2^31 (only with a huge eps_q), use the C reference row. */
enum { LN_MAX_C = 1024 };

/* Per-row constants of pass 2 (see ln_row). */
typedef struct {
    __m256i inv, bias, r, r2, off, lo, hi, c, s;
    __m128i cnt, sh;
} LNConst;

/* Pass 2 on 8 channels: the 8 clamped outputs as int32. bq: the channels' b 2^16 + 2^(shift-1) + 2^62,
 * even channels then odd (4 int64 each). */
INL __m256i ln8(const int16_t *x, const int32_t *g, const int64_t *bq, const LNConst *k) {
    const __m256i one = _mm256_set1_epi64x(1);
    /* d = c x - S: vpmaddwd of x (sign-extended) with (c, 0) pairs, c <= 1024 */
    const __m256i d = _mm256_sub_epi32(_mm256_madd_epi16(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)x)), k->c), k->s);
    const __m256i g8 = _mm256_loadu_si256((const __m256i *)g);
    __m256i y[2];
    for (int hf = 0; hf < 2; hf++) {  /* even, then odd int32 lanes (vpmuldq reads the low dword of each qword) */
        const __m256i dh = hf ? _mm256_srli_epi64(d, 32) : d;
        const __m256i gh = hf ? _mm256_srli_epi64(g8, 32) : g8;
        const __m256i dd = _mm256_mul_epi32(dh, _mm256_set1_epi64x(32768));  /* 2^15 d, |.| <= 2^41 */
        __m256i t = _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(dh, k->inv), k->bias), k->cnt),
                                     _mm256_set1_epi64x(32768));                    /* est */
        const __m256i lower = _mm256_mul_epi32(_mm256_sub_epi64(_mm256_add_epi64(t, t), one), k->r);  /* (2 est - 1) r */
        const __m256i dec = _mm256_cmpgt_epi64(lower, dd);                          /* t = est - 1 */
        const __m256i ok = _mm256_cmpgt_epi64(_mm256_add_epi64(lower, k->r2), dd);  /* else t = est + 1 */
        t = _mm256_add_epi64(_mm256_add_epi64(t, dec), _mm256_andnot_si256(ok, one));
        /* t g + b 2^16 + 2^(shift-1) + 2^62 > 0, shifted logically: the value + 2^(62-shift) */
        y[hf] = _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(t, gh), _mm256_loadu_si256((const __m256i *)(bq + 4 * hf))),
                                 k->sh);
    }
    const __m256i v = _mm256_sub_epi32(_mm256_blend_epi32(y[0], _mm256_slli_epi64(y[1], 32), 0xAA), k->off);
    return _mm256_min_epi32(_mm256_max_epi32(v, k->lo), k->hi);
}

/* One row. Pass 1: S and Q = sum x^2 (vpmaddwd pair sums <= 2^31, exact read as uint32, widened to
 * 64 bits), V = c^2 Q - c S^2 (= sum d^2 exactly: both terms <= 2^60). Pass 2, 4 int64 lanes per half:
 * with L = bitlength(r), inv = floor(2^(L+29) / r) in (2^29, 2^30],
 *   est = floor(d inv / 2^(L+15) + 1/2)     (computed as (d inv + 2^(L+14) + 2^(L+30)) >>> (L+15), minus 2^15,
 *                                             so the logical shift sees a positive value < 2^62)
 * differs from t = floor(d 2^14 / r + 1/2) by at most 1: |d| <= r (d^2 <= V <= V + eps), so the error
 * |d| (2^(L+29)/r - inv) / 2^(L+15) < 2^-15. t is the integer with (2t - 1) r <= 2^15 d < (2t + 1) r
 * (the reference's floor((2^15 d + r) / 2r)), so one compare on each side (vpmuldq: |2 est - 1| < 2^16,
 * r < 2^31) corrects est exactly. Then y = (t g + b 2^16 + 2^(shift-1)) >> shift, the reference's formula
 * term for term: |t g| <= 2^45 and |b 2^16| <= 2^47, so x = t g + b 2^16 + 2^(shift-1) has |x| < 2^62 and
 * the value |y| < 2^31 (shift >= 17); with bq = b 2^16 + 2^(shift-1) + 2^62 (per call) the logical shift
 * of the positive x + 2^62 is y + 2^(62-shift) exactly, its low 32 bits minus those of 2^(62-shift) are y,
 * and the clamp is 32-bit. Channel tails use s2c_layernorm_s16_point. */
static TGT void ln_row(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g, const int32_t *b,
                       const int64_t *bq, int shift, int lo, int hi) {
    if (c > LN_MAX_C) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    const __m256i zero = _mm256_setzero_si256();
    __m256i s32 = zero, q64 = zero;
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        const __m256i sq = _mm256_madd_epi16(v, v);
        s32 = _mm256_add_epi32(s32, _mm256_madd_epi16(v, _mm256_set1_epi16(1)));
        q64 = _mm256_add_epi64(q64, _mm256_add_epi64(_mm256_unpacklo_epi32(sq, zero), _mm256_unpackhi_epi32(sq, zero)));
    }
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    const __m128i q2 = _mm_add_epi64(_mm256_castsi256_si128(q64), _mm256_extracti128_si256(q64, 1));
    int64_t s = _mm_cvtsi128_si32(s4);  /* |S| <= 2^25 */
    uint64_t q = (uint64_t)_mm_cvtsi128_si64(q2) + (uint64_t)_mm_extract_epi64(q2, 1);
    for (; i < c; i++) {
        s += x[i];
        q += (uint64_t)(x[i] * x[i]);
    }
    const uint64_t v = (uint64_t)c * (uint64_t)c * q - (uint64_t)c * (uint64_t)(s * s);
    const uint32_t r = s2c_layernorm_r(v, eps_q);
    if (r >= 1u << 31) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    const int L = 32 - __builtin_clz(r);
    const LNConst k = {
        .inv = _mm256_set1_epi64x((int64_t)(((uint64_t)1 << (L + 29)) / r)),
        .bias = _mm256_set1_epi64x(((int64_t)1 << (L + 14)) + ((int64_t)1 << (L + 30))),
        .cnt = _mm_cvtsi32_si128(L + 15), .sh = _mm_cvtsi32_si128(shift),
        .r = _mm256_set1_epi64x(r), .r2 = _mm256_set1_epi64x(2 * (int64_t)r),
        .off = _mm256_set1_epi32((int32_t)(uint32_t)((uint64_t)1 << (62 - shift))),
        .lo = _mm256_set1_epi32(lo), .hi = _mm256_set1_epi32(hi),
        .c = _mm256_set1_epi32(c), .s = _mm256_set1_epi32((int32_t)s),
    };
    for (i = 0; i + 16 <= c; i += 16)
        _mm256_storeu_si256((__m256i *)(o + i), pack16(ln8(x + i, g + i, bq + i, &k), ln8(x + i + 8, g + i + 8, bq + i + 8, &k)));
    if (i + 8 <= c) {
        const __m256i y = ln8(x + i, g + i, bq + i, &k);
        _mm_storeu_si128((__m128i *)(o + i), _mm256_castsi256_si128(pack16(y, y)));
        i += 8;
    }
    for (; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                            uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
    int64_t bq[LN_MAX_C];  /* per 8 channels: b 2^16 + 2^(shift-1) + 2^62 of the even ones, then the odd ones */
    for (int i = 0; i + 8 <= c && i + 8 <= LN_MAX_C; i += 8)
        for (int l = 0; l < 8; l++)
            bq[i + (l & 1) * 4 + l / 2] = (int64_t)b[i + l] * 65536 + ((int64_t)1 << (shift - 1)) + ((int64_t)1 << 62);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, bq, shift, lo, hi);
}

/* MARK: - Gated product (the plain lut16 stays C: a vpgatherdd table walk measured 0.88-0.95x of
 * the scalar loop on this class of core) */

static TGT void gated_row(int16_t *o, const int16_t *a, const int16_t *bb, int hc, const int16_t *lut,
                          int32_t mult, int shift, int lo, int hi, const S2CRq8 *rq) {
    const int64_t half = (int64_t)1 << (shift - 1);
    int16_t la[256];  /* lut[a] of one chunk: scalar loads (a gather is slower than the scalar loop) */
    int j = 0;
    while (j + 16 <= hc) {
        const int nc = hc - j < 256 ? (hc - j) & ~15 : 256;
        for (int i = 0; i < nc; i++) la[i] = lut[(uint16_t)a[j + i]];
        for (int i = 0; i < nc; i += 16) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(la + i));
            const __m256i y = _mm256_loadu_si256((const __m256i *)(bb + j + i));
            /* |lut * b| <= 2^30: vpmulld is exact */
            const __m256i p0 = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(x)),
                                                  _mm256_cvtepi16_epi32(_mm256_castsi256_si128(y)));
            const __m256i p1 = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(x, 1)),
                                                  _mm256_cvtepi16_epi32(_mm256_extracti128_si256(y, 1)));
            _mm256_storeu_si256((__m256i *)(o + j + i), pack16(rq8(p0, rq), rq8(p1, rq)));
        }
        j += nc;
    }
    for (; j < hc; j++) {
        const int64_t v = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
        o[j] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

static TGT void gated_rq(S2CRq8 *q, int32_t mult, int shift, int lo, int hi) { rq8_init1(q, mult, shift, lo, hi); }

void s2c_gated_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
    S2CRq8 rq;
    gated_rq(&rq, mult, shift, lo, hi);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        gated_row(out + r * ldo, in + r * ldi, in + r * ldi + hc, hc, lut, mult, shift, lo, hi, &rq);
}

/* MARK: - Rescale */

static TGT void rescale_row(int16_t *o, const int16_t *x, int c, const int32_t *mult, const int32_t *shift,
                            int lo, int hi) {
    const __m256i lo64 = _mm256_set1_epi64x(lo), hi64 = _mm256_set1_epi64x(hi);
    int ch = 0;
    for (; ch + 16 <= c; ch += 16) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x + ch));
        const __m256i r0 = requant8(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)),
                                    _mm256_loadu_si256((const __m256i *)(mult + ch)),
                                    _mm256_loadu_si256((const __m256i *)(shift + ch)), lo64, hi64);
        const __m256i r1 = requant8(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1)),
                                    _mm256_loadu_si256((const __m256i *)(mult + ch + 8)),
                                    _mm256_loadu_si256((const __m256i *)(shift + ch + 8)), lo64, hi64);
        _mm256_storeu_si256((__m256i *)(o + ch), pack16(r0, r1));
    }
    for (; ch < c; ch++) o[ch] = (int16_t)s2c_requant_clamp(x[ch], mult[ch], shift[ch], lo, hi);
}

void s2c_rescale_s16_avx2(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                          const int32_t *shift, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        rescale_row(out + (ptrdiff_t)r * c, in + (ptrdiff_t)r * c, c, mult, shift, lo, hi);
}
/* MARK: - Window attention */

/* Per (window, head), everything is a small GEMM in the broadcast layout of gemm_avx2_bcast.c:
 *   L = Q K^T: for query i, the pairs (q_i[2t], q_i[2t+1]) broadcast into vpmaddwd against K packed as
 *     [pair t][key j] (int32 = k_j[2t], k_j[2t+1]), 8 keys per ymm; pair sums are exact except
 *     (-32768)^2 * 2 = 2^31, which wraps to the reference's uint32 value, and lanes add mod 2^32.
 *   z = clamp(requant(L), +-2^24) on 8 lanes (the bias trick of gemm_avx2_bcast.c: logical shift of
 *     x + 2^62, clamp against bounds biased by 2^(62-s)); m = max z.
 *   e = exp_lut[m - z] (0 at or past exp_len): vpgatherdd of 4 bytes at byte offset 2 (t - 1), the high
 *     half (lanes with t = 0 take exp_lut[0] from the source operand, lanes past exp_len or past the
 *     n keys are masked off and 0), so nothing outside the table is read.
 *   p = floor(N / sum), N = 2^15 e + floor(sum / 2) < 2^32, 1 <= sum < 2^26 (e <= 65535, n <= 1024):
 *     with L = bitlength(sum) and inv = floor((2^(31+L) - 1) / sum) < 2^32, est = (N inv) >> (31+L)
 *     (vpmuludq) satisfies q - 1 <= est <= q (the error N (2^(31+L)/sum - inv) / 2^(31+L) is below
 *     2^32 / 2^(31+L) <= 1), and one test (est + 1) sum <= N makes it q exactly.
 *   out = requant(sum_j p_j v_j): p is in [0, 2^15] (p = 2^15 only when e_j = sum), one more than
 *     int16 holds, so p' = p - 2^14 is the int16 operand and the column sums of V times 2^14 are
 *     added back: sum p' v + 2^14 sum v = sum p v mod 2^32, the reference's uint32 sum. Pairs of
 *     keys (p'_j, p'_j+1) broadcast against V packed as [key pair][channel d], 8 channels per ymm.
 * Keys are padded to a multiple of 8 (zero K and V, e = 0 so p = 0 and p' v = 0) and channels to
 * a multiple of 8 (zero K, outputs not stored). Per-thread scratch comes from the heap; without it
 * the window runs the C reference's per-window code (attn_window_ref). */

/* Scratch of one thread for windows of n keys and heads of hd channels. */
typedef struct {
    int npad, hpairs, hdpad;
    int32_t *kp;     /* [hpairs][npad] */
    int32_t *vp;     /* [npad / 2][hdpad] */
    int32_t *lrow;   /* [npad] */
    int16_t *prow;   /* [npad] */
    int32_t *colsum; /* [hdpad]: 2^14 sum_j v_jd mod 2^32 */
} AttnScratch;

static int attn_scratch_alloc(AttnScratch *sc, int n, int hd) {
    sc->npad = (n + 7) & ~7;
    sc->hpairs = (hd + 1) / 2;
    sc->hdpad = (hd + 7) & ~7;
    const size_t words = (size_t)sc->hpairs * sc->npad + (size_t)(sc->npad / 2) * sc->hdpad + sc->npad +
                         (size_t)sc->npad / 2 + sc->hdpad + 16;
    int32_t *buf = aligned_alloc(32, (words * 4 + 31) & ~(size_t)31);
    if (!buf) return -1;
    sc->kp = buf;
    sc->vp = sc->kp + (size_t)sc->hpairs * sc->npad;
    sc->lrow = sc->vp + (size_t)(sc->npad / 2) * sc->hdpad;
    sc->prow = (int16_t *)(sc->lrow + sc->npad);
    sc->colsum = sc->lrow + sc->npad + sc->npad / 2 + 8;
    return 0;
}

/* z = clamp(requant(q K^T)) for NV vectors of 8 keys (kp: K packed [pair][key], rows npad apart). */
INL void attn_qk(int32_t *lrow, const int32_t *kp, int npad, const int16_t *q, int hp, int hd, int NV, const S2CRq8 *lq) {
    __m256i acc[8];
    S2C_UNROLL for (int v = 0; v < NV; v++) acc[v] = _mm256_setzero_si256();
    const int full = hd / 2;  /* pairs with two channels; an odd hd ends with a half pair */
    for (int t = 0; t < full; t++) {
        int32_t qv;
        memcpy(&qv, q + 2 * t, 4);
        const __m256i b = _mm256_set1_epi32(qv);
        const int32_t *kr = kp + (size_t)t * npad;
        S2C_UNROLL for (int v = 0; v < NV; v++)
            acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(b, _mm256_load_si256((const __m256i *)(kr + 8 * v))));
    }
    if (full < hp) {
        const __m256i b = _mm256_set1_epi32((uint16_t)q[2 * full]);
        const int32_t *kr = kp + (size_t)full * npad;
        S2C_UNROLL for (int v = 0; v < NV; v++)
            acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(b, _mm256_load_si256((const __m256i *)(kr + 8 * v))));
    }
    S2C_UNROLL for (int v = 0; v < NV; v++) _mm256_store_si256((__m256i *)(lrow + 8 * v), rq8(acc[v], lq));
}

/* o[d] = requant(sum_j p'_j v_jd + colsum_d) for NV vectors of 8 channels, the first nd stored. */
INL void attn_pv(int16_t *o, int nd, const int32_t *vp, int hdp, const int16_t *prow, int npad, const int32_t *colsum,
                 int NV, const S2CRq8 *oq) {
    __m256i acc[8];
    S2C_UNROLL for (int v = 0; v < NV; v++) acc[v] = _mm256_loadu_si256((const __m256i *)(colsum + 8 * v));
    for (int jp = 0; jp < npad / 2; jp++) {
        int32_t pp;
        memcpy(&pp, prow + 2 * jp, 4);
        const __m256i b = _mm256_set1_epi32(pp);
        const int32_t *vr = vp + (size_t)jp * hdp;
        S2C_UNROLL for (int v = 0; v < NV; v++)
            acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(b, _mm256_load_si256((const __m256i *)(vr + 8 * v))));
    }
    S2C_UNROLL for (int v = 0; v < NV; v += 2) {
        const int d = 8 * v, n = nd - d < 16 ? nd - d : 16;
        const __m256i y = pack16(rq8(acc[v], oq), v + 1 < NV ? rq8(acc[v + 1], oq) : _mm256_setzero_si256());
        if (n >= 16) _mm256_storeu_si256((__m256i *)(o + d), y);
        else {
            int16_t tmp[16];
            _mm256_storeu_si256((__m256i *)tmp, y);
            memcpy(o + d, tmp, (size_t)n * 2);
        }
    }
}

/* One head of one window (tokens tok[0..n-1]). */
static TGT void attn_head(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, const int16_t *const *tok,
                          int n, int c, int hd, int qo, const S2CRq8 *lq, const S2CRq8 *oq, const uint16_t *exp_lut,
                          int exp_len, const AttnScratch *sc) {
    const int npad = sc->npad, hp = sc->hpairs, hdp = sc->hdpad, ko = c + qo, vo = 2 * c + qo;
    /* K as [pair][key], V as [key pair][channel], zero padded; the column sums of V */
    for (int j = 0; j < npad; j++) {  /* key j's pairs down column j */
        int32_t *kc = sc->kp + j;
        if (j >= n) {
            for (int t = 0; t < hp; t++) kc[(size_t)t * npad] = 0;
            continue;
        }
        const int16_t *kj = tok[j] + ko;
        for (int t = 0; t < hd / 2; t++) memcpy(kc + (size_t)t * npad, kj + 2 * t, 4);
        if (hd & 1) kc[(size_t)(hd / 2) * npad] = (uint16_t)kj[hd - 1];
    }
    for (int d = 0; d < hdp; d += 8) {
        __m256i cs = _mm256_setzero_si256();
        for (int jp = 0; jp < npad / 2; jp++) {
            __m256i v0 = _mm256_setzero_si256(), v1 = _mm256_setzero_si256();
            const int j0 = 2 * jp, j1 = 2 * jp + 1, nd = hd - d < 8 ? hd - d : 8;
            if (nd == 8) {
                if (j0 < n) v0 = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(tok[j0] + vo + d)));
                if (j1 < n) v1 = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(tok[j1] + vo + d)));
            } else {
                int32_t t0[8] = {0}, t1[8] = {0};
                for (int q = 0; q < nd; q++) {
                    if (j0 < n) t0[q] = tok[j0][vo + d + q];
                    if (j1 < n) t1[q] = tok[j1][vo + d + q];
                }
                v0 = _mm256_loadu_si256((const __m256i *)t0);
                v1 = _mm256_loadu_si256((const __m256i *)t1);
            }
            cs = _mm256_add_epi32(cs, _mm256_add_epi32(v0, v1));
            /* int32 lanes (v0[d], v1[d]) as int16 pairs */
            _mm256_store_si256((__m256i *)(sc->vp + (size_t)jp * hdp + d),
                               _mm256_or_si256(_mm256_and_si256(v0, _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(v1, 16)));
        }
        _mm256_storeu_si256((__m256i *)(sc->colsum + d), _mm256_slli_epi32(cs, 14));
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), one = _mm256_set1_epi32(1);
    const __m256i elen = _mm256_set1_epi32(exp_len), e0 = _mm256_set1_epi32((int32_t)((uint32_t)exp_lut[0] << 16));
    for (int i = 0; i < n; i++) {
        const int16_t *q = tok[i] + qo;
        /* L = q K^T, 64 keys (8 vectors) at a time */
        for (int j0 = 0; j0 < npad; j0 += 64) {
            const int nv = npad - j0 < 64 ? (npad - j0) / 8 : 8;
            switch (nv) {
#define QK(NV) case NV: attn_qk(sc->lrow + j0, sc->kp + j0, npad, q, hp, hd, NV, lq); break;
            QK(1) QK(2) QK(3) QK(4) QK(5) QK(6) QK(7) QK(8)
#undef QK
            }
        }
        /* max over the n real keys (padding lanes hold z of zero keys: left out) */
        __m256i mx = _mm256_set1_epi32(INT32_MIN);
        for (int j = 0; j < npad; j += 8) {
            const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j), lane);
            mx = _mm256_max_epi32(mx, _mm256_blendv_epi8(_mm256_set1_epi32(INT32_MIN), _mm256_load_si256((const __m256i *)(sc->lrow + j)), valid));
        }
        __m128i m4 = _mm_max_epi32(_mm256_castsi256_si128(mx), _mm256_extracti128_si256(mx, 1));
        m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, 0x4e));
        m4 = _mm_max_epi32(m4, _mm_shuffle_epi32(m4, 0xb1));
        const __m256i mv = _mm256_broadcastd_epi32(m4);
        /* e = exp_lut[m - z], 0 past exp_len and for padding; kept in lrow */
        __m256i sum8 = _mm256_setzero_si256();
        for (int j = 0; j < npad; j += 8) {
            const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j), lane);
            const __m256i t = _mm256_sub_epi32(mv, _mm256_load_si256((const __m256i *)(sc->lrow + j)));  /* 0 <= t <= 2^25 */
            const __m256i inr = _mm256_and_si256(valid, _mm256_cmpgt_epi32(elen, t));
            const __m256i gm = _mm256_andnot_si256(_mm256_cmpeq_epi32(t, _mm256_setzero_si256()), inr);
            const __m256i src = _mm256_and_si256(e0, inr);  /* t = 0 (in range) takes exp_lut[0] */
            const __m256i g = _mm256_mask_i32gather_epi32(src, (const int *)exp_lut, _mm256_sub_epi32(t, one), gm, 2);
            const __m256i e = _mm256_srli_epi32(g, 16);
            _mm256_store_si256((__m256i *)(sc->lrow + j), e);
            sum8 = _mm256_add_epi32(sum8, e);
        }
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        uint32_t sum = (uint32_t)_mm_cvtsi128_si32(s4);
        if (sum == 0) sum = 1;
        const int L = 32 - __builtin_clz(sum);
        const uint64_t inv = (((uint64_t)1 << (31 + L)) - 1) / sum;
        const __m256i invv = _mm256_set1_epi64x((int64_t)inv), sumv = _mm256_set1_epi64x(sum);
        const __m256i halfv = _mm256_set1_epi32((int32_t)(sum / 2));
        const __m128i cnt = _mm_cvtsi32_si128(31 + L);
        const __m256i one64 = _mm256_set1_epi64x(1), p14 = _mm256_set1_epi32(16384);
        for (int j = 0; j < npad; j += 8) {
            const __m256i nn = _mm256_add_epi32(_mm256_slli_epi32(_mm256_load_si256((const __m256i *)(sc->lrow + j)), 15), halfv);
            __m256i r[2];
            S2C_UNROLL for (int oe = 0; oe < 2; oe++) {
                const __m256i nx = oe ? _mm256_srli_epi64(nn, 32) : _mm256_and_si256(nn, _mm256_set1_epi64x(0xffffffff));
                const __m256i up = _mm256_add_epi64(_mm256_srl_epi64(_mm256_mul_epu32(nx, invv), cnt), one64);
                /* est + 1, less one unless (est + 1) sum <= N (both sides below 2^63) */
                const __m256i gt = _mm256_cmpgt_epi64(_mm256_mul_epu32(up, sumv), nx);
                r[oe] = _mm256_sub_epi64(up, _mm256_and_si256(gt, one64));
            }
            const __m256i pv = _mm256_sub_epi32(_mm256_blend_epi32(r[0], _mm256_slli_epi64(r[1], 32), 0xAA), p14);
            _mm_store_si128((__m128i *)(sc->prow + j), _mm256_castsi256_si128(pack16(pv, pv)));
        }
        /* out = requant(sum_j p'_j v_j + 2^14 colsum), 64 channels (8 vectors) at a time */
        int16_t *o = out + (tok[i] - qkv) / ldq * ldo + qo;
        for (int d0 = 0; d0 < hdp; d0 += 64) {
            const int nv = hdp - d0 < 64 ? (hdp - d0) / 8 : 8;
            switch (nv) {
#define PV(NV) case NV: attn_pv(o + d0, hd - d0, sc->vp + d0, hdp, sc->prow, npad, sc->colsum + d0, NV, oq); break;
            PV(1) PV(2) PV(3) PV(4) PV(5) PV(6) PV(7) PV(8)
#undef PV
            }
        }
    }
    (void)qkv;
}

/* One window, all heads. */
static TGT void attn_window(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int w, int c,
                            int heads, int win, int y0, int x0, const S2CRq8 *lq, const S2CRq8 *oq,
                            const uint16_t *exp_lut, int exp_len, const AttnScratch *sc) {
    const int n = win * win, hd = c / heads;
    const int16_t *tok[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    for (int j = 0; j < n; j++) tok[j] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
    for (int hh = 0; hh < heads; hh++)
        attn_head(out, ldo, qkv, ldq, tok, n, c, hd, hh * hd, lq, oq, exp_lut, exp_len, sc);
}

static TGT void attn_rq(S2CRq8 *lq, S2CRq8 *oq, int32_t logit_mult, int logit_shift, int32_t out_mult, int out_shift) {
    rq8_init1(lq, logit_mult, logit_shift, -(1 << 24), 1 << 24);
    rq8_init1(oq, out_mult, out_shift, -32768, 32767);
}

void s2c_window_attn_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                              int c, int heads, int win, int32_t logit_mult, int logit_shift,
                              const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win;
    if (nwin <= 0) return;
    S2CRq8 lq, oq;
    attn_rq(&lq, &oq, logit_mult, logit_shift, out_mult, out_shift);
    int failed = 0;
#pragma omp parallel num_threads(s2c_team()) if ((int64_t)nwin * n * n * c * 2 >= S2C_OMP_MIN_WORK) reduction(| : failed)
    {
        AttnScratch sc;
        const int ok = attn_scratch_alloc(&sc, n, c / heads) == 0;
        if (!ok) failed = 1;
#pragma omp for schedule(static)
        for (int wi = 0; wi < nwin; wi++)
            if (ok)
                attn_window(out, ldo, qkv, ldq, w, c, heads, win, (wi / nwx) * win, (wi % nwx) * win, &lq, &oq,
                            exp_lut, exp_len, &sc);
        if (ok) free(sc.kp);
    }
    /* no scratch on some thread: the C reference recomputes everything (same output) */
    if (failed)
        s2c_window_attn_s16_c(out, ldo, qkv, ldq, h, w, c, heads, win, logit_mult, logit_shift, exp_lut, exp_len,
                              out_mult, out_shift);
}
#endif
