/* arm/ops_neon.c: NEON layer kernels (depthwise conv, LayerNorm, gated product, rescale, window attention),
 * bit-exact with ops_c.c. */
#if defined(__aarch64__)
#include "gemm_neon.h"

/* Exactness: SMLAL / SMLAL2 add exact int16 x int16 products (|in * w| <= 2^22) into int32 lanes
 * that wrap mod 2^32 like the C reference; SMULL gives the exact gated product lut * b (<= 2^30).
 * Requantization is s2c_neon_requant4 (SMULL by mult, SRSHL by -shift = round half up, clamp).
 * NEON has no gather, so LUT entries are loaded with scalar loads into a vector (lut16_s16 has no NEON
 * variant: it would be the C loop's scalar loads plus lane moves; see docs/kernels.md).
 * Threads: OpenMP over image rows / rows / windows (outer loop only). */

/* Taps handled by the SIMD dwconv (k <= 7); larger kernels use the C reference. */
enum { DW_MAX_TAPS = 49 };


static void dw_row(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi, int y) {
    const int p = k / 2, taps = k * k;
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    int cb = 0;
    for (; cb + 8 <= c; cb += 8) {
        int16x8_t wv[DW_MAX_TAPS];
        for (int t = 0; t < taps; t++) {
            int16_t tw[8];
            for (int i = 0; i < 8; i++) tw[i] = wgt[(cb + i) * taps + t];
            wv[t] = vld1q_s16(tw);
        }
        const int32x4_t b0 = bias ? vld1q_s32(bias + cb) : vdupq_n_s32(0);
        const int32x4_t b1 = bias ? vld1q_s32(bias + cb + 4) : vdupq_n_s32(0);
        const int32x4_t m0 = vld1q_s32(mult + cb), m1 = vld1q_s32(mult + cb + 4);
        const int32x4_t s0 = vld1q_s32(shift + cb), s1 = vld1q_s32(shift + cb + 4);
        for (int x = 0; x < w; x++) {
            int32x4_t a0 = b0, a1 = b1;
            for (int ky = 0; ky < k; ky++) {
                const int yy = y + ky - p;
                if (yy < 0 || yy >= h) continue;
                for (int kx = 0; kx < k; kx++) {
                    const int xx = x + kx - p;
                    if (xx < 0 || xx >= w) continue;
                    const int16x8_t v = vld1q_s16(in + ((ptrdiff_t)yy * w + xx) * c + cb);
                    const int16x8_t wt = wv[ky * k + kx];
                    a0 = vmlal_s16(a0, vget_low_s16(v), vget_low_s16(wt));
                    a1 = vmlal_high_s16(a1, v, wt);
                }
            }
            vst1q_s16(out + ((ptrdiff_t)y * w + x) * c + cb,
                      vcombine_s16(s2c_neon_requant4(a0, m0, s0, lov, hiv), s2c_neon_requant4(a1, m1, s1, lov, hiv)));
        }
    }
    for (int x = 0; x < w && cb < c; x++)
        for (int ch = cb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

void s2c_dwconv_s16_neon(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
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
    int32x2_t inv, r;
    int64x2_t r2, nl, nshift;  /* nl = -(L + 15), nshift = -shift: SRSHL counts */
    int32x4_t lo, hi;
} LNConst;

/* Pass 2 on 4 channels: d (int32), g, b -> the 4 clamped outputs. */
static inline int16x4_t ln4(int32x4_t d, int32x4_t g, int32x4_t b, const LNConst *k) {
    int64x2_t y[2];
    for (int hf = 0; hf < 2; hf++) {
        const int32x2_t dh = hf ? vget_high_s32(d) : vget_low_s32(d);
        const int32x2_t gh = hf ? vget_high_s32(g) : vget_low_s32(g), bh = hf ? vget_high_s32(b) : vget_low_s32(b);
        const int64x2_t dd = vshll_n_s32(dh, 15);                               /* 2^15 d, |.| <= 2^41 */
        const int32x2_t est = vmovn_s64(vrshlq_s64(vmull_s32(dh, k->inv), k->nl)); /* |est| <= 2^14 + 1 */
        const int64x2_t lower = vmull_s32(vsub_s32(vadd_s32(est, est), vdup_n_s32(1)), k->r);  /* (2 est - 1) r */
        const uint32x2_t dec = vmovn_u64(vcgtq_s64(lower, dd));                  /* t = est - 1 */
        const uint32x2_t ok = vmovn_u64(vcgtq_s64(vaddq_s64(lower, k->r2), dd)); /* else t = est + 1 */
        const int32x2_t t = vsub_s32(vadd_s32(est, vreinterpret_s32_u32(dec)), vreinterpret_s32_u32(vmvn_u32(ok)));
        y[hf] = vrshlq_s64(vmlal_s32(vshll_n_s32(bh, 16), t, gh), k->nshift);  /* (t g + b 2^16 + 2^(s-1)) >> s */
    }
    const int32x4_t r = vcombine_s32(vqmovn_s64(y[0]), vqmovn_s64(y[1]));  /* saturating: cannot change the clamp */
    return vmovn_s32(vminq_s32(vmaxq_s32(r, k->lo), k->hi));
}

/* One row: the algorithm of x86/ops_avx2.c's ln_row (S and Q = sum x^2 by SADALP, V = c^2 Q - c S^2, then
 * est = floor(d inv / 2^(L+15) + 1/2) with inv = floor(2^(L+29) / r), L = bitlength(r), within 1 of t, and
 * one compare on each side against (2 est -+ 1) r makes it exact); SRSHL by -(L+15) and by -shift is
 * exactly the round-half-up shift of the reference. Channel tails use s2c_layernorm_s16_point. */
static void ln_row(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g, const int32_t *b,
                   int shift, int lo, int hi) {
    if (c > LN_MAX_C) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    int32x4_t s32 = vdupq_n_s32(0);
    int64x2_t q64 = vdupq_n_s64(0);
    int i = 0;
    for (; i + 8 <= c; i += 8) {
        const int16x8_t v = vld1q_s16(x + i);
        s32 = vpadalq_s16(s32, v);
        q64 = vpadalq_s32(q64, vmull_s16(vget_low_s16(v), vget_low_s16(v)));  /* x^2 <= 2^30 */
        q64 = vpadalq_s32(q64, vmull_high_s16(v, v));
    }
    int64_t s = vaddvq_s32(s32);  /* |S| <= 2^25 */
    uint64_t q = (uint64_t)vaddvq_s64(q64);
    for (; i < c; i++) {
        s += x[i];
        q += (uint64_t)(x[i] * x[i]);
    }
    const uint64_t v = (uint64_t)c * (uint64_t)c * q - (uint64_t)c * (uint64_t)(s * s);  /* = sum d^2, both terms <= 2^60 */
    const uint32_t r = s2c_layernorm_r(v, eps_q);
    if (r >= 1u << 31) {
        s2c_layernorm_s16_row_c(o, x, c, eps_q, g, b, shift, lo, hi);
        return;
    }
    const int L = 32 - __builtin_clz(r);
    const LNConst k = {
        .inv = vdup_n_s32((int32_t)(((uint64_t)1 << (L + 29)) / r)), .r = vdup_n_s32((int32_t)r),
        .r2 = vdupq_n_s64(2 * (int64_t)r), .nl = vdupq_n_s64(-(L + 15)), .nshift = vdupq_n_s64(-shift),
        .lo = vdupq_n_s32(lo), .hi = vdupq_n_s32(hi),
    };
    const int32x4_t sv = vdupq_n_s32((int32_t)s);
    for (i = 0; i + 8 <= c; i += 8) {
        const int16x8_t xv = vld1q_s16(x + i);
        const int32x4_t d0 = vsubq_s32(vmull_n_s16(vget_low_s16(xv), (int16_t)c), sv);
        const int32x4_t d1 = vsubq_s32(vmull_high_n_s16(xv, (int16_t)c), sv);
        vst1q_s16(o + i, vcombine_s16(ln4(d0, vld1q_s32(g + i), vld1q_s32(b + i), &k),
                                      ln4(d1, vld1q_s32(g + i + 4), vld1q_s32(b + i + 4), &k)));
    }
    if (i + 4 <= c) {
        const int32x4_t d0 = vsubq_s32(vmull_n_s16(vld1_s16(x + i), (int16_t)c), sv);
        vst1_s16(o + i, ln4(d0, vld1q_s32(g + i), vld1q_s32(b + i), &k));
        i += 4;
    }
    for (; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                            uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, shift, lo, hi);
}

/* MARK: - Gated product, rescale */

static void gated_row(int16_t *o, const int16_t *a, const int16_t *bb, int hc, const int16_t *lut,
                      int32_t mult, int shift, int lo, int hi) {
    const int32x4_t mv = vdupq_n_s32(mult), sv = vdupq_n_s32(shift);
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    const int64_t half = (int64_t)1 << (shift - 1);
    int j = 0;
    for (; j + 8 <= hc; j += 8) {
        int16_t l[8];
        for (int i = 0; i < 8; i++) l[i] = lut[(uint16_t)a[j + i]];
        const int16x8_t lv = vld1q_s16(l), bv = vld1q_s16(bb + j);
        const int32x4_t p0 = vmull_s16(vget_low_s16(lv), vget_low_s16(bv)), p1 = vmull_high_s16(lv, bv);
        vst1q_s16(o + j, vcombine_s16(s2c_neon_requant4(p0, mv, sv, lov, hiv), s2c_neon_requant4(p1, mv, sv, lov, hiv)));
    }
    for (; j < hc; j++) {
        const int64_t v = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
        o[j] = (int16_t)(v < lo ? lo : v > hi ? hi : v);
    }
}

void s2c_gated_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                        const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        gated_row(out + r * ldo, in + r * ldi, in + r * ldi + hc, hc, lut, mult, shift, lo, hi);
}

static void rescale_row(int16_t *o, const int16_t *x, int c, const int32_t *mult, const int32_t *shift,
                        int lo, int hi) {
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    int ch = 0;
    for (; ch + 8 <= c; ch += 8) {
        const int16x8_t v = vld1q_s16(x + ch);
        const int16x4_t r0 = s2c_neon_requant4(vmovl_s16(vget_low_s16(v)), vld1q_s32(mult + ch),
                                               vld1q_s32(shift + ch), lov, hiv);
        const int16x4_t r1 = s2c_neon_requant4(vmovl_high_s16(v), vld1q_s32(mult + ch + 4),
                                               vld1q_s32(shift + ch + 4), lov, hiv);
        vst1q_s16(o + ch, vcombine_s16(r0, r1));
    }
    for (; ch < c; ch++) o[ch] = (int16_t)s2c_requant_clamp(x[ch], mult[ch], shift[ch], lo, hi);
}

void s2c_rescale_s16_neon(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                          const int32_t *shift, int lo, int hi) {
#pragma omp parallel for schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        rescale_row(out + (ptrdiff_t)r * c, in + (ptrdiff_t)r * c, c, mult, shift, lo, hi);
}

/* MARK: - Window attention */

/* sum_d a[d] b[d] mod 2^32: SMLAL products are exact ((-32768)^2 = 2^30), lanes wrap like the reference. */
static inline int32_t dot_s16(const int16_t *a, const int16_t *b, int n) {
    int32x4_t acc = vdupq_n_s32(0);
    int d = 0;
    for (; d + 8 <= n; d += 8) {
        const int16x8_t x = vld1q_s16(a + d), y = vld1q_s16(b + d);
        acc = vmlal_high_s16(vmlal_s16(acc, vget_low_s16(x), vget_low_s16(y)), x, y);
    }
    for (; d + 4 <= n; d += 4) acc = vmlal_s16(acc, vld1_s16(a + d), vld1_s16(b + d));
    uint32_t r = (uint32_t)vaddvq_s32(acc);
    for (; d < n; d++) r += (uint32_t)(a[d] * b[d]);
    return (int32_t)r;
}

/* dot_s16 of a with four rows b[0..3] at once (one load of a per step): [l0, l1, l2, l3]. */
static inline int32x4_t dot4_s16(const int16_t *a, const int16_t *const b[4], int n) {
    int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    int d = 0;
    for (; d + 8 <= n; d += 8) {
        const int16x8_t x = vld1q_s16(a + d);
        S2C_UNROLL for (int q = 0; q < 4; q++) {
            const int16x8_t y = vld1q_s16(b[q] + d);
            acc[q] = vmlal_high_s16(vmlal_s16(acc[q], vget_low_s16(x), vget_low_s16(y)), x, y);
        }
    }
    for (; d + 4 <= n; d += 4) {
        const int16x4_t x = vld1_s16(a + d);
        S2C_UNROLL for (int q = 0; q < 4; q++) acc[q] = vmlal_s16(acc[q], x, vld1_s16(b[q] + d));
    }
    int32x4_t s = s2c_neon_hsum4(acc[0], acc[1], acc[2], acc[3]);
    if (d < n) {
        uint32_t t[4] = {0, 0, 0, 0};
        for (; d < n; d++)
            S2C_UNROLL for (int q = 0; q < 4; q++) t[q] += (uint32_t)(a[d] * b[q][d]);
        s = vaddq_s32(s, vreinterpretq_s32_u32(vld1q_u32(t)));
    }
    return s;
}

/* s2c_requant_clamp on 4 lanes with an int32 result (the logits): s2c_neon_requant4 without the narrowing. */
static inline int32x4_t requant4_s32(int32x4_t acc, int32x4_t mult, int64x2_t nshift, int32x4_t lo, int32x4_t hi) {
    const int64x2_t p0 = vrshlq_s64(vmull_s32(vget_low_s32(acc), vget_low_s32(mult)), nshift);
    const int64x2_t p1 = vrshlq_s64(vmull_high_s32(acc, mult), nshift);
    return vminq_s32(vmaxq_s32(vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1)), lo), hi);
}

/* One window, all heads: ops_c.c's attn_window with q.k four keys at a time (SMLAL, wrapping like the
 * reference's uint32 sum), the logit requant and running max on 4 lanes, and p.v over 8 channels by MLA
 * on widened v (p <= 2^15 does not fit int16, |p v| <= 2^30 is exact, lanes wrap like the reference).
 * The softmax (LUT, sum, division) is the reference's scalar code. */
static void attn_window(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int w, int c,
                        int heads, int win, int y0, int x0, int32_t logit_mult, int logit_shift,
                        const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    const int n = win * win, hd = c / heads;
    const int16_t *tok[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    int32_t z[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN], e[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
    for (int j = 0; j < n; j++) tok[j] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
    const int32x4_t lm = vdupq_n_s32(logit_mult), zlo = vdupq_n_s32(-(1 << 24)), zhi = vdupq_n_s32(1 << 24);
    const int64x2_t lsh = vdupq_n_s64(-logit_shift);
    const int32x4_t om = vdupq_n_s32(out_mult), os = vdupq_n_s32(out_shift);
    const int32x4_t olo = vdupq_n_s32(-32768), ohi = vdupq_n_s32(32767);
    for (int hh = 0; hh < heads; hh++) {
        const int qo = hh * hd, ko = c + hh * hd, vo = 2 * c + hh * hd;
        for (int i = 0; i < n; i++) {
            const int16_t *q = tok[i] + qo;
            int32x4_t mx = vdupq_n_s32(INT32_MIN);
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                const int16_t *const kp[4] = {tok[j] + ko, tok[j + 1] + ko, tok[j + 2] + ko, tok[j + 3] + ko};
                const int32x4_t zz = requant4_s32(dot4_s16(q, kp, hd), lm, lsh, zlo, zhi);
                vst1q_s32(z + j, zz);
                mx = vmaxq_s32(mx, zz);
            }
            int32_t m = vmaxvq_s32(mx);
            for (; j < n; j++) {
                z[j] = s2c_requant_clamp(dot_s16(q, tok[j] + ko, hd), logit_mult, logit_shift, -(1 << 24), 1 << 24);
                if (z[j] > m) m = z[j];
            }
            int64_t sum = 0;
            for (j = 0; j < n; j++) {
                const int32_t t = m - z[j];
                e[j] = t < exp_len ? exp_lut[t] : 0;
                sum += e[j];
            }
            if (sum == 0) sum = 1;
            for (j = 0; j < n; j++) e[j] = (int32_t)((e[j] * (int64_t)32768 + sum / 2) / sum);
            int16_t *o = out + (tok[i] - qkv) / ldq * ldo + qo;
            int d = 0;
            for (; d + 8 <= hd; d += 8) {
                int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
                for (j = 0; j < n; j++) {
                    const int16x8_t v = vld1q_s16(tok[j] + vo + d);
                    a0 = vmlaq_n_s32(a0, vmovl_s16(vget_low_s16(v)), e[j]);
                    a1 = vmlaq_n_s32(a1, vmovl_high_s16(v), e[j]);
                }
                vst1q_s16(o + d, vcombine_s16(s2c_neon_requant4(a0, om, os, olo, ohi), s2c_neon_requant4(a1, om, os, olo, ohi)));
            }
            if (d + 4 <= hd) {
                int32x4_t a0 = vdupq_n_s32(0);
                for (j = 0; j < n; j++) a0 = vmlaq_n_s32(a0, vmovl_s16(vld1_s16(tok[j] + vo + d)), e[j]);
                vst1_s16(o + d, s2c_neon_requant4(a0, om, os, olo, ohi));
                d += 4;
            }
            for (; d < hd; d++) {
                uint32_t acc = 0;
                for (j = 0; j < n; j++) acc += (uint32_t)(e[j] * tok[j][vo + d]);
                o[d] = s2c_requant_s16((int32_t)acc, out_mult, out_shift);
            }
        }
    }
}

void s2c_window_attn_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
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
