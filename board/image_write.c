/* image_write.c: PNG (stored deflate) and PNM writers for the board decoder. See image_write.h. */
#include "image_write.h"

#include <errno.h>
#include <string.h>

uint32_t s2c_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char type[4], const uint8_t *data, uint32_t n) {
    uint8_t head[8], tail[4];
    put32(head, n);
    memcpy(head + 4, type, 4);
    uint32_t crc = s2c_crc32(s2c_crc32(0, head + 4, 4), data, n);
    put32(tail, crc);
    if (fwrite(head, 1, 8, f) != 8) return -1;
    if (n && fwrite(data, 1, n, f) != n) return -1;
    return fwrite(tail, 1, 4, f) == 4 ? 0 : -1;
}

/* The zlib stream, cut into IDAT chunks of IDAT_BYTES as it is produced. */
enum { IDAT_BYTES = 1 << 20, STORED_MAX = 65535 };

typedef struct {
    FILE *f;
    uint8_t buf[IDAT_BYTES];
    uint32_t fill;
    int failed;
} IdatWriter;

static void idat_put(IdatWriter *w, const uint8_t *p, size_t n) {
    while (n && !w->failed) {
        size_t take = IDAT_BYTES - w->fill;
        if (take > n) take = n;
        memcpy(w->buf + w->fill, p, take);
        w->fill += (uint32_t)take;
        p += take;
        n -= take;
        if (w->fill == IDAT_BYTES) {
            if (chunk(w->f, "IDAT", w->buf, w->fill)) w->failed = 1;
            w->fill = 0;
        }
    }
}

/* Deflate stored blocks over the filtered scanlines (filter type 0 = None), with Adler-32. */
typedef struct {
    IdatWriter *out;
    uint8_t block[STORED_MAX];
    uint32_t fill;
    uint32_t a, b;                       /* Adler-32 halves */
} StoredDeflate;

static void stored_flush(StoredDeflate *d, int final) {
    uint8_t head[5] = {(uint8_t)(final ? 1 : 0), (uint8_t)d->fill, (uint8_t)(d->fill >> 8),
                       (uint8_t)~d->fill, (uint8_t)(~d->fill >> 8)};
    idat_put(d->out, head, 5);
    idat_put(d->out, d->block, d->fill);
    d->fill = 0;
}

static void stored_put(StoredDeflate *d, const uint8_t *p, size_t n) {
    while (n) {
        size_t take = STORED_MAX - d->fill;
        if (take > n) take = n;
        memcpy(d->block + d->fill, p, take);
        /* Adler-32 over this piece; 5552 keeps the sums below 2^32 between reductions. */
        for (size_t i = 0; i < take;) {
            size_t run = take - i < 5552 ? take - i : 5552;
            for (size_t k = 0; k < run; k++) {
                d->a += p[i + k];
                d->b += d->a;
            }
            d->a %= 65521u;
            d->b %= 65521u;
            i += run;
        }
        d->fill += (uint32_t)take;
        p += take;
        n -= take;
        if (d->fill == STORED_MAX) stored_flush(d, 0);
    }
}

static int write_png(FILE *f, const uint8_t *px, uint32_t w, uint32_t h, int channels) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (fwrite(sig, 1, 8, f) != 8) return -1;
    uint8_t ihdr[13];
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8;                               /* bit depth */
    ihdr[9] = channels == 3 ? 2 : 0;           /* colour type: RGB or gray */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;        /* deflate, adaptive filters, no interlace */
    if (chunk(f, "IHDR", ihdr, 13)) return -1;

    static IdatWriter iw;                      /* 1 MiB + 64 KiB: off the (small) stack */
    static StoredDeflate sd;
    iw.f = f;
    iw.fill = 0;
    iw.failed = 0;
    sd.out = &iw;
    sd.fill = 0;
    sd.a = 1;
    sd.b = 0;
    const uint8_t zhead[2] = {0x78, 0x01};     /* deflate, 32 KiB window, no dictionary */
    idat_put(&iw, zhead, 2);
    const size_t row = (size_t)w * (size_t)channels;
    const uint8_t filter = 0;
    for (uint32_t y = 0; y < h && !iw.failed; y++) {
        stored_put(&sd, &filter, 1);
        stored_put(&sd, px + (size_t)y * row, row);
    }
    stored_flush(&sd, 1);
    uint8_t adler[4];
    put32(adler, sd.b << 16 | sd.a);
    idat_put(&iw, adler, 4);
    if (!iw.failed && iw.fill && chunk(f, "IDAT", iw.buf, iw.fill)) iw.failed = 1;
    if (iw.failed) return -1;
    return chunk(f, "IEND", NULL, 0);
}

static int write_pnm(FILE *f, const uint8_t *px, uint32_t w, uint32_t h, int channels) {
    if (fprintf(f, "P%c\n%u %u\n255\n", channels == 3 ? '6' : '5', w, h) < 0) return -1;
    const size_t n = (size_t)w * h * (size_t)channels;
    return fwrite(px, 1, n, f) == n ? 0 : -1;
}

int s2c_image_write(FILE *f, int format, const uint8_t *pixels, uint32_t w, uint32_t h, int channels) {
    const uint32_t maxSide = format == S2C_IMAGE_PNM ? 65535u : 0x7fffffffu;
    if (!f || !pixels || (channels != 1 && channels != 3) || w == 0 || h == 0 || w > maxSide || h > maxSide ||
        (format != S2C_IMAGE_PNG && format != S2C_IMAGE_PNM)) {
        errno = EINVAL;
        return -1;
    }
    return format == S2C_IMAGE_PNG ? write_png(f, pixels, w, h, channels) : write_pnm(f, pixels, w, h, channels);
}
