/* wasm/ops_simd128.c: WebAssembly SIMD128 layer kernels (window attention, depthwise convolution, LayerNorm,
 * gated product), bit-exact with ops_c.c. Every int32 sum wraps modulo 2^32 like the reference's uint32 sums (i32x4.add, and
 * i32x4.dot_i16x8_s, whose pair sums are exact but for (-32768)^2 * 2 = 2^31, which wraps to the same
 * value mod 2^32); reads stay inside the operands (tails are scalar). */
#if defined(__wasm_simd128__)
#include <stdlib.h>
#include <string.h>

#include "simd128.h"

/* MARK: - Window attention
 *
 * Per window and head, with the n tokens of the window in raster order (rows tok[i] of qkv):
 *   z = clamp(requant(Q K^T), +-2^24): blocks of 4 queries x 2 keys, dot products along the head's
 *     channels (dot_i16x8_s), the 4 queries in the lanes of the requant (one multiplier and shift for
 *     the layer); stored as z[key][4 queries], so the softmax runs on 4 queries at once.
 *   m = max_j z (i32x4.max_s); e = exp_lut[m - z] if m - z < exp_len else 0 (scalar table reads);
 *     sum = sum_j e (< 2^26: e <= 65535, n <= 1024; 0 only with a malformed table, then 1 as in C).
 *   p = floor(N / sum) for N = 2^15 e + floor(sum / 2) < 2^32, by inv = floor((2^32 - 1) / sum) < 2^32
 *     per query: est = (N inv) >> 32 satisfies q - 1 <= est <= q (inv > (2^32 - sum) / sum, so
 *     N inv / 2^32 > N / sum - N / 2^32 > N / sum - 1; and inv < 2^32 / sum), so the remainder
 *     N - est sum is in [0, 2 sum), below 2^27, and exact in 32-bit lanes: est + (rem >= sum) = q.
 *   out = requant(sum_j p_j v_j): e_j <= sum gives p <= 2^15, one more than int16 holds, so
 *     p' = p - 2^14 in [-2^14, 2^14] is the int16 operand and 2^14 sum_j v_j is added back
 *     (sum p v = sum p' v + 2^14 sum v mod 2^32, the reference's uint32 sum); blocks of 4 queries x
 *     2 channels against V transposed per head, dot products along the keys.
 * Keys are padded to a multiple of 8 with p' = 0 and zero V columns; queries to a multiple of 4 by
 * repeating token 0, whose extra outputs are not stored. Scratch comes from the heap once per call;
 * without it the C reference runs. */

typedef struct {
    int n, npad, nq, hd;
    const int16_t **tok; /* [nq] */
    int16_t *vt;         /* [hd][npad]: V^T of the head */
    int16_t *p;          /* [4][npad]: p' of 4 queries */
    int32_t *z;          /* [npad][4]: logits, then e, of 4 queries */
    int32_t *colsum;     /* [hd]: 2^14 sum_j v_jd mod 2^32 */
} AttnScratch;

/* Dot products of 4 int16 rows a0..a3 with rows b0, b1 over k values: lane r of *d0 / *d1 is a_r . b0 / b1. */
S2C_INLINE void dot4x2(const int16_t *a0, const int16_t *a1, const int16_t *a2, const int16_t *a3, const int16_t *b0,
                       const int16_t *b1, int k, v128_t *d0, v128_t *d1) {
    const v128_t z = wasm_i32x4_splat(0);
    v128_t s00 = z, s10 = z, s20 = z, s30 = z, s01 = z, s11 = z, s21 = z, s31 = z;
    int t = 0;
    for (; t + 8 <= k; t += 8) {
        const v128_t x0 = wasm_v128_load(a0 + t), x1 = wasm_v128_load(a1 + t);
        const v128_t x2 = wasm_v128_load(a2 + t), x3 = wasm_v128_load(a3 + t);
        const v128_t v0 = wasm_v128_load(b0 + t), v1 = wasm_v128_load(b1 + t);
        s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(x0, v0));
        s10 = wasm_i32x4_add(s10, wasm_i32x4_dot_i16x8(x1, v0));
        s20 = wasm_i32x4_add(s20, wasm_i32x4_dot_i16x8(x2, v0));
        s30 = wasm_i32x4_add(s30, wasm_i32x4_dot_i16x8(x3, v0));
        s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(x0, v1));
        s11 = wasm_i32x4_add(s11, wasm_i32x4_dot_i16x8(x1, v1));
        s21 = wasm_i32x4_add(s21, wasm_i32x4_dot_i16x8(x2, v1));
        s31 = wasm_i32x4_add(s31, wasm_i32x4_dot_i16x8(x3, v1));
    }
    uint32_t r0[4] = {0, 0, 0, 0}, r1[4] = {0, 0, 0, 0};
    for (; t < k; t++) {
        const int x[4] = {a0[t], a1[t], a2[t], a3[t]};
        for (int r = 0; r < 4; r++) {
            r0[r] += (uint32_t)(x[r] * b0[t]);
            r1[r] += (uint32_t)(x[r] * b1[t]);
        }
    }
    *d0 = wasm_i32x4_add(s2c_wasm_hsum4(s00, s10, s20, s30), wasm_v128_load(r0));
    *d1 = wasm_i32x4_add(s2c_wasm_hsum4(s01, s11, s21, s31), wasm_v128_load(r1));
}

/* p' of queries [q0, q0 + 4) from z (logits, [key][4]). */
static void attn_softmax4(const AttnScratch *sc, const uint16_t *exp_lut, int exp_len) {
    const int n = sc->n, npad = sc->npad;
    int32_t *z = sc->z;
    v128_t m = wasm_i32x4_splat(INT32_MIN);
    for (int j = 0; j < n; j++) m = wasm_i32x4_max(m, wasm_v128_load(z + 4 * j));
    v128_t sum = wasm_i32x4_splat(0);
    for (int j = 0; j < n; j++) {
        int32_t t[4], e[4];
        wasm_v128_store(t, wasm_i32x4_sub(m, wasm_v128_load(z + 4 * j)));  /* 0 <= t <= 2^25 */
        for (int r = 0; r < 4; r++) e[r] = t[r] < exp_len ? exp_lut[t[r]] : 0;
        const v128_t ev = wasm_v128_load(e);
        wasm_v128_store(z + 4 * j, ev);
        sum = wasm_i32x4_add(sum, ev);
    }
    sum = wasm_v128_bitselect(wasm_i32x4_splat(1), sum, wasm_i32x4_eq(sum, wasm_i32x4_splat(0)));
    uint32_t s[4], inv[4];
    wasm_v128_store(s, sum);
    for (int r = 0; r < 4; r++) inv[r] = UINT32_MAX / s[r];
    const v128_t invv = wasm_v128_load(inv), half = wasm_u32x4_shr(sum, 1), p14 = wasm_i32x4_splat(16384);
    for (int j = 0; j < n; j++) {
        const v128_t nn = wasm_i32x4_add(wasm_i32x4_shl(wasm_v128_load(z + 4 * j), 15), half);
        const v128_t lo = wasm_u64x2_extmul_low_u32x4(nn, invv), hi = wasm_u64x2_extmul_high_u32x4(nn, invv);
        v128_t est = wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7);  /* high halves: (N inv) >> 32 */
        const v128_t rem = wasm_i32x4_sub(nn, wasm_i32x4_mul(est, sum));
        est = wasm_i32x4_sub(est, wasm_u32x4_ge(rem, sum));  /* + 1 where rem >= sum (the mask is -1) */
        const v128_t pp = wasm_i32x4_sub(est, p14);
        sc->p[j] = (int16_t)wasm_i32x4_extract_lane(pp, 0);
        sc->p[npad + j] = (int16_t)wasm_i32x4_extract_lane(pp, 1);
        sc->p[2 * npad + j] = (int16_t)wasm_i32x4_extract_lane(pp, 2);
        sc->p[3 * npad + j] = (int16_t)wasm_i32x4_extract_lane(pp, 3);
    }
}

/* One head (channels qo.., of hd) of one window whose tokens are sc->tok. */
static void attn_head(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int c, int qo,
                      int32_t logit_mult, int logit_shift, const uint16_t *exp_lut, int exp_len, int32_t out_mult,
                      int out_shift, const AttnScratch *sc) {
    const int n = sc->n, npad = sc->npad, hd = sc->hd, ko = c + qo, vo = 2 * c + qo;
    const int16_t *const *tok = sc->tok;
    for (int d = 0; d < hd; d++) {
        int16_t *row = sc->vt + (ptrdiff_t)d * npad;
        uint32_t s = 0;
        for (int j = 0; j < n; j++) {
            row[j] = tok[j][vo + d];
            s += (uint32_t)row[j];
        }
        sc->colsum[d] = (int32_t)(s << 14);
    }
    for (int q0 = 0; q0 < sc->nq; q0 += 4) {
        const int16_t *a0 = tok[q0] + qo, *a1 = tok[q0 + 1] + qo, *a2 = tok[q0 + 2] + qo, *a3 = tok[q0 + 3] + qo;
        for (int j = 0; j < n; j += 2) {
            v128_t d0, d1;
            dot4x2(a0, a1, a2, a3, tok[j] + ko, tok[j + 1 < n ? j + 1 : j] + ko, hd, &d0, &d1);
            wasm_v128_store(sc->z + 4 * j, s2c_wasm_requant4(d0, logit_mult, logit_shift, -(1 << 24), 1 << 24));
            if (j + 1 < n)
                wasm_v128_store(sc->z + 4 * (j + 1), s2c_wasm_requant4(d1, logit_mult, logit_shift, -(1 << 24), 1 << 24));
        }
        attn_softmax4(sc, exp_lut, exp_len);
        const int16_t *p0 = sc->p, *p1 = p0 + npad, *p2 = p1 + npad, *p3 = p2 + npad;
        const int rows = n - q0 < 4 ? n - q0 : 4;
        int16_t *o[4];
        for (int r = 0; r < 4; r++) o[r] = out + (tok[q0 + (r < rows ? r : 0)] - qkv) / ldq * ldo + qo;
        for (int d = 0; d < hd; d += 2) {
            const int two = d + 1 < hd;
            v128_t d0, d1;
            dot4x2(p0, p1, p2, p3, sc->vt + (ptrdiff_t)d * npad, sc->vt + (ptrdiff_t)(two ? d + 1 : d) * npad, npad,
                   &d0, &d1);
            const v128_t y0 = s2c_wasm_requant4(wasm_i32x4_add(d0, wasm_i32x4_splat(sc->colsum[d])), out_mult, out_shift,
                                                -32768, 32767);
            const v128_t y1 = s2c_wasm_requant4(wasm_i32x4_add(d1, wasm_i32x4_splat(sc->colsum[two ? d + 1 : d])),
                                                out_mult, out_shift, -32768, 32767);
            int16_t y[8];
            wasm_v128_store(y, s2c_wasm_pairs16(y0, y1));
            for (int r = 0; r < rows; r++) {
                o[r][d] = y[2 * r];
                if (two) o[r][d + 1] = y[2 * r + 1];
            }
        }
    }
}

void s2c_window_attn_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                                 int c, int heads, int win, int32_t logit_mult, int logit_shift,
                                 const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win, hd = c / heads;
    if (nwin <= 0) return;
    AttnScratch sc = {.n = n, .npad = (n + 7) & ~7, .nq = (n + 3) & ~3, .hd = hd};
    const size_t bytes = (size_t)sc.nq * sizeof(int16_t *) + (size_t)hd * sc.npad * 2 + (size_t)4 * sc.npad * 2 +
                         (size_t)4 * sc.npad * 4 + (size_t)hd * 4 + 64;
    char *buf = malloc(bytes);
    if (!buf) {
        s2c_window_attn_s16_c(out, ldo, qkv, ldq, h, w, c, heads, win, logit_mult, logit_shift, exp_lut, exp_len,
                              out_mult, out_shift);
        return;
    }
    /* int32 parts first (4-byte aligned from malloc), then pointers, then int16 */
    sc.z = (int32_t *)buf;
    sc.colsum = sc.z + 4 * sc.npad;
    sc.tok = (const int16_t **)(sc.colsum + hd);
    sc.vt = (int16_t *)(sc.tok + sc.nq);
    sc.p = sc.vt + (size_t)hd * sc.npad;
    for (int d = 0; d < hd; d++)  /* key padding: zero V columns (p' there is 0 too) */
        memset(sc.vt + (size_t)d * sc.npad + n, 0, (size_t)(sc.npad - n) * 2);
    for (int r = 0; r < 4; r++) memset(sc.p + (size_t)r * sc.npad + n, 0, (size_t)(sc.npad - n) * 2);
    for (int wi = 0; wi < nwin; wi++) {
        const int y0 = (wi / nwx) * win, x0 = (wi % nwx) * win;
        for (int i = 0; i < sc.nq; i++) {
            const int j = i < n ? i : 0;
            sc.tok[i] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
        }
        for (int hh = 0; hh < heads; hh++)
            attn_head(out, ldo, qkv, ldq, c, hh * hd, logit_mult, logit_shift, exp_lut, exp_len, out_mult, out_shift, &sc);
    }
    free(buf);
}

/* MARK: - Depthwise convolution
 *
 * Eight channels at a time; taps in pairs (t, t + 1) of the flattened k x k window: the two input
 * vectors are interleaved (channel ch of tap t next to channel ch of tap t + 1) so that one
 * i32x4.dot_i16x8_s against the weights interleaved the same way (packed once per call) gives
 * in_t w_t + in_t1 w_t1 for four channels; |pair| <= 2^23, exact. Taps outside the image read a zero
 * vector. The requant has one multiplier and shift per channel, which wasm's one-count shifts
 * cannot do per lane: it is the scalar s2c_requant_clamp. Channel tails use s2c_dwconv_s16_point;
 * without the packing buffer the C reference runs. */

void s2c_dwconv_s16_simd128(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                            const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    const int taps = k * k, pairs = (taps + 1) / 2, c8 = c & ~7, p = k / 2;
    int16_t *wp = c8 ? malloc((size_t)pairs * c8 * 2 * 2) : NULL;
    ptrdiff_t *off = c8 ? malloc((size_t)pairs * 2 * sizeof(ptrdiff_t)) : NULL;
    if (c8 && (!wp || !off)) {
        free(wp);
        free(off);
        s2c_dwconv_s16_c(out, in, h, w, c, wgt, k, bias, mult, shift, lo, hi);
        return;
    }
    /* wp[pair][ch][2] = (w[ch][tap 2 pair], w[ch][tap 2 pair + 1] or 0) */
    for (int pr = 0; pr < pairs; pr++)
        for (int ch = 0; ch < c8; ch++) {
            int16_t *d = wp + ((size_t)pr * c8 + ch) * 2;
            d[0] = wgt[ch * taps + 2 * pr];
            d[1] = 2 * pr + 1 < taps ? wgt[ch * taps + 2 * pr + 1] : 0;
        }
    static const int16_t zeros[8];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int16_t *o = out + ((ptrdiff_t)y * w + x) * c;
            if (c8) {
                /* element offsets of each tap's pixel, -1 outside the image (and for the odd last tap) */
                for (int t = 0; t < 2 * pairs; t++) {
                    const int yy = y + t / k - p, xx = x + t % k - p;
                    off[t] = t < taps && yy >= 0 && yy < h && xx >= 0 && xx < w ? ((ptrdiff_t)yy * w + xx) * c : -1;
                }
                for (int ch = 0; ch < c8; ch += 8) {
                    v128_t acc0 = bias ? wasm_v128_load(bias + ch) : wasm_i32x4_splat(0);
                    v128_t acc1 = bias ? wasm_v128_load(bias + ch + 4) : wasm_i32x4_splat(0);
                    for (int pr = 0; pr < pairs; pr++) {
                        const ptrdiff_t o0 = off[2 * pr], o1 = off[2 * pr + 1];
                        if (o0 < 0 && o1 < 0) continue;
                        const v128_t i0 = wasm_v128_load(o0 >= 0 ? in + o0 + ch : zeros);
                        const v128_t i1 = wasm_v128_load(o1 >= 0 ? in + o1 + ch : zeros);
                        const int16_t *wv = wp + ((size_t)pr * c8 + ch) * 2;
                        acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(i0, i1, 0, 8, 1, 9, 2, 10, 3, 11),
                                                                         wasm_v128_load(wv)));
                        acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(i0, i1, 4, 12, 5, 13, 6, 14, 7, 15),
                                                                         wasm_v128_load(wv + 8)));
                    }
                    int32_t a[8];
                    wasm_v128_store(a, acc0);
                    wasm_v128_store(a + 4, acc1);
                    for (int q = 0; q < 8; q++)
                        o[ch + q] = (int16_t)s2c_requant_clamp(a[q], mult[ch + q], shift[ch + q], lo, hi);
                }
            }
            for (int ch = c8; ch < c; ch++)
                o[ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
        }
    free(wp);
    free(off);
}
/* MARK: - LayerNorm
 *
 * Pass 1: S = sum x (pair sums by dot_i16x8_s with ones) and Q = sum x^2 (dot_i16x8_s(x, x): pair sums
 * up to 2^31, exact read as uint32, widened to 64 bits); V = c^2 Q - c S^2 = sum d^2 exactly (both terms
 * <= 2^60 for c <= 1024). Pass 2, x86/ops_avx2.c's division-free t: with L = bitlength(r),
 * inv = floor(2^(L+29) / r), est = floor(d inv / 2^(L+15) + 1/2) is within 1 of
 * t = floor((2^15 d + r) / 2r) (|d| <= r), and one compare on each side of (2 est - 1) r <= 2^15 d
 * < (2 est + 1) r makes it exact; then t g + b 2^16 + 2^(shift-1) >> shift, clamped: the reference term
 * for term, on int64 lanes whose shift counts are the same for the whole row. Rows wider than 1024
 * channels or with r >= 2^31 (a huge eps_q) take the C row; channel tails s2c_layernorm_s16_point. */

enum { LN_MAX_C = 1024 };

/* t g + b 2^16 + half >> shift, clamped, for two int64 lanes: d and g, b as int32 in lanes 0, 1 of the args. */
S2C_INLINE v128_t ln2(v128_t d, v128_t g, v128_t b, v128_t inv, v128_t bias, int cnt, v128_t r, v128_t r2,
                      v128_t half, int shift, v128_t lo, v128_t hi, int high) {
    const v128_t one = wasm_i64x2_splat(1);
    const v128_t d64 = high ? wasm_i64x2_extend_high_i32x4(d) : wasm_i64x2_extend_low_i32x4(d);
    const v128_t dd = wasm_i64x2_shl(d64, 15);  /* 2^15 d, |.| <= 2^41 */
    const v128_t di = high ? wasm_i64x2_extmul_high_i32x4(d, inv) : wasm_i64x2_extmul_low_i32x4(d, inv);
    v128_t t = wasm_i64x2_sub(wasm_i64x2_shr(wasm_i64x2_add(di, bias), (uint32_t)cnt), wasm_i64x2_splat(32768));
    /* (2 est - 1) r: |2 est - 1| < 2^16 and r < 2^31 */
    const v128_t t32 = wasm_i32x4_shuffle(t, t, 0, 2, 0, 2);
    const v128_t lower = wasm_i64x2_extmul_low_i32x4(wasm_i32x4_sub(wasm_i32x4_add(t32, t32), wasm_i32x4_splat(1)), r);
    const v128_t dec = wasm_i64x2_gt(lower, dd);                       /* -1: t = est - 1 */
    const v128_t ok = wasm_i64x2_gt(wasm_i64x2_add(lower, r2), dd);    /* 0: t = est + 1 */
    t = wasm_i64x2_add(wasm_i64x2_add(t, dec), wasm_v128_andnot(one, ok));
    const v128_t tg = wasm_i64x2_extmul_low_i32x4(wasm_i32x4_shuffle(t, t, 0, 2, 0, 2),
                                                  high ? wasm_i32x4_shuffle(g, g, 2, 3, 2, 3) : g);
    const v128_t b64 = high ? wasm_i64x2_extend_high_i32x4(b) : wasm_i64x2_extend_low_i32x4(b);
    v128_t y = wasm_i64x2_shr(wasm_i64x2_add(wasm_i64x2_add(tg, wasm_i64x2_shl(b64, 16)), half), (uint32_t)shift);
    y = wasm_v128_bitselect(lo, y, wasm_i64x2_lt(y, lo));
    return wasm_v128_bitselect(hi, y, wasm_i64x2_gt(y, hi));
}

static void ln_row(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g, const int32_t *b, int shift,
                   int lo, int hi) {
    if (c > LN_MAX_C) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    v128_t s4 = wasm_i32x4_splat(0), q2 = wasm_i64x2_splat(0);
    const v128_t ones = wasm_i16x8_splat(1);
    int i = 0;
    for (; i + 8 <= c; i += 8) {
        const v128_t v = wasm_v128_load(x + i), sq = wasm_i32x4_dot_i16x8(v, v);
        s4 = wasm_i32x4_add(s4, wasm_i32x4_dot_i16x8(v, ones));
        q2 = wasm_i64x2_add(q2, wasm_i64x2_add(wasm_u64x2_extend_low_u32x4(sq), wasm_u64x2_extend_high_u32x4(sq)));
    }
    int64_t s = s2c_wasm_hsum1(s4);  /* |S| <= 2^25 */
    uint64_t q = (uint64_t)wasm_i64x2_extract_lane(q2, 0) + (uint64_t)wasm_i64x2_extract_lane(q2, 1);
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
    const v128_t inv = wasm_i32x4_splat((int32_t)(((uint64_t)1 << (L + 29)) / r));
    const v128_t bias = wasm_i64x2_splat(((int64_t)1 << (L + 14)) + ((int64_t)1 << (L + 30)));
    const v128_t rv = wasm_i32x4_splat((int32_t)r), r2 = wasm_i64x2_splat(2 * (int64_t)r);
    const v128_t half = wasm_i64x2_splat((int64_t)1 << (shift - 1));
    const v128_t lo64 = wasm_i64x2_splat(lo), hi64 = wasm_i64x2_splat(hi);
    const v128_t cv = wasm_i32x4_splat(c), sv = wasm_i32x4_splat((int32_t)s);
    for (i = 0; i + 4 <= c; i += 4) {
        const v128_t d = wasm_i32x4_sub(wasm_i32x4_mul(wasm_i32x4_load16x4(x + i), cv), sv);  /* |d| <= 2^26 */
        const v128_t gv = wasm_v128_load(g + i), bv = wasm_v128_load(b + i);
        const v128_t y0 = ln2(d, gv, bv, inv, bias, L + 15, rv, r2, half, shift, lo64, hi64, 0);
        const v128_t y1 = ln2(d, gv, bv, inv, bias, L + 15, rv, r2, half, shift, lo64, hi64, 1);
        const v128_t y = wasm_i32x4_shuffle(y0, y1, 0, 2, 4, 6);
        wasm_v128_store64_lane(o + i, wasm_i16x8_narrow_i32x4(y, y), 0);
    }
    for (; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                               uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
    for (int r = 0; r < rows; r++) ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, shift, lo, hi);
}

/* MARK: - Gated product
 *
 * Eight values at a time: the table reads are scalar (wasm has no gather), lut * b is the exact
 * product of two int16 (i32x4.extmul_*_i16x8_s, |.| <= 2^30), and the requant has the layer's one
 * multiplier and shift. */

void s2c_gated_s16_simd128(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                           const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
    const int64_t half = (int64_t)1 << (shift - 1);
    for (int r = 0; r < rows; r++) {
        const int16_t *a = in + r * ldi, *bb = a + hc;
        int16_t *o = out + r * ldo;
        int j = 0;
        for (; j + 8 <= hc; j += 8) {
            int16_t l[8];
            for (int q = 0; q < 8; q++) l[q] = lut[(uint16_t)a[j + q]];
            const v128_t lv = wasm_v128_load(l), bv = wasm_v128_load(bb + j);
            const v128_t y0 = s2c_wasm_requant4(wasm_i32x4_extmul_low_i16x8(lv, bv), mult, shift, lo, hi);
            const v128_t y1 = s2c_wasm_requant4(wasm_i32x4_extmul_high_i16x8(lv, bv), mult, shift, lo, hi);
            wasm_v128_store(o + j, wasm_i16x8_narrow_i32x4(y0, y1));
        }
        for (; j < hc; j++) {
            const int64_t y = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
            o[j] = (int16_t)(y < lo ? lo : y > hi ? hi : y);
        }
    }
}
#endif
