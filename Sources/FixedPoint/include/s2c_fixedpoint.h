/* s2c_fixedpoint.h: public C API of the integer kernels: CPU flags, requantization, dispatch tables. */
#ifndef S2C_FIXEDPOINT_H
#define S2C_FIXEDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "s2c_ops.h"
#include "s2c_rans.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the kernel library (bumped when a kernel's specified output changes: never so far). */
int s2c_fixedpoint_version(void);

/* MARK: - CPU features
 *
 * Flags are bits; never renumber, only add. A flag implies the features the kernels built for it
 * rely on (S2C_CPU_AVX512BW means AVX-512 F+BW+VL with OS-enabled zmm state; S2C_CPU_AVX512VNNI is
 * only reported together with S2C_CPU_AVX512BW).
 */
#define S2C_CPU_AVX2        (1u << 0)  /**< x86-64: AVX2 (+ OS ymm state). */
#define S2C_CPU_AVX512BW    (1u << 1)  /**< x86-64: AVX-512 F, BW, VL (+ OS zmm state). */
#define S2C_CPU_AVX512VNNI  (1u << 2)  /**< x86-64: AVX512_VNNI (vpdpbusd, vpdpwssd). */
#define S2C_CPU_AMX         (1u << 3)  /**< x86-64: AMX-TILE + AMX-INT8 with OS tile state (on Linux granted to the process); only with S2C_CPU_AVX512VNNI. */
#define S2C_CPU_NEON        (1u << 8)  /**< aarch64: Advanced SIMD (always present). */
#define S2C_CPU_DOTPROD     (1u << 9)  /**< aarch64: SDOT/UDOT (HWCAP_ASIMDDP). */
#define S2C_CPU_WASM_SIMD128 (1u << 16) /**< wasm32: SIMD128 (a build property: such a module loads only where it runs). */

/** Features detected on this CPU, ignoring the mask. */
uint32_t s2c_cpu_flags_detected(void);
/** Effective flags: detected & mask. The mask starts as S2C_CPU_MASK (env, read once) or all ones. */
uint32_t s2c_cpu_flags(void);
/** Current mask (what s2c_cpu_flags ANDs in). */
uint32_t s2c_cpu_mask(void);
/** Replaces the mask (e.g. 0 forces the C reference everywhere). Thread-safe; affects later inits only. */
void s2c_set_cpu_mask(uint32_t mask);
/** Parses a mask string: "0x..." is hex, otherwise decimal. Returns 0 on success, -1 if malformed. */
int s2c_cpu_parse_mask(const char *s, uint32_t *mask);

/* MARK: - Threads (OpenMP, hidden behind C so omp.h stays out of public headers) */

/** Sets the OpenMP thread count for parallel regions started by the calling thread; n <= 0 = all cores. */
void s2c_set_threads(int n);
/** Thread count a parallel region started by the calling thread would use. */
int s2c_get_threads(void);
/** Declares (delta +1) or ends (delta -1) a thread of the caller's own busy beside the kernels (s2c-int's
 *  model checksum). While any is declared, parallel regions use at most the cores left over (at least one)
 *  instead of oversubscribing: a kernel's static partition waits for its slowest thread, and a thread
 *  that loses its core for a scheduler time slice stalls the whole region. Thread-safe; the output never
 *  depends on the team size. */
void s2c_side_thread(int delta);
/** The team size of every parallel region the kernels start from the calling thread (their num_threads
 *  clause): s2c_get_threads(), capped while side threads are declared to the cores they leave (>= 1). */
int s2c_team(void);
/** Runs task(ctx, i) for every i in 0 ... n-1 on the threads of a parallel region (each thread takes
 *  the next task; the caller's thread is one of them) and returns when all have run. For independent
 *  host-side work after the network (the PNG writer's chunks, the model checksum): it runs on the
 *  kernels' own threads, which would otherwise wait, instead of on more threads beside them. */
void s2c_parallel_tasks(int n, void (*task)(void *ctx, int i), void *ctx);

/** Process-wide glibc malloc tuning for whole-image decoders (tools, not libraries): serve large blocks
 *  from the heap and keep freed memory, so the per-layer activations reuse pages instead of being
 *  mmap'ed, faulted in and zeroed each time (about 15% of the CPU time of a hybrid-t decode). The heap
 *  then never shrinks. No effect without glibc. (s2c-int does the same through ImageIO's ProcessMemory.) */
void s2c_keep_freed_memory(void);

/* MARK: - Requantization (frozen; see docs/kernels.md)
 *
 *   out = clamp((int64)acc * mult + (1 << (shift - 1))) >> shift, lo, hi)
 *
 * - int64 product, then add half, then ARITHMETIC shift right: round half up (towards +inf), so
 *   +2.5 -> 3, -2.5 -> -2, -0.5 -> 0, -1.5 -> -1.
 * - mult > 0 (calibrated multipliers live in [2^30, 2^31), any positive int32 is legal);
 *   shift in [1, 62]. |acc * mult| < 2^62 and half < 2^61, so the sum never overflows int64.
 * - then saturate to [lo, hi] (int8: -128..127, int16: -32768..32767, or a tighter ReLU-like range).
 * Every SIMD path reproduces this to the bit; the kernels' tests check it.
 * (Right shift of a negative int64 is arithmetic on every compiler we support: gcc and clang.)
 */

/** Rounded, shifted product without clamping: ((int64)acc * mult + 2^(shift-1)) >> shift. */
static inline int64_t s2c_requant(int32_t acc, int32_t mult, int shift) {
    return ((int64_t)acc * mult + ((int64_t)1 << (shift - 1))) >> shift;
}

/** s2c_requant then clamp to [lo, hi]. */
static inline int32_t s2c_requant_clamp(int32_t acc, int32_t mult, int shift, int32_t lo, int32_t hi) {
    int64_t v = s2c_requant(acc, mult, shift);
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/** Requantize and saturate to int8. */
static inline int8_t s2c_requant_s8(int32_t acc, int32_t mult, int shift) {
    return (int8_t)s2c_requant_clamp(acc, mult, shift, INT8_MIN, INT8_MAX);
}

/** Requantize and saturate to int16. */
static inline int16_t s2c_requant_s16(int32_t acc, int32_t mult, int shift) {
    return (int16_t)s2c_requant_clamp(acc, mult, shift, INT16_MIN, INT16_MAX);
}

/* MARK: - GEMM with fused requantization
 *
 *   c[i*ldc + j] = clamp(requant(bias[j] + sum_{t<k} a[i*lda + t] * w[j*ldw + t], mult[j], shift[j]), lo, hi)
 *
 * for i < m, j < n. a: activations, row-major; w: weights, one row of k per output channel (the
 * "NT" layout: both operands k-contiguous); bias may be NULL (zeros); mult/shift per output channel;
 * strides in elements; -32768 <= lo <= hi <= 32767 (lo = -128, hi = 127 for int8 results).
 *
 * Accumulation is int32 and defined modulo 2^32 in every variant (the C reference adds in uint32),
 * so variants agree bit for bit even outside the bounds; the result is only MEANINGFUL when the true
 * sum fits in int32:
 *   gemm_s8:  |bias| + k * 128 * 128 < 2^31, e.g. k <= 65536 with |bias| < 2^30   (S2C_GEMM_S8_MAX_K)
 *   gemm_s16: |bias| + k * 32768 * 128 < 2^31, e.g. k <= 256 with |bias| < 2^30   (S2C_GEMM_S16_MAX_K)
 *             (k <= 511 when |bias| < 2^22)
 * Rows are split across OpenMP threads (outer loop only): output independent of thread count.
 */
#define S2C_GEMM_S8_MAX_K  65536
#define S2C_GEMM_S16_MAX_K 256

typedef void (*s2c_gemm_s8_fn)(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda,
                               const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                               const int32_t *mult, const int32_t *shift,
                               int m, int n, int k, int lo, int hi);
typedef void (*s2c_gemm_s16_fn)(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                const int32_t *mult, const int32_t *shift,
                                int m, int n, int k, int lo, int hi);

/* Gated-FFN input half, fused (issue 10): the 1x1 convolution fc1 as a gemm_s16 with 2 hc output
 * channels (a | b), then the gated product of s2c_ops.h's gated_s16, without storing fc1's output:
 *
 *   ab[i][j] = clamp(requant(bias[j] + sum_{t<k} a[i*lda + t] * w[j*ldw + t], mult[j], shift[j]), lo, hi), j < 2 hc
 *   c[i*ldc + j] = clamp((lut[(uint16_t)ab[i][j]] * ab[i][hc + j] * gmult + 2^(gshift-1)) >> gshift, glo, ghi), j < hc
 *
 * i.e. exactly gemm_s16 (n = 2 hc) into a buffer followed by gated_s16 (the C reference is that
 * composition), with gemm_s16's bounds and gated_s16's (lut: 65536 entries; gmult >= 0, gshift in
 * [1, 62], |lut * b| <= 2^30). bias may be NULL. Rows are independent (OpenMP over rows). */
typedef void (*s2c_gemm_gated_s16_fn)(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                      const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                      const int32_t *mult, const int32_t *shift,
                                      int m, int hc, int k, int lo, int hi,
                                      const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);

/* A 1x1 convolution followed by a lookup-table activation (S2C-Conv's pw1 and GELU), fused (issue 10):
 *   c[i*ldc + j] = lut[(uint16_t)clamp(requant(bias[j] + sum_{t<k} a[i*lda + t] * w[j*ldw + t], mult[j], shift[j]), lo, hi)]
 * i.e. exactly gemm_s16 followed by lut16_s16 on its output (lut: 65536 entries, s2c_ops.h). */
typedef void (*s2c_gemm_lut_s16_fn)(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda,
                                    const int8_t *w, ptrdiff_t ldw, const int32_t *bias,
                                    const int32_t *mult, const int32_t *shift,
                                    int m, int n, int k, int lo, int hi, const int16_t *lut);

/** Dispatch table for the GEMM family. */
typedef struct S2CGemmDSP {
    s2c_gemm_s8_fn gemm_s8;    /**< int8 activations x int8 weights -> int16 (clamped). */
    s2c_gemm_s16_fn gemm_s16;  /**< int16 activations x int8 weights -> int16 (clamped). */
    s2c_gemm_gated_s16_fn gemm_gated_s16;  /**< gemm_s16 (2 hc channels) + gated product -> hc channels. */
    s2c_gemm_lut_s16_fn gemm_lut_s16;      /**< gemm_s16 + lookup-table activation. */
} S2CGemmDSP;

/** Fills c with the best variants allowed by flags (pass s2c_cpu_flags(), or any subset to force a level). */
void s2c_gemm_dsp_init(S2CGemmDSP *c, uint32_t flags);

/* MARK: - Elementwise (C reference only for now)
 *
 *   add_requant_s16: out[i] = clamp(((int64)a[i]*mult_a + (int64)b[i]*mult_b + 2^(shift-1)) >> shift, lo, hi)
 *
 * Each input has its own multiplier; the shift is shared so there is exactly one rounding (same
 * round-half-up rule as s2c_requant). mult_a, mult_b in (0, 2^31), shift in [1, 62]:
 * |a*mult_a| + |b*mult_b| < 2^47, no overflow.
 */
typedef void (*s2c_add_requant_s16_fn)(int16_t *out, const int16_t *a, int32_t mult_a,
                                       const int16_t *b, int32_t mult_b, int shift,
                                       ptrdiff_t n, int lo, int hi);

/** Dispatch table for elementwise kernels. */
typedef struct S2CEltDSP {
    s2c_add_requant_s16_fn add_requant_s16;  /**< Rescaled saturating add of two int16 tensors. */
} S2CEltDSP;

/** Fills c with the best elementwise variants allowed by flags. */
void s2c_elt_dsp_init(S2CEltDSP *c, uint32_t flags);

/* MARK: - Variants (exported so tests and benchmarks can name them; use the tables in codec code) */

void s2c_gemm_s8_c(int16_t *c, ptrdiff_t ldc, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                   ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int m, int n, int k, int lo, int hi);
void s2c_gemm_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                    ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                    int m, int n, int k, int lo, int hi);
void s2c_add_requant_s16_c(int16_t *out, const int16_t *a, int32_t mult_a, const int16_t *b,
                           int32_t mult_b, int shift, ptrdiff_t n, int lo, int hi);
void s2c_gemm_lut_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                        ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                        int m, int n, int k, int lo, int hi, const int16_t *lut);
void s2c_gemm_gated_s16_c(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int hc, int k, int lo, int hi,
                          const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi);

#ifdef __cplusplus
}
#endif

#endif /* S2C_FIXEDPOINT_H */
