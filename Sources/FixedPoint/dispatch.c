/* dispatch.c: init ladders: C reference first, then each ISA level the flags allow (dav1d style). */
#include "s2c_internal.h"

/* Levels without a fused gemm_gated_s16: the composition of their own gemm_s16 and gated_s16. */
#define GATED_COMPOSE(name, gemm, gated)                                                                         \
    static void name(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw, \
                     const int32_t *bias, const int32_t *mult, const int32_t *shift, int m, int hc, int k, int lo, \
                     int hi, const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {                   \
        s2c_gemm_gated_s16_compose(gemm, gated, c, ldc, a, lda, w, ldw, bias, mult, shift, m, hc, k, lo, hi, lut,  \
                                   gmult, gshift, glo, ghi);                                                     \
    }
#define LUT_COMPOSE(name, gemm)                                                                                  \
    static void name(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ldw, \
                     const int32_t *bias, const int32_t *mult, const int32_t *shift, int m, int n, int k, int lo,  \
                     int hi, const int16_t *lut) {                                                               \
        s2c_gemm_lut_s16_compose(gemm, c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut);         \
    }
#if defined(__aarch64__)
LUT_COMPOSE(gemm_lut_s16_neon, s2c_gemm_s16_neon)
LUT_COMPOSE(gemm_lut_s16_neon_dotprod, s2c_gemm_s16_neon_dotprod)
#elif defined(__wasm_simd128__)
LUT_COMPOSE(gemm_lut_s16_simd128, s2c_gemm_s16_simd128)
#endif
#if defined(__aarch64__)
GATED_COMPOSE(gemm_gated_s16_neon, s2c_gemm_s16_neon, s2c_gated_s16_neon)
GATED_COMPOSE(gemm_gated_s16_neon_dotprod, s2c_gemm_s16_neon_dotprod, s2c_gated_s16_neon)
#elif defined(__wasm_simd128__)
GATED_COMPOSE(gemm_gated_s16_simd128, s2c_gemm_s16_simd128, s2c_gated_s16_simd128)
#endif

void s2c_gemm_dsp_init(S2CGemmDSP *c, uint32_t flags) {
    c->gemm_s8 = s2c_gemm_s8_c;
    c->gemm_s16 = s2c_gemm_s16_c;
    c->gemm_gated_s16 = s2c_gemm_gated_s16_c;
    c->gemm_lut_s16 = s2c_gemm_lut_s16_c;
#if defined(__x86_64__)
    if (!(flags & S2C_CPU_AVX2)) return;
    c->gemm_s8 = s2c_gemm_s8_avx2;
    c->gemm_s16 = s2c_gemm_s16_avx2;
    c->gemm_gated_s16 = s2c_gemm_gated_s16_avx2;
    c->gemm_lut_s16 = s2c_gemm_lut_s16_avx2;
    if (!(flags & S2C_CPU_AVX512BW) || !(flags & S2C_CPU_AVX512VNNI)) return;
    c->gemm_s8 = s2c_gemm_s8_avx512vnni;
    c->gemm_s16 = s2c_gemm_s16_avx512vnni;
    c->gemm_gated_s16 = s2c_gemm_gated_s16_avx512vnni;
    c->gemm_lut_s16 = s2c_gemm_lut_s16_avx512vnni;
    if (!(flags & S2C_CPU_AMX)) return;
    c->gemm_s16 = s2c_gemm_s16_amx;
    c->gemm_gated_s16 = s2c_gemm_gated_s16_amx;
    c->gemm_lut_s16 = s2c_gemm_lut_s16_amx;
#elif defined(__aarch64__)
    if (!(flags & S2C_CPU_NEON)) return;
    c->gemm_s8 = s2c_gemm_s8_neon;
    c->gemm_s16 = s2c_gemm_s16_neon;
    c->gemm_gated_s16 = gemm_gated_s16_neon;
    c->gemm_lut_s16 = gemm_lut_s16_neon;
    if (!(flags & S2C_CPU_DOTPROD)) return;
    c->gemm_s8 = s2c_gemm_s8_neon_dotprod;
    c->gemm_s16 = s2c_gemm_s16_neon_dotprod;
    c->gemm_gated_s16 = gemm_gated_s16_neon_dotprod;
    c->gemm_lut_s16 = gemm_lut_s16_neon_dotprod;
#elif defined(__wasm_simd128__)
    if (!(flags & S2C_CPU_WASM_SIMD128)) return;
    c->gemm_s8 = s2c_gemm_s8_simd128;
    c->gemm_s16 = s2c_gemm_s16_simd128;
    c->gemm_gated_s16 = gemm_gated_s16_simd128;
    c->gemm_lut_s16 = gemm_lut_s16_simd128;
#else
    (void)flags;
#endif
}

void s2c_elt_dsp_init(S2CEltDSP *c, uint32_t flags) {
    c->add_requant_s16 = s2c_add_requant_s16_c;
#if defined(__x86_64__)
    if (!(flags & S2C_CPU_AVX2)) return;
    c->add_requant_s16 = s2c_add_requant_s16_avx2;
    if (!(flags & S2C_CPU_AVX512BW) || !(flags & S2C_CPU_AVX512VNNI)) return;
    c->add_requant_s16 = s2c_add_requant_s16_avx512vnni;
#elif defined(__aarch64__)
    if (!(flags & S2C_CPU_NEON)) return;
    c->add_requant_s16 = s2c_add_requant_s16_neon;
#elif defined(__wasm_simd128__)
    if (!(flags & S2C_CPU_WASM_SIMD128)) return;
    c->add_requant_s16 = s2c_add_requant_s16_simd128;
#else
    (void)flags;
#endif
}

void s2c_ops_dsp_init(S2COpsDSP *c, uint32_t flags) {
    c->dwconv_s16 = s2c_dwconv_s16_c;
    c->layernorm_s16 = s2c_layernorm_s16_c;
    c->lut16_s16 = s2c_lut16_s16_c;
    c->gated_s16 = s2c_gated_s16_c;
    c->rescale_s16 = s2c_rescale_s16_c;
    c->window_attn_s16 = s2c_window_attn_s16_c;
#if defined(__x86_64__)
    if (!(flags & S2C_CPU_AVX2)) return;
    c->dwconv_s16 = s2c_dwconv_s16_avx2;
    c->layernorm_s16 = s2c_layernorm_s16_avx2;
    c->gated_s16 = s2c_gated_s16_avx2;
    c->rescale_s16 = s2c_rescale_s16_avx2;
    c->window_attn_s16 = s2c_window_attn_s16_avx2;
    if (!(flags & S2C_CPU_AVX512BW) || !(flags & S2C_CPU_AVX512VNNI)) return;
    c->window_attn_s16 = s2c_window_attn_s16_avx512vnni;
    c->layernorm_s16 = s2c_layernorm_s16_avx512vnni;
    c->dwconv_s16 = s2c_dwconv_s16_avx512vnni;
#elif defined(__aarch64__)
    if (!(flags & S2C_CPU_NEON)) return;
    c->dwconv_s16 = s2c_dwconv_s16_neon;
    c->lut16_s16 = s2c_lut16_s16_neon;
    c->layernorm_s16 = s2c_layernorm_s16_neon;
    c->gated_s16 = s2c_gated_s16_neon;
    c->rescale_s16 = s2c_rescale_s16_neon;
    c->window_attn_s16 = s2c_window_attn_s16_neon;
#elif defined(__wasm_simd128__)
    if (!(flags & S2C_CPU_WASM_SIMD128)) return;
    c->dwconv_s16 = s2c_dwconv_s16_simd128;
    c->layernorm_s16 = s2c_layernorm_s16_simd128;
    c->gated_s16 = s2c_gated_s16_simd128;
    c->window_attn_s16 = s2c_window_attn_s16_simd128;
#else
    (void)flags;
#endif
}
