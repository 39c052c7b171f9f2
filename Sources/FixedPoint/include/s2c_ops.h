/* s2c_ops.h: integer layer kernels of the S2C runtime beyond GEMM: layout (im2col, pixel
 * shuffle), depthwise convolution, LayerNorm, lookup-table activations, gated product, per-channel
 * rescale and 8x8 window attention. Tensors are int16 HWC: element (y, x, c) at (y * w + x) * c_total + c.
 *
 * Every kernel here has a C reference (the specification, in ops_c.c); SIMD variants must equal it
 * bit for bit. All rounding is the frozen rule of s2c_fixedpoint.h: (v * mult + 2^(shift-1)) >> shift
 * in int64 (round half up), then saturation to [lo, hi]. No floating point anywhere.
 */
#ifndef S2C_OPS_H
#define S2C_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Floor of the square root of a 64-bit unsigned integer (exact). */
uint32_t s2c_isqrt64(uint64_t v);

/* MARK: - Layout */

/** im2col for a k x k convolution with stride s and zero padding p on an int16 HWC tensor (h, w, c).
 *  Output row r = oy * ow + ox (oh = (h + 2p - k) / s + 1, ow likewise) holds the patch in
 *  (ky, kx, ch) order, k * k * c values, rows ldo >= k * k * c elements apart; taps in the padding
 *  are 0. Writes nothing when h + 2p < k or w + 2p < k (no output position). */
void s2c_im2col_s16(int16_t *out, ptrdiff_t ldo, const int16_t *in, int h, int w, int c,
                    int k, int stride, int pad);

/** im2col of output rows [oy0, oy1) only (clamped to [0, oh)): out row r = (oy - oy0) * ow + ox,
 *  each row identical to the one s2c_im2col_s16 writes for (oy, ox). Lets a convolution run in
 *  bands of output rows with a bounded patch buffer. */
void s2c_im2col_rows_s16(int16_t *out, ptrdiff_t ldo, const int16_t *in, int h, int w, int c,
                         int k, int stride, int pad, int oy0, int oy1);

/** PixelShuffle(2) on HWC: in (h, w, 4c) -> out (2h, 2w, c),
 *  out[(2y + i), (2x + j), ch] = in[y, x, 4 ch + 2 i + j] (PyTorch's channel order). */
void s2c_pixel_shuffle_s16(int16_t *out, const int16_t *in, int h, int w, int c);

/* MARK: - Kernel types and dispatch */

/** Depthwise k x k convolution, stride 1, zero padding k / 2, HWC (h, w, c):
 *  out[y, x, ch] = clamp(requant(bias[ch] + sum_{ky,kx} wgt[(ch * k + ky) * k + kx] * in[y + ky - k/2, x + kx - k/2, ch],
 *                                mult[ch], shift[ch]), lo, hi).
 *  bias may be NULL (zeros); k >= 1 (odd k is the centred case). int32 accumulation, modulo 2^32 in
 *  every variant like the GEMMs: exact when |bias| + k * k * 32768 * 128 < 2^31, e.g. k <= 5 when
 *  |bias| < 2^30. */
typedef void (*s2c_dwconv_s16_fn)(int16_t *out, const int16_t *in, int h, int w, int c,
                                  const int8_t *wgt, int k, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int lo, int hi);

/** LayerNorm over the c channels of each of `rows` positions (row stride ldi in, ldo out):
 *    S = sum_i x_i;  d_i = c * x_i - S;  V = sum_i d_i^2 (uint64);  r = max(1, isqrt64(V + eps_q))
 *    t_i = floor((2 * d_i * 2^14 + r) / (2 r))            (d_i / sqrt(V) in Q14, round half up)
 *    out_i = clamp((t_i * g[i] + (b[i] << 16) + 2^(shift-1)) >> shift, lo, hi)  (int64; shift >= 17)
 *  so out = gamma * (x - mean) / sqrt(var + eps) + beta in the output scale when the calibrator sets
 *  g[i] = gamma_i sqrt(c) 2^(shift-14) / s_out, b[i] = beta_i 2^(shift-16) / s_out, eps_q = eps c^3 / s_in^2.
 *  Bounds: |d_i| <= 2^16 c, V <= 2^32 c^3 <= 2^62 for c <= 1024; |d_i| <= isqrt64(V) so |t_i| <= 2^14;
 *  V + eps_q saturates at 2^64 - 1 (never wraps). Rows are independent (OpenMP over rows). */
typedef void (*s2c_layernorm_s16_fn)(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi,
                                     int rows, int c, uint64_t eps_q, const int32_t *g,
                                     const int32_t *b, int shift, int lo, int hi);

/** Lookup-table activation over the whole int16 domain: out[i] = lut[(uint16_t)in[i]] (65536 entries,
 *  index by two's-complement bit pattern: lut[0..32767] for 0..32767, lut[32768..65535] for -32768..-1). */
typedef void (*s2c_lut16_s16_fn)(int16_t *out, const int16_t *in, ptrdiff_t n, const int16_t *lut);

/** Gated-FFN core: in has rows of 2 hc values (a | b); out[r][j] =
 *  clamp((lut[(uint16_t)a[r][j]] * b[r][j] * mult + 2^(shift-1)) >> shift, lo, hi), int64 (|.| < 2^61). */
typedef void (*s2c_gated_s16_fn)(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi,
                                 int rows, int hc, const int16_t *lut, int32_t mult, int shift,
                                 int lo, int hi);

/** Per-channel rescale (gains, format changes): out[r][ch] = clamp(requant(in[r][ch], mult[ch], shift[ch]), lo, hi). */
typedef void (*s2c_rescale_s16_fn)(int16_t *out, const int16_t *in, int rows, int c,
                                   const int32_t *mult, const int32_t *shift, int lo, int hi);

/** Largest window side of window_attn_s16 (scratch of win^2 int32 per thread on the stack). */
#define S2C_ATTN_MAX_WIN 32

/** Non-overlapping window self-attention (no shift, no bias) on qkv rows of 3c values (q | k | v),
 *  HWC (h, w), h and w multiples of `win` (1 <= win <= S2C_ATTN_MAX_WIN), c a multiple of heads;
 *  heads of hd = c / heads channels; qkv rows ldq apart (pixel (y, x) is row y * w + x). Per window (raster
 *  order) and head, tokens i, j in raster order inside the window (n = win * win):
 *    L_ij = sum_d q_id k_jd                    (int32; the calibrator keeps |q|, |k| <= 4095: hd 2^24 < 2^31)
 *    z_ij = clamp(requant(L_ij, logit_mult, logit_shift), -2^24, 2^24)     (logits in 1/256 nats)
 *    e_ij = exp_lut[m_i - z_ij] if m_i - z_ij < exp_len else 0, m_i = max_j z_ij
 *           (exp_lut[t] = round(2^15 exp(-t / 256)), exp_lut[0] = 32768)
 *    p_ij = floor((e_ij 2^15 + sum_i / 2) / sum_i), sum_i = sum_j e_ij >= 32768     (Q15)
 *    out[pixel i][head * hd + d] = clamp(requant(sum_j p_ij v_jd, out_mult, out_shift), -32768, 32767)
 *  (sum_j p_ij <= 2^15 + n, so |sum_j p_ij v_jd| < 2^31 for any int16 v). out rows ldo apart. */
typedef void (*s2c_window_attn_s16_fn)(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq,
                                       int h, int w, int c, int heads, int win,
                                       int32_t logit_mult, int logit_shift,
                                       const uint16_t *exp_lut, int exp_len,
                                       int32_t out_mult, int out_shift);

/** Dispatch table of the layer kernels. */
typedef struct S2COpsDSP {
    s2c_dwconv_s16_fn dwconv_s16;
    s2c_layernorm_s16_fn layernorm_s16;
    s2c_lut16_s16_fn lut16_s16;
    s2c_gated_s16_fn gated_s16;
    s2c_rescale_s16_fn rescale_s16;
    s2c_window_attn_s16_fn window_attn_s16;
} S2COpsDSP;

/** Fills c with the best variants allowed by flags (C reference with flags = 0). */
void s2c_ops_dsp_init(S2COpsDSP *c, uint32_t flags);

/* C references (exported for tests; codec code goes through the table). */
void s2c_dwconv_s16_c(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                      const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi);
void s2c_layernorm_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                         uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi);
void s2c_lut16_s16_c(int16_t *out, const int16_t *in, ptrdiff_t n, const int16_t *lut);
void s2c_gated_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                     const int16_t *lut, int32_t mult, int shift, int lo, int hi);
void s2c_rescale_s16_c(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                       const int32_t *shift, int lo, int hi);
void s2c_window_attn_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                           int c, int heads, int win, int32_t logit_mult, int logit_shift,
                           const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift);

#ifdef __cplusplus
}
#endif

#endif /* S2C_OPS_H */
