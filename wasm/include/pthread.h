/* pthread.h: the one pthread call of Sources/FixedPoint/cpu.c (pthread_once) for the single-threaded
 * wasm build (wasm/build.sh): wasi-libc without threads has no pthread.h. One thread, so a flag suffices. */
#ifndef S2C_WASM_PTHREAD_H
#define S2C_WASM_PTHREAD_H
typedef int pthread_once_t;
#define PTHREAD_ONCE_INIT 0
static inline int pthread_once(pthread_once_t *once, void (*init)(void)) {
    if (!*once) {
        *once = 1;
        init();
    }
    return 0;
}
#endif
