/* omp.h: the OpenMP calls of Sources/FixedPoint for the single-threaded wasm build (wasm/build.sh).
 * wasm32 here has no threads: the kernels are compiled without -fopenmp, so their `#pragma omp` loops
 * run on the calling thread, and s2c_set_threads / s2c_get_threads (cpu.c) see one thread. The output
 * never depends on the thread count, so this changes no pixel. */
#ifndef S2C_WASM_OMP_H
#define S2C_WASM_OMP_H
static inline void omp_set_num_threads(int n) { (void)n; }
static inline int omp_get_num_procs(void) { return 1; }
static inline int omp_get_max_threads(void) { return 1; }
#endif
