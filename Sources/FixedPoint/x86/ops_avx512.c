/* x86/ops_avx512.c: AVX-512 (F, BW, VL, VNNI) layer kernels for the VNNI ladder level, bit-exact with
 * ops_c.c: window attention and LayerNorm. The rest of the layer kernels run the AVX2 rung at that
 * level too.
 *
 * Same designs as their AVX2 versions in ops_avx2.c, on 16 lanes, with what AVX-512 adds: vpdpwssd
 * (int16 pair products summed into int32 lanes, wrapping: the vpmaddwd + vpaddd pair in one, same
 * sums), a real 64-bit arithmetic shift (vpsraq) and 64-bit min / max for the requant, masks for
 * tails. The requant is the frozen rule term for term: vpmuldq on the even and the odd int32 lanes,
 * + 2^(s-1), vpsraq by s, clamp in 64 bits, back to int32 lanes.
 * Threads: the OpenMP loops live in plain functions that call the AVX-512 row functions. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "../s2c_internal.h"

#define TGT __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

/* Per-lane requant constants for 16 int32 lanes: even lanes' terms in the *e vectors (64-bit lane l / 2),
 * odd lanes' in *o (mo: the odd lanes' multipliers moved to the even int32 positions). */
typedef struct { __m512i me, mo, he, ho, se, so, lo, hi; } Rq16;

INL void rq16_init(Rq16 *q, const int32_t m[16], const int32_t s[16], int lo, int hi) {
    int32_t me[16], mo[16];
    int64_t he[8], ho[8], se[8], so[8];
    for (int l = 0; l < 16; l++) {
        me[l] = m[l];
        mo[l] = (l & 1) ? 0 : m[l + 1];
        if (l & 1) { ho[l / 2] = (int64_t)1 << (s[l] - 1); so[l / 2] = s[l]; }
        else { he[l / 2] = (int64_t)1 << (s[l] - 1); se[l / 2] = s[l]; }
    }
    q->me = _mm512_loadu_si512(me); q->mo = _mm512_loadu_si512(mo);
    q->he = _mm512_loadu_si512(he); q->ho = _mm512_loadu_si512(ho);
    q->se = _mm512_loadu_si512(se); q->so = _mm512_loadu_si512(so);
    q->lo = _mm512_set1_epi64(lo); q->hi = _mm512_set1_epi64(hi);
}

INL void rq16_init1(Rq16 *q, int32_t m, int s, int lo, int hi) {
    int32_t mm[16], ss[16];
    for (int l = 0; l < 16; l++) { mm[l] = m; ss[l] = s; }
    rq16_init(q, mm, ss, lo, hi);
}

/* s2c_requant_clamp on 16 int32 lanes. */
INL __m512i rq16(__m512i acc, const Rq16 *q) {
    __m512i pe = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, q->me), q->he), q->se);
    __m512i po = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q->mo), q->ho), q->so);
    pe = _mm512_min_epi64(_mm512_max_epi64(pe, q->lo), q->hi);
    po = _mm512_min_epi64(_mm512_max_epi64(po, q->lo), q->hi);
    return _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
}

/* MARK: - Depthwise convolution (ops_avx2.c's design on 32 channels: tap pairs interleaved by
 * vpunpck{l,h}wd, then vpdpwssd adds in_t w_t + in_t1 w_t1 (|pair| <= 2^23, exact) to the int32 lane,
 * wrapping like the reference; the unpacks leave channels 8L + {0..3} (L = 128-bit lane) in one
 * accumulator and 8L + {4..7} in the other, the order vpackssdw restores) */

enum { DW_MAX_TAPS = 49, DW_MAX_PAIRS = (DW_MAX_TAPS + 1) / 2 };

/* Per-call tables (shared read-only by the threads): per 32-channel block, the tap pairs' interleaved
 * weights, the bias and requant constants in accumulator lane order; each tap's offset. */
typedef struct {
    int k, p, taps, pairs, nb;
    ptrdiff_t off[DW_MAX_PAIRS * 2];  /* tap t: ((t / k - p) w + t % k - p) c */
    int dy[DW_MAX_PAIRS * 2], dx[DW_MAX_PAIRS * 2];
    __m512i *wv;  /* [nb][pairs][2] */
    __m512i *bv;  /* [nb][2] */
    Rq16 *rq;     /* [nb][2] */
} DwTables;

static TGT int dw_tables(DwTables *t, int w, int c, const int8_t *wgt, int k, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, int lo, int hi) {
    t->k = k; t->p = k / 2; t->taps = k * k; t->pairs = (t->taps + 1) / 2; t->nb = c / 32;
    for (int q = 0; q < 2 * t->pairs; q++) {
        const int tt = q < t->taps ? q : 0;  /* the padding tap (odd tap count) has weight 0 */
        t->dy[q] = tt / k - t->p;
        t->dx[q] = tt % k - t->p;
        t->off[q] = ((ptrdiff_t)t->dy[q] * w + t->dx[q]) * c;
    }
    const size_t nv = (size_t)t->nb * (2 * t->pairs + 2);
    char *buf = aligned_alloc(64, nv * 64 + (size_t)t->nb * 2 * sizeof(Rq16) + 64);
    if (!buf) return -1;
    t->wv = (__m512i *)buf;
    t->bv = t->wv + (size_t)t->nb * 2 * t->pairs;
    t->rq = (Rq16 *)(t->bv + (size_t)t->nb * 2);
    for (int b = 0; b < t->nb; b++) {
        const int cb = 32 * b;
        for (int pr = 0; pr < t->pairs; pr++) {
            int16_t t0[32], t1[32];
            for (int i = 0; i < 32; i++) {
                t0[i] = wgt[(cb + i) * t->taps + 2 * pr];
                t1[i] = 2 * pr + 1 < t->taps ? wgt[(cb + i) * t->taps + 2 * pr + 1] : 0;
            }
            const __m512i a = _mm512_loadu_si512(t0), bb = _mm512_loadu_si512(t1);
            t->wv[((size_t)b * t->pairs + pr) * 2] = _mm512_unpacklo_epi16(a, bb);
            t->wv[((size_t)b * t->pairs + pr) * 2 + 1] = _mm512_unpackhi_epi16(a, bb);
        }
        for (int hf = 0; hf < 2; hf++) {  /* accumulator hf, lane l: channel cb + 8 (l / 4) + 4 hf + l % 4 */
            int32_t m16[16], s16[16], b16[16];
            for (int l = 0; l < 16; l++) {
                const int ch = cb + 8 * (l / 4) + 4 * hf + l % 4;
                m16[l] = mult[ch]; s16[l] = shift[ch]; b16[l] = bias ? bias[ch] : 0;
            }
            t->bv[2 * b + hf] = _mm512_loadu_si512(b16);
            rq16_init(&t->rq[2 * b + hf], m16, s16, lo, hi);
        }
    }
    return 0;
}

/* Output pixels x0..x1-1 of row y, channel block b. check: taps may fall outside the image. */
INL void dw_span(int16_t *out, const int16_t *in, int h, int w, int c, const DwTables *t, int b, int y, int x0,
                 int x1, int check) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i *wv = t->wv + (size_t)b * t->pairs * 2;
    const int cb = 32 * b;
    for (int x = x0; x < x1; x++) {
        const int16_t *src = in + ((ptrdiff_t)y * w + x) * c + cb;
        __m512i al = t->bv[2 * b], ah = t->bv[2 * b + 1];
        for (int pr = 0; pr < t->pairs; pr++) {
            __m512i v[2];
            S2C_UNROLL for (int q = 0; q < 2; q++) {
                const int tt = 2 * pr + q;
                const int ok = !check || (y + t->dy[tt] >= 0 && y + t->dy[tt] < h && x + t->dx[tt] >= 0 && x + t->dx[tt] < w);
                v[q] = ok ? _mm512_loadu_si512(src + t->off[tt]) : zero;
            }
            al = _mm512_dpwssd_epi32(al, _mm512_unpacklo_epi16(v[0], v[1]), wv[2 * pr]);
            ah = _mm512_dpwssd_epi32(ah, _mm512_unpackhi_epi16(v[0], v[1]), wv[2 * pr + 1]);
        }
        /* the padding tap of an odd count has weight 0 and reads tap 0 (in bounds); values in [lo, hi] */
        _mm512_storeu_si512(out + ((ptrdiff_t)y * w + x) * c + cb,
                            _mm512_packs_epi32(rq16(al, &t->rq[2 * b]), rq16(ah, &t->rq[2 * b + 1])));
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
    for (int x = 0; x < w && 32 * t->nb < c; x++)
        for (int ch = 32 * t->nb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

/* Channel counts that are not a multiple of 32 run the AVX2 kernel (16-channel blocks), k > 7 the C one. */
void s2c_dwconv_s16_avx512vnni(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                               const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    DwTables t;
    if (c % 32 || k * k > DW_MAX_TAPS || h <= 0 || w <= 0 || dw_tables(&t, w, c, wgt, k, bias, mult, shift, lo, hi)) {
        s2c_dwconv_s16_avx2(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi);
        return;
    }
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)h * w * c * k * k >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++) dw_row(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, &t);
    free(t.wv);
}

/* MARK: - Residual add (elt_avx2.c's add8 on 16 lanes: a mult_a + b mult_b in int64 by vpmuldq on the
 * even and the odd lanes, |.| < 2^47, + 2^(shift-1), vpsraq, clamp in 64 bits) */

static TGT void add_span(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                         int shift, ptrdiff_t i0, ptrdiff_t i1, int lo, int hi) {
    const __m512i ma = _mm512_set1_epi32(mult_a), mb = _mm512_set1_epi32(mult_b);
    const __m512i half = _mm512_set1_epi64((int64_t)1 << (shift - 1)), lo64 = _mm512_set1_epi64(lo), hi64 = _mm512_set1_epi64(hi);
    const __m128i sh = _mm_cvtsi32_si128(shift);
    ptrdiff_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        const __m512i va = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(a + i)));
        const __m512i vb = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(b + i)));
        __m512i pe = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(va, ma), _mm512_mul_epi32(vb, mb)), half);
        __m512i po = _mm512_add_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(va, 32), ma),
                                                       _mm512_mul_epi32(_mm512_srli_epi64(vb, 32), mb)), half);
        pe = _mm512_min_epi64(_mm512_max_epi64(_mm512_sra_epi64(pe, sh), lo64), hi64);
        po = _mm512_min_epi64(_mm512_max_epi64(_mm512_sra_epi64(po, sh), lo64), hi64);
        /* in [lo, hi] within int16: the truncating vpmovdw is exact */
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32))));
    }
    const int64_t h1 = (int64_t)1 << (shift - 1);
    for (; i < i1; i++) {
        const int64_t v = ((int64_t)a[i] * mult_a + (int64_t)b[i] * mult_b + h1) >> shift;
        out[i] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

/* Chunks of 4096 values per work item (whole chunks: the split never depends on the thread count). */
void s2c_add_requant_s16_avx512vnni(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b, int32_t mult_b,
                                    int shift, ptrdiff_t n, int lo, int hi) {
    const ptrdiff_t chunk = 4096, nb = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if (n >= 4 * S2C_OMP_MIN_WORK)
    for (ptrdiff_t ib = 0; ib < nb; ib++)
        add_span(out, a, mult_a, b, mult_b, shift, ib * chunk, ib * chunk + chunk < n ? ib * chunk + chunk : n, lo, hi);
}

/* MARK: - LayerNorm (ops_avx2.c's algorithm on 16 channels: see there for the exactness of the reciprocal
 * estimate and its correction; here with vpsraq and 64-bit min / max in the final rounding) */

enum { LN_MAX_C = 1024 };

/* t g + b 2^16 + 2^(shift-1) + 2^62, shifted logically by shift (ops_avx2.c: the value + 2^(62-shift)),
 * for the even (oe = 0) or odd int32 lanes of d; bq: b 2^16 + 2^(shift-1) + 2^62 of those 8 channels. */
INL __m512i ln_half(__m512i d, __m512i g, const int64_t *bq, int oe, __m512i inv, __m512i bias, __m128i cnt, __m512i r,
                    __m512i r2, __m128i sh) {
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i dh = oe ? _mm512_srli_epi64(d, 32) : d;
    const __m512i gh = oe ? _mm512_srli_epi64(g, 32) : g;
    const __m512i dd = _mm512_mul_epi32(dh, _mm512_set1_epi64(32768));  /* 2^15 d */
    __m512i t = _mm512_sub_epi64(_mm512_srl_epi64(_mm512_add_epi64(_mm512_mul_epi32(dh, inv), bias), cnt),
                                 _mm512_set1_epi64(32768));                /* est */
    const __m512i lower = _mm512_mul_epi32(_mm512_sub_epi64(_mm512_add_epi64(t, t), one), r);  /* (2 est - 1) r */
    const __mmask8 dec = _mm512_cmpgt_epi64_mask(lower, dd);                 /* t = est - 1 */
    const __mmask8 inc = _mm512_cmple_epi64_mask(_mm512_add_epi64(lower, r2), dd);  /* t = est + 1 */
    t = _mm512_mask_sub_epi64(t, dec, t, one);
    t = _mm512_mask_add_epi64(t, inc, t, one);
    return _mm512_srl_epi64(_mm512_add_epi64(_mm512_mul_epi32(t, gh), _mm512_loadu_si512(bq)), sh);
}

static TGT void ln_row(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g, const int32_t *b,
                       const int64_t *bq, int shift, int lo, int hi) {
    if (c > LN_MAX_C) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    __m512i s32 = _mm512_setzero_si512(), q64 = _mm512_setzero_si512();
    int i = 0;
    for (; i + 32 <= c; i += 32) {
        const __m512i v = _mm512_loadu_si512(x + i);
        const __m512i sq = _mm512_madd_epi16(v, v);  /* pair sums <= 2^31: read as uint32 */
        s32 = _mm512_add_epi32(s32, _mm512_madd_epi16(v, _mm512_set1_epi16(1)));
        q64 = _mm512_add_epi64(q64, _mm512_add_epi64(_mm512_unpacklo_epi32(sq, _mm512_setzero_si512()),
                                                     _mm512_unpackhi_epi32(sq, _mm512_setzero_si512())));
    }
    int64_t s = _mm512_reduce_add_epi32(s32);  /* |S| <= 2^25 */
    uint64_t q = (uint64_t)_mm512_reduce_add_epi64(q64);
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
    const __m512i inv = _mm512_set1_epi64((int64_t)(((uint64_t)1 << (L + 29)) / r));
    const __m512i bias = _mm512_set1_epi64(((int64_t)1 << (L + 14)) + ((int64_t)1 << (L + 30)));
    const __m128i cnt = _mm_cvtsi32_si128(L + 15), sh = _mm_cvtsi32_si128(shift);
    const __m512i rv = _mm512_set1_epi64(r), r2 = _mm512_set1_epi64(2 * (int64_t)r);
    const __m512i off = _mm512_set1_epi32((int32_t)(uint32_t)((uint64_t)1 << (62 - shift)));
    const __m512i lov = _mm512_set1_epi32(lo), hiv = _mm512_set1_epi32(hi);
    const __m512i cv = _mm512_set1_epi32(c), sv = _mm512_set1_epi32((int32_t)s);
    for (i = 0; i + 16 <= c; i += 16) {
        /* d = c x - S: vpmaddwd of x (sign-extended) with (c, 0) pairs, c <= 1024 */
        const __m512i d = _mm512_sub_epi32(_mm512_madd_epi16(_mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(x + i))), cv), sv);
        const __m512i gv = _mm512_loadu_si512(g + i);
        const __m512i ye = ln_half(d, gv, bq + i, 0, inv, bias, cnt, rv, r2, sh);
        const __m512i yo = ln_half(d, gv, bq + i + 8, 1, inv, bias, cnt, rv, r2, sh);
        /* the value fits int32 (ops_avx2.c): low dwords minus those of 2^(62-shift), clamped in 32 bits;
         * in [lo, hi] within int16, the truncating vpmovdw is exact */
        const __m512i y = _mm512_sub_epi32(_mm512_mask_blend_epi32(0xAAAA, ye, _mm512_slli_epi64(yo, 32)), off);
        _mm256_storeu_si256((__m256i *)(o + i), _mm512_cvtepi32_epi16(_mm512_min_epi32(_mm512_max_epi32(y, lov), hiv)));
    }
    for (; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_avx512vnni(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                                  uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
    int64_t bq[LN_MAX_C];  /* per 16 channels: b 2^16 + 2^(shift-1) + 2^62 of the even ones, then the odd ones */
    for (int i = 0; i + 16 <= c && i + 16 <= LN_MAX_C; i += 16)
        for (int l = 0; l < 16; l++)
            bq[i + (l & 1) * 8 + l / 2] = (int64_t)b[i + l] * 65536 + ((int64_t)1 << (shift - 1)) + ((int64_t)1 << 62);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, bq, shift, lo, hi);
}

/* MARK: - Window attention (the design of ops_avx2.c: per (window, head) broadcast GEMMs, 16 keys or
 * channels per zmm; see there for the exactness of each step) */

typedef struct {
    int npad, hpairs, hdpad;
    int32_t *kp;     /* [hpairs][npad] */
    int32_t *vp;     /* [npad / 2][hdpad] */
    int32_t *lrow;   /* [4][npad]: four queries' logits, then e */
    int16_t *prow;   /* [4][npad] */
    int32_t *colsum; /* [hdpad] */
} Scratch;

static int scratch_alloc(Scratch *sc, int n, int hd) {
    sc->npad = (n + 15) & ~15;
    sc->hpairs = (hd + 1) / 2;
    sc->hdpad = (hd + 15) & ~15;
    const size_t words = (size_t)sc->hpairs * sc->npad + (size_t)(sc->npad / 2) * sc->hdpad + 4 * (size_t)sc->npad +
                         2 * (size_t)sc->npad + sc->hdpad + 32;
    int32_t *buf = aligned_alloc(64, (words * 4 + 63) & ~(size_t)63);
    if (!buf) return -1;
    sc->kp = buf;
    sc->vp = sc->kp + (size_t)sc->hpairs * sc->npad;
    sc->lrow = sc->vp + (size_t)(sc->npad / 2) * sc->hdpad;
    sc->prow = (int16_t *)(sc->lrow + 4 * (size_t)sc->npad);
    sc->colsum = sc->lrow + 6 * (size_t)sc->npad + 16;
    return 0;
}

/* z = clamp(requant(q K^T)) for NQ queries (lrow rows npad apart) and NV vectors of 16 keys. Several
 * queries at once: vpdpwssd accumulates in place (a 4-5 cycle chain per accumulator), so one query's
 * NV accumulators alone would wait on latency. */
INL void attn_qk(int32_t *lrow, const int32_t *kp, int npad, const int16_t *const *q, int NQ, int hp, int hd, int NV,
                 const Rq16 *lq) {
    __m512i acc[4][4];
    S2C_UNROLL for (int u = 0; u < NQ; u++)
        S2C_UNROLL for (int v = 0; v < NV; v++) acc[u][v] = _mm512_setzero_si512();
    const int full = hd / 2;
    for (int t = 0; t < full; t++) {
        const int32_t *kr = kp + (size_t)t * npad;
        __m512i kv[4];
        S2C_UNROLL for (int v = 0; v < NV; v++) kv[v] = _mm512_load_si512(kr + 16 * v);
        S2C_UNROLL for (int u = 0; u < NQ; u++) {
            int32_t qv;
            memcpy(&qv, q[u] + 2 * t, 4);
            const __m512i b = _mm512_set1_epi32(qv);
            S2C_UNROLL for (int v = 0; v < NV; v++) acc[u][v] = _mm512_dpwssd_epi32(acc[u][v], b, kv[v]);
        }
    }
    if (full < hp) {
        const int32_t *kr = kp + (size_t)full * npad;
        S2C_UNROLL for (int u = 0; u < NQ; u++) {
            const __m512i b = _mm512_set1_epi32((uint16_t)q[u][2 * full]);
            S2C_UNROLL for (int v = 0; v < NV; v++) acc[u][v] = _mm512_dpwssd_epi32(acc[u][v], b, _mm512_load_si512(kr + 16 * v));
        }
    }
    S2C_UNROLL for (int u = 0; u < NQ; u++)
        S2C_UNROLL for (int v = 0; v < NV; v++) _mm512_store_si512(lrow + (size_t)u * npad + 16 * v, rq16(acc[u][v], lq));
}

/* o_u[d] = requant(sum_j p'_uj v_jd + colsum_d) for NQ queries (prow rows npad apart), NV vectors of 16
 * channels, the first nd stored. */
INL void attn_pv(int16_t *const *o, int nd, const int32_t *vp, int hdp, const int16_t *prow, int npad, int NQ,
                 const int32_t *colsum, int NV, const Rq16 *oq) {
    __m512i acc[4][4];
    S2C_UNROLL for (int u = 0; u < NQ; u++)
        S2C_UNROLL for (int v = 0; v < NV; v++) acc[u][v] = _mm512_loadu_si512(colsum + 16 * v);
    for (int jp = 0; jp < npad / 2; jp++) {
        const int32_t *vr = vp + (size_t)jp * hdp;
        __m512i vv[4];
        S2C_UNROLL for (int v = 0; v < NV; v++) vv[v] = _mm512_load_si512(vr + 16 * v);
        S2C_UNROLL for (int u = 0; u < NQ; u++) {
            int32_t pp;
            memcpy(&pp, prow + (size_t)u * npad + 2 * jp, 4);
            const __m512i b = _mm512_set1_epi32(pp);
            S2C_UNROLL for (int v = 0; v < NV; v++) acc[u][v] = _mm512_dpwssd_epi32(acc[u][v], b, vv[v]);
        }
    }
    S2C_UNROLL for (int u = 0; u < NQ; u++)
        S2C_UNROLL for (int v = 0; v < NV; v++) {
            const int n = nd - 16 * v < 16 ? nd - 16 * v : 16;
            if (n <= 0) break;
            /* the requant clamps to int16: the truncating vpmovdw is exact */
            _mm256_mask_storeu_epi16(o[u] + 16 * v, (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1),
                                     _mm512_cvtepi32_epi16(rq16(acc[u][v], oq)));
        }
}

/* Softmax of one query's logits in lrow (n real keys of npad): p' = p - 2^14 into prow. */
INL void attn_softmax(int32_t *lrow, int16_t *prow, int n, int npad, const uint16_t *exp_lut, int exp_len) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), one = _mm512_set1_epi32(1);
    const __m512i elen = _mm512_set1_epi32(exp_len), e0 = _mm512_set1_epi32((int32_t)((uint32_t)exp_lut[0] << 16));
    __m512i mx = _mm512_set1_epi32(INT32_MIN);
    for (int j = 0; j < npad; j += 16) {
        const __mmask16 valid = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(n - j), lane);
        mx = _mm512_mask_max_epi32(mx, valid, mx, _mm512_load_si512(lrow + j));
    }
    const __m512i mv = _mm512_set1_epi32(_mm512_reduce_max_epi32(mx));
    __m512i sum16 = _mm512_setzero_si512();
    for (int j = 0; j < npad; j += 16) {
        const __mmask16 valid = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(n - j), lane);
        const __m512i t = _mm512_sub_epi32(mv, _mm512_load_si512(lrow + j));  /* 0 <= t <= 2^25 */
        const __mmask16 inr = valid & _mm512_cmpgt_epi32_mask(elen, t);
        const __mmask16 gm = inr & _mm512_cmpneq_epi32_mask(t, _mm512_setzero_si512());
        const __m512i src = _mm512_maskz_mov_epi32(inr, e0);  /* t = 0 (in range) takes exp_lut[0] */
        /* 4 bytes at byte offset 2 (t - 1): exp_lut[t - 1], exp_lut[t]; the high half is exp_lut[t] */
        const __m512i g = _mm512_mask_i32gather_epi32(src, gm, _mm512_sub_epi32(t, one), (const void *)exp_lut, 2);
        const __m512i e = _mm512_srli_epi32(g, 16);
        _mm512_store_si512(lrow + j, e);
        sum16 = _mm512_add_epi32(sum16, e);
    }
    uint32_t sum = (uint32_t)_mm512_reduce_add_epi32(sum16);
    if (sum == 0) sum = 1;
    const int L = 32 - __builtin_clz(sum);
    const uint64_t inv = (((uint64_t)1 << (31 + L)) - 1) / sum;
    const __m512i invv = _mm512_set1_epi64((int64_t)inv), sumv = _mm512_set1_epi64(sum);
    const __m512i halfv = _mm512_set1_epi32((int32_t)(sum / 2));
    const __m128i cnt = _mm_cvtsi32_si128(31 + L);
    const __m512i one64 = _mm512_set1_epi64(1), p14 = _mm512_set1_epi32(16384);
    for (int j = 0; j < npad; j += 16) {
        const __m512i nn = _mm512_add_epi32(_mm512_slli_epi32(_mm512_load_si512(lrow + j), 15), halfv);
        __m512i r[2];
        S2C_UNROLL for (int oe = 0; oe < 2; oe++) {
            const __m512i nx = oe ? _mm512_srli_epi64(nn, 32) : _mm512_and_si512(nn, _mm512_set1_epi64(0xffffffff));
            const __m512i up = _mm512_add_epi64(_mm512_srl_epi64(_mm512_mul_epu32(nx, invv), cnt), one64);
            const __mmask8 gt = _mm512_cmpgt_epi64_mask(_mm512_mul_epu32(up, sumv), nx);
            r[oe] = _mm512_mask_sub_epi64(up, gt, up, one64);
        }
        const __m512i pv = _mm512_sub_epi32(_mm512_mask_blend_epi32(0xAAAA, r[0], _mm512_slli_epi64(r[1], 32)), p14);
        _mm256_store_si256((__m256i *)(prow + j), _mm512_cvtepi32_epi16(pv));  /* |p'| <= 2^14 */
    }
}

static TGT void attn_head(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, const int16_t *const *tok,
                          int n, int c, int hd, int qo, const Rq16 *lq, const Rq16 *oq, const uint16_t *exp_lut,
                          int exp_len, const Scratch *sc) {
    const int npad = sc->npad, hp = sc->hpairs, hdp = sc->hdpad, ko = c + qo, vo = 2 * c + qo;
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
    for (int d = 0; d < hdp; d += 16) {
        const int nd = hd - d < 16 ? hd - d : 16;
        const __mmask16 dm = (__mmask16)(nd >= 16 ? 0xffff : (1u << nd) - 1);
        __m512i cs = _mm512_setzero_si512();
        for (int jp = 0; jp < npad / 2; jp++) {
            const int j0 = 2 * jp, j1 = 2 * jp + 1;
            const __m512i v0 = j0 < n ? _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(dm, tok[j0] + vo + d)) : _mm512_setzero_si512();
            const __m512i v1 = j1 < n ? _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(dm, tok[j1] + vo + d)) : _mm512_setzero_si512();
            cs = _mm512_add_epi32(cs, _mm512_add_epi32(v0, v1));
            _mm512_store_si512(sc->vp + (size_t)jp * hdp + d,
                               _mm512_or_si512(_mm512_and_si512(v0, _mm512_set1_epi32(0xffff)), _mm512_slli_epi32(v1, 16)));
        }
        _mm512_storeu_si512(sc->colsum + d, _mm512_slli_epi32(cs, 14));
    }
    for (int i0 = 0; i0 < n; i0 += 4) {
        const int nq = n - i0 < 4 ? n - i0 : 4;
        const int16_t *q[4];
        int16_t *o[4];
        for (int u = 0; u < nq; u++) {
            q[u] = tok[i0 + u] + qo;
            o[u] = out + (tok[i0 + u] - qkv) / ldq * ldo + qo;
        }
        for (int j0 = 0; j0 < npad; j0 += 64) {
            const int nv = npad - j0 < 64 ? (npad - j0) / 16 : 4;
#define QK(NQ, NV) case NV: attn_qk(sc->lrow + j0, sc->kp + j0, npad, q, NQ, hp, hd, NV, lq); break;
            if (nq == 4) switch (nv) { QK(4, 1) QK(4, 2) QK(4, 3) QK(4, 4) }
            else if (nq == 3) switch (nv) { QK(3, 1) QK(3, 2) QK(3, 3) QK(3, 4) }
            else if (nq == 2) switch (nv) { QK(2, 1) QK(2, 2) QK(2, 3) QK(2, 4) }
            else switch (nv) { QK(1, 1) QK(1, 2) QK(1, 3) QK(1, 4) }
#undef QK
        }
        for (int u = 0; u < nq; u++)
            attn_softmax(sc->lrow + (size_t)u * npad, sc->prow + (size_t)u * npad, n, npad, exp_lut, exp_len);
        for (int d0 = 0; d0 < hdp; d0 += 64) {
            const int nv = hdp - d0 < 64 ? (hdp - d0) / 16 : 4;
            int16_t *od[4];
            for (int u = 0; u < nq; u++) od[u] = o[u] + d0;
#define PV(NQ, NV) case NV: attn_pv(od, hd - d0, sc->vp + d0, hdp, sc->prow, npad, NQ, sc->colsum + d0, NV, oq); break;
            if (nq == 4) switch (nv) { PV(4, 1) PV(4, 2) PV(4, 3) PV(4, 4) }
            else if (nq == 3) switch (nv) { PV(3, 1) PV(3, 2) PV(3, 3) PV(3, 4) }
            else if (nq == 2) switch (nv) { PV(2, 1) PV(2, 2) PV(2, 3) PV(2, 4) }
            else switch (nv) { PV(1, 1) PV(1, 2) PV(1, 3) PV(1, 4) }
#undef PV
        }
    }
}

static TGT void attn_window(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int w, int c,
                            int heads, int win, int y0, int x0, const Rq16 *lq, const Rq16 *oq,
                            const uint16_t *exp_lut, int exp_len, const Scratch *sc) {
    const int n = win * win, hd = c / heads;
    const int16_t *tok[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    for (int j = 0; j < n; j++) tok[j] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
    for (int hh = 0; hh < heads; hh++)
        attn_head(out, ldo, qkv, ldq, tok, n, c, hd, hh * hd, lq, oq, exp_lut, exp_len, sc);
}

static TGT void attn_rq(Rq16 *lq, Rq16 *oq, int32_t logit_mult, int logit_shift, int32_t out_mult, int out_shift) {
    rq16_init1(lq, logit_mult, logit_shift, -(1 << 24), 1 << 24);
    rq16_init1(oq, out_mult, out_shift, -32768, 32767);
}

void s2c_window_attn_s16_avx512vnni(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                                    int c, int heads, int win, int32_t logit_mult, int logit_shift,
                                    const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win;
    if (nwin <= 0) return;
    Rq16 lq, oq;
    attn_rq(&lq, &oq, logit_mult, logit_shift, out_mult, out_shift);
    int failed = 0;
#pragma omp parallel num_threads(s2c_team()) if ((int64_t)nwin * n * n * c * 2 >= S2C_OMP_MIN_WORK) reduction(| : failed)
    {
        Scratch sc;
        const int ok = scratch_alloc(&sc, n, c / heads) == 0;
        if (!ok) failed = 1;
#pragma omp for schedule(static)
        for (int wi = 0; wi < nwin; wi++)
            if (ok)
                attn_window(out, ldo, qkv, ldq, w, c, heads, win, (wi / nwx) * win, (wi % nwx) * win, &lq, &oq,
                            exp_lut, exp_len, &sc);
        if (ok) free(sc.kp);
    }
    if (failed)
        s2c_window_attn_s16_c(out, ldo, qkv, ldq, h, w, c, heads, win, logit_mult, logit_shift, exp_lut, exp_len,
                              out_mult, out_shift);
}
#endif
