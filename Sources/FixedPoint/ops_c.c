/* ops_c.c: scalar C references of the layer kernels of s2c_ops.h: the specification for every ISA variant. */
#include <string.h>

#include "s2c_internal.h"

/* Exact floor(sqrt(v)) by the digit-by-digit (base 4) method: after processing bit pair 2j, res is
 * floor(sqrt(v >> 2j)) << j-ish and rem = v' - res^2 >= 0, so no estimate ever needs correcting.
 * res + bit never overflows: res < 2^33 and bit <= 2^62. */
/* floor(sqrt((2i + 1) 2^55)) = sqrt((i + 1/2) 2^56) for i = 64...255: sqrt(w) within 2^-8 relative for any
 * w in [i 2^56, (i + 1) 2^56) (a Python isqrt computed them). */
static const uint32_t isqrt_seed[192] = {
    2155855935u, 2172503719u, 2189024897u, 2205422317u, 2221698717u, 2237856739u, 2253898928u, 2269827740u,
    2285645547u, 2301354636u, 2316957219u, 2332455433u, 2347851346u, 2363146956u, 2378344199u, 2393444949u,
    2408451020u, 2423364172u, 2438186110u, 2452918486u, 2467562906u, 2482120925u, 2496594056u, 2510983767u,
    2525291482u, 2539518589u, 2553666434u, 2567736328u, 2581729545u, 2595647326u, 2609490876u, 2623261372u,
    2636959958u, 2650587749u, 2664145831u, 2677635263u, 2691057078u, 2704412282u, 2717701857u, 2730926762u,
    2744087931u, 2757186277u, 2770222692u, 2783198045u, 2796113186u, 2808968947u, 2821766138u, 2834505553u,
    2847187968u, 2859814141u, 2872384813u, 2884900710u, 2897362542u, 2909771004u, 2922126775u, 2934430521u,
    2946682894u, 2958884532u, 2971036059u, 2983138089u, 2995191222u, 3007196044u, 3019153133u, 3031063054u,
    3042926360u, 3054743594u, 3066515289u, 3078241968u, 3089924143u, 3101562316u, 3113156982u, 3124708625u,
    3136217719u, 3147684733u, 3159110123u, 3170494341u, 3181837827u, 3193141017u, 3204404336u, 3215628203u,
    3226813031u, 3237959223u, 3249067177u, 3260137285u, 3271169930u, 3282165490u, 3293124337u, 3304046836u,
    3314933346u, 3325784221u, 3336599808u, 3347380449u, 3358126481u, 3368838236u, 3379516038u, 3390160209u,
    3400771065u, 3411348917u, 3421894070u, 3432406826u, 3442887482u, 3453336330u, 3463753658u, 3474139749u,
    3484494883u, 3494819335u, 3505113376u, 3515377273u, 3525611290u, 3535815686u, 3545990716u, 3556136633u,
    3566253685u, 3576342117u, 3586402171u, 3596434085u, 3606438093u, 3616414428u, 3626363317u, 3636284986u,
    3646179658u, 3656047550u, 3665888881u, 3675703862u, 3685492704u, 3695255616u, 3704992802u, 3714704464u,
    3724390802u, 3734052014u, 3743688293u, 3753299832u, 3762886821u, 3772449445u, 3781987892u, 3791502342u,
    3800992976u, 3810459972u, 3819903505u, 3829323750u, 3838720878u, 3848095057u, 3857446457u, 3866775240u,
    3876081572u, 3885365613u, 3894627523u, 3903867459u, 3913085577u, 3922282030u, 3931456971u, 3940610551u,
    3949742916u, 3958854215u, 3967944593u, 3977014193u, 3986063156u, 3995091623u, 4004099733u, 4013087622u,
    4022055427u, 4031003281u, 4039931317u, 4048839666u, 4057728457u, 4066597820u, 4075447880u, 4084278763u,
    4093090594u, 4101883495u, 4110657587u, 4119412991u, 4128149826u, 4136868209u, 4145568257u, 4154250085u,
    4162913807u, 4171559535u, 4180187382u, 4188797458u, 4197389872u, 4205964733u, 4214522147u, 4223062221u,
    4231585059u, 4240090767u, 4248579445u, 4257051197u, 4265506124u, 4273944324u, 4282365897u, 4290770941u,
};

/* floor(sqrt(v)), exact for every uint64: w = v 4^e in [2^62, 2^64), a seed within 2^-8 of sqrt(w), two
 * Newton steps (2^-8 -> 2^-17 -> below 2^-34 relative, i.e. within 1 of sqrt(w) < 2^32), scale back
 * by 2^e, then one-step corrections on each side (r^2 <= v < (r + 1)^2, checked without overflow). */
uint32_t s2c_isqrt64(uint64_t v) {
    if (v < 2) return (uint32_t)v;
    const int sh = __builtin_clzll(v) & ~1;
    const uint64_t w = v << sh;
    uint64_t y = isqrt_seed[(w >> 56) - 64];
    y = (y + w / y) >> 1;
    y = (y + w / y) >> 1;
    uint64_t r = y >> (sh / 2);
    if (r > 0xffffffffu) r = 0xffffffffu;
    while (r * r > v) r--;
    while (r < 0xffffffffu && (r + 1) * (r + 1) <= v) r++;
    return (uint32_t)r;
}

/* MARK: - Layout */

void s2c_im2col_s16(int16_t *out, ptrdiff_t ldo, const int16_t *in, int h, int w, int c, int k,
                    int stride, int pad) {
    if (h + 2 * pad < k || w + 2 * pad < k || c <= 0 || k <= 0 || stride <= 0) return;
    s2c_im2col_rows_s16(out, ldo, in, h, w, c, k, stride, pad, 0, (h + 2 * pad - k) / stride + 1);
}

void s2c_im2col_rows_s16(int16_t *out, ptrdiff_t ldo, const int16_t *in, int h, int w, int c, int k,
                         int stride, int pad, int oy0, int oy1) {
    if (h + 2 * pad < k || w + 2 * pad < k || c <= 0 || k <= 0 || stride <= 0) return;
    const int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    if (oy0 < 0) oy0 = 0;
    if (oy1 > oh) oy1 = oh;
    if (oy0 >= oy1) return;
    const size_t row_bytes = (size_t)c * sizeof(int16_t);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)(oy1 - oy0) * ow * k * k * c >= S2C_OMP_MIN_WORK)
    for (int oy = oy0; oy < oy1; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            int16_t *o = out + ((ptrdiff_t)(oy - oy0) * ow + ox) * ldo;
            for (int ky = 0; ky < k; ky++) {
                const int y = oy * stride + ky - pad;
                for (int kx = 0; kx < k; kx++, o += c) {
                    const int x = ox * stride + kx - pad;
                    if (y < 0 || y >= h || x < 0 || x >= w) memset(o, 0, row_bytes);
                    else memcpy(o, in + ((ptrdiff_t)y * w + x) * c, row_bytes);
                }
            }
        }
    }
}

void s2c_pixel_shuffle_s16(int16_t *out, const int16_t *in, int h, int w, int c) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)h * w * c * 4 >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++)
        for (int i = 0; i < 2; i++)
            for (int x = 0; x < w; x++) {
                const int16_t *src = in + ((ptrdiff_t)y * w + x) * 4 * c + 2 * i;
                int16_t *d0 = out + ((ptrdiff_t)(2 * y + i) * 2 * w + 2 * x) * c, *d1 = d0 + c;
                for (int ch = 0; ch < c; ch++) {
                    d0[ch] = src[4 * ch];
                    d1[ch] = src[4 * ch + 1];
                }
            }
}

/* MARK: - Depthwise convolution */

/* Accumulation is int32 modulo 2^32 (uint32 adds) like the GEMMs, so variants agree bit for bit even
 * past the bound |bias| + k^2 * 2^22 < 2^31 (k <= 5 with |bias| < 2^30). Each product is exact:
 * |in * wgt| <= 2^22. */
void s2c_dwconv_s16_c(int16_t *out, const int16_t *in, int h, int w, int c, const int8_t *wgt, int k,
                      const int32_t *bias, const int32_t *mult, const int32_t *shift, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)h * w * c * k * k >= S2C_OMP_MIN_WORK)
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                out[((ptrdiff_t)y * w + x) * c + ch] =
                    s2c_dwconv_s16_point(in, h, w, c, wgt, k, bias, mult, shift, lo, hi, y, x, ch);
}

/* MARK: - LayerNorm */

/* One row; see s2c_ops.h for the formula and bounds (the per-element formula is s2c_layernorm_s16_point). */
void s2c_layernorm_s16_row_c(int16_t *o, const int16_t *x, int c, uint64_t eps_q, const int32_t *g,
                             const int32_t *b, int shift, int lo, int hi) {
    int64_t s = 0;
    for (int i = 0; i < c; i++) s += x[i];
    uint64_t v = 0;
    for (int i = 0; i < c; i++) {
        const int64_t d = (int64_t)c * x[i] - s;  /* |d| <= 2^16 c */
        v += (uint64_t)(d * d);                   /* d^2 <= 2^32 c^2, sum <= 2^32 c^3 */
    }
    const uint32_t r = s2c_layernorm_r(v, eps_q);
    for (int i = 0; i < c; i++) o[i] = s2c_layernorm_s16_point((int64_t)c * x[i] - s, r, g[i], b[i], shift, lo, hi);
}

void s2c_layernorm_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int c,
                         uint64_t eps_q, const int32_t *g, const int32_t *b, int shift, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 8 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        s2c_layernorm_s16_row_c(out + r * ldo, in + r * ldi, c, eps_q, g, b, shift, lo, hi);
}

/* MARK: - Lookup tables, gated product, rescale */

void s2c_lut16_s16_c(int16_t *out, const int16_t *in, ptrdiff_t n, const int16_t *lut) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if (n >= S2C_OMP_MIN_WORK * 4)
    for (ptrdiff_t i = 0; i < n; i++) out[i] = lut[(uint16_t)in[i]];
}

void s2c_gated_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *in, ptrdiff_t ldi, int rows, int hc,
                     const int16_t *lut, int32_t mult, int shift, int lo, int hi) {
    const int64_t half = (int64_t)1 << (shift - 1);
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * hc * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++) {
        const int16_t *a = in + r * ldi, *bb = a + hc;
        int16_t *o = out + r * ldo;
        for (int j = 0; j < hc; j++) {
            /* |lut * b| <= 2^30, times mult < 2^31: < 2^61; plus half < 2^62 */
            const int64_t y = ((int64_t)(lut[(uint16_t)a[j]] * bb[j]) * mult + half) >> shift;
            o[j] = (int16_t)(y < lo ? lo : y > hi ? hi : y);
        }
    }
}

void s2c_rescale_s16_c(int16_t *out, const int16_t *in, int rows, int c, const int32_t *mult,
                       const int32_t *shift, int lo, int hi) {
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)rows * c * 4 >= S2C_OMP_MIN_WORK)
    for (int r = 0; r < rows; r++)
        for (int ch = 0; ch < c; ch++)
            out[(ptrdiff_t)r * c + ch] = (int16_t)s2c_requant_clamp(in[(ptrdiff_t)r * c + ch], mult[ch], shift[ch], lo, hi);
}

/* MARK: - Window attention */

/* One window (top-left pixel y0, x0), all heads. z, e: scratch of n int32 each. */
static void attn_window(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int w, int c,
                        int heads, int win, int y0, int x0, int32_t logit_mult, int logit_shift,
                        const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift,
                        int32_t *z, int32_t *e) {
    const int n = win * win, hd = c / heads;
    for (int hh = 0; hh < heads; hh++) {
        const int qo = hh * hd, ko = c + hh * hd, vo = 2 * c + hh * hd;
        for (int i = 0; i < n; i++) {
            const ptrdiff_t ri = (ptrdiff_t)(y0 + i / win) * w + x0 + i % win;
            const int16_t *q = qkv + ri * ldq + qo;
            int32_t m = INT32_MIN;
            for (int j = 0; j < n; j++) {
                const int16_t *kk = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq + ko;
                uint32_t l = 0;  /* modulo 2^32 like every accumulator; exact for |q|,|k| <= 4095 */
                for (int d = 0; d < hd; d++) l += (uint32_t)(q[d] * kk[d]);
                z[j] = s2c_requant_clamp((int32_t)l, logit_mult, logit_shift, -(1 << 24), 1 << 24);
                if (z[j] > m) m = z[j];
            }
            int64_t sum = 0;
            for (int j = 0; j < n; j++) {
                const int32_t t = m - z[j];  /* 0 <= t <= 2^25 */
                e[j] = t < exp_len ? exp_lut[t] : 0;
                sum += e[j];
            }
            if (sum == 0) sum = 1;  /* only with a malformed exp_lut (exp_lut[0] must be 32768) */
            for (int j = 0; j < n; j++) e[j] = (int32_t)((e[j] * (int64_t)32768 + sum / 2) / sum);  /* p_ij */
            int16_t *o = out + ri * ldo + qo;
            for (int d = 0; d < hd; d++) {
                uint32_t acc = 0;  /* |sum p v| <= (2^15 + n/2) 2^15 < 2^31 */
                for (int j = 0; j < n; j++) {
                    const int16_t *v = qkv + ((ptrdiff_t)(y0 + j / win) * w + x0 + j % win) * ldq + vo;
                    acc += (uint32_t)(e[j] * v[d]);
                }
                o[d] = s2c_requant_s16((int32_t)acc, out_mult, out_shift);
            }
        }
    }
}

void s2c_window_attn_s16_c(int16_t *out, ptrdiff_t ldo, const int16_t *qkv, ptrdiff_t ldq, int h, int w,
                           int c, int heads, int win, int32_t logit_mult, int logit_shift,
                           const uint16_t *exp_lut, int exp_len, int32_t out_mult, int out_shift) {
    if (win <= 0 || win > S2C_ATTN_MAX_WIN || heads <= 0 || c % heads) return;
    const int nwx = w / win, nwin = (h / win) * nwx, n = win * win;
#pragma omp parallel for num_threads(s2c_team()) schedule(static) if ((int64_t)nwin * n * n * c * 2 >= S2C_OMP_MIN_WORK)
    for (int wi = 0; wi < nwin; wi++) {
        int32_t z[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN], e[S2C_ATTN_MAX_WIN * S2C_ATTN_MAX_WIN];
        attn_window(out, ldo, qkv, ldq, w, c, heads, win, (wi / nwx) * win, (wi % nwx) * win, logit_mult,
                    logit_shift, exp_lut, exp_len, out_mult, out_shift, z, e);
    }
}
