/* arm/ops_neon.c: NEON layer kernels (depthwise conv, LayerNorm, gated product, rescale, window attention),
 * bit-exact with ops_c.c. */
#if defined(__aarch64__)
#include <stdlib.h>

#include "gemm_neon.h"

/* Exactness: SMLAL / SMLAL2 add exact int16 x int16 products (|in * w| <= 2^22) into int32 lanes
 * that wrap mod 2^32 like the C reference; SMULL gives the exact gated product lut * b (<= 2^30).
 * Requantization is s2c_neon_requant4 (SMULL by mult, SRSHL by -shift = round half up, clamp).
 * NEON has no gather, so LUT entries are loaded with scalar loads into a vector (lut16_s16 has no NEON
 * variant: it would be the C loop's scalar loads plus lane moves; see docs/kernels.md).
 * Threads: OpenMP over image rows / rows / windows (outer loop only). */

/* Taps handled by the SIMD dwconv (k <= 7); larger kernels use the C reference. */
enum { DW_MAX_TAPS = 49 };


/* dwconv: the tap offsets and the 8-channel blocks' weights (int16) are laid out once per call; each
 * output row runs its interior (every tap inside the image: no bounds checks) two pixels at a time
 * (one weight load for two pixels' SMLAL / SMLAL2), and the borders with checks. Exact int16 products,
 * wrapping int32 lanes, s2c_neon_requant4. */
typedef struct {
    int k, p, taps, nb;
    ptrdiff_t off[DW_MAX_TAPS];  /* tap t: ((t / k - p) w + t % k - p) c */
    int dy[DW_MAX_TAPS], dx[DW_MAX_TAPS];
    int16_t *wv;                 /* [nb][taps][8] */
} DwTables;

static int dw_tables(DwTables *t, int w, int c, const int8_t *wgt, int k) {
    t->k = k; t->p = k / 2; t->taps = k * k; t->nb = c / 8;
    for (int q = 0; q < t->taps; q++) {
        t->dy[q] = q / k - t->p;
        t->dx[q] = q % k - t->p;
        t->off[q] = ((ptrdiff_t)t->dy[q] * w + t->dx[q]) * c;
    }
    t->wv = malloc((size_t)(t->nb > 0 ? t->nb : 1) * t->taps * 8 * sizeof(int16_t));
    if (!t->wv) return -1;
    for (int b = 0; b < t->nb; b++)
        for (int q = 0; q < t->taps; q++)
            for (int i = 0; i < 8; i++) t->wv[((size_t)b * t->taps + q) * 8 + i] = wgt[(8 * b + i) * t->taps + q];
    return 0;
}

static void dw_row(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi, int y,
                   const DwTables *t) {
    const int p = t->p, taps = t->taps, inner = y >= p && y + p < h;
    const int xa = p < w ? p : w, xb = w - p > xa ? w - p : xa;  /* [xa, xb): every tap inside the row */
    const int32x4_t lov = vdupq_n_s32(lo), hiv = vdupq_n_s32(hi);
    for (int b = 0; b < t->nb; b++) {
        const int cb = 8 * b;
        const int16_t *wb = t->wv + (size_t)b * taps * 8;
        const int32x4_t b0 = bias ? vld1q_s32(bias + cb) : vdupq_n_s32(0);
        const int32x4_t b1 = bias ? vld1q_s32(bias + cb + 4) : vdupq_n_s32(0);
        const int32x4_t m0 = vld1q_s32(mult + cb), m1 = vld1q_s32(mult + cb + 4);
        const int32x4_t s0 = vld1q_s32(shift + cb), s1 = vld1q_s32(shift + cb + 4);
        int x = 0;
        while (x < w) {
            const int16_t *src = in + ((ptrdiff_t)y * w + x) * c + cb;
            if (inner && x >= xa && x + 1 < xb) {  /* two interior pixels */
                int32x4_t a0 = b0, a1 = b1, a2 = b0, a3 = b1;
                int q = 0;
                for (; q + 2 <= taps; q += 2) {  /* two taps per step: independent loads to overlap on in-order cores */
                    const int16x8_t wt = vld1q_s16(wb + 8 * q), wu = vld1q_s16(wb + 8 * q + 8);
                    const int16x8_t v0 = vld1q_s16(src + t->off[q]), v1 = vld1q_s16(src + t->off[q] + c);
                    const int16x8_t u0 = vld1q_s16(src + t->off[q + 1]), u1 = vld1q_s16(src + t->off[q + 1] + c);
                    a0 = vmlal_s16(a0, vget_low_s16(v0), vget_low_s16(wt));
                    a1 = vmlal_high_s16(a1, v0, wt);
                    a2 = vmlal_s16(a2, vget_low_s16(v1), vget_low_s16(wt));
                    a3 = vmlal_high_s16(a3, v1, wt);
                    a0 = vmlal_s16(a0, vget_low_s16(u0), vget_low_s16(wu));
                    a1 = vmlal_high_s16(a1, u0, wu);
                    a2 = vmlal_s16(a2, vget_low_s16(u1), vget_low_s16(wu));
                    a3 = vmlal_high_s16(a3, u1, wu);
                }
                if (q < taps) {
                    const int16x8_t wt = vld1q_s16(wb + 8 * q);
                    const int16x8_t v0 = vld1q_s16(src + t->off[q]), v1 = vld1q_s16(src + t->off[q] + c);
                    a0 = vmlal_s16(a0, vget_low_s16(v0), vget_low_s16(wt));
                    a1 = vmlal_high_s16(a1, v0, wt);
                    a2 = vmlal_s16(a2, vget_low_s16(v1), vget_low_s16(wt));
                    a3 = vmlal_high_s16(a3, v1, wt);
                }
                int16_t *o = out + ((ptrdiff_t)y * w + x) * c + cb;
                vst1q_s16(o, vcombine_s16(s2c_neon_requant4(a0, m0, s0, lov, hiv), s2c_neon_requant4(a1, m1, s1, lov, hiv)));
                vst1q_s16(o + c, vcombine_s16(s2c_neon_requant4(a2, m0, s0, lov, hiv), s2c_neon_requant4(a3, m1, s1, lov, hiv)));
                x += 2;
                continue;
            }
            int32x4_t a0 = b0, a1 = b1;
            for (int q = 0; q < taps; q++) {
                const int yy = y + t->dy[q], xx = x + t->dx[q];
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                const int16x8_t wt = vld1q_s16(wb + 8 * q), v = vld1q_s16(src + t->off[q]);
                a0 = vmlal_s16(a0, vget_low_s16(v), vget_low_s16(wt));
                a1 = vmlal_high_s16(a1, v, wt);
            }
            vst1q_s16(out + ((ptrdiff_t)y * w + x) * c + cb,
                      vcombine_s16(s2c_neon_requant4(a0, m0, s0, lov, hiv), s2c_neon_requant4(a1, m1, s1, lov, hiv)));
            x++;
        }
    }
    for (int x = 0; x < w && 8 * t->nb < c; x++)
        for (int ch = 8 * t->nb; ch < c; ch++)
            out[((ptrdiff_t)y * w + x) * c + ch] = s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

void s2c_dwconv_s16_neon(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                         const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
    DwTables t;
    if (k * k > DW_MAX_TAPS || h <= 0 || w <= 0 || dw_tables(&t, w, c, wgt, k)) {
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
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        ln_row(out + r * ldo, in + r * ldi, c, eps_q, g, b, shift, lo, hi);
}

/* MARK: - LUT */

/* lut16: scalar table loads (NEON has no gather), four at a time from one 64-bit load of four indices
 * (bit-field extracts), the four results packed into one 64-bit store: the C loop's load -> load ->
 * store chain per value stalls an in-order core (llvm-mca, docs/kernels.md: ~11 cycles a value on
 * Cortex-A55), four independent chains do not. Same values as the reference: out[i] = lut[(uint16_t)in[i]]. */
static void lut_span(int16_t *out, const int16_t *in, ptrdiff_t i0, ptrdiff_t i1, const int16_t *lut) {
    const uint16_t *ul = (const uint16_t *)lut;
    ptrdiff_t i = i0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__  /* lane j of a 64-bit load is bits 16 j .. 16 j + 15 */
    for (; i + 8 <= i1; i += 8) {
        uint64_t x0, x1;
        memcpy(&x0, in + i, 8);
        memcpy(&x1, in + i + 4, 8);
        const uint64_t r0 = (uint64_t)ul[x0 & 0xffff] | (uint64_t)ul[(x0 >> 16) & 0xffff] << 16 |
                            (uint64_t)ul[(x0 >> 32) & 0xffff] << 32 | (uint64_t)ul[x0 >> 48] << 48;
        const uint64_t r1 = (uint64_t)ul[x1 & 0xffff] | (uint64_t)ul[(x1 >> 16) & 0xffff] << 16 |
                            (uint64_t)ul[(x1 >> 32) & 0xffff] << 32 | (uint64_t)ul[x1 >> 48] << 48;
        memcpy(out + i, &r0, 8);
        memcpy(out + i + 4, &r1, 8);
    }
#endif
    for (; i < i1; i++) out[i] = lut[(uint16_t)in[i]];
}

/* Chunks of 4096 values per work item (whole chunks: the split never depends on the thread count). */
void s2c_lut16_s16_neon(int16_t *out, const int16_t *in, ptrdiff_t n, const int16_t *lut) {
    const ptrdiff_t chunk = 4096, nb = (n + chunk - 1) / chunk;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if (n >= S2C_OMP_MIN_WORK * 4)
    for (ptrdiff_t b = 0; b < nb; b++) lut_span(out, in, b * chunk, b * chunk + chunk < n ? b * chunk + chunk : n, lut);
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
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
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
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
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

/* The fast path for heads of hd % 8 == 0 channels (hybrid-t: 32), the design of x86/ops_avx2.c (per
 * (window, head) broadcast GEMMs) with NEON's by-element multiply-accumulate:
 *   L = q K^T: K transposed to [channel d][key j] (int16, keys zero padded to a multiple of 8); for each d,
 *     SMLAL / SMLAL2 of 8 keys' k_jd by the lane q_d (exact int16 products, wrapping int32 lanes).
 *   z = clamp(requant(L), +-2^24) (requant4_s32), m = max over the n real keys.
 *   e = exp_lut[m - z] or 0 (scalar loads: no gather), sum_j e_j < 2^26.
 *   p = floor(N / sum), N = 2^15 e + floor(sum / 2) < 2^32: est = (N inv) >> (31 + L) with
 *     inv = floor((2^(31+L) - 1) / sum), L = bitlength(sum) (UMULL, USHL), then + 1 unless
 *     (est + 1) sum > N (UMULL, compare): exactly q, as proved in x86/ops_avx2.c. No division per value.
 *   out = requant(sum_j p'_j v_j + 2^14 sum_j v_j) with p' = p - 2^14 in int16 (p can be 2^15): SMLAL
 *     of each key's v_j (8 channels) by the lane p'_j; the column sums are added back mod 2^32.
 * Scratch (K^T, the logits / e, p') from the heap per thread; without it the reference-style window below. */
typedef struct {
    int npad;
    int16_t *kt;    /* [hd][npad] */
    int32_t *lrow;  /* [npad] */
    int16_t *prow;  /* [npad] */
    int32_t *cs;    /* [hd] */
} AttnScratch;

/* z = clamp(requant(q K^T)) of NG groups of 8 keys (kt rows npad apart). */
static inline __attribute__((always_inline)) void attn_qk(int32_t *lrow, const int16_t *kt, int npad, const int16_t *q,
                                                          int hd, int NG, int32x4_t lm, int64x2_t lsh, int32x4_t zlo,
                                                          int32x4_t zhi) {
    int32x4_t acc[16];
    S2C_UNROLL for (int g = 0; g < 2 * NG; g++) acc[g] = vdupq_n_s32(0);
    for (int d8 = 0; d8 < hd; d8 += 8) {
        const int16x8_t qv = vld1q_s16(q + d8);
        const int16_t *kr = kt + (size_t)d8 * npad;
#define QK_LANE(l)                                                                                      \
        S2C_UNROLL for (int g = 0; g < NG; g++) {                                                       \
            const int16x8_t kv = vld1q_s16(kr + (size_t)(l) * npad + 8 * g);                             \
            acc[2 * g] = vmlal_laneq_s16(acc[2 * g], vget_low_s16(kv), qv, l);                          \
            acc[2 * g + 1] = vmlal_high_laneq_s16(acc[2 * g + 1], kv, qv, l);                           \
        }
        QK_LANE(0) QK_LANE(1) QK_LANE(2) QK_LANE(3) QK_LANE(4) QK_LANE(5) QK_LANE(6) QK_LANE(7)
#undef QK_LANE
    }
    S2C_UNROLL for (int g = 0; g < 2 * NG; g++) vst1q_s32(lrow + 4 * g, requant4_s32(acc[g], lm, lsh, zlo, zhi));
}

/* o[d] = requant(sum_j p'_j v_jd + colsum_d) for NQ groups of 8 channels (v_j at tok[j] + vo). */
static inline __attribute__((always_inline)) void attn_pv(int16_t *o, const int16_t *const *tok, int vo, const int16_t *prow,
                                                          int n, const int32_t *cs, int NQ, int32x4_t om, int32x4_t os,
                                                          int32x4_t olo, int32x4_t ohi) {
    int32x4_t acc[8];
    S2C_UNROLL for (int g = 0; g < 2 * NQ; g++) acc[g] = vld1q_s32(cs + 4 * g);
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        const int16x8_t pv = vld1q_s16(prow + j);
#define PV_LANE(l)                                                                                      \
        S2C_UNROLL for (int g = 0; g < NQ; g++) {                                                       \
            const int16x8_t v = vld1q_s16(tok[j + (l)] + vo + 8 * g);                                    \
            acc[2 * g] = vmlal_laneq_s16(acc[2 * g], vget_low_s16(v), pv, l);                           \
            acc[2 * g + 1] = vmlal_high_laneq_s16(acc[2 * g + 1], v, pv, l);                            \
        }
        PV_LANE(0) PV_LANE(1) PV_LANE(2) PV_LANE(3) PV_LANE(4) PV_LANE(5) PV_LANE(6) PV_LANE(7)
#undef PV_LANE
    }
    for (; j < n; j++) {
        const int16_t pj = prow[j];
        S2C_UNROLL for (int g = 0; g < NQ; g++) {
            const int16x8_t v = vld1q_s16(tok[j] + vo + 8 * g);
            acc[2 * g] = vmlal_n_s16(acc[2 * g], vget_low_s16(v), pj);
            acc[2 * g + 1] = vmlal_high_n_s16(acc[2 * g + 1], v, pj);
        }
    }
    S2C_UNROLL for (int g = 0; g < NQ; g++)
        vst1q_s16(o + 8 * g, vcombine_s16(s2c_neon_requant4(acc[2 * g], om, os, olo, ohi),
                                          s2c_neon_requant4(acc[2 * g + 1], om, os, olo, ohi)));
}

static void attn_head_fast(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, const int16_t *const *tok,
                           int n, int c, int hd, int qo, int32_t logit_mult, int logit_shift, const uint16_t *exp_lut,
                           int exp_len, int32_t out_mult, int out_shift, const AttnScratch *sc) {
    const int npad = sc->npad, ko = c + qo, vo = 2 * c + qo;
    for (int d = 0; d < hd; d++)
        for (int j = 0; j < npad; j++) sc->kt[(size_t)d * npad + j] = j < n ? tok[j][ko + d] : 0;
    for (int d = 0; d < hd; d += 4) {
        int32x4_t a = vdupq_n_s32(0);
        for (int j = 0; j < n; j++) a = vaddw_s16(a, vld1_s16(tok[j] + vo + d));
        vst1q_s32(sc->cs + d, vshlq_n_s32(a, 14));
    }
    const int32x4_t lm = vdupq_n_s32(logit_mult), zlo = vdupq_n_s32(-(1 << 24)), zhi = vdupq_n_s32(1 << 24);
    const int64x2_t lsh = vdupq_n_s64(-logit_shift);
    const int32x4_t om = vdupq_n_s32(out_mult), os = vdupq_n_s32(out_shift);
    const int32x4_t olo = vdupq_n_s32(-32768), ohi = vdupq_n_s32(32767);
    for (int i = 0; i < n; i++) {
        const int16_t *q = tok[i] + qo;
        /* L = q K^T, 64 keys (16 accumulators) at a time */
        for (int j0 = 0; j0 < npad; j0 += 64) {
            const int ng = npad - j0 < 64 ? (npad - j0) / 8 : 8;
            switch (ng) {
#define QK(NG) case NG: attn_qk(sc->lrow + j0, sc->kt + j0, npad, q, hd, NG, lm, lsh, zlo, zhi); break;
            QK(1) QK(2) QK(3) QK(4) QK(5) QK(6) QK(7) QK(8)
#undef QK
            }
        }
        /* softmax: max over the real keys, e by scalar loads, p' by the reciprocal */
        int32_t m = INT32_MIN;
        for (int j = 0; j < n; j++) m = sc->lrow[j] > m ? sc->lrow[j] : m;
        uint32_t sum = 0;
        for (int j = 0; j < npad; j++) {
            const uint32_t t = (uint32_t)(m - sc->lrow[j]);  /* 0 <= t <= 2^25 for real keys */
            const int32_t e = j < n && t < (uint32_t)exp_len ? exp_lut[t] : 0;
            sc->lrow[j] = e;
            sum += (uint32_t)e;
        }
        if (sum == 0) sum = 1;
        const int L = 32 - __builtin_clz(sum);
        const uint32x2_t invv = vdup_n_u32((uint32_t)((((uint64_t)1 << (31 + L)) - 1) / sum)), sumv = vdup_n_u32(sum);
        const int64x2_t nsh = vdupq_n_s64(-(31 + L));
        const uint32x4_t halfv = vdupq_n_u32(sum / 2), one = vdupq_n_u32(1);
        for (int j = 0; j < npad; j += 4) {
            const uint32x4_t nn = vaddq_u32(vshlq_n_u32(vreinterpretq_u32_s32(vld1q_s32(sc->lrow + j)), 15), halfv);
            const uint64x2_t e0 = vshlq_u64(vmull_u32(vget_low_u32(nn), invv), nsh);
            const uint64x2_t e1 = vshlq_u64(vmull_high_u32(nn, vcombine_u32(invv, invv)), nsh);
            const uint32x4_t up = vaddq_u32(vcombine_u32(vmovn_u64(e0), vmovn_u64(e1)), one);  /* est + 1 <= 2^15 + 1 */
            const uint64x2_t c0 = vcgtq_u64(vmull_u32(vget_low_u32(up), sumv), vmovl_u32(vget_low_u32(nn)));
            const uint64x2_t c1 = vcgtq_u64(vmull_high_u32(up, vcombine_u32(sumv, sumv)), vmovl_high_u32(nn));
            const uint32x4_t p = vsubq_u32(up, vandq_u32(vcombine_u32(vmovn_u64(c0), vmovn_u64(c1)), one));
            vst1_s16(sc->prow + j, vmovn_s32(vsubq_s32(vreinterpretq_s32_u32(p), vdupq_n_s32(16384))));
        }
        /* out = requant(sum_j p'_j v_j + 2^14 colsum), 32 channels (8 accumulators) at a time */
        int16_t *o = out + (tok[i] - qkv) / ldq * ldo + qo;
        for (int d0 = 0; d0 < hd; d0 += 32) {
            const int nq = hd - d0 < 32 ? (hd - d0) / 8 : 4;
            switch (nq) {
#define PV(NQ) case NQ: attn_pv(o + d0, tok, vo + d0, sc->prow, n, sc->cs + d0, NQ, om, os, olo, ohi); break;
            PV(1) PV(2) PV(3) PV(4)
#undef PV
            }
        }
    }
}

static int attn_scratch_alloc(AttnScratch *sc, int n, int hd) {
    sc->npad = (n + 7) & ~7;
    const size_t bytes = (size_t)hd * sc->npad * 2 + (size_t)sc->npad * 4 + (size_t)sc->npad * 2 + (size_t)hd * 4 + 64;
    char *buf = malloc(bytes);
    if (!buf) return -1;
    sc->lrow = (int32_t *)buf;
    sc->cs = sc->lrow + sc->npad;
    sc->kt = (int16_t *)(sc->cs + hd);
    sc->prow = sc->kt + (size_t)hd * sc->npad;
    return 0;
}

void s2c_window_attn_s16_neon(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                              int c, int heads, int win, int32_t logit_mult, int logit_shift,
                              const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win, hd = c / heads;
    const int fast = hd % 8 == 0;
#pragma omp parallel num_threads(s2c_team()) if ((int64_t)nwin * n * n * c * 2 >= S2C_OMP_MIN_WORK)
    {
        AttnScratch sc = {0, NULL, NULL, NULL, NULL};
        const int ok = fast && attn_scratch_alloc(&sc, n, hd) == 0;
#pragma omp for schedule(static)
        for (int wi = 0; wi < nwin; wi++) {
            const int y0 = (wi / nwx) * win, x0 = (wi % nwx) * win;
            if (!ok) {
                attn_window(out, ldo, qkv, ldq, w, c, heads, win, y0, x0, logit_mult, logit_shift, exp_lut, exp_len,
                            out_mult, out_shift);
                continue;
            }
            const int16_t *tok[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
            for (int j = 0; j < n; j++) tok[j] = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq;
            for (int hh = 0; hh < heads; hh++)
                attn_head_fast(out, ldo, qkv, ldq, tok, n, c, hd, hh * hd, logit_mult, logit_shift, exp_lut, exp_len,
                               out_mult, out_shift, &sc);
        }
        if (ok) free(sc.lrow);
    }
}
#endif
