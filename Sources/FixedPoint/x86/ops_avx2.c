/* x86/ops_avx2.c: AVX2 layer kernels (depthwise conv, LayerNorm, LUT, gated product, rescale, window attention), bit-exact with ops_c.c. */
#if defined(__x86_64__)
#include <immintrin.h>

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

/* 8 int32 from two 4-lane halves: {lo128 = p[a..a+3], hi128 = p[b..b+3]}. */
INL __m256i load_split(const int32_t *p, int a, int b) {
    return _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(p + b)), _mm_loadu_si128((const __m128i *)(p + a)));
}

/* lut[idx] sign-extended, for 8 uint16 indices already widened to int32. */
INL __m256i lut_gather8(const int16_t *lut, __m256i idx, __m256i lut0_hi) {
    const __m256i mask = _mm256_cmpgt_epi32(idx, _mm256_setzero_si256());
    __m256i g = _mm256_mask_i32gather_epi32(lut0_hi, (const int *)lut, _mm256_sub_epi32(idx, _mm256_set1_epi32(1)),
                                            mask, 2);
    return _mm256_srai_epi32(g, 16);
}

INL __m256i lut0_high(const int16_t *lut) { return _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)lut[0] << 16)); }

/* MARK: - Depthwise convolution */


static TGT void dw_row(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi, int y) {
    const int p = k / 2, taps = k * k, pairs = (taps + 1) / 2;
    const __m256i lo64 = _mm256_set1_epi64x(lo), hi64 = _mm256_set1_epi64x(hi), zero = _mm256_setzero_si256();
    int cb = 0;
    for (; cb + 16 <= c; cb += 16) {
        __m256i wl[DW_MAX_PAIRS], wh[DW_MAX_PAIRS];
        for (int pr = 0; pr < pairs; pr++) {
            int16_t t0[16], t1[16];
            for (int i = 0; i < 16; i++) {
                t0[i] = wgt[(cb + i) * taps + 2 * pr];
                t1[i] = 2 * pr + 1 < taps ? wgt[(cb + i) * taps + 2 * pr + 1] : 0;
            }
            const __m256i a = _mm256_loadu_si256((const __m256i *)t0), b = _mm256_loadu_si256((const __m256i *)t1);
            wl[pr] = _mm256_unpacklo_epi16(a, b);
            wh[pr] = _mm256_unpackhi_epi16(a, b);
        }
        const __m256i bl = bias ? load_split(bias, cb, cb + 8) : zero, bh = bias ? load_split(bias, cb + 4, cb + 12) : zero;
        const __m256i ml = load_split(mult, cb, cb + 8), mh = load_split(mult, cb + 4, cb + 12);
        const __m256i sl = load_split(shift, cb, cb + 8), sh = load_split(shift, cb + 4, cb + 12);
        for (int x = 0; x < w; x++) {
            __m256i al = bl, ah = bh;
            for (int pr = 0; pr < pairs; pr++) {
                __m256i v[2];
                S2C_UNROLL for (int q = 0; q < 2; q++) {
                    const int t = 2 * pr + q, yy = y + t / k - p, xx = x + t % k - p;
                    v[q] = t < taps && yy >= 0 && yy < h && xx >= 0 && xx < w
                               ? _mm256_loadu_si256((const __m256i *)(in + ((ptrdiff_t)yy * w + xx) * c + cb))
                               : zero;
                }
                al = _mm256_add_epi32(al, _mm256_madd_epi16(_mm256_unpacklo_epi16(v[0], v[1]), wl[pr]));
                ah = _mm256_add_epi32(ah, _mm256_madd_epi16(_mm256_unpackhi_epi16(v[0], v[1]), wh[pr]));
            }
            const __m256i rl = requant8(al, ml, sl, lo64, hi64), rh = requant8(ah, mh, sh, lo64, hi64);
            _mm256_storeu_si256((__m256i *)(out + ((ptrdiff_t)y * w + x) * c + cb), _mm256_packs_epi32(rl, rh));
        }
    }
    for (int x = 0; x < w && cb < c; x++)
        for (int ch = cb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

void s2c_dwconv_s16_avx2(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    if (k * k > DW_MAX_TAPS) {
        s2c_dwconv_s16_c(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi);
        return;
    }
#pragma omp parallel for schedule(static) if ((int64_t)h * w * c * k * k >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++) dw_row(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y);
}

/* MARK: - LayerNorm */

/* Widest row the SIMD path takes: c <= 1024 keeps |d| <= 2^16 c <= 2^26 in int32 lanes and V <= 2^62
 * (s2c_ops.h). Wider rows, and rows with r >= 2^31 (only with a huge eps_q), use the C reference row. */
enum { LN_MAX_C = 1024 };

/* Per-row constants of pass 2 (see ln_row). */
typedef struct {
    __m256i inv, bias, r, r2, half, shift, lo, hi, c, s;
    __m128i cnt;
} LNConst;

/* Pass 2 on 8 channels: the 8 clamped outputs as int32. */
INL __m256i ln8(const int16_t *x, const int32_t *g, const int32_t *b, const LNConst *k) {
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)x)), k->c), k->s);
    const __m256i g8 = _mm256_loadu_si256((const __m256i *)g), b8 = _mm256_loadu_si256((const __m256i *)b);
    __m256i y[2];
    for (int hf = 0; hf < 2; hf++) {  /* even, then odd int32 lanes (vpmuldq reads the low dword of each qword) */
        const __m256i dh = hf ? _mm256_srli_epi64(d, 32) : d;
        const __m256i gh = hf ? _mm256_srli_epi64(g8, 32) : g8, bh = hf ? _mm256_srli_epi64(b8, 32) : b8;
        const __m256i dd = _mm256_mul_epi32(dh, _mm256_set1_epi64x(32768));  /* 2^15 d, |.| <= 2^41 */
        __m256i t = _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(dh, k->inv), k->bias), k->cnt),
                                     _mm256_set1_epi64x(32768));                    /* est */
        const __m256i lower = _mm256_mul_epi32(_mm256_sub_epi64(_mm256_add_epi64(t, t), one), k->r);  /* (2 est - 1) r */
        const __m256i dec = _mm256_cmpgt_epi64(lower, dd);                          /* t = est - 1 */
        const __m256i ok = _mm256_cmpgt_epi64(_mm256_add_epi64(lower, k->r2), dd);  /* else t = est + 1 */
        t = _mm256_add_epi64(_mm256_add_epi64(t, dec), _mm256_andnot_si256(ok, one));
        const __m256i acc = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(t, gh),
                                                              _mm256_mul_epi32(bh, _mm256_set1_epi64x(65536))), k->half);
        y[hf] = clamp64(sra64(acc, k->shift), k->lo, k->hi);
    }
    return _mm256_blend_epi32(y[0], _mm256_slli_epi64(y[1], 32), 0xAA);
}

/* One row. Pass 1: S and Q = sum x^2 (vpmaddwd pair sums <= 2^31, exact read as uint32, widened to
 * 64 bits), V = c^2 Q - c S^2 (= sum d^2 exactly: both terms <= 2^60). Pass 2, 4 int64 lanes per half:
 * with L = bitlength(r), inv = floor(2^(L+29) / r) in (2^29, 2^30],
 *   est = floor(d inv / 2^(L+15) + 1/2)     (computed as (d inv + 2^(L+14) + 2^(L+30)) >>> (L+15), minus 2^15,
 *                                             so the logical shift sees a positive value < 2^62)
 * differs from t = floor(d 2^14 / r + 1/2) by at most 1: |d| <= r (d^2 <= V <= V + eps), so the error
 * |d| (2^(L+29)/r - inv) / 2^(L+15) < 2^-15. t is the integer with (2t - 1) r <= 2^15 d < (2t + 1) r
 * (the reference's floor((2^15 d + r) / 2r)), so one compare on each side (vpmuldq: |2 est - 1| < 2^16,
 * r < 2^31) corrects est exactly. Then y = t g + b 2^16 + 2^(shift-1) (|.| < 2^62), arithmetic shift,
 * clamp: the reference's formula term for term. Channel tails use s2c_layernorm_s16_point. */
static TGT void ln_row(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g, const int32_t *b,
                       int shift, int lo, int hi) {
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
        .cnt = _mm_cvtsi32_si128(L + 15),
        .r = _mm256_set1_epi64x(r), .r2 = _mm256_set1_epi64x(2 * (int64_t)r),
        .half = _mm256_set1_epi64x((int64_t)1 << (shift - 1)), .shift = _mm256_set1_epi64x(shift),
        .lo = _mm256_set1_epi64x(lo), .hi = _mm256_set1_epi64x(hi),
        .c = _mm256_set1_epi32(c), .s = _mm256_set1_epi32((int32_t)s),
    };
    for (i = 0; i + 16 <= c; i += 16)
        _mm256_storeu_si256((__m256i *)(o + i), pack16(ln8(x + i, g + i, b + i, &k), ln8(x + i + 8, g + i + 8, b + i + 8, &k)));
    if (i + 8 <= c) {
        const __m256i y = ln8(x + i, g + i, b + i, &k);
        _mm_storeu_si128((__m128i *)(o + i), _mm256_castsi256_si128(pack16(y, y)));
        i += 8;
    }
    for (; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                            uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, shift, lo, hi);
}

/* MARK: - Gated product (the plain lut16 stays C: a vpgatherdd table walk measured 0.88-0.95x of
 * the scalar loop on this class of core) */

static TGT void gated_row(int16_t *o, const int16_t *a, const int16_t *bb, int hc, const int16_t *lut,
                          int32_t mult, int shift, int lo, int hi) {
    const __m256i l0 = lut0_high(lut), mv = _mm256_set1_epi32(mult), sv = _mm256_set1_epi32(shift);
    const __m256i lo64 = _mm256_set1_epi64x(lo), hi64 = _mm256_set1_epi64x(hi);
    const int64_t half = (int64_t)1 << (shift - 1);
    int j = 0;
    for (; j + 16 <= hc; j += 16) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(a + j));
        const __m256i y = _mm256_loadu_si256((const __m256i *)(bb + j));
        /* |lut * b| <= 2^30: vpmulld is exact */
        const __m256i p0 = _mm256_mullo_epi32(lut_gather8(lut, _mm256_cvtepu16_epi32(_mm256_castsi256_si128(x)), l0),
                                              _mm256_cvtepi16_epi32(_mm256_castsi256_si128(y)));
        const __m256i p1 = _mm256_mullo_epi32(lut_gather8(lut, _mm256_cvtepu16_epi32(_mm256_extracti128_si256(x, 1)), l0),
                                              _mm256_cvtepi16_epi32(_mm256_extracti128_si256(y, 1)));
        _mm256_storeu_si256((__m256i *)(o + j),
                            pack16(requant8(p0, mv, sv, lo64, hi64), requant8(p1, mv, sv, lo64, hi64)));
    }
    for (; j < hc; j++) {
        const int64_t v = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
        o[j] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

void s2c_gated_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        gated_row(out + r * ldo, in + r * ldi, in + r * ldi + hc, hc, lut, mult, shift, lo, hi);
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
#pragma omp parallel for schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        rescale_row(out + (ptrdiff_t)r * c, in + (ptrdiff_t)r * c, c, mult, shift, lo, hi);
}
/* MARK: - Window attention */

/* sum_d a[d] b[d] mod 2^32. vpmaddwd's pair sum is exact except (-32768)^2 * 2 = 2^31, which wraps to
 * the same value mod 2^32 as the C reference's uint32 sum. */
INL int32_t dot_s16(const int16_t *a, const int16_t *b, int n) {
    __m256i acc = _mm256_setzero_si256();
    int d = 0;
    for (; d + 16 <= n; d += 16)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(a + d)),
                                                      _mm256_loadu_si256((const __m256i *)(b + d))));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    for (; d + 8 <= n; d += 8)
        s = _mm_add_epi32(s, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(a + d)), _mm_loadu_si128((const __m128i *)(b + d))));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    uint32_t r = (uint32_t)_mm_cvtsi128_si32(s);
    for (; d < n; d++) r += (uint32_t)(a[d] * b[d]);
    return (int32_t)r;
}

/* One window, all heads: ops_c.c's attn_window with the q.k dot products and the p.v sums in AVX2
 * (p <= 2^15, |p v| <= 2^30: vpmulld exact, lanes wrap like the uint32 reference). The softmax
 * (max, LUT, division) is the scalar code of the reference. */
static TGT void attn_window(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int w, int c,
                            int heads, int win, int y0, int x0, int32_t logit_mult, int logit_shift,
                            const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    const int n = win * win, hd = c / heads;
    const int16_t *tok[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    int32_t z[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN], e[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    for (int j = 0; j < n; j++) tok[j] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
    const __m256i mv = _mm256_set1_epi32(out_mult), sv = _mm256_set1_epi32(out_shift);
    const __m256i lo64 = _mm256_set1_epi64x(-32768), hi64 = _mm256_set1_epi64x(32767);
    for (int hh = 0; hh < heads; hh++) {
        const int qo = hh * hd, ko = c + hh * hd, vo = 2 * c + hh * hd;
        for (int i = 0; i < n; i++) {
            const int16_t *q = tok[i] + qo;
            int32_t m = INT32_MIN;
            for (int j = 0; j < n; j++) {
                z[j] = s2c_requant_clamp(dot_s16(q, tok[j] + ko, hd), logit_mult, logit_shift, -(1 << 24), 1 << 24);
                if (z[j] > m) m = z[j];
            }
            int64_t sum = 0;
            for (int j = 0; j < n; j++) {
                const int32_t t = m - z[j];
                e[j] = t < exp_len ? exp_lut[t] : 0;
                sum += e[j];
            }
            if (sum == 0) sum = 1;
            for (int j = 0; j < n; j++) e[j] = (int32_t)((e[j] * (int64_t)32768 + sum / 2) / sum);
            int16_t *o = out + (tok[i] - qkv) / ldq * ldo + qo;
            int d = 0;
            for (; d + 8 <= hd; d += 8) {
                __m256i acc = _mm256_setzero_si256();
                for (int j = 0; j < n; j++)
                    acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(e[j]),
                        _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(tok[j] + vo + d)))));
                const __m256i r = requant8(acc, mv, sv, lo64, hi64);
                _mm_storeu_si128((__m128i *)(o + d),
                                 _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packs_epi32(r, r), 0x08)));
            }
            for (; d < hd; d++) {
                uint32_t acc = 0;
                for (int j = 0; j < n; j++) acc += (uint32_t)(e[j] * tok[j][vo + d]);
                o[d] = s2c_requant_s16((int32_t)acc, out_mult, out_shift);
            }
        }
    }
}

void s2c_window_attn_s16_avx2(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                              int c, int heads, int win, int32_t logit_mult, int logit_shift,
                              const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win;
#pragma omp parallel for schedule(static) if ((int64_t)nwin * n * n * c * 2 >= S2C_OMP_MIN_WORK)
    for (int wi = 0; wi < nwin; wi++)
        attn_window(out, ldo, qkv, ldq, w, c, heads, win, (wi / nwx) * win, (wi % nwx) * win, logit_mult,
                    logit_shift, exp_lut, exp_len, out_mult, out_shift);
}
#endif
