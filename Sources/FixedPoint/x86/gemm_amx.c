/* x86/gemm_amx.c: gemm_s16, gemm_lut_s16 and gemm_gated_s16 on AMX tiles (Intel Advanced Matrix
 * Extensions, AMX-TILE + AMX-INT8), bit-exact with gemm_c.c. s2c_gemm_*_amx run them for shapes with
 * enough rows to fill the tiles and the AVX-512 VNNI kernels otherwise; the dispatch picks them only
 * where s2c_cpu_flags() reports
 * S2C_CPU_AMX (the CPU has the tiles, the OS saves their state, and on Linux the process was granted
 * them: cpu.c).
 *
 * AMX multiplies bytes only, so each int16 activation is split into two bytes, x = 256 hi + lo with
 * lo = x & 0xff (unsigned) and hi = x >> 8 (arithmetic, signed), and every output is two tile sums:
 *   acc = bias + sum_t lo_t w_t + 256 sum_t hi_t w_t   (TDPBUSD: u8 x s8; TDPBSSD: s8 x s8)
 * Both instructions add their int32 dot products without saturation, i.e. mod 2^32, and x -> (hi, lo)
 * is exact, so acc equals the C reference's uint32 sum bit for bit (multiplying by 256 and adding
 * distribute over the modulus), in any order and for any k.
 *
 * Layout. Tiles are 16 rows x 64 bytes. Per call the weights are packed, one 16-channel block at a
 * time, into TDPB*'s B layout: for each 64-wide k chunk, 16 rows of k quads, row r holding for each of
 * the 16 channels its 4 weights k = 64 q + 4 r .. + 3 (zeros past k and past n), with the block's
 * requant constants. Per work item of 16 rows the activations are split into a lo and a hi plane of
 * 16 rows x kp bytes (kp = k rounded up to 64; zeros past k and past the last row). Tiles 0-3 hold
 * the lo and hi sums of two channel blocks, 4-5 the lo / hi activations, 6-7 the two weight blocks.
 * After the k loop the four int32 tiles go to a buffer on the stack and the epilogue requantizes
 * row by row with AVX-512 (vpmuldq / vpsravq in int64, saturate with vpmovsqw, clamp: the same
 * arithmetic as gemm_avx512vnni_bcast.c, in natural channel order), writing only rows < m and
 * channels < n. gemm_lut_s16 then looks its outputs up in the table, and gemm_gated_s16 packs its
 * 2 hc channels as pairs of blocks (a: channels 16 o.., b: hc + 16 o..), so one pass of the k loop
 * has both halves of 16 outputs and the epilogue forms their gated product; the table lookups are
 * the masked 4-byte gathers of gemm_avx512vnni_bcast.c (nothing outside the table is read). Work items are split across OpenMP threads (the outer loop only); every thread
 * configures its own tiles and releases them at the end of the region. The output never depends on
 * the thread count. Buffers come from the heap; if one cannot be had the function returns -1 and
 * the caller runs the VNNI kernel, which is exact too, so the output is the same either way. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../s2c_internal.h"
#include "avx512_common.h"

#define TGT_LIST "avx2,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8"
#define TGT __attribute__((target(TGT_LIST)))
#define INL static inline __attribute__((always_inline, target(TGT_LIST)))

enum {
    TR = 16,    /* tile rows: activation rows per work item, k quads per weight tile */
    TB = 64,    /* bytes per tile row: k values per chunk */
    VB = 16,    /* channels per block (int32 columns of an accumulator tile) */
    /* per-block constants, one zmm each */
    QBIAS = 0, QMULT, QMULTO, QHALFE, QHALFO, QSHE, QSHO, NQ
};

/* Below this many rows the VNNI kernel runs (a tile of 16 rows would be mostly padding). */
#define AMX_MIN_M 64
/* Largest packed weight buffer (bytes); above it the VNNI kernel runs. */
#define PACK_MAX ((size_t)64 << 20)

/* What the epilogue does with the requantized sums (the three public functions). */
typedef struct {
    int hc;                 /* > 0: gemm_gated_s16 (n = 2 hc, blocks paired a / b) */
    const int16_t *lut;     /* gemm_lut_s16's table, or gemm_gated_s16's */
    __m512i g[NQ];          /* gated: the product's requant constants (every lane the same) */
    __m512i lo64, hi64;     /* gated: fc1's bounds */
    __m512i glo64, ghi64;   /* gated: the output bounds */
} Mode;

/* The weight row (output channel of the GEMM) of lane l of block b, or -1 for a padding lane. */
static inline int src_channel(const Mode *md, int b, int l, int n) {
    if (!md->hc) return b * VB + l < n ? b * VB + l : -1;
    const int j = (b / 2) * VB + l;
    return j < md->hc ? (b % 2) * md->hc + j : -1;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} TileConfig;

INL void config_tiles(void) {
    TileConfig t;
    memset(&t, 0, sizeof t);
    t.palette = 1;
    for (int i = 0; i < 8; i++) {
        t.rows[i] = TR;
        t.colsb[i] = TB;
    }
    _tile_loadconfig(&t);
}

/* Requant constants of channel block b (s2c_requant_lanes: padding lanes are never stored). */
static void block_constants(__m512i *q, const Mode *md, int b, int n, const int32_t *bias, const int32_t *mult,
                            const int32_t *shift) {
    int j[VB];
    for (int l = 0; l < VB; l++) j[l] = src_channel(md, b, l, n);
    s2c_requant_lanes(q, j, bias, mult, shift);
}

/* Weight block b in the B layout: kq chunks of 16 rows x 64 bytes. Per chunk, the 16 channels' 64 bytes
 * (a masked load that stops at k; zeros for padding channels) transposed as a 16 x 16 matrix of 4-byte
 * k quads: row r is then quad r of every channel. */
INL void pack_weights(int8_t *dst, const Mode *md, const int8_t *w, ptrdiff_t ldw, int b, int n, int k, int kq) {
    const int8_t *wr[VB];
    for (int l = 0; l < VB; l++) {
        const int j = src_channel(md, b, l, n);
        wr[l] = j >= 0 ? w + (ptrdiff_t)j * ldw : NULL;
    }
    for (int q = 0; q < kq; q++) {
        const int kb = k - q * TB;  /* valid bytes in this chunk, >= 1 */
        const __mmask64 km = kb >= TB ? ~(__mmask64)0 : ((__mmask64)1 << kb) - 1;
        __m512i r[VB];
        for (int l = 0; l < VB; l++) r[l] = wr[l] ? _mm512_maskz_loadu_epi8(km, wr[l] + (ptrdiff_t)q * TB) : _mm512_setzero_si512();
        s2c_transpose16x32(r);
        for (int p = 0; p < TR; p++) _mm512_store_si512(dst + ((size_t)q * TR + p) * TB, r[p]);
    }
}

/* Rows i0 .. i0 + nr - 1 of a split into the lo / hi planes (16 rows x kp bytes each, zero padded). */
INL void split_rows(uint8_t *lo, int8_t *hi, const int16_t *a, ptrdiff_t lda, int i0, int nr, int k, int kp) {
    for (int r = 0; r < TR; r++) {
        uint8_t *lr = lo + (size_t)r * kp;
        int8_t *hr = hi + (size_t)r * kp;
        if (r >= nr) {
            memset(lr, 0, (size_t)kp);
            memset(hr, 0, (size_t)kp);
            continue;
        }
        const int16_t *ar = a + (ptrdiff_t)(i0 + r) * lda;
        for (int t = 0; t < kp; t += 32) {
            const int left = k - t;
            const __mmask32 m = left >= 32 ? ~(__mmask32)0 : left > 0 ? ((__mmask32)1 << left) - 1 : 0;
            const __m512i x = _mm512_maskz_loadu_epi16(m, ar + t);
            _mm256_store_si256((__m256i *)(lr + t), _mm512_cvtepi16_epi8(x));
            _mm256_store_si256((__m256i *)(hr + t), _mm512_cvtepi16_epi8(_mm512_srai_epi16(x, 8)));
        }
    }
}

/* The int32 sums of one row of one block: bias + lo + 256 hi (mod 2^32). */
INL __m512i sums(const int32_t *lo, const int32_t *hi, const __m512i *q) {
    return _mm512_add_epi32(_mm512_add_epi32(q[QBIAS], _mm512_load_si512(lo)), _mm512_slli_epi32(_mm512_load_si512(hi), 8));
}

/* s2c_requant_clamp of 16 int32 lanes to int16 [lo, hi] (int64 bounds), in lane order. */
INL __m256i requant16(__m512i acc, const __m512i *q, __m512i lo64, __m512i hi64) {
    return _mm512_cvtepi32_epi16(s2c_requant32(acc, q, lo64, hi64));
}

/* lut[(uint16_t)x] of 16 int32 lanes, in the high halves of the lanes (the low halves are the entry
 * before): a masked 4-byte gather at byte offset 2 (idx - 1); lanes with idx = 0 take lut[0] from the
 * source, so nothing outside the table is read (x86/ops_avx2.c). */
INL __m512i lookup_hi(__m512i x, const int16_t *lut) {
    const __m512i idx = _mm512_and_si512(x, _mm512_set1_epi32(0xffff));
    const __m512i l0 = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)lut[0] << 16));
    return _mm512_mask_i32gather_epi32(l0, _mm512_test_epi32_mask(idx, idx), idx, (const void *)(lut - 1), 2);
}

INL void store16(int16_t *cr, __m256i y, int rem) {
    if (rem >= VB) _mm256_storeu_si256((__m256i *)cr, y);
    else _mm256_mask_storeu_epi16(cr, (__mmask16)((1u << rem) - 1), y);
}

/* Rows i0 .. i0 + nr - 1 (nr <= 16) for every pair of channel blocks, from the split planes. */
INL void rows_amx(int16_t *c, ptrdiff_t ldc, const uint8_t *alo, const int8_t *ahi, const int8_t *wp,
                  const __m512i *cst, const Mode *md, int i0, int nr, int n, int nb, int kq, int kp, int lo, int hi) {
    int32_t out[4][TR][VB] __attribute__((aligned(64)));
    const __m512i lo64 = _mm512_set1_epi64(lo), hi64 = _mm512_set1_epi64(hi);
    const size_t wblock = (size_t)kq * TR * TB;
    for (int b = 0; b < nb; b += 2) {
        const int two = b + 1 < nb;
        const int8_t *w0 = wp + (size_t)b * wblock, *w1 = w0 + wblock;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int q = 0; q < kq; q++) {
            _tile_loadd(4, alo + (size_t)q * TB, kp);
            _tile_loadd(5, ahi + (size_t)q * TB, kp);
            _tile_loadd(6, w0 + (size_t)q * TR * TB, TB);
            _tile_dpbusd(0, 4, 6);
            _tile_dpbssd(1, 5, 6);
            if (two) {
                _tile_loadd(7, w1 + (size_t)q * TR * TB, TB);
                _tile_dpbusd(2, 4, 7);
                _tile_dpbssd(3, 5, 7);
            }
        }
        _tile_stored(0, out[0], VB * 4);
        _tile_stored(1, out[1], VB * 4);
        if (two) {
            _tile_stored(2, out[2], VB * 4);
            _tile_stored(3, out[3], VB * 4);
        }
        const __m512i *q0 = cst + (size_t)b * NQ, *q1 = q0 + NQ;
        for (int r = 0; r < nr; r++) {
            int16_t *cr = c + (ptrdiff_t)(i0 + r) * ldc;
            if (md->hc) {  /* blocks b, b + 1: a and b of outputs 16 (b / 2).. */
                const __m512i ra = s2c_requant32(sums(out[0][r], out[1][r], q0), q0, md->lo64, md->hi64);
                const __m512i rb = s2c_requant32(sums(out[2][r], out[3][r], q1), q1, md->lo64, md->hi64);
                const __m512i prod = _mm512_madd_epi16(_mm512_srli_epi32(lookup_hi(ra, md->lut), 16), rb);
                store16(cr + (b / 2) * VB, requant16(prod, md->g, md->glo64, md->ghi64), md->hc - (b / 2) * VB);
            } else if (md->lut) {
                for (int h = 0; h <= two; h++) {
                    const __m512i *qh = h ? q1 : q0;
                    const __m512i x = s2c_requant32(sums(out[2 * h][r], out[2 * h + 1][r], qh), qh, lo64, hi64);
                    const __m256i y = _mm512_cvtepi32_epi16(_mm512_srai_epi32(lookup_hi(x, md->lut), 16));
                    store16(cr + (b + h) * VB, y, n - (b + h) * VB);
                }
            } else {
                store16(cr + b * VB, requant16(sums(out[0][r], out[1][r], q0), q0, lo64, hi64), n - b * VB);
                if (two) store16(cr + (b + 1) * VB, requant16(sums(out[2][r], out[3][r], q1), q1, lo64, hi64), n - (b + 1) * VB);
            }
        }
    }
}

/* c (m x n; gated: m x hc) from the GEMM of n channels; returns 0, or -1 without writing c when a
 * buffer cannot be had. */
static TGT int gemm_tiles(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi, const Mode *md) {
    const int kq = (k + TB - 1) / TB, kp = kq * TB, mb = (m + TR - 1) / TR;
    const int nb = md->hc ? 2 * ((md->hc + VB - 1) / VB) : (n + VB - 1) / VB;
    const size_t cbytes = (size_t)nb * NQ * 64, wbytes = (size_t)nb * kp * TR;
    if (cbytes + wbytes > PACK_MAX) return -1;
    const int team = (int64_t)m * n * k >= S2C_OMP_MIN_WORK ? s2c_team() : 1;
    const size_t abytes = (size_t)2 * TR * kp;  /* one thread's lo and hi planes */
    char *buf = aligned_alloc(64, cbytes + wbytes + (size_t)team * abytes);
    if (!buf) return -1;
    __m512i *cst = (__m512i *)buf;
    int8_t *wp = (int8_t *)(buf + cbytes);
    for (int b = 0; b < nb; b++) block_constants(cst + (size_t)b * NQ, md, b, n, bias, mult, shift);
#pragma omp parallel num_threads(team) if (team > 1)
    {
#pragma omp for schedule(static)
        for (int b = 0; b < nb; b++) pack_weights(wp + (size_t)b * kq * TR * TB, md, w, ldw, b, n, k, kq);
        /* (the implicit barrier: every block is packed before any tile reads it) */
        char *ab = buf + cbytes + wbytes + (size_t)omp_get_thread_num() * abytes;
        uint8_t *alo = (uint8_t *)ab;
        int8_t *ahi = (int8_t *)(ab + (size_t)TR * kp);
        config_tiles();
#pragma omp for schedule(static)
        for (int ib = 0; ib < mb; ib++) {
            const int i0 = ib * TR, nr = m - i0 < TR ? m - i0 : TR;
            split_rows(alo, ahi, a, lda, i0, nr, k, kp);
            rows_amx(c, ldc, alo, ahi, wp, cst, md, i0, nr, n, nb, kq, kp, lo, hi);
        }
        _tile_release();
    }
    free(buf);
    return 0;
}

/* Whether the tiles pay: enough rows for several 16-row items, and a k to multiply. */
static int use_tiles(int m, int n, int k) { return m >= AMX_MIN_M && n > 0 && k > 0; }

void s2c_gemm_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                      ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      int m, int n, int k, int lo, int hi) {
    const Mode md = {0};
    if (!use_tiles(m, n, k) || gemm_tiles(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, &md))
        s2c_gemm_s16_avx512vnni(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi);
}

void s2c_gemm_lut_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                          ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int m, int n, int k, int lo, int hi, const int16_t *lut) {
    const Mode md = {.lut = lut};
    if (!use_tiles(m, n, k) || gemm_tiles(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, &md))
        s2c_gemm_lut_s16_avx512vnni(c, ldc, a, lda, w, ldw, bias, mult, shift, m, n, k, lo, hi, lut);
}

TGT void s2c_gemm_gated_s16_amx(int16_t *c, ptrdiff_t ldc, const int16_t *a, ptrdiff_t lda, const int8_t *w,
                                ptrdiff_t ldw, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                int m, int hc, int k, int lo, int hi,
                                const int16_t *lut, int32_t gmult, int gshift, int glo, int ghi) {
    Mode *md = aligned_alloc(64, sizeof(Mode));
    if (!md || !use_tiles(m, 2 * hc, k)) goto vnni;
    memset(md, 0, sizeof *md);
    md->hc = hc;
    md->lut = lut;
    _Static_assert(QBIAS == 0 && QMULT == 1 && QMULTO == 2 && QHALFE == 3 && QHALFO == 4 && QSHE == 5 && QSHO == 6 &&
                   NQ == 7, "s2c_requant_uniform's order");
    s2c_requant_uniform(md->g, gmult, gshift);
    md->lo64 = _mm512_set1_epi64(lo);
    md->hi64 = _mm512_set1_epi64(hi);
    md->glo64 = _mm512_set1_epi64(glo);
    md->ghi64 = _mm512_set1_epi64(ghi);
    if (!gemm_tiles(c, ldc, a, lda, w, ldw, bias, mult, shift, m, 2 * hc, k, lo, hi, md)) {
        free(md);
        return;
    }
vnni:
    free(md);
    s2c_gemm_gated_s16_avx512vnni(c, ldc, a, lda, w, ldw, bias, mult, shift, m, hc, k, lo, hi, lut, gmult, gshift,
                                  glo, ghi);
}
#endif
