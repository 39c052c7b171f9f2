/* bench-peak.c: measured peak multiply-accumulate rate of each kernel path's inner instruction, for
 * scripts/bench-decode.sh ("achieved MAC/s against the measured peak of that path").
 *
 *   cc -O2 -fopenmp scripts/bench-peak.c -o bench-peak && ./bench-peak [threads]
 *
 * Each test runs one thread, then THREADS OpenMP threads (default 2), each a loop of independent
 * accumulator chains (enough to cover latency) of one instruction, and prints
 * "peak NAME MACS_PER_SECOND_ON_THREADS MACS_PER_SECOND_ON_ONE": on a machine shared with other jobs the
 * THREADS-thread rate is what the cores gave us, THREADS x the one-thread rate what they can do.
 *   c        scalar imul + add (1 MAC each): what the C reference would reach unvectorized
 *   avx2     vpmaddwd ymm + vpaddd (16 int16 x int16 MACs per pair), the AVX2 GEMM's inner step
 *   avx512vnni vpdpwssd zmm (32 MACs), the AVX-512 VNNI s16 GEMM's inner step
 *   avx512vnni_s8 vpdpbusd zmm (64 MACs), its s8 GEMM's inner step
 *   amx      tdpbssd on 16 x 64-byte tiles (16384 int8 MACs each; 4 accumulator tiles), counted as int16
 *            MACs, i.e. halved: the AMX GEMM (x86/gemm_amx.c) does each int16 x int8 product as two byte
 *            products (Linux: needs the tile state granted by arch_prctl, asked here once)
 * A path is printed only when this CPU has it. The loops are inline assembly, so the compiler
 * cannot shorten them; time is the best of 30 runs of ~10 ms each (a shared machine: the best run is the one
 * least disturbed). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <omp.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef void (*Loop)(long iters);

#if defined(__x86_64__)
/* 12 independent chains of imul + add per iteration: 12 MACs. */
static void loop_c(long n) {
    uint64_t a = 3, b = 5, c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, c8 = 0, c9 = 0, c10 = 0, c11 = 0;
    for (long i = 0; i < n; i++) {
        __asm__ volatile(
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c0]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c1]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c2]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c3]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c4]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c5]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c6]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c7]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c8]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c9]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c10]\n\t"
            "mov %[a], %%rax\n\t imul %[b], %%rax\n\t add %%rax, %[c11]\n\t"
            : [c0] "+r"(c0), [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3), [c4] "+r"(c4), [c5] "+r"(c5),
              [c6] "+r"(c6), [c7] "+r"(c7), [c8] "+r"(c8), [c9] "+r"(c9), [c10] "+r"(c10), [c11] "+r"(c11)
            : [a] "r"(a), [b] "r"(b)
            : "rax");
    }
    __asm__ volatile("" ::"r"(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11));
}

/* 12 chains: vpmaddwd into a temporary, vpaddd into the accumulator (the AVX2 GEMM's step): 192 MACs. */
#define MADD(t, acc) "vpmaddwd %%ymm14, %%ymm15, %%ymm" #t "\n\t vpaddd %%ymm" #t ", %%ymm" #acc ", %%ymm" #acc "\n\t"
static __attribute__((target("avx2"))) void loop_avx2(long n) {
    __asm__ volatile("vpxor %%xmm15, %%xmm15, %%xmm15\n\t vpxor %%xmm14, %%xmm14, %%xmm14" ::: "xmm14", "xmm15");
    for (long i = 0; i < n; i++)
        __asm__ volatile(MADD(12, 0) MADD(13, 1) MADD(12, 2) MADD(13, 3) MADD(12, 4) MADD(13, 5)
                         MADD(12, 6) MADD(13, 7) MADD(12, 8) MADD(13, 9) MADD(12, 10) MADD(13, 11)
                         ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                           "xmm10", "xmm11", "xmm12", "xmm13");
}

#define DPW(acc) "vpdpwssd %%zmm30, %%zmm31, %%zmm" #acc "\n\t"
static __attribute__((target("avx512f,avx512vnni"))) void loop_vnni(long n) {
    __asm__ volatile("vpxord %%zmm31, %%zmm31, %%zmm31\n\t vpxord %%zmm30, %%zmm30, %%zmm30" ::: "xmm30", "xmm31");
    for (long i = 0; i < n; i++)
        __asm__ volatile(DPW(0) DPW(1) DPW(2) DPW(3) DPW(4) DPW(5) DPW(6) DPW(7) DPW(8) DPW(9) DPW(10) DPW(11)
                         ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                           "xmm10", "xmm11");
}

#define DPB(acc) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #acc "\n\t"
static __attribute__((target("avx512f,avx512vnni"))) void loop_vnni8(long n) {
    __asm__ volatile("vpxord %%zmm31, %%zmm31, %%zmm31\n\t vpxord %%zmm30, %%zmm30, %%zmm30" ::: "xmm30", "xmm31");
    for (long i = 0; i < n; i++)
        __asm__ volatile(DPB(0) DPB(1) DPB(2) DPB(3) DPB(4) DPB(5) DPB(6) DPB(7) DPB(8) DPB(9) DPB(10) DPB(11)
                         ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                           "xmm10", "xmm11");
}

/* 4 chains of tdpbssd (tiles 0-3 += tile 4 x tile 5): 4 x 16384 int8 MACs = 32768 int16 MACs. */
typedef struct { uint8_t palette, start_row, reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; } TileConfig;
static void loop_amx(long n) {
    TileConfig t = {.palette = 1};
    for (int i = 0; i < 8; i++) { t.rows[i] = 16; t.colsb[i] = 64; }
    __asm__ volatile("ldtilecfg %0\n\t tilezero %%tmm4\n\t tilezero %%tmm5" ::"m"(t));
    for (long i = 0; i < n; i++)
        __asm__ volatile("tdpbssd %%tmm5, %%tmm4, %%tmm0\n\t tdpbssd %%tmm5, %%tmm4, %%tmm1\n\t"
                         "tdpbssd %%tmm5, %%tmm4, %%tmm2\n\t tdpbssd %%tmm5, %%tmm4, %%tmm3" ::: "memory");
    __asm__ volatile("tilerelease");
}

#include <sys/syscall.h>
#include <unistd.h>
/* The CPU has AMX-TILE and AMX-INT8 and the OS grants this process the tile state. */
static int have_amx(void) {
    unsigned eax, ebx, ecx, edx;
    __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
    if (!((edx >> 24) & 1) || !((edx >> 25) & 1)) return 0;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}
#endif

/* MACs per second of loop (macs per iteration) on `threads` threads: best of 30. */
static double measure(Loop loop, double macs_per_iter, int threads) {
    long iters = 1 << 10;
    for (;;) { /* size one run to >= 10 ms (on one thread, undisturbed: the best of 3) */
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            const double t0 = now_s();
            loop(iters);
            if (now_s() - t0 < best) best = now_s() - t0;
        }
        if (best > 0.01) break;
        iters *= 2;
    }
    double best = 0;
    for (int rep = 0; rep < 30; rep++) {
        const double t0 = now_s();
#pragma omp parallel num_threads(threads)
        loop(iters);
        const double rate = macs_per_iter * (double)iters * threads / (now_s() - t0);
        if (rate > best) best = rate;
    }
    return best;
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1) { fprintf(stderr, "bench-peak: threads must be >= 1\n"); return 64; }
#if defined(__x86_64__)
    __builtin_cpu_init();
    printf("peak c %.4g %.4g\n", measure(loop_c, 12, threads), measure(loop_c, 12, 1));
    if (__builtin_cpu_supports("avx2"))
        printf("peak avx2 %.4g %.4g\n", measure(loop_avx2, 12 * 16, threads), measure(loop_avx2, 12 * 16, 1));
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) {
        printf("peak avx512vnni %.4g %.4g\n", measure(loop_vnni, 12 * 32, threads), measure(loop_vnni, 12 * 32, 1));
        printf("peak avx512vnni_s8 %.4g %.4g\n", measure(loop_vnni8, 12 * 64, threads), measure(loop_vnni8, 12 * 64, 1));
    }
    if (have_amx()) printf("peak amx %.4g %.4g\n", measure(loop_amx, 4 * 16384 / 2, threads), measure(loop_amx, 4 * 16384 / 2, 1));
#else
    (void)measure;
    printf("bench-peak: no peak loops for this architecture\n");
#endif
    return 0;
}
