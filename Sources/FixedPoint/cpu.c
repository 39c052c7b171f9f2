/* cpu.c: CPU feature detection, the S2C_CPU_MASK mask, and the OpenMP thread-count wrappers. */
#include <limits.h> /* first: defines __GLIBC__ with glibc */
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <omp.h>

#include "s2c_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t s2c_xgetbv(uint32_t index) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(index));
    return ((uint64_t)edx << 32) | eax;
}

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
static int amx_permission(void) {
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}
#else
static int amx_permission(void) { return 0; }
#endif

static uint32_t detect(void) {
    uint32_t eax, ebx, ecx, edx, flags = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = s2c_xgetbv(0);
    const int ymm_state = (xcr0 & 0x6) == 0x6;    /* XMM | YMM */
    const int zmm_state = (xcr0 & 0xe6) == 0xe6;  /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    if (ymm_state && ((ebx >> 5) & 1)) flags |= S2C_CPU_AVX2;
    const int f = (ebx >> 16) & 1, bw = (ebx >> 30) & 1, vl = (ebx >> 31) & 1;
    if ((flags & S2C_CPU_AVX2) && zmm_state && f && bw && vl) {
        flags |= S2C_CPU_AVX512BW;
        if ((ecx >> 11) & 1) flags |= S2C_CPU_AVX512VNNI;
    }
    /* AMX: CPUID.(7,0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), XCR0 bits 17-18 (tile config and data
     * state), and on Linux the process's permission for the tile data state (arch_prctl, once). */
    const int amx = ((edx >> 24) & 1) && ((edx >> 25) & 1) && (xcr0 & 0x60000) == 0x60000;
    if ((flags & S2C_CPU_AVX512VNNI) && amx && amx_permission()) flags |= S2C_CPU_AMX;
    return flags;
}
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

static uint32_t detect(void) {
    uint32_t flags = S2C_CPU_NEON;  /* mandatory in ARMv8-A */
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) flags |= S2C_CPU_DOTPROD;
    return flags;
}
#elif defined(__wasm_simd128__)
static uint32_t detect(void) { return S2C_CPU_WASM_SIMD128; }  /* built with -msimd128: validated on load */
#else
static uint32_t detect(void) { return 0; }
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint32_t g_detected;
static _Atomic uint32_t g_mask = UINT32_MAX;

int s2c_cpu_parse_mask(const char *s, uint32_t *mask) {
    if (!s || !*s) return -1;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; if (!*s) return -1; }
    uint64_t v = 0;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else return -1;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > UINT32_MAX) return -1;
    }
    *mask = (uint32_t)v;
    return 0;
}

static void init_once(void) {
    g_detected = detect();
    const char *env = getenv("S2C_CPU_MASK");
    if (env) {
        uint32_t m;
        if (s2c_cpu_parse_mask(env, &m) == 0) atomic_store(&g_mask, m);
        else fprintf(stderr, "s2c: ignoring malformed S2C_CPU_MASK=\"%s\" (want 0x<hex> or decimal)\n", env);
    }
}

uint32_t s2c_cpu_flags_detected(void) {
    pthread_once(&g_once, init_once);
    return g_detected;
}

uint32_t s2c_cpu_mask(void) {
    pthread_once(&g_once, init_once);
    return atomic_load(&g_mask);
}

void s2c_set_cpu_mask(uint32_t mask) {
    pthread_once(&g_once, init_once);  /* so a later first call cannot overwrite it from the env */
    atomic_store(&g_mask, mask);
}

uint32_t s2c_cpu_flags(void) { return s2c_cpu_flags_detected() & s2c_cpu_mask(); }

void s2c_set_threads(int n) { omp_set_num_threads(n > 0 ? n : omp_get_num_procs()); }

int s2c_get_threads(void) { return omp_get_max_threads(); }

static atomic_int g_side_threads;

void s2c_side_thread(int delta) { atomic_fetch_add(&g_side_threads, delta); }

int s2c_team(void) {
    const int n = omp_get_max_threads();
    const int side = atomic_load_explicit(&g_side_threads, memory_order_relaxed);
    if (side <= 0) return n;
    const int left = omp_get_num_procs() - side;
    return n <= left ? n : left > 1 ? left : 1;
}

void s2c_parallel_tasks(int n, void (*task)(void *ctx, int i), void *ctx) {
    atomic_int next = 0; /* a shared counter, not schedule(dynamic): libomp 14 lacks what clang 21 emits for it */
#pragma omp parallel num_threads(s2c_team()) if (n > 1)
    for (int i; (i = atomic_fetch_add(&next, 1)) < n;) task(ctx, i);
}

int s2c_fixedpoint_version(void) { return 1; }

void s2c_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_MAX, 0);              /* large blocks from the heap, not one mmap each */
    mallopt(M_TRIM_THRESHOLD, INT_MAX);  /* never give the heap top back */
#endif
}
