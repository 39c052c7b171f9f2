/* rans.c: CDF-table and raw-bit helpers on top of the inline rANS coder in s2c_rans.h. */
#include "s2c_rans.h"

int s2c_rans_cdf_valid(const uint32_t *cdf, int nsym) {
    if (nsym < 1 || cdf[0] != 0 || cdf[nsym] != S2C_RANS_SCALE) return 0;
    for (int s = 0; s < nsym; s++)
        if (cdf[s + 1] <= cdf[s]) return 0;  /* frequency 0 (or a decreasing table) */
    return 1;
}

void s2c_rans_put_cdf(S2CRansEnc *e, const uint32_t *cdf, int s) {
    s2c_rans_enc_put(e, cdf[s], cdf[s + 1] - cdf[s]);
}

int s2c_rans_get_cdf(S2CRansDec *d, const uint32_t *cdf, int nsym) {
    uint32_t slot = s2c_rans_dec_get(d);
    /* Largest s with cdf[s] <= slot. Invariant: cdf[lo] <= slot < cdf[hi]; holds initially because
     * cdf[0] == 0 and cdf[nsym] == 2^16 > slot. */
    int lo = 0, hi = nsym;
    while (hi - lo > 1) {
        int mid = lo + ((hi - lo) >> 1);
        if (cdf[mid] <= slot) lo = mid;
        else hi = mid;
    }
    s2c_rans_dec_advance(d, cdf[lo], cdf[lo + 1] - cdf[lo]);
    return lo;
}

void s2c_rans_put_bits(S2CRansEnc *e, uint32_t value, int bits) {
    if (bits <= 0) return;
    /* value occupies [value << (16 - bits), +2^(16 - bits)): bits == 16 means frequency 1. */
    uint32_t v = value & ((1u << bits) - 1);
    s2c_rans_enc_put(e, v << (S2C_RANS_SCALE_BITS - bits), 1u << (S2C_RANS_SCALE_BITS - bits));
}

uint32_t s2c_rans_get_bits(S2CRansDec *d, int bits) {
    if (bits <= 0) return 0;
    uint32_t v = s2c_rans_dec_get(d) >> (S2C_RANS_SCALE_BITS - bits);
    s2c_rans_dec_advance(d, v << (S2C_RANS_SCALE_BITS - bits), 1u << (S2C_RANS_SCALE_BITS - bits));
    return v;
}
