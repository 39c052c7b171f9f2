/* check_main.c: checkasm-style C harness: every GEMM and layer-kernel (s2c_ops.h) variant vs the C
 * reference, plus rANS round trips.
 * Portable (x86-64 and aarch64): checks whatever ladder levels the running CPU has.
 * Usage: check_main [seed]   (exit 1 on any mismatch) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s2c_fixedpoint.h"

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int rint_in(int lo, int hi) { return lo + (int)(rnd() % (uint64_t)(hi - lo + 1)); }

typedef struct { const char *name; uint32_t flags; } Level;
static const Level levels[] = {
    {"c", 0},
#if defined(__x86_64__)
    {"avx2", S2C_CPU_AVX2},
    {"avx512vnni", S2C_CPU_AVX2 | S2C_CPU_AVX512BW | S2C_CPU_AVX512VNNI},
#elif defined(__aarch64__)
    {"neon", S2C_CPU_NEON},
    {"neon_dotprod", S2C_CPU_NEON | S2C_CPU_DOTPROD},
#endif
};
enum { NLEVELS = sizeof(levels) / sizeof(levels[0]) };

static int failures, checks;

/* Input modes: 0 random, 1 all min, 2 all max, 3 alternating min/max, 4 zeros, 5 small values. */
static int pick(int mode, int lo, int hi, size_t idx) {
    switch (mode) {
    case 1: return lo;
    case 2: return hi;
    case 3: return (idx & 1) ? hi : lo;
    case 4: return 0;
    case 5: return rint_in(-3, 3);
    default: return rint_in(lo, hi);
    }
}

static void check_gemm(int a16, int m, int n, int k, int amode, int wmode, int qmode) {
    const int lda = k + rint_in(0, 5), ldw = k + rint_in(0, 5), ldc = n + rint_in(0, 3);
    int8_t *a8 = malloc((size_t)m * lda + 1);
    int16_t *a16p = malloc(((size_t)m * lda + 1) * 2);
    int8_t *w = malloc((size_t)n * ldw + 1);
    int32_t *bias = malloc((size_t)n * 4), *mult = malloc((size_t)n * 4), *shift = malloc((size_t)n * 4);
    int16_t *ref = malloc((size_t)m * ldc * 2 + 2), *out = malloc((size_t)m * ldc * 2 + 2);
    const int amax = a16 ? 32767 : 127, amin = a16 ? -32768 : -128;
    for (size_t i = 0; i < (size_t)m * lda; i++) {
        int v = pick(amode, amin, amax, i);
        a8[i] = (int8_t)(a16 ? 0 : v);
        a16p[i] = (int16_t)v;
    }
    for (size_t i = 0; i < (size_t)n * ldw; i++) w[i] = (int8_t)pick(wmode, -128, 127, i);
    const int use_bias = rint_in(0, 3) != 0;
    for (int j = 0; j < n; j++) {
        bias[j] = rint_in(-(1 << 20), 1 << 20);
        if (qmode == 0) { /* calibrated-looking: mult in [2^30, 2^31), shift sized to the range */
            mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
            shift[j] = rint_in(a16 ? 36 : 28, a16 ? 46 : 40);
        } else if (qmode == 1) { /* ties: mult = 2^p, so acc * mult + half lands on .5 often */
            shift[j] = rint_in(1, 40);
            mult[j] = (int32_t)(1u << rint_in(0, shift[j] - 1 < 30 ? shift[j] - 1 : 30));
        } else { /* anything legal */
            mult[j] = (int32_t)(1 + rnd() % 0x7fffffffu);
            shift[j] = rint_in(1, 62);
        }
    }
    int lo = -32768, hi = 32767;
    switch (rint_in(0, 2)) { case 0: lo = -128; hi = 127; break; case 1: lo = 0; hi = rint_in(0, 32767); break; }
    S2CGemmDSP ref_dsp;
    s2c_gemm_dsp_init(&ref_dsp, 0);
    memset(ref, 0x5a, (size_t)m * ldc * 2);
    if (a16) ref_dsp.gemm_s16(ref, ldc, a16p, lda, w, ldw, use_bias ? bias : NULL, mult, shift, m, n, k, lo, hi);
    else ref_dsp.gemm_s8(ref, ldc, a8, lda, w, ldw, use_bias ? bias : NULL, mult, shift, m, n, k, lo, hi);
    const uint32_t have = s2c_cpu_flags();
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & have) != levels[l].flags) continue;
        S2CGemmDSP dsp;
        s2c_gemm_dsp_init(&dsp, levels[l].flags);
        memset(out, 0x5a, (size_t)m * ldc * 2);
        if (a16) dsp.gemm_s16(out, ldc, a16p, lda, w, ldw, use_bias ? bias : NULL, mult, shift, m, n, k, lo, hi);
        else dsp.gemm_s8(out, ldc, a8, lda, w, ldw, use_bias ? bias : NULL, mult, shift, m, n, k, lo, hi);
        checks++;
        for (int i = 0; i < m * ldc; i++)
            if (out[i] != ref[i]) {
                failures++;
                printf("MISMATCH gemm_%s_%s m=%d n=%d k=%d modes=%d/%d/%d at row %d col %d: got %d want %d\n",
                       a16 ? "s16" : "s8", levels[l].name, m, n, k, amode, wmode, qmode, i / ldc, i % ldc,
                       out[i], ref[i]);
                break;
            }
    }
    free(a8); free(a16p); free(w); free(bias); free(mult); free(shift); free(ref); free(out);
}

static void check_rans(void) {
    enum { N = 20000, NSYM_MAX = 300 };
    static uint32_t cdfs[4][NSYM_MAX + 1];
    int nsym[4];
    for (int c = 0; c < 4; c++) {
        nsym[c] = c == 0 ? 2 : rint_in(2, NSYM_MAX);
        uint32_t f[NSYM_MAX], total = 0;
        for (int s = 0; s < nsym[c]; s++) { f[s] = 1 + (rint_in(0, 3) ? (uint32_t)rint_in(0, 2000) : 0); total += f[s]; }
        /* scale to 65536 keeping every frequency >= 1 */
        uint32_t acc = 0;
        cdfs[c][0] = 0;
        for (int s = 0; s < nsym[c]; s++) {
            uint32_t share = (uint32_t)((uint64_t)f[s] * (65536 - (uint32_t)nsym[c]) / total) + 1;
            acc += share;
            cdfs[c][s + 1] = acc;
        }
        cdfs[c][nsym[c]] += 65536 - acc;  /* leftover to the last symbol */
        if (!s2c_rans_cdf_valid(cdfs[c], nsym[c])) { printf("bad test cdf\n"); failures++; return; }
    }
    static int syms[N], kinds[N], bits[N];
    for (int i = 0; i < N; i++) {
        kinds[i] = rint_in(0, 4);
        if (kinds[i] < 4) syms[i] = rint_in(0, nsym[kinds[i]] - 1);
        else { bits[i] = rint_in(0, 16); syms[i] = (int)(rnd() & ((1u << bits[i]) - 1)); }
    }
    static uint8_t buf[N * 4 + 16];
    S2CRansEnc e;
    s2c_rans_enc_init(&e, buf, sizeof buf);
    for (int i = N - 1; i >= 0; i--) {
        if (kinds[i] < 4) s2c_rans_put_cdf(&e, cdfs[kinds[i]], syms[i]);
        else s2c_rans_put_bits(&e, (uint32_t)syms[i], bits[i]);
    }
    s2c_rans_enc_flush(&e);
    S2CRansDec d;
    s2c_rans_dec_init(&d, s2c_rans_enc_data(&e), s2c_rans_enc_size(&e));
    int bad = e.error;
    for (int i = 0; i < N && !bad; i++) {
        int v = kinds[i] < 4 ? s2c_rans_get_cdf(&d, cdfs[kinds[i]], nsym[kinds[i]])
                             : (int)s2c_rans_get_bits(&d, bits[i]);
        if (v != syms[i]) { printf("MISMATCH rans symbol %d: got %d want %d\n", i, v, syms[i]); bad = 1; }
    }
    if (!bad && !s2c_rans_dec_done(&d)) { printf("MISMATCH rans: decoder not done cleanly\n"); bad = 1; }
    /* truncated stream: must not crash, must flag */
    S2CRansDec t;
    s2c_rans_dec_init(&t, s2c_rans_enc_data(&e), s2c_rans_enc_size(&e) / 2);
    for (int i = 0; i < N; i++) s2c_rans_get_cdf(&t, cdfs[1], nsym[1]);
    if (!t.error) { printf("MISMATCH rans: truncated stream not flagged\n"); bad = 1; }
    checks++;
    failures += bad;
    printf("rans: %d symbols (%d CDFs, %d..%d symbols, raw bits 0..16) -> %zu bytes: %s\n", N, 4, nsym[0],
           nsym[3], s2c_rans_enc_size(&e), bad ? "FAIL" : "ok");
}

/* MARK: - Layer kernels (s2c_ops.h) */

/* Compares n int16 of out with ref; prints the first mismatch. */
static void compare16(const char *what, const char *level, const int16_t *out, const int16_t *ref, size_t n,
                      const char *shape) {
    checks++;
    for (size_t i = 0; i < n; i++)
        if (out[i] != ref[i]) {
            failures++;
            printf("MISMATCH %s_%s %s at %zu: got %d want %d\n", what, level, shape, i, out[i], ref[i]);
            return;
        }
}

/* Random per-channel multipliers/shifts: 0 calibrated-looking, 1 ties (power-of-two mult), 2 anything legal. */
static void quant(int32_t *mult, int32_t *shift, int n, int qmode, int lo_shift, int hi_shift) {
    for (int j = 0; j < n; j++) {
        if (qmode == 0) {
            mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
            shift[j] = rint_in(lo_shift, hi_shift);
        } else if (qmode == 1) {
            shift[j] = rint_in(1, 40);
            mult[j] = (int32_t)(1u << rint_in(0, shift[j] - 1 < 30 ? shift[j] - 1 : 30));
        } else {
            mult[j] = (int32_t)(1 + rnd() % 0x7fffffffu);
            shift[j] = rint_in(1, 62);
        }
    }
}

static void out_range(int *lo, int *hi) {
    *lo = -32768; *hi = 32767;
    switch (rint_in(0, 2)) { case 0: *lo = -128; *hi = 127; break; case 1: *lo = 0; *hi = rint_in(0, 32767); break; }
}

static void check_dwconv(int h, int w, int c, int k, int imode, int wmode, int qmode) {
    const size_t n = (size_t)h * w * c;
    int16_t *in = malloc(n * 2 + 2), *ref = malloc(n * 2 + 2), *out = malloc(n * 2 + 2);
    int8_t *wgt = malloc((size_t)c * k * k + 1);
    int32_t *bias = malloc((size_t)c * 4), *mult = malloc((size_t)c * 4), *shift = malloc((size_t)c * 4);
    for (size_t i = 0; i < n; i++) in[i] = (int16_t)pick(imode, -32768, 32767, i);
    for (int i = 0; i < c * k * k; i++) wgt[i] = (int8_t)pick(wmode, -128, 127, (size_t)i);
    for (int j = 0; j < c; j++) bias[j] = rint_in(-(1 << 29), 1 << 29);
    quant(mult, shift, c, qmode, 36, 46);
    const int use_bias = rint_in(0, 3) != 0;
    int lo, hi;
    out_range(&lo, &hi);
    char shape[96];
    snprintf(shape, sizeof shape, "h=%d w=%d c=%d k=%d modes=%d/%d/%d", h, w, c, k, imode, wmode, qmode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    r.dwconv_s16(ref, in, h, w, c, wgt, k, use_bias ? bias : NULL, mult, shift, lo, hi);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, n * 2);
        d.dwconv_s16(out, in, h, w, c, wgt, k, use_bias ? bias : NULL, mult, shift, lo, hi);
        compare16("dwconv_s16", levels[l].name, out, ref, n, shape);
    }
    free(in); free(ref); free(out); free(wgt); free(bias); free(mult); free(shift);
}

/* A random LUT (extreme entries included). */
static void fill_lut(int16_t *lut, int lmode) {
    for (int i = 0; i < 65536; i++) lut[i] = (int16_t)pick(lmode, -32768, 32767, (size_t)i);
}

static void check_gated(int rows, int hc, int amode, int bmode, int lmode, int qmode) {
    const int ldi = 2 * hc + rint_in(0, 3), ldo = hc + rint_in(0, 3);
    int16_t *in = malloc(((size_t)rows * ldi + 1) * 2), *ref = malloc(((size_t)rows * ldo + 1) * 2),
            *out = malloc(((size_t)rows * ldo + 1) * 2);
    static int16_t lut[65536];
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < ldi; j++)
            in[(size_t)r * ldi + j] = (int16_t)pick(j < hc ? amode : bmode, -32768, 32767, (size_t)j);
    fill_lut(lut, lmode);
    int32_t mult, shift;
    quant(&mult, &shift, 1, qmode, 28, 40);
    int lo, hi;
    out_range(&lo, &hi);
    char shape[96];
    snprintf(shape, sizeof shape, "rows=%d hc=%d modes=%d/%d/%d/%d", rows, hc, amode, bmode, lmode, qmode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    memset(ref, 0x5a, (size_t)rows * ldo * 2);
    r.gated_s16(ref, ldo, in, ldi, rows, hc, lut, mult, shift, lo, hi);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, (size_t)rows * ldo * 2);
        d.gated_s16(out, ldo, in, ldi, rows, hc, lut, mult, shift, lo, hi);
        compare16("gated_s16", levels[l].name, out, ref, (size_t)rows * ldo, shape);
        /* lut16 rides along: the a half as a flat tensor */
        int16_t *lr = malloc((size_t)rows * ldi * 2 + 2), *lo16 = malloc((size_t)rows * ldi * 2 + 2);
        r.lut16_s16(lr, in, (ptrdiff_t)rows * ldi, lut);
        d.lut16_s16(lo16, in, (ptrdiff_t)rows * ldi, lut);
        compare16("lut16_s16", levels[l].name, lo16, lr, (size_t)rows * ldi, shape);
        free(lr); free(lo16);
    }
    free(in); free(ref); free(out);
}

static void check_rescale(int rows, int c, int imode, int qmode) {
    const size_t n = (size_t)rows * c;
    int16_t *in = malloc(n * 2 + 2), *ref = malloc(n * 2 + 2), *out = malloc(n * 2 + 2);
    int32_t *mult = malloc((size_t)c * 4 + 4), *shift = malloc((size_t)c * 4 + 4);
    for (size_t i = 0; i < n; i++) in[i] = (int16_t)pick(imode, -32768, 32767, i);
    quant(mult, shift, c, qmode, 28, 34);
    int lo, hi;
    out_range(&lo, &hi);
    char shape[96];
    snprintf(shape, sizeof shape, "rows=%d c=%d modes=%d/%d", rows, c, imode, qmode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    r.rescale_s16(ref, in, rows, c, mult, shift, lo, hi);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, n * 2);
        d.rescale_s16(out, in, rows, c, mult, shift, lo, hi);
        compare16("rescale_s16", levels[l].name, out, ref, n, shape);
    }
    free(in); free(ref); free(out); free(mult); free(shift);
}

/* Window attention: q, k within +-qk, v by vmode; exp_lut any decreasing table with lut[0] = 32768
 * (bit-exactness does not need the real exponential). */
static void check_attn(int wy, int wx, int c, int heads, int win, int qk, int vmode) {
    const int h = wy * win, w = wx * win, ldq = 3 * c + rint_in(0, 2), ldo = c + rint_in(0, 2);
    const size_t nq = (size_t)h * w * ldq, no = (size_t)h * w * ldo;
    int16_t *qkv = malloc(nq * 2 + 2), *ref = malloc(no * 2 + 2), *out = malloc(no * 2 + 2);
    for (size_t i = 0; i < nq; i++)
        qkv[i] = (int16_t)((int)(i % ldq) < 2 * c ? rint_in(-qk, qk) : pick(vmode, -32768, 32767, i));
    static uint16_t lut[2840];
    uint32_t v = 32768;
    for (int t = 0; t < 2840; t++) { lut[t] = (uint16_t)v; v -= v * (uint32_t)rint_in(0, 8) / 1024; if (!v) v = 1; }
    const int32_t lm = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))), ls = rint_in(36, 46);
    const int32_t om = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))), os = rint_in(42, 46);
    char shape[96];
    snprintf(shape, sizeof shape, "h=%d w=%d c=%d heads=%d win=%d qk=%d vmode=%d", h, w, c, heads, win, qk, vmode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    memset(ref, 0x5a, no * 2);
    r.window_attn_s16(ref, ldo, qkv, ldq, h, w, c, heads, win, lm, ls, lut, 2840, om, os);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, no * 2);
        d.window_attn_s16(out, ldo, qkv, ldq, h, w, c, heads, win, lm, ls, lut, 2840, om, os);
        compare16("window_attn_s16", levels[l].name, out, ref, no, shape);
    }
    free(qkv); free(ref); free(out);
}

static void check_ops(void) {
    int before = checks;
    static const int ks[] = {1, 3, 5, 7, 9};
    for (int it = 0; it < 120; it++) {
        const int imode = it < 36 ? it % 6 : (it % 3 ? 0 : rint_in(0, 5));
        const int wmode = it < 36 ? (it / 6) % 6 : (it % 3 ? 0 : rint_in(0, 5));
        check_dwconv(rint_in(1, 9), rint_in(1, 9), rint_in(1, 40), ks[rint_in(0, 4)], imode, wmode, rint_in(0, 2));
    }
    check_dwconv(24, 20, 48, 5, 0, 0, 0); /* parallel */
    printf("dwconv_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    for (int it = 0; it < 120; it++) {
        const int amode = it < 36 ? it % 6 : 0, bmode = it < 36 ? (it / 6) % 6 : 0;
        check_gated(rint_in(1, 7), rint_in(1, 70), amode, bmode, it % 2 ? 0 : rint_in(0, 5), rint_in(0, 2));
    }
    check_gated(200, 96, 0, 0, 0, 0);
    printf("gated_s16 + lut16_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    for (int it = 0; it < 120; it++) check_rescale(rint_in(1, 9), rint_in(1, 70), it < 36 ? it % 6 : 0, rint_in(0, 2));
    check_rescale(300, 128, 0, 0);
    printf("rescale_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    for (int it = 0; it < 40; it++) {
        const int heads = rint_in(1, 4);
        check_attn(rint_in(1, 2), rint_in(1, 2), heads * rint_in(1, 20), heads, rint_in(1, 8),
                   it % 4 ? 4095 : 32767, it < 12 ? it % 6 : 0);
    }
    printf("window_attn_s16: %d variant-vs-C comparisons\n", checks - before);
}

int main(int argc, char **argv) {
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
    rng_state = seed;
    printf("s2c check_main: seed %llu, cpu flags 0x%x (detected 0x%x), levels:", (unsigned long long)seed,
           s2c_cpu_flags(), s2c_cpu_flags_detected());
    for (int l = 0; l < NLEVELS; l++)
        if ((levels[l].flags & s2c_cpu_flags()) == levels[l].flags) printf(" %s", levels[l].name);
    printf("\n");
    for (int a16 = 0; a16 <= 1; a16++) {
        int before = checks;
        for (int it = 0; it < 300; it++) {
            int m = rint_in(1, 13), n = rint_in(1, 13);
            int k = it % 10 == 0 ? rint_in(0, a16 ? S2C_GEMM_S16_MAX_K : 1200) : rint_in(0, 140);
            int amode = it < 60 ? it % 6 : (it % 3 ? 0 : rint_in(0, 5));
            int wmode = it < 60 ? (it / 6) % 6 : (it % 3 ? 0 : rint_in(0, 5));
            check_gemm(a16, m, n, k, amode, wmode, rint_in(0, 2));
        }
        /* big enough to go parallel */
        check_gemm(a16, 67, 45, a16 ? 256 : 700, 0, 0, 0);
        printf("gemm_%s: %d variant-vs-C comparisons (random, extremes, ties, odd shapes)\n", a16 ? "s16" : "s8",
               checks - before);
    }
    check_ops();
    check_rans();
    if (failures) { printf("FAILED: %d of %d checks\n", failures, checks); return 1; }
    printf("all %d checks passed\n", checks);
    return 0;
}
