/* s2c_rans.h: 32-bit byte-wise rANS entropy coder (after ryg_rans' rans_byte.h), bounds-checked. */
#ifndef S2C_RANS_H
#define S2C_RANS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* READ ME FIRST: the traps.
 *
 * 1. rANS is LIFO. The encoder must be fed the symbols in REVERSE order (last symbol first); the
 *    decoder then returns them in forward order.
 * 2. The encoder writes its bytes BACKWARDS, from the end of the buffer towards the start. After
 *    s2c_rans_enc_flush the stream is [s2c_rans_enc_data(e), buf + cap): it does NOT start at buf.
 * 3. The flushed state is 4 bytes LITTLE-ENDIAN at the start of the stream, whatever the host.
 * 4. Every symbol needs freq >= 1 and start + freq <= 2^16 (S2C_RANS_SCALE_BITS). A zero frequency
 *    makes the encoder divide by zero. Out-of-range values need an escape: code an escape symbol
 *    with the CDF, then the value with s2c_rans_put_bits (at most 16 bits per call).
 * 5. Encoder and decoder must use the same CDF for each symbol, in the same order (reversed, see 1).
 *
 * Corrupt or truncated input never crashes the decoder: reads past the end return 0 and set
 * d->error; an impossible state is clamped and sets d->error. The caller checks s2c_rans_dec_done()
 * after the last symbol (state back to its initial value, all bytes consumed, no error).
 * The encoder never writes before buf: on overflow it drops bytes and sets e->error.
 */

/** Lower bound of the normalized state interval [L, L << 8): 2^23, so a byte-wise renorm keeps it in 32 bits. */
#define S2C_RANS_L (1u << 23)
/** Probability precision: frequencies are out of 2^16 (cdf[nsym] == 65536). */
#define S2C_RANS_SCALE_BITS 16
#define S2C_RANS_SCALE (1u << S2C_RANS_SCALE_BITS)

/** Encoder state; bytes go to *--ptr. */
typedef struct S2CRansEnc {
    uint32_t x;      /**< state, in [L, L << 8) between symbols */
    uint8_t *buf;    /**< start of the caller's buffer (lowest address we may write) */
    uint8_t *end;    /**< buf + cap */
    uint8_t *ptr;    /**< next byte goes to ptr[-1] */
    int error;       /**< nonzero once the buffer overflowed */
} S2CRansEnc;

/** Decoder state; bytes come from *ptr++. */
typedef struct S2CRansDec {
    uint32_t x;
    const uint8_t *ptr;
    const uint8_t *end;
    int error;       /**< nonzero once a read ran past the end or the state was impossible */
} S2CRansDec;

/** Starts encoding into buf[0, cap). */
static inline void s2c_rans_enc_init(S2CRansEnc *e, uint8_t *buf, size_t cap) {
    e->x = S2C_RANS_L;
    e->buf = buf;
    e->end = buf + cap;
    e->ptr = buf + cap;
    e->error = 0;
}

static inline void s2c_rans__enc_byte(S2CRansEnc *e, uint8_t b) {
    if (e->ptr > e->buf) *--e->ptr = b;
    else e->error = 1;
}

/** Encodes a symbol occupying [start, start + freq) of 2^16. Call in REVERSE symbol order. */
static inline void s2c_rans_enc_put(S2CRansEnc *e, uint32_t start, uint32_t freq) {
    /* x_max = ((L >> scale_bits) << 8) * freq: the largest x whose encoding stays below L << 8. */
    uint32_t x = e->x;
    uint32_t x_max = ((S2C_RANS_L >> S2C_RANS_SCALE_BITS) << 8) * freq;
    while (x >= x_max) {
        s2c_rans__enc_byte(e, (uint8_t)(x & 0xff));
        x >>= 8;
    }
    e->x = ((x / freq) << S2C_RANS_SCALE_BITS) + (x % freq) + start;
}

/** Writes the final state (4 bytes, little-endian at the lowest addresses of the stream). */
static inline void s2c_rans_enc_flush(S2CRansEnc *e) {
    uint32_t x = e->x;
    s2c_rans__enc_byte(e, (uint8_t)(x >> 24));
    s2c_rans__enc_byte(e, (uint8_t)(x >> 16));
    s2c_rans__enc_byte(e, (uint8_t)(x >> 8));
    s2c_rans__enc_byte(e, (uint8_t)(x >> 0));
}

/** First byte of the finished stream. */
static inline uint8_t *s2c_rans_enc_data(const S2CRansEnc *e) { return e->ptr; }
/** Length of the finished stream in bytes. */
static inline size_t s2c_rans_enc_size(const S2CRansEnc *e) { return (size_t)(e->end - e->ptr); }

static inline uint32_t s2c_rans__dec_byte(S2CRansDec *d) {
    if (d->ptr < d->end) return *d->ptr++;
    d->error = 1;
    return 0;
}

/** Starts decoding the stream buf[0, len). */
static inline void s2c_rans_dec_init(S2CRansDec *d, const uint8_t *buf, size_t len) {
    d->ptr = buf;
    d->end = buf + len;
    d->error = 0;
    uint32_t x = s2c_rans__dec_byte(d);
    x |= s2c_rans__dec_byte(d) << 8;
    x |= s2c_rans__dec_byte(d) << 16;
    x |= s2c_rans__dec_byte(d) << 24;
    if (x < S2C_RANS_L || x >= (S2C_RANS_L << 8)) {
        d->error = 1;  /* cannot come from our encoder; keep going on a legal state */
        x = S2C_RANS_L;
    }
    d->x = x;
}

/** Cumulative-frequency slot of the next symbol, in [0, 2^16): find s with cdf[s] <= slot < cdf[s+1]. */
static inline uint32_t s2c_rans_dec_get(const S2CRansDec *d) {
    return d->x & (S2C_RANS_SCALE - 1);
}

/** Consumes the symbol [start, start + freq) found via s2c_rans_dec_get, then renormalizes. */
static inline void s2c_rans_dec_advance(S2CRansDec *d, uint32_t start, uint32_t freq) {
    uint32_t x = d->x;
    x = freq * (x >> S2C_RANS_SCALE_BITS) + (x & (S2C_RANS_SCALE - 1)) - start;
    /* From a legal state x >= 2^7 here, so at most 2 bytes are needed; the bound keeps a corrupt
     * state (x == 0 with exhausted input) from looping forever. */
    for (int i = 0; i < 3 && x < S2C_RANS_L; i++) x = (x << 8) | s2c_rans__dec_byte(d);
    if (x < S2C_RANS_L || x >= (S2C_RANS_L << 8)) {
        d->error = 1;
        x = S2C_RANS_L;
    }
    d->x = x;
}

/** True when decoding ended cleanly: no error, all bytes consumed, state back at L. */
static inline int s2c_rans_dec_done(const S2CRansDec *d) {
    return !d->error && d->ptr == d->end && d->x == S2C_RANS_L;
}

/* MARK: - Helpers (rans.c) */

/** 1 if cdf[0..nsym] is a legal table: cdf[0] == 0, cdf[nsym] == 65536, every frequency >= 1. */
int s2c_rans_cdf_valid(const uint32_t *cdf, int nsym);
/** Encodes symbol s (0 <= s < nsym) with a CDF table (see s2c_rans_cdf_valid). Reverse order! */
void s2c_rans_put_cdf(S2CRansEnc *e, const uint32_t *cdf, int s);
/** Decodes a symbol with the same CDF table (binary search); always returns a value in [0, nsym). */
int s2c_rans_get_cdf(S2CRansDec *d, const uint32_t *cdf, int nsym);
/** Encodes the low `bits` bits of value (bits in [0, 16]) with uniform frequency 2^(16-bits). */
void s2c_rans_put_bits(S2CRansEnc *e, uint32_t value, int bits);
/** Decodes `bits` raw bits (bits in [0, 16]). */
uint32_t s2c_rans_get_bits(S2CRansDec *d, int bits);

#ifdef __cplusplus
}
#endif

#endif /* S2C_RANS_H */
