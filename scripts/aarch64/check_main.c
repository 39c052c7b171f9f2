/* check_main.c: checkasm-style C harness: every GEMM and layer-kernel (s2c_ops.h) variant vs the C
 * reference, plus rANS round trips. Layer-kernel operands end at an inaccessible page, so a variant
 * that reads or writes past the end of a buffer (a vector tail) faults.
 * Portable (x86-64 and aarch64): checks whatever ladder levels the running CPU has.
 * Usage: check_main [seed] [--bench[=gemm|gated|ops]]   (exit 1 on any mismatch; --bench then times, one
 * thread, the two GEMM designs of each x86 SIMD level, the fused gemm_gated_s16 against its composition and
 * the layer kernels, C reference vs each level; under qemu the numbers say nothing about real hardware) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(__wasm__)
#include <sys/mman.h>
#endif
#include <time.h>
#include <unistd.h>

#include "s2c_fixedpoint.h"
#include "../../Sources/FixedPoint/s2c_internal.h" /* x86: both AVX-512 VNNI GEMM designs by name */

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
#elif defined(__wasm_simd128__)
    {"simd128", S2C_CPU_WASM_SIMD128},
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

static void *guarded(size_t n);
static void guarded_free(void *p, size_t n);

/* One GEMM problem vs the C reference. Every operand is exactly as long as the kernel may read or
 * write ((m - 1) * lda + k activations, (n - 1) * ldw + k weights, n biases / multipliers / shifts,
 * (m - 1) * ldc + n outputs) and ends at an inaccessible page, so an over-read or over-write faults;
 * output padding between rows must stay 0x5a5a. qmode: 0 calibrated-looking, 1 ties, 2 any legal
 * mult/shift, 3 shift 1 or 62 only. bmode: 0 |bias| <= 2^20, 1 |bias| near 2^30, 2 any int32 (with
 * big k the int32 sums wrap: every variant must wrap like the reference). */
static void check_gemm(int a16, int m, int n, int k, int amode, int wmode, int qmode, int bmode) {
    const int lda = k + rint_in(0, 5), ldw = k + rint_in(0, 5), ldc = n + rint_in(0, 3);
    const size_t na = (size_t)(m - 1) * lda + k, nw = (size_t)(n - 1) * ldw + k, nc = (size_t)(m - 1) * ldc + n;
    int8_t *a8 = guarded(na);
    int16_t *a16p = guarded(na * 2);
    int8_t *w = guarded(nw);
    int32_t *bias = guarded((size_t)n * 4), *mult = guarded((size_t)n * 4), *shift = guarded((size_t)n * 4);
    int16_t *ref = guarded(nc * 2), *out = guarded(nc * 2);
    const int amax = a16 ? 32767 : 127, amin = a16 ? -32768 : -128;
    for (size_t i = 0; i < na; i++) {
        int v = pick(amode, amin, amax, i);
        a8[i] = (int8_t)(a16 ? 0 : v);
        a16p[i] = (int16_t)v;
    }
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)pick(wmode, -128, 127, i);
    const int use_bias = rint_in(0, 3) != 0;
    for (int j = 0; j < n; j++) {
        bias[j] = bmode == 0 ? rint_in(-(1 << 20), 1 << 20)
                : bmode == 1 ? (rint_in(0, 1) ? 1 : -1) * ((1 << 30) - rint_in(0, 1000))
                             : (int32_t)(uint32_t)rnd();
        if (qmode == 0) { /* calibrated-looking: mult in [2^30, 2^31), shift sized to the range */
            mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
            shift[j] = rint_in(a16 ? 36 : 28, a16 ? 46 : 40);
        } else if (qmode == 1) { /* ties: mult = 2^p, so acc * mult + half lands on .5 often */
            shift[j] = rint_in(1, 40);
            mult[j] = (int32_t)(1u << rint_in(0, shift[j] - 1 < 30 ? shift[j] - 1 : 30));
        } else { /* anything legal; qmode 3: only the extreme shifts */
            mult[j] = (int32_t)(1 + rnd() % 0x7fffffffu);
            shift[j] = qmode == 3 ? (rint_in(0, 1) ? 62 : 1) : rint_in(1, 62);
        }
    }
    int lo = -32768, hi = 32767;
    switch (rint_in(0, 3)) {
    case 0: lo = -128; hi = 127; break;
    case 1: lo = 0; hi = rint_in(0, 32767); break;
    case 2: lo = rint_in(-32768, 32767); hi = rint_in(lo, 32767); break;
    }
    const int32_t *b = use_bias ? bias : NULL;
    S2CGemmDSP ref_dsp;
    s2c_gemm_dsp_init(&ref_dsp, 0);
    memset(ref, 0x5a, nc * 2);
    if (a16) ref_dsp.gemm_s16(ref, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
    else ref_dsp.gemm_s8(ref, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
    const uint32_t have = s2c_cpu_flags();
    /* v < NLEVELS: the table of ladder level v; then (x86) both designs of each SIMD level by name,
     * since the table entry runs only the one its shape picks */
#if defined(__x86_64__)
    static const char *const named[] = {"avx2_dot", "avx2_bcast", "avx512vnni_dot", "avx512vnni_bcast"};
    enum { NNAMED = 4 };
#elif defined(__aarch64__)
    static const char *const named[] = {"neon_dot", "neon_bcast"};
    enum { NNAMED = 2 };
#else
    static const char *const named[] = {""};
    enum { NNAMED = 0 };
#endif
    for (int v = 1; v < NLEVELS + NNAMED; v++) {
        const char *name = v < NLEVELS ? levels[v].name : named[v - NLEVELS];
        int rc = 0;
        memset(out, 0x5a, nc * 2);
        if (v < NLEVELS) {
            if ((levels[v].flags & have) != levels[v].flags) continue;
            S2CGemmDSP dsp;
            s2c_gemm_dsp_init(&dsp, levels[v].flags);
            if (a16) dsp.gemm_s16(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            else dsp.gemm_s8(out, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
        } else {
#if defined(__x86_64__)
            const int x = v - NLEVELS;
            if (x < 2 && !(have & S2C_CPU_AVX2)) continue;
            if (x >= 2 && (!(have & S2C_CPU_AVX512VNNI) || !(have & S2C_CPU_AVX512BW))) continue;
            if (x == 0 && a16) s2c_gemm_s16_avx2_dot(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 0 && !a16) s2c_gemm_s8_avx2_dot(out, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 1 && a16) rc = s2c_gemm_s16_avx2_bcast(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 1 && !a16) rc = s2c_gemm_s8_avx2_bcast(out, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 2 && a16) s2c_gemm_s16_avx512vnni_dot(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 2 && !a16) s2c_gemm_s8_avx512vnni_dot(out, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 3 && a16) rc = s2c_gemm_s16_avx512vnni_bcast(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            if (x == 3 && !a16) rc = s2c_gemm_s8_avx512vnni_bcast(out, ldc, a8, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
#elif defined(__aarch64__)
            if (!a16) continue;  /* int8 has one design per level */
            if (v - NLEVELS == 0) s2c_gemm_s16_neon_dot(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
            else rc = s2c_gemm_s16_neon_bcast(out, ldc, a16p, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
#else
            continue;
#endif
        }
        checks++;
        if (rc) { failures++; printf("FAIL gemm_%s_%s m=%d n=%d k=%d: no packing buffer\n", a16 ? "s16" : "s8", name, m, n, k); continue; }
        for (size_t i = 0; i < nc; i++)
            if (out[i] != ref[i]) {
                failures++;
                printf("MISMATCH gemm_%s_%s m=%d n=%d k=%d modes=%d/%d/%d/%d at row %zu col %zu: got %d want %d\n",
                       a16 ? "s16" : "s8", name, m, n, k, amode, wmode, qmode, bmode, i / ldc, i % ldc, out[i], ref[i]);
                break;
            }
    }
    guarded_free(a8, na); guarded_free(a16p, na * 2); guarded_free(w, nw);
    guarded_free(bias, (size_t)n * 4); guarded_free(mult, (size_t)n * 4); guarded_free(shift, (size_t)n * 4);
    guarded_free(ref, nc * 2); guarded_free(out, nc * 2);
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
    /* A skewed CDF can decode N symbols from fewer bytes than the half stream holds (the seed
     * picks the CDFs), so finish with raw 16-bit reads: N of them always run past the end. */
    for (int i = 0; i < N && !t.error; i++) s2c_rans_get_bits(&t, 16);
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

#if defined(__wasm__)
/* wasm has no page protection (and no mmap): operands are followed by 64 canary bytes, checked when
 * freed, so a write past the end fails the run. A read past the end of an operand cannot fault here
 * (only past the end of linear memory); the SIMD128 kernels do their tails in scalar code. */
enum { CANARY = 64 };
static void *guarded(size_t n) {
    unsigned char *p = malloc(n + CANARY);
    if (!p) { printf("check_main: out of memory\n"); exit(2); }
    memset(p + n, 0xa5, CANARY);
    return p;
}

static void guarded_free(void *p, size_t n) {
    const unsigned char *canary = (const unsigned char *)p + n;
    for (int i = 0; i < CANARY; i++)
        if (canary[i] != 0xa5) {
            failures++;
            printf("MISMATCH: a kernel wrote past the end of a %zu-byte operand\n", n);
            break;
        }
    free(p);
}
#else
/* n bytes that end exactly where an inaccessible page starts (a read or write past the end faults). */
static void *guarded(size_t n) {
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (n + pg - 1) / pg * pg;
    char *base = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + span, pg, PROT_NONE)) { perror("check_main: mmap"); exit(2); }
    return base + span - n;
}

static void guarded_free(void *p, size_t n) {
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (n + pg - 1) / pg * pg;
    munmap((char *)p + n - span, span + pg);
}
#endif

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

/* A decreasing exp table of len entries with lut[0] = 32768 (bit-exactness does not need the real exponential). */
static void fill_exp_lut(uint16_t *lut, int len) {
    uint32_t v = 32768;
    for (int t = 0; t < len; t++) { lut[t] = (uint16_t)v; v -= v * (uint32_t)rint_in(0, 8) / 1024; if (!v) v = 1; }
}

/* Window attention: q, k within +-qk (qkmode 0) or any int16 by qkmode 1-5 (-32768 everywhere makes every
 * logit wrap), v by vmode, exp tables of elen entries (short ones zero most e); anylut: a table of any
 * uint16 values (malformed, e.g. exp_lut[0] = 0 or 65535: sums from 0 up to n * 65535, the SIMD
 * divisions' widest range). */
static void check_attn_lut(int wy, int wx, int c, int heads, int win, int qk, int qkmode, int vmode, int elen, int anylut) {
    const int h = wy * win, w = wx * win, ldq = 3 * c + rint_in(0, 2), ldo = c + rint_in(0, 2);
    const size_t nq = (size_t)(h * w - 1) * ldq + 3 * c, no = (size_t)(h * w - 1) * ldo + c;
    int16_t *qkv = guarded(nq * 2), *ref = guarded(no * 2), *out = guarded(no * 2);
    uint16_t *lut = guarded((size_t)elen * 2);
    for (size_t i = 0; i < nq; i++)
        qkv[i] = (int16_t)((int)(i % ldq) >= 2 * c ? pick(vmode, -32768, 32767, i)
                           : qkmode ? pick(qkmode, -32768, 32767, i) : rint_in(-qk, qk));
    fill_exp_lut(lut, elen);
    if (anylut)
        for (int t = 0; t < elen; t++) lut[t] = (uint16_t)(anylut == 2 ? 65535 - rint_in(0, 3) : rint_in(0, 3) ? (int)(rnd() & 0xffff) : 0);
    /* logit shifts down to 24 saturate many logits at +-2^24 */
    const int32_t lm = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))), ls = rint_in(rint_in(0, 2) ? 36 : 24, 46);
    const int32_t om = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))), os = rint_in(42, 46);
    char shape[128];
    snprintf(shape, sizeof shape, "h=%d w=%d c=%d heads=%d win=%d qk=%d modes=%d/%d exp_len=%d logit_shift=%d", h, w, c,
             heads, win, qk, qkmode, vmode, elen, ls);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    memset(ref, 0x5a, no * 2);
    r.window_attn_s16(ref, ldo, qkv, ldq, h, w, c, heads, win, lm, ls, lut, elen, om, os);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, no * 2);
        d.window_attn_s16(out, ldo, qkv, ldq, h, w, c, heads, win, lm, ls, lut, elen, om, os);
        compare16("window_attn_s16", levels[l].name, out, ref, no, shape);
    }
    guarded_free(qkv, nq * 2); guarded_free(ref, no * 2); guarded_free(out, no * 2); guarded_free(lut, (size_t)elen * 2);
}

static void check_attn(int wy, int wx, int c, int heads, int win, int qk, int qkmode, int vmode, int elen) {
    check_attn_lut(wy, wx, c, heads, win, qk, qkmode, vmode, elen, 0);
}

/* Logits straddling the clamp at -+2^24: q = (-+4096, 1, 0, ...), k = (4096, s, 0, ...), logit scale 1, so
 * z = -+2^24 + s with s in [-3000, 3000]: some clamp, and the rest are within exp_len of the clamped ones. */
static void check_attn_clamp(int c, int win, int sign) {
    const int h = 2 * win, w = win, ldq = 3 * c;
    const size_t nq = (size_t)h * w * ldq, no = (size_t)h * w * c;
    int16_t *qkv = guarded(nq * 2), *ref = guarded(no * 2), *out = guarded(no * 2);
    uint16_t *lut = guarded(2840 * 2);
    for (size_t p = 0; p < (size_t)h * w; p++) {
        int16_t *t = qkv + p * ldq;
        for (int i = 0; i < 2 * c; i++) t[i] = 0;
        t[0] = (int16_t)(sign * 4096); t[1] = 1;
        t[c] = 4096; t[c + 1] = (int16_t)(rint_in(0, 1) ? rint_in(-3000, 3000) : rint_in(-20, 20));
        for (int i = 2 * c; i < 3 * c; i++) t[i] = (int16_t)rint_in(-32768, 32767);
    }
    fill_exp_lut(lut, 2840);
    char shape[96];
    snprintf(shape, sizeof shape, "clamp edge c=%d win=%d sign=%d", c, win, sign);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    r.window_attn_s16(ref, c, qkv, ldq, h, w, c, 1, win, 1 << 30, 30, lut, 2840, 1 << 30, 45);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, no * 2);
        d.window_attn_s16(out, c, qkv, ldq, h, w, c, 1, win, 1 << 30, 30, lut, 2840, 1 << 30, 45);
        compare16("window_attn_s16", levels[l].name, out, ref, no, shape);
    }
    guarded_free(qkv, nq * 2); guarded_free(ref, no * 2); guarded_free(out, no * 2); guarded_free(lut, 2840 * 2);
}

/* LayerNorm: x by xmode 0-5 or 6 (one 32767 per row, -32768 elsewhere: |d| close to r), g and b random
 * (gmode 0) or extreme (1: INT32_MIN/MAX, 2: small); eps_q by emode: 0, 1, < 2^40, just below 2^62
 * (r near 2^31, both sides), near 2^64 (saturating, r = 2^32 - 1), any; shift anywhere in [17, 62]. */
static void check_layernorm(int rows, int c, int xmode, int gmode, int emode) {
    const int ldi = c + rint_in(0, 3), ldo = c + rint_in(0, 3);
    const size_t ni = (size_t)(rows - 1) * ldi + c, no = (size_t)(rows - 1) * ldo + c;
    int16_t *in = guarded(ni * 2), *ref = guarded(no * 2), *out = guarded(no * 2);
    int32_t *g = guarded((size_t)c * 4), *b = guarded((size_t)c * 4);
    for (size_t i = 0; i < ni; i++)
        in[i] = (int16_t)(xmode == 6 ? ((int)(i % ldi) == (int)(i / ldi) % c ? 32767 : -32768) : pick(xmode, -32768, 32767, i));
    for (int i = 0; i < c; i++) {
        g[i] = gmode == 1 ? (i & 1 ? INT32_MAX : INT32_MIN) : gmode == 2 ? rint_in(-5, 5) : (int32_t)(uint32_t)rnd();
        b[i] = gmode == 1 ? (i & 2 ? INT32_MAX : INT32_MIN) : gmode == 2 ? rint_in(-5, 5) : (int32_t)(uint32_t)rnd();
    }
    const uint64_t eps_modes[6] = {0, 1, rnd() % ((uint64_t)1 << 40), ((uint64_t)1 << 62) - rnd() % ((uint64_t)1 << 33),
                                   UINT64_MAX - rnd() % 16, rnd()};
    const uint64_t eps_q = eps_modes[emode];
    const int shift = rint_in(17, 62);
    int lo, hi;
    out_range(&lo, &hi);
    char shape[128];
    snprintf(shape, sizeof shape, "rows=%d c=%d shift=%d eps_q=%llu modes=%d/%d/%d", rows, c, shift,
             (unsigned long long)eps_q, xmode, gmode, emode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    memset(ref, 0x5a, no * 2);
    r.layernorm_s16(ref, ldo, in, ldi, rows, c, eps_q, g, b, shift, lo, hi);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, no * 2);
        d.layernorm_s16(out, ldo, in, ldi, rows, c, eps_q, g, b, shift, lo, hi);
        compare16("layernorm_s16", levels[l].name, out, ref, no, shape);
    }
    guarded_free(in, ni * 2); guarded_free(ref, no * 2); guarded_free(out, no * 2);
    guarded_free(g, (size_t)c * 4); guarded_free(b, (size_t)c * 4);
}

/* The division edge of LayerNorm. One row of c values: channel p holds B + delta, the others B, so
 * d_p = delta and d_i = -(c - 1) delta elsewhere, V = c (c - 1) delta^2; r is set through eps_q and g = 2^shift
 * so an off-by-one t shows. kind 0, a tie: delta = q k, r = 2^15 k (t = (q + 1) / 2 exactly, q odd), which
 * a reciprocal estimate rounds down; kind 1, a near miss: 2^15 |delta| - 1 = Q r (Q odd), so t sits 1/2r
 * above an integer (delta > 0: an estimate may fall below it) or below one (delta < 0: may rise above). */
static void check_layernorm_edge(int kind) {
    static const int cs[] = {8, 16, 24, 31};
    const int c = cs[rint_in(0, 3)];
    int64_t d, r;
    if (kind == 0) {
        const int q = 2 * rint_in(1, 500) + 1, k = rint_in(1, 65535 / q);
        d = (int64_t)q * k; r = (int64_t)32768 * k;
    } else {
        const int Q = 2 * rint_in(1, 500) + 1;
        for (d = rint_in(32768, 65535); d <= 65535 && (32768 * d - 1) % Q; d++) {}
        if (d > 65535) return;
        r = (32768 * d - 1) / Q;
    }
    if (r * r < (int64_t)c * (c - 1) * d * d) return;
    if (rint_in(0, 1)) d = -d;
    const int shift = rint_in(17, 24), p = rint_in(0, c - 1);
    int16_t *in = guarded((size_t)c * 2), *ref = guarded((size_t)c * 2), *out = guarded((size_t)c * 2);
    int32_t *g = guarded((size_t)c * 4), *b = guarded((size_t)c * 4);
    const int base = d > 0 ? rint_in(-32768, (int)(32767 - d)) : rint_in((int)(-32768 - d), 32767);
    for (int i = 0; i < c; i++) {
        in[i] = (int16_t)(i == p ? base + d : base);
        g[i] = 1 << shift;
        b[i] = rint_in(-3, 3);
    }
    const uint64_t eps_q = (uint64_t)(r * r - (int64_t)c * (c - 1) * d * d) + (uint64_t)rint_in(0, (int)(2 * r < 1 << 30 ? 2 * r : 1 << 30));
    char shape[128];
    snprintf(shape, sizeof shape, "edge kind %d: c=%d delta=%lld at %d, r=%lld, shift=%d", kind, c, (long long)d, p,
             (long long)r, shift);
    S2COpsDSP rd;
    s2c_ops_dsp_init(&rd, 0);
    rd.layernorm_s16(ref, c, in, c, 1, c, eps_q, g, b, shift, -32768, 32767);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP dd;
        s2c_ops_dsp_init(&dd, levels[l].flags);
        memset(out, 0x5a, (size_t)c * 2);
        dd.layernorm_s16(out, c, in, c, 1, c, eps_q, g, b, shift, -32768, 32767);
        compare16("layernorm_s16", levels[l].name, out, ref, (size_t)c, shape);
    }
    guarded_free(in, (size_t)c * 2); guarded_free(ref, (size_t)c * 2); guarded_free(out, (size_t)c * 2);
    guarded_free(g, (size_t)c * 4); guarded_free(b, (size_t)c * 4);
}

/* lut16 on n values (imode 0-5, or 6: in[i] = i, the whole int16 domain when n = 65536) through a table
 * (lmode) that ends at an inaccessible page. */
static void check_lut16(ptrdiff_t n, int imode, int lmode) {
    int16_t *in = guarded((size_t)n * 2 + 2), *ref = guarded((size_t)n * 2 + 2), *out = guarded((size_t)n * 2 + 2);
    int16_t *lut = guarded(65536 * 2);
    for (ptrdiff_t i = 0; i < n; i++) in[i] = (int16_t)(imode == 6 ? (uint16_t)i : pick(imode, -32768, 32767, (size_t)i));
    fill_lut(lut, lmode);
    char shape[64];
    snprintf(shape, sizeof shape, "n=%td modes=%d/%d", n, imode, lmode);
    S2COpsDSP r;
    s2c_ops_dsp_init(&r, 0);
    r.lut16_s16(ref, in, n, lut);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, (size_t)n * 2);
        d.lut16_s16(out, in, n, lut);
        compare16("lut16_s16", levels[l].name, out, ref, (size_t)n, shape);
    }
    guarded_free(in, (size_t)n * 2 + 2); guarded_free(ref, (size_t)n * 2 + 2); guarded_free(out, (size_t)n * 2 + 2);
    guarded_free(lut, 65536 * 2);
}

/* add_requant_s16: a by amode, b random, any legal multipliers, shift 1..62 or codec-like, [lo, hi] any. */
static void check_add_requant(ptrdiff_t n, int amode, int bmode) {
    int16_t *a = guarded((size_t)n * 2), *b = guarded((size_t)n * 2), *ref = guarded((size_t)n * 2), *out = guarded((size_t)n * 2);
    for (ptrdiff_t i = 0; i < n; i++) { a[i] = (int16_t)pick(amode, -32768, 32767, (size_t)i); b[i] = (int16_t)pick(bmode, -32768, 32767, (size_t)i); }
    const int32_t ma = rint_in(0, 3) ? (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))) : (int32_t)(1 + rnd() % 0x7fffffffu);
    const int32_t mb = rint_in(0, 3) ? (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))) : (int32_t)(1 + rnd() % 0x7fffffffu);
    const int shift = rint_in(0, 4) == 0 ? rint_in(15, 18)  /* around the AVX2 kernel's 32-bit path (shift >= 17) */
                    : rint_in(0, 2) ? rint_in(28, 34) : rint_in(0, 1) ? rint_in(1, 62) : (rint_in(0, 1) ? 1 : 62);
    int lo, hi;
    out_range(&lo, &hi);
    char shape[96];
    snprintf(shape, sizeof shape, "n=%td modes=%d/%d ma=%d mb=%d shift=%d", n, amode, bmode, ma, mb, shift);
    S2CEltDSP r;
    s2c_elt_dsp_init(&r, 0);
    r.add_requant_s16(ref, a, ma, b, mb, shift, n, lo, hi);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2CEltDSP d;
        s2c_elt_dsp_init(&d, levels[l].flags);
        memset(out, 0x5a, (size_t)n * 2);
        d.add_requant_s16(out, a, ma, b, mb, shift, n, lo, hi);
        compare16("add_requant_s16", levels[l].name, out, ref, (size_t)n, shape);
    }
    guarded_free(a, (size_t)n * 2); guarded_free(b, (size_t)n * 2); guarded_free(ref, (size_t)n * 2); guarded_free(out, (size_t)n * 2);
}

/* gemm_gated_s16 (fc1 + gated product) vs its definition: gemm_s16_c over all 2 hc channels into a
 * buffer, then gated_s16_c. Every level's table entry and (x86) both fused kernels by name (they run
 * even where the table would pick the composition); guarded operands as in check_gemm, the LUT too.
 * modes: a, w as in check_gemm; lmode the LUT's fill; qmode fc1's requant; gq the gated one (0 / 2). */
static void check_gemm_gated(int m, int hc, int k, int amode, int wmode, int lmode, int qmode, int gq) {
    const int n = 2 * hc;
    const int lda = k + rint_in(0, 5), ldw = k + rint_in(0, 5), ldc = hc + rint_in(0, 3);
    const size_t na = (size_t)(m - 1) * lda + k, nw = (size_t)(n - 1) * ldw + k, nc = (size_t)(m - 1) * ldc + hc;
    int16_t *a = guarded(na * 2), *lut = guarded(65536 * 2), *ab = malloc((size_t)m * n * 2);
    int8_t *w = guarded(nw);
    int32_t *bias = guarded((size_t)n * 4), *mult = guarded((size_t)n * 4), *shift = guarded((size_t)n * 4);
    int16_t *ref = guarded(nc * 2), *out = guarded(nc * 2);
    for (size_t i = 0; i < na; i++) a[i] = (int16_t)pick(amode, -32768, 32767, i);
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)pick(wmode, -128, 127, i);
    for (int j = 0; j < n; j++) bias[j] = rint_in(0, 3) ? rint_in(-(1 << 20), 1 << 20) : (int32_t)(uint32_t)rnd();
    quant(mult, shift, n, qmode, 30, 46);
    fill_lut(lut, lmode);
    int32_t gmult, gshift;
    quant(&gmult, &gshift, 1, gq, 28, 40);
    int lo, hi, glo, ghi;
    out_range(&lo, &hi);
    out_range(&glo, &ghi);
    const int32_t *b = rint_in(0, 3) ? bias : NULL;
    char shape[128];
    snprintf(shape, sizeof shape, "m=%d hc=%d k=%d modes=%d/%d/%d/%d/%d", m, hc, k, amode, wmode, lmode, qmode, gq);
    s2c_gemm_s16_c(ab, n, a, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
    memset(ref, 0x5a, nc * 2);
    s2c_gated_s16_c(ref, ldc, ab, n, m, hc, lut, gmult, gshift, glo, ghi);
    const uint32_t have = s2c_cpu_flags();
#if defined(__x86_64__)
    static const char *const named[] = {"avx2_bcast", "avx512vnni_bcast"};
    enum { NNAMED = 2 };
#else
    static const char *const named[] = {""};
    enum { NNAMED = 0 };
#endif
    for (int v = 0; v < NLEVELS + NNAMED; v++) {
        const char *name = v < NLEVELS ? levels[v].name : named[v - NLEVELS];
        int rc = 0;
        memset(out, 0x5a, nc * 2);
        if (v < NLEVELS) {
            if ((levels[v].flags & have) != levels[v].flags) continue;
            S2CGemmDSP dsp;
            s2c_gemm_dsp_init(&dsp, levels[v].flags);
            dsp.gemm_gated_s16(out, ldc, a, lda, w, ldw, b, mult, shift, m, hc, k, lo, hi, lut, gmult, gshift, glo, ghi);
        } else {
#if defined(__x86_64__)
            const int x = v - NLEVELS;
            if (x == 0 && !(have & S2C_CPU_AVX2)) continue;
            if (x == 1 && (!(have & S2C_CPU_AVX512VNNI) || !(have & S2C_CPU_AVX512BW))) continue;
            if (x == 0) rc = s2c_gemm_gated_s16_avx2_bcast(out, ldc, a, lda, w, ldw, b, mult, shift, m, hc, k, lo, hi,
                                                          lut, gmult, gshift, glo, ghi);
            else rc = s2c_gemm_gated_s16_avx512vnni_bcast(out, ldc, a, lda, w, ldw, b, mult, shift, m, hc, k, lo, hi,
                                                          lut, gmult, gshift, glo, ghi);
#else
            continue;
#endif
        }
        if (rc) { checks++; failures++; printf("FAIL gemm_gated_s16_%s %s: no packing buffer\n", name, shape); continue; }
        compare16("gemm_gated_s16", name, out, ref, nc, shape);
        for (int i = 0; i + 1 < m; i++)  /* the padding between output rows is untouched */
            for (int j = hc; j < ldc; j++)
                if (out[(size_t)i * ldc + j] != 0x5a5a) {
                    failures++;
                    printf("MISMATCH gemm_gated_s16_%s %s: wrote padding at row %d col %d\n", name, shape, i, j);
                    i = m;
                    break;
                }
    }
    guarded_free(a, na * 2); guarded_free(lut, 65536 * 2); free(ab); guarded_free(w, nw);
    guarded_free(bias, (size_t)n * 4); guarded_free(mult, (size_t)n * 4); guarded_free(shift, (size_t)n * 4);
    guarded_free(ref, nc * 2); guarded_free(out, nc * 2);
}

/* s2c_requant_acc_bounds, which the AVX2 requants rely on: clamping acc to [alo, ahi] first never changes
 * clamp(requant(acc), lo, hi), and inside the range requant fits an int32 lane. Random and extreme
 * multipliers, shifts and ranges; accumulators at the int32 ends, around alo / ahi and random. */
static void check_acc_bounds(void) {
    const int before = checks;
    for (int it = 0; it < 3000; it++) {
        int32_t mult, shift;
        quant(&mult, &shift, 1, it % 3, 28, 46);
        if (it % 50 == 0) mult = it % 100 ? 0x7fffffff : 0;
        int lo, hi;
        out_range(&lo, &hi);
        if (it % 7 == 0) lo = hi = rint_in(-32768, 32767);
        int32_t alo, ahi;
        s2c_requant_acc_bounds(mult, shift, lo, hi, &alo, &ahi);
        checks++;
        for (int t = 0; t < 64; t++) {
            int64_t acc = t < 2 ? (t ? INT32_MAX : INT32_MIN) : t < 8 ? (int64_t)alo + t - 5 : t < 14 ? (int64_t)ahi + t - 11
                        : (int64_t)(int32_t)(uint32_t)rnd();
            if (acc < INT32_MIN) acc = INT32_MIN;
            if (acc > INT32_MAX) acc = INT32_MAX;
            const int32_t cl = acc < alo ? alo : acc > ahi ? ahi : (int32_t)acc;
            const int32_t c2 = (int32_t)(alo > ahi ? ahi : cl);  /* max then min, as the SIMD code does */
            const int64_t v = s2c_requant(c2, mult, shift);
            if (s2c_requant_clamp((int32_t)acc, mult, shift, lo, hi) != (v < lo ? lo : v > hi ? hi : v) || v < INT32_MIN ||
                v > INT32_MAX) {
                failures++;
                printf("MISMATCH s2c_requant_acc_bounds mult=%d shift=%d lo=%d hi=%d: acc %lld -> alo %d ahi %d\n", mult, shift,
                       lo, hi, (long long)acc, alo, ahi);
                break;
            }
        }
    }
    printf("s2c_requant_acc_bounds: %d cases\n", checks - before);
}

/* gemm_lut_s16 (pw1 + GELU table) vs its definition: gemm_s16_c, then lut[(uint16_t)c] per output.
 * The table entry of every level and (x86) both broadcast kernels by name, guarded operands. */
static void check_gemm_lut(int m, int n, int k, int amode, int wmode, int lmode, int qmode) {
    const int lda = k + rint_in(0, 5), ldw = k + rint_in(0, 5), ldc = n + rint_in(0, 3);
    const size_t na = (size_t)(m - 1) * lda + k, nw = (size_t)(n - 1) * ldw + k, nc = (size_t)(m - 1) * ldc + n;
    int16_t *a = guarded(na * 2), *lut = guarded(65536 * 2);
    int8_t *w = guarded(nw);
    int32_t *bias = guarded((size_t)n * 4), *mult = guarded((size_t)n * 4), *shift = guarded((size_t)n * 4);
    int16_t *ref = guarded(nc * 2), *out = guarded(nc * 2);
    for (size_t i = 0; i < na; i++) a[i] = (int16_t)pick(amode, -32768, 32767, i);
    for (size_t i = 0; i < nw; i++) w[i] = (int8_t)pick(wmode, -128, 127, i);
    for (int j = 0; j < n; j++) bias[j] = rint_in(0, 3) ? rint_in(-(1 << 20), 1 << 20) : (int32_t)(uint32_t)rnd();
    quant(mult, shift, n, qmode, 30, 46);
    fill_lut(lut, lmode);
    int lo, hi;
    out_range(&lo, &hi);
    const int32_t *b = rint_in(0, 3) ? bias : NULL;
    char shape[128];
    snprintf(shape, sizeof shape, "m=%d n=%d k=%d modes=%d/%d/%d/%d", m, n, k, amode, wmode, lmode, qmode);
    memset(ref, 0x5a, nc * 2);
    s2c_gemm_s16_c(ref, ldc, a, lda, w, ldw, b, mult, shift, m, n, k, lo, hi);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) ref[(size_t)i * ldc + j] = lut[(uint16_t)ref[(size_t)i * ldc + j]];
    const uint32_t have = s2c_cpu_flags();
#if defined(__x86_64__)
    static const char *const named[] = {"avx2_bcast", "avx512vnni_bcast"};
    enum { NNAMED = 2 };
#else
    static const char *const named[] = {""};
    enum { NNAMED = 0 };
#endif
    for (int v = 0; v < NLEVELS + NNAMED; v++) {
        const char *name = v < NLEVELS ? levels[v].name : named[v - NLEVELS];
        int rc = 0;
        memset(out, 0x5a, nc * 2);
        if (v < NLEVELS) {
            if ((levels[v].flags & have) != levels[v].flags) continue;
            S2CGemmDSP dsp;
            s2c_gemm_dsp_init(&dsp, levels[v].flags);
            dsp.gemm_lut_s16(out, ldc, a, lda, w, ldw, b, mult, shift, m, n, k, lo, hi, lut);
        } else {
#if defined(__x86_64__)
            const int x = v - NLEVELS;
            if (x == 0 && !(have & S2C_CPU_AVX2)) continue;
            if (x == 1 && (!(have & S2C_CPU_AVX512VNNI) || !(have & S2C_CPU_AVX512BW))) continue;
            if (x == 0) rc = s2c_gemm_lut_s16_avx2_bcast(out, ldc, a, lda, w, ldw, b, mult, shift, m, n, k, lo, hi, lut);
            else rc = s2c_gemm_lut_s16_avx512vnni_bcast(out, ldc, a, lda, w, ldw, b, mult, shift, m, n, k, lo, hi, lut);
#else
            continue;
#endif
        }
        if (rc) { checks++; failures++; printf("FAIL gemm_lut_s16_%s %s: no packing buffer\n", name, shape); continue; }
        compare16("gemm_lut_s16", name, out, ref, nc, shape);  /* padding included: must stay 0x5a5a */
    }
    guarded_free(a, na * 2); guarded_free(lut, 65536 * 2); guarded_free(w, nw);
    guarded_free(bias, (size_t)n * 4); guarded_free(mult, (size_t)n * 4); guarded_free(shift, (size_t)n * 4);
    guarded_free(ref, nc * 2); guarded_free(out, nc * 2);
}

static void check_gemm_gated_all(void) {
    const int before = checks;
    /* hc across vectors of 8 / blocks of 16 and the AVX-512 groups of two blocks, k odd / even / 0,
     * m across every row tile (6, 12) and work item (48) */
    static const int hcs[] = {1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 97};
    static const int ks[] = {0, 1, 2, 3, 5, 31, 32, 33, 48, 95, 96, 97, 128, 129};
    for (int it = 0; it < 200; it++) {
        const int m = it % 4 == 0 ? rint_in(1, 11) : it % 4 == 1 ? rint_in(12, 60) : rint_in(90, 110);
        const int hc = it < 120 ? hcs[it % 17] : rint_in(1, 130);
        const int k = it % 3 == 0 ? ks[(it / 3) % 14] : rint_in(0, it % 7 == 0 ? S2C_GEMM_S16_MAX_K : 200);
        const int amode = it < 36 ? it % 6 : (it % 5 == 0 ? rint_in(1, 5) : 0);
        const int wmode = it < 36 ? (it / 6) % 6 : (it % 7 == 0 ? rint_in(1, 5) : 0);
        check_gemm_gated(m, hc, k, amode, wmode, it % 3 ? 0 : rint_in(0, 5), it % 4 == 3 ? rint_in(1, 2) : 0,
                         it % 5 == 4 ? 2 : 0);
    }
    check_gemm_gated(300, 96, 96, 0, 0, 0, 0, 0);   /* parallel */
    check_gemm_gated(100, 48, 256, 1, 1, 1, 0, 0);  /* extremes at the k bound */
    check_gemm_gated(100, 48, 256, 2, 1, 3, 0, 2);
    printf("gemm_gated_s16: %d variant-vs-C comparisons\n", checks - before);
    const int before_lut = checks;
    static const int ns[] = {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 97, 192};
    for (int it = 0; it < 200; it++) {
        const int m = it % 4 == 0 ? rint_in(1, 11) : it % 4 == 1 ? rint_in(12, 60) : rint_in(90, 110);
        const int n = it < 120 ? ns[it % 17] : rint_in(1, 200);
        const int k = it % 3 == 0 ? ks[(it / 3) % 14] : rint_in(0, it % 7 == 0 ? S2C_GEMM_S16_MAX_K : 200);
        check_gemm_lut(m, n, k, it < 36 ? it % 6 : 0, it < 36 ? (it / 6) % 6 : 0, it % 3 ? 0 : rint_in(0, 5),
                       it % 4 == 3 ? rint_in(1, 2) : 0);
    }
    check_gemm_lut(300, 96, 48, 0, 0, 0, 0);  /* parallel */
    printf("gemm_lut_s16: %d variant-vs-C comparisons\n", checks - before_lut);
}

static void check_ops(void) {
    int before = checks;
    for (int it = 0; it < 120; it++) check_add_requant(rint_in(1, 70), it % 6, it < 36 ? (it / 6) % 6 : 0);
    check_add_requant(4 * 65536 + 17, 0, 0);  /* parallel */
    printf("add_requant_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    static const int ks[] = {1, 3, 5, 7, 9};
    for (int it = 0; it < 120; it++) {
        const int imode = it < 36 ? it % 6 : (it % 3 ? 0 : rint_in(0, 5));
        const int wmode = it < 36 ? (it / 6) % 6 : (it % 3 ? 0 : rint_in(0, 5));
        check_dwconv(rint_in(1, 9), rint_in(1, 9), rint_in(1, 40), ks[rint_in(0, 4)], imode, wmode, rint_in(0, 2));
    }
    for (int it = 0; it < 72; it++)  /* multiples of 32 channels (the AVX-512 kernel), every fill */
        check_dwconv(rint_in(1, 9), rint_in(1, 9), 32 * rint_in(1, 3), ks[it % 4], it % 6, (it / 6) % 6, rint_in(0, 2));
    check_dwconv(24, 20, 48, 5, 0, 0, 0); /* parallel */
    check_dwconv(24, 20, 64, 5, 0, 0, 0);
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
    for (int it = 0; it < 60; it++) {
        const int heads = rint_in(1, 4);
        check_attn(rint_in(1, 2), rint_in(1, 2), heads * rint_in(1, 20), heads, rint_in(1, 8), it % 4 ? 4095 : 32767,
                   it >= 12 && it < 30 ? it % 6 : 0, it < 12 ? it % 6 : 0, it % 5 == 4 ? rint_in(1, 64) : 2840);
    }
    check_attn(1, 1, 4 * 9, 4, S2C_ATTN_MAX_WIN, 4095, 0, 0, 2840);  /* largest window, hd 9 */
    check_attn(1, 1, 32, 1, 8, 32767, 1, 2, 2840);                   /* q = k = -32768: every logit wraps */
    check_attn(3, 2, 64, 2, 8, 4095, 0, 0, 2840);                     /* parallel */
    for (int it = 0; it < 24; it++) {  /* head dims that are multiples of 8 (the SIMD fast paths' shapes; hybrid-t: 32) */
        const int heads = rint_in(1, 3), hd = 8 * rint_in(1, it < 4 ? 12 : 5), win = it < 2 ? S2C_ATTN_MAX_WIN : rint_in(1, 9);
        check_attn_lut(rint_in(1, 2), rint_in(1, 2), heads * hd, heads, win, it % 5 ? 4095 : 32767, it % 5 ? 0 : it % 6,
                       it % 3 ? 0 : 2, it % 4 == 3 ? rint_in(1, 64) : 2840, it % 7 == 6);
    }
    for (int it = 0; it < 12; it++)  /* any table values; win 32 with 65535s: sums near 2^26 */
        check_attn_lut(1, 1, 4 * rint_in(1, 9), 4, it < 4 ? S2C_ATTN_MAX_WIN : rint_in(1, 8), 4095, 0, it % 3 ? 0 : 2,
                       it % 2 ? rint_in(1, 64) : 2840, 1 + (it & 1));
    for (int it = 0; it < 8; it++) check_attn_clamp(it & 1 ? 8 : 2, it & 2 ? 4 : 3, it & 4 ? 1 : -1);
    printf("window_attn_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    static const int lncs[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 33, 96, 192, 1023, 1024, 1025};
    for (int it = 0; it < 300; it++) {
        const int c = it < 180 ? lncs[it % 18] : rint_in(1, 300);
        check_layernorm(c > 900 ? rint_in(1, 3) : rint_in(1, 9), c, it < 70 ? it % 7 : rint_in(0, 6),
                        (it / 7) % 3, it % 6);
    }
    check_layernorm(2, 1024, 3, 0, 0);  /* alternating extremes at the bound: V = 2^62 */
    check_layernorm(700, 96, 0, 0, 2);  /* parallel */
    for (int it = 0; it < 2000; it++) check_layernorm_edge(it & 1);
    printf("layernorm_s16: %d variant-vs-C comparisons\n", checks - before);
    before = checks;
    for (int it = 0; it < 40; it++) check_lut16(rint_in(1, 200), it % 6, (it / 6) % 6);
    check_lut16(65536, 6, 0);           /* every index */
    check_lut16(65536 * 4 + 13, 0, 0);  /* parallel */
    printf("lut16_s16: %d variant-vs-C comparisons\n", checks - before);
}

/* MARK: - Benchmarks (--bench) */

typedef struct {
    int16_t *in, *out;
    int32_t *g, *b, *mult, *shift;
    int8_t *wgt;
    uint16_t *exp_lut;
    int16_t *lut;
    int rows, c, h, w, heads;
    ptrdiff_t n;
} BenchCtx;

typedef void (*BenchFn)(const S2COpsDSP *d, const BenchCtx *x);

static void bench_ln(const S2COpsDSP *d, const BenchCtx *x) {
    d->layernorm_s16(x->out, x->c, x->in, x->c, x->rows, x->c, 12345, x->g, x->b, 30, -32768, 32767);
}
static void bench_lut(const S2COpsDSP *d, const BenchCtx *x) { d->lut16_s16(x->out, x->in, x->n, x->lut); }
static void bench_dw(const S2COpsDSP *d, const BenchCtx *x) {
    d->dwconv_s16(x->out, x->in, x->h, x->w, x->c, x->wgt, 5, x->b, x->mult, x->shift, -32768, 32767);
}
static void bench_gated(const S2COpsDSP *d, const BenchCtx *x) {
    d->gated_s16(x->out, x->c, x->in, 2 * x->c, x->rows, x->c, x->lut, 1518500250, 40, -32768, 32767);
}
/* add_requant_s16 is an S2CEltDSP entry: the level's table is filled from the same flags */
static uint32_t bench_flags;
static void bench_add(const S2COpsDSP *d, const BenchCtx *x) {
    (void)d;
    S2CEltDSP e;
    s2c_elt_dsp_init(&e, bench_flags);
    e.add_requant_s16(x->out, x->in, 1518500250, x->in + x->n, 1300000000, 31, x->n, -32768, 32767);
}
static void bench_attn(const S2COpsDSP *d, const BenchCtx *x) {
    d->window_attn_s16(x->out, x->c, x->in, 3 * x->c, x->h, x->w, x->c, x->heads, 8, 1518500250, 40, x->exp_lut, 2840,
                       1518500250, 44);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best time of repeated calls (at least 5, at least 0.5 s) per level; prints C and each level with the speedup. */
static void bench(const char *name, const char *shape, BenchFn fn, const BenchCtx *x) {
    double base = 0;
    printf("bench %-16s %-34s", name, shape);
    for (int l = 0; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2COpsDSP d;
        s2c_ops_dsp_init(&d, levels[l].flags);
        bench_flags = levels[l].flags;
        fn(&d, x);
        double best = 1e30, total = 0;
        for (int rep = 0; rep < 5 || total < 0.5; rep++) {
            const double t0 = now_s();
            fn(&d, x);
            const double dt = now_s() - t0;
            total += dt;
            if (dt < best) best = dt;
        }
        if (l == 0) base = best;
        printf("  %s %8.3f ms", levels[l].name, best * 1e3);
        if (l) printf(" (%.2fx)", base / best);
    }
    printf("\n");
}

/* GEMM at the codec's shapes (1x1 convolutions over a 192 x 128 latent-stage tensor, and a 3x3 one
 * via im2col, k = 9 * 96): per x86 SIMD level, the dot-product kernel (old) vs the broadcast kernel
 * (new), timed alternately in the same run, best of >= 5 calls each; outputs compared. */
#if defined(__x86_64__)
typedef void (*GemmS16)(int16_t *, ptrdiff_t, const int16_t *, ptrdiff_t, const int8_t *, ptrdiff_t, const int32_t *,
                        const int32_t *, const int32_t *, int, int, int, int, int);
typedef void (*GemmS8)(int16_t *, ptrdiff_t, const int8_t *, ptrdiff_t, const int8_t *, ptrdiff_t, const int32_t *,
                       const int32_t *, const int32_t *, int, int, int, int, int);
/* The broadcast kernels return an int (non-zero: no buffer); these wrappers make them GemmS16 / GemmS8. */
#define BCAST_WRAP(name, T)                                                                                      \
    static void name##_v(int16_t *c, ptrdiff_t ldc, const T *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw,  \
                         const int32_t *b, const int32_t *mu, const int32_t *sh, int m, int n, int k, int lo, int hi) { \
        if (name(c, ldc, a, lda, w, ldw, b, mu, sh, m, n, k, lo, hi)) failures++;                                \
    }
BCAST_WRAP(s2c_gemm_s16_avx2_bcast, int16_t)
BCAST_WRAP(s2c_gemm_s8_avx2_bcast, int8_t)
BCAST_WRAP(s2c_gemm_s16_avx512vnni_bcast, int16_t)
BCAST_WRAP(s2c_gemm_s8_avx512vnni_bcast, int8_t)
#endif

static void run_gemm_bench(void) {
#if defined(__x86_64__)
    enum { M = 24576, KMAX = 9 * 96, NMAX = 768 };
    static const int shapes[][2] = {{192, 96}, {96, 192}, {384, 192}, {192, 384},
                                    {512, 256}, {256, 512}, {768, 256}, {256, 9 * 96}};
    static const struct { const char *name; uint32_t need; GemmS16 s16[2]; GemmS8 s8[2]; } isa[] = {
        {"avx2", S2C_CPU_AVX2, {s2c_gemm_s16_avx2_dot, s2c_gemm_s16_avx2_bcast_v},
         {s2c_gemm_s8_avx2_dot, s2c_gemm_s8_avx2_bcast_v}},
        {"avx512vnni", S2C_CPU_AVX2 | S2C_CPU_AVX512BW | S2C_CPU_AVX512VNNI,
         {s2c_gemm_s16_avx512vnni_dot, s2c_gemm_s16_avx512vnni_bcast_v},
         {s2c_gemm_s8_avx512vnni_dot, s2c_gemm_s8_avx512vnni_bcast_v}},
    };
    int16_t *a16 = malloc((size_t)M * KMAX * 2), *o1 = malloc((size_t)M * NMAX * 2), *o2 = malloc((size_t)M * NMAX * 2);
    int8_t *a8 = malloc((size_t)M * KMAX), *w = malloc((size_t)NMAX * KMAX);
    int32_t *bias = malloc(NMAX * 4), *mult = malloc(NMAX * 4), *shift = malloc(NMAX * 4);
    for (size_t i = 0; i < (size_t)M * KMAX; i++) { a16[i] = (int16_t)rint_in(-8000, 8000); a8[i] = (int8_t)rint_in(-128, 127); }
    for (size_t i = 0; i < (size_t)NMAX * KMAX; i++) w[i] = (int8_t)rint_in(-128, 127);
    for (int j = 0; j < NMAX; j++) {
        bias[j] = rint_in(-(1 << 20), 1 << 20);
        mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
        shift[j] = rint_in(36, 40);
    }
    for (size_t l = 0; l < sizeof isa / sizeof isa[0]; l++) {
        if ((s2c_cpu_flags() & isa[l].need) != isa[l].need) {
            printf("bench gemm_%s: not on this CPU\n", isa[l].name);
            continue;
        }
        for (int a16on = 1; a16on >= 0; a16on--) {
            double sum_old = 0, sum_new = 0;
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                const int n = shapes[s][0], k = shapes[s][1];
                double best[2] = {1e30, 1e30}, total = 0;
                for (int rep = 0; rep < 5 || total < 1.0; rep++)
                    for (int v = 0; v < 2; v++) {
                        int16_t *o = v ? o2 : o1;
                        const double t0 = now_s();
                        if (a16on) isa[l].s16[v](o, n, a16, k, w, k, bias, mult, shift, M, n, k, -32768, 32767);
                        else isa[l].s8[v](o, n, a8, k, w, k, bias, mult, shift, M, n, k, -32768, 32767);
                        const double dt = now_s() - t0;
                        total += dt;
                        if (dt < best[v]) best[v] = dt;
                    }
                const int same = !memcmp(o1, o2, (size_t)M * n * 2);
                if (!same) failures++;
                sum_old += best[0]; sum_new += best[1];
                printf("bench gemm_%-3s %-10s m=%d n=%-4d k=%-4d  dot %8.3f ms  bcast %8.3f ms  %.2fx  %.1f -> %.1f GMAC/s%s\n",
                       a16on ? "s16" : "s8", isa[l].name, M, n, k, best[0] * 1e3, best[1] * 1e3, best[0] / best[1],
                       (double)M * n * k / best[0] * 1e-9, (double)M * n * k / best[1] * 1e-9, same ? "" : "  OUTPUTS DIFFER");
            }
            printf("bench gemm_%-3s %-10s all shapes: dot %8.3f ms  bcast %8.3f ms  %.2fx\n", a16on ? "s16" : "s8",
                   isa[l].name, sum_old * 1e3, sum_new * 1e3, sum_old / sum_new);
        }
    }
    free(a16); free(o1); free(o2); free(a8); free(w); free(bias); free(mult); free(shift);
#else
    /* Elsewhere (aarch64, wasm): each ladder level's table entries against the C reference, m = 4096
     * rows (a 64 x 64 latent-stage tensor), outputs compared. */
    enum { M = 4096, KMAX = 9 * 96, NMAX = 768 };
    static const int shapes[][2] = {{192, 96}, {96, 192}, {384, 192}, {192, 384}, {256, 512}, {256, 9 * 96}};
    int16_t *a16 = malloc((size_t)M * KMAX * 2), *o1 = malloc((size_t)M * NMAX * 2), *o2 = malloc((size_t)M * NMAX * 2);
    int8_t *a8 = malloc((size_t)M * KMAX), *w = malloc((size_t)NMAX * KMAX);
    int32_t *bias = malloc(NMAX * 4), *mult = malloc(NMAX * 4), *shift = malloc(NMAX * 4);
    for (size_t i = 0; i < (size_t)M * KMAX; i++) { a16[i] = (int16_t)rint_in(-8000, 8000); a8[i] = (int8_t)rint_in(-128, 127); }
    for (size_t i = 0; i < (size_t)NMAX * KMAX; i++) w[i] = (int8_t)rint_in(-128, 127);
    for (int j = 0; j < NMAX; j++) {
        bias[j] = rint_in(-(1 << 20), 1 << 20);
        mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
        shift[j] = rint_in(36, 40);
    }
    for (int a16on = 1; a16on >= 0; a16on--)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int n = shapes[s][0], k = shapes[s][1];
            printf("bench gemm_%-3s m=%d n=%-4d k=%-4d ", a16on ? "s16" : "s8", M, n, k);
            double base = 0;
            for (int l = 0; l < NLEVELS; l++) {
                if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
                S2CGemmDSP d;
                s2c_gemm_dsp_init(&d, levels[l].flags);
                int16_t *o = l ? o2 : o1;
                double best = 1e30, total = 0;
                for (int rep = 0; rep < 3 || total < 0.3; rep++) {
                    const double t0 = now_s();
                    if (a16on) d.gemm_s16(o, n, a16, k, w, k, bias, mult, shift, M, n, k, -32768, 32767);
                    else d.gemm_s8(o, n, a8, k, w, k, bias, mult, shift, M, n, k, -32768, 32767);
                    const double dt = now_s() - t0;
                    total += dt;
                    if (dt < best) best = dt;
                }
                if (l == 0) base = best;
                const int same = !l || !memcmp(o1, o2, (size_t)M * n * 2);
                if (!same) failures++;
                printf("  %s %8.3f ms %5.2f GMAC/s", levels[l].name, best * 1e3, (double)M * n * k / best * 1e-9);
                if (l) printf(" (%.2fx)%s", base / best, same ? "" : "  OUTPUTS DIFFER");
            }
            printf("\n");
        }
    free(a16); free(o1); free(o2); free(a8); free(w); free(bias); free(mult); free(shift);
#endif
}

/* gemm_gated_s16 at the codec's Gated-FFN shapes (fc1 of 2 hc channels over m pixels, hc = 4 C): per
 * level, the composition of its gemm_s16 and gated_s16 (what ran before the fused kernel) against
 * the table's entry, alternately in the same run, best of >= 5 calls each; outputs compared. */
static void run_gated_bench(void) {
    enum { M = 16384, KMAX = 256, HMAX = 1024 };
    static const int shapes[][2] = {{192, 48}, {384, 96}, {512, 128}, {768, 192}, {1024, 256}};
    int16_t *a = malloc((size_t)M * KMAX * 2), *o1 = malloc((size_t)M * HMAX * 2), *o2 = malloc((size_t)M * HMAX * 2);
    int16_t *lut = malloc(65536 * 2);
    int8_t *w = malloc((size_t)2 * HMAX * KMAX);
    int32_t *bias = malloc(2 * HMAX * 4), *mult = malloc(2 * HMAX * 4), *shift = malloc(2 * HMAX * 4);
    for (size_t i = 0; i < (size_t)M * KMAX; i++) a[i] = (int16_t)rint_in(-8000, 8000);
    for (size_t i = 0; i < (size_t)2 * HMAX * KMAX; i++) w[i] = (int8_t)rint_in(-128, 127);
    for (int j = 0; j < 2 * HMAX; j++) {
        bias[j] = rint_in(-(1 << 20), 1 << 20);
        mult[j] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30)));
        shift[j] = rint_in(38, 42);
    }
    fill_lut(lut, 0);
    for (int l = 1; l < NLEVELS; l++) {
        if ((levels[l].flags & s2c_cpu_flags()) != levels[l].flags) continue;
        S2CGemmDSP g;
        S2COpsDSP o;
        s2c_gemm_dsp_init(&g, levels[l].flags);
        s2c_ops_dsp_init(&o, levels[l].flags);
        double sum[2] = {0, 0};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int hc = shapes[s][0], k = shapes[s][1];
            double best[2] = {1e30, 1e30}, total = 0;
            for (int rep = 0; rep < 5 || total < 1.0; rep++)
                for (int v = 0; v < 2; v++) {
                    const double t0 = now_s();
                    if (v) g.gemm_gated_s16(o2, hc, a, k, w, k, bias, mult, shift, M, hc, k, -32768, 32767, lut, 1518500250, 40, -32768, 32767);
                    else s2c_gemm_gated_s16_compose(g.gemm_s16, o.gated_s16, o1, hc, a, k, w, k, bias, mult, shift, M, hc, k,
                                                    -32768, 32767, lut, 1518500250, 40, -32768, 32767);
                    const double dt = now_s() - t0;
                    total += dt;
                    if (dt < best[v]) best[v] = dt;
                }
            const int same = !memcmp(o1, o2, (size_t)M * hc * 2);
            if (!same) failures++;
            sum[0] += best[0]; sum[1] += best[1];
            printf("bench gemm_gated_s16 %-10s m=%d hc=%-4d k=%-3d  gemm+gated %8.3f ms  fused %8.3f ms  %.2fx  %.1f GMAC/s%s\n",
                   levels[l].name, M, hc, k, best[0] * 1e3, best[1] * 1e3, best[0] / best[1],
                   (double)M * 2 * hc * k / best[1] * 1e-9, same ? "" : "  OUTPUTS DIFFER");
        }
        printf("bench gemm_gated_s16 %-10s all shapes: gemm+gated %8.3f ms  fused %8.3f ms  %.2fx\n", levels[l].name,
               sum[0] * 1e3, sum[1] * 1e3, sum[0] / sum[1]);
    }
    free(a); free(o1); free(o2); free(lut); free(w); free(bias); free(mult); free(shift);
}

/* which: NULL for every benchmark, or "gemm", "gated", "ops" (check_main --bench=NAME) */
static void run_bench(const char *which) {
    s2c_set_threads(1);
    if (!which || !strcmp(which, "gemm")) run_gemm_bench();
    if (!which || !strcmp(which, "gated")) run_gated_bench();
    if (which && strcmp(which, "ops")) {
        s2c_set_threads(0);
        return;
    }
    printf("bench: one thread, best of >= 5 calls; sizes as in the codec (64x64 latent-stage tensors)\n");
    BenchCtx x = {0};
    const size_t cap = (size_t)64 * 64 * 3 * 384;
    x.in = malloc(cap * 2); x.out = malloc(cap * 2); x.g = malloc(1024 * 4); x.b = malloc(1024 * 4);
    x.lut = malloc(65536 * 2); x.exp_lut = malloc(2840 * 2);
    x.mult = malloc(1024 * 4); x.shift = malloc(1024 * 4); x.wgt = malloc(1024 * 25);
    for (int i = 0; i < 1024; i++) { x.g[i] = rint_in(1 << 20, 1 << 24); x.b[i] = rint_in(-(1 << 20), 1 << 20); }
    for (int i = 0; i < 1024; i++) { x.mult[i] = (int32_t)((1u << 30) + (uint32_t)(rnd() % (1u << 30))); x.shift[i] = rint_in(36, 40); }
    for (int i = 0; i < 1024 * 25; i++) x.wgt[i] = (int8_t)rint_in(-128, 127);
    fill_lut(x.lut, 0);
    fill_exp_lut(x.exp_lut, 2840);
    char shape[64];
    static const int lnc[] = {96, 192, 256, 320};
    for (int k = 0; k < 4; k++) {
        x.rows = 64 * 64; x.c = lnc[k];
        for (size_t i = 0; i < (size_t)x.rows * x.c; i++) x.in[i] = (int16_t)rint_in(-4000, 4000);
        snprintf(shape, sizeof shape, "rows=%d c=%d", x.rows, x.c);
        bench("layernorm_s16", shape, bench_ln, &x);
    }
    x.h = 64; x.w = 96; x.c = 192;  /* stage 1 of g_s on a 128 x 192 image: 5x5, 2 x 96 channels */
    for (size_t i = 0; i < (size_t)x.h * x.w * x.c; i++) x.in[i] = (int16_t)rint_in(-4000, 4000);
    snprintf(shape, sizeof shape, "%dx%d c=%d k=5", x.h, x.w, x.c);
    bench("dwconv_s16", shape, bench_dw, &x);
    x.rows = 64 * 64; x.c = 384;  /* Gated-FFN of a 96-channel stage (2 x 4 x 96 in, 4 x 96 out) */
    for (size_t i = 0; i < (size_t)x.rows * 2 * x.c; i++) x.in[i] = (int16_t)(rint_in(-1500, 1500) + rint_in(-1500, 1500));
    snprintf(shape, sizeof shape, "rows=%d hc=%d", x.rows, x.c);
    bench("gated_s16", shape, bench_gated, &x);
    x.n = (ptrdiff_t)64 * 64 * 192;
    for (ptrdiff_t i = 0; i < 2 * x.n; i++) x.in[i] = (int16_t)rint_in(-32768, 32767);
    snprintf(shape, sizeof shape, "n=%td", x.n);
    bench("add_requant_s16", shape, bench_add, &x);
    x.n = (ptrdiff_t)64 * 64 * 384;
    for (ptrdiff_t i = 0; i < x.n; i++) x.in[i] = (int16_t)rint_in(-32768, 32767);
    snprintf(shape, sizeof shape, "n=%td, uniform indices", x.n);
    bench("lut16_s16", shape, bench_lut, &x);
    for (ptrdiff_t i = 0; i < x.n; i++) x.in[i] = (int16_t)(rint_in(-1500, 1500) + rint_in(-1500, 1500));
    snprintf(shape, sizeof shape, "n=%td, activations +-3000", x.n);
    bench("lut16_s16", shape, bench_lut, &x);
    /* q, k within +-1000: logits spread over ~10 nats (most e past the table); +-300: ~1 nat (all in it) */
    static const int ac[][4] = {{64, 192, 6, 1000}, {32, 256, 8, 1000}, {64, 192, 6, 300}};
    for (int k = 0; k < 3; k++) {
        x.h = x.w = ac[k][0]; x.c = ac[k][1]; x.heads = ac[k][2];
        for (size_t i = 0; i < (size_t)x.h * x.w * 3 * x.c; i++)
            x.in[i] = (int16_t)((int)(i % (3 * x.c)) < 2 * x.c ? rint_in(-ac[k][3], ac[k][3]) : rint_in(-32768, 32767));
        snprintf(shape, sizeof shape, "%dx%d c=%d heads=%d win=8 qk=%d", x.h, x.w, x.c, x.heads, ac[k][3]);
        bench("window_attn_s16", shape, bench_attn, &x);
    }
    free(x.in); free(x.out); free(x.g); free(x.b); free(x.lut); free(x.exp_lut); free(x.mult); free(x.shift); free(x.wgt);
    s2c_set_threads(0);
}

int main(int argc, char **argv) {
    uint64_t seed = (uint64_t)time(NULL);
    int do_bench = 0;
    const char *bench_which = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) do_bench = 1;
        else if (!strncmp(argv[i], "--bench=", 8)) do_bench = 1, bench_which = argv[i] + 8;
        else seed = strtoull(argv[i], NULL, 0);
    }
    rng_state = seed;
    printf("s2c check_main: seed %llu, cpu flags 0x%x (detected 0x%x), levels:", (unsigned long long)seed,
           s2c_cpu_flags(), s2c_cpu_flags_detected());
    for (int l = 0; l < NLEVELS; l++)
        if ((levels[l].flags & s2c_cpu_flags()) == levels[l].flags) printf(" %s", levels[l].name);
    printf("\n");
    for (int a16 = 0; a16 <= 1; a16++) {
        int before = checks;
        const int kmax = a16 ? S2C_GEMM_S16_MAX_K : 1200;
        for (int it = 0; it < 300; it++) {
            int m = rint_in(1, 13), n = rint_in(1, 13);
            int k = it % 10 == 0 ? rint_in(0, kmax) : rint_in(0, 140);
            int amode = it < 60 ? it % 6 : (it % 3 ? 0 : rint_in(0, 5));
            int wmode = it < 60 ? (it / 6) % 6 : (it % 3 ? 0 : rint_in(0, 5));
            check_gemm(a16, m, n, k, amode, wmode, rint_in(0, 3), rint_in(0, 9) ? 0 : rint_in(1, 2));
        }
        /* The broadcast design's edges: n across channel blocks of 16 and groups of up to 4 blocks,
         * k around the pair / quad steps, the prefetch distance (16 steps) and the dot kernel's 32 / 64,
         * m across every row tile (6, 8, 12) and work item (48) remainder. */
        static const int ks[] = {0, 1, 2, 3, 4, 5, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 191, 192, 193};
        static const int ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 96, 97, 112, 129, 192};
        for (int it = 0; it < 400; it++) {
            const int m = it % 4 == 0 ? rint_in(1, 7) : it % 4 == 1 ? rint_in(8, 60) : rint_in(90, 110);
            const int n = it < 200 ? ns[it % 17] : rint_in(1, 200);
            const int k = it % 3 == 0 ? ks[(it / 3) % 22] : rint_in(0, it % 7 == 0 ? kmax : 300);
            const int amode = it % 5 == 0 ? rint_in(1, 3) : 0, wmode = it % 7 == 0 ? rint_in(1, 3) : 0;
            check_gemm(a16, m, n, k, amode, wmode, rint_in(0, 3), it % 6 == 0 ? rint_in(1, 2) : 0);
        }
        /* all-extreme operands: (-32768)(-128) or (-128)(-128) products at and past the bound (wrapping) */
        for (int it = 0; it < 12; it++)
            check_gemm(a16, rint_in(1, 70), rint_in(1, 70), it < 6 ? kmax : rint_in(kmax, 2 * kmax), 1 + it % 3,
                       1 + (it / 3) % 3, it % 4, it % 3);
        /* big enough to go parallel */
        check_gemm(a16, 67, 45, a16 ? 256 : 700, 0, 0, 0, 0);
        check_gemm(a16, 500, 100, a16 ? 250 : 500, 0, 0, 0, 0);
        printf("gemm_%s: %d variant-vs-C comparisons (random, extremes, ties, odd shapes)\n", a16 ? "s16" : "s8",
               checks - before);
    }
    check_acc_bounds();
    check_ops();
    check_gemm_gated_all();
    check_rans();
    if (failures) { printf("FAILED: %d of %d checks\n", failures, checks); return 1; }
    printf("all %d checks passed\n", checks);
    if (do_bench) run_bench(bench_which);
    return 0;
}
