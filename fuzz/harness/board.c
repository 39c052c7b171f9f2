/* board.c: libFuzzer harness for the board decoder's C entry points (board/BoardDecoder.swift,
 * built as Embedded Swift as board/build.sh builds it) and its image writer (board/image_write.c).
 *
 * The committed nano model is loaded once through s2c_board_load_model. Each input is a .s2c
 * bitstream, run as given and again with its CRC-32s recomputed (see fuzz/harness/bitstream.swift):
 * s2c_board_parse_stream, s2c_board_stream_info, then, for images up to MAX_PIXELS, s2c_board_decode
 * on the best kernels or the C reference (chosen by the input), s2c_board_with_pixels and
 * s2c_image_write as PNG and PNM into memory. Every message must be NUL-terminated within its
 * buffer; a successful decode must give w * h * channels bytes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_write.h"
#include "s2c_fixedpoint.h"
#include "board_decoder.h"

#define MAX_PIXELS (4 * 64 * 64)

static uint8_t *model;
static long model_n;

static void finding(const char *what) {
    fprintf(stderr, "fuzz finding: %s\n", what);
    abort();
}

static int fill(uint8_t *dst, long n, void *ctx) {
    (void)ctx;
    if (n != model_n) return 1;
    memcpy(dst, model, (size_t)n);
    return 0;
}

static void load_model(void) {
    const char *path = S2C_REPO "/Tests/Conformance/nano.s2cq";
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "fuzz-board: cannot open %s\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    model_n = ftell(f);
    fseek(f, 0, SEEK_SET);
    model = malloc((size_t)model_n);
    if (!model || fread(model, 1, (size_t)model_n, f) != (size_t)model_n) { fprintf(stderr, "fuzz-board: read failed\n"); exit(1); }
    fclose(f);
    char err[256];
    if (s2c_board_load_model(model_n, fill, NULL, err, sizeof err) != 0) { fprintf(stderr, "fuzz-board: %s\n", err); exit(1); }
    free(model);
    model = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    s2c_set_threads(1);
    load_model();
    return 0;
}

/* A message buffer: filled by the decoder, checked to be NUL-terminated inside it. The small
 * capacity (chosen by the input) exercises the UTF-8-aware truncation. */
static void check_message(const char *buf, long cap) {
    if (cap > 0 && memchr(buf, 0, (size_t)cap) == NULL) finding("message not NUL-terminated within its buffer");
}

static uint32_t le(const uint8_t *b, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static void put_le32(uint8_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the header, tile-table and payload CRC-32s where the layout can be read; 0 if none. */
static int fix_checksums(uint8_t *b, size_t n) {
    static const uint8_t magic[4] = {0x89, 0x53, 0x32, 0x43};
    if (n < 32 || memcmp(b, magic, 4) != 0) return 0;
    const int tiled = b[4] == 2;
    const size_t hs = tiled ? 36 : 32;
    if (n < hs) return 0;
    put_le32(b + hs - 4, s2c_crc32(0, b, hs - 4));
    size_t p = hs;
    if (tiled) {
        const uint64_t w = le(b + 16, 2), h = le(b + 18, 2), tw = le(b + 28, 2), th = le(b + 30, 2);
        if (tw == 0 || th == 0) return 1;
        const uint64_t tiles = ((w + tw - 1) / tw) * ((h + th - 1) / th);
        if (tiles > (1u << 20) || p + 8 * tiles + 4 > n) return 1;
        put_le32(b + p + 8 * tiles, s2c_crc32(0, b + p, 8 * tiles));
        p += 8 * tiles + 4;
    }
    const uint64_t end = (uint64_t)p + le(b + 20, 4) + le(b + 24, 4);
    if (end + 4 > n) return 1;
    put_le32(b + end, s2c_crc32(0, b + p, end - p));
    return 1;
}

struct image { long w, h, channels; int format; };

static int write_image(const uint8_t *px, long n, void *ctx) {
    const struct image *im = ctx;
    if (n != im->w * im->h * im->channels) finding("decoded pixel count does not match the stream's image");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return 1;
    int rc = s2c_image_write(f, im->format, px, (uint32_t)im->w, (uint32_t)im->h, (int)im->channels);
    fclose(f);
    if (rc == 0 && im->format == S2C_IMAGE_PNG && (len < 57 || memcmp(buf + len - 8, "IEND\xae\x42\x60\x82", 8) != 0))
        finding("written PNG does not end with IEND");
    free(buf);
    return rc;
}

static void run(const uint8_t *data, size_t size, uint64_t hash) {
    char err[128];
    long cap = 1 + (long)(hash >> 16 & 127);        /* 1...128 */
    memset(err, 0x55, sizeof err);
    if (s2c_board_parse_stream(data, (long)size, err, cap) != 0) { check_message(err, cap); return; }
    long w, h, ch, tiles;
    uint64_t fp;
    char q[16];
    memset(q, 0x55, sizeof q);
    long qcap = 1 + (long)(hash >> 24 & 15);
    if (s2c_board_stream_info(&w, &h, &ch, &tiles, &fp, q, qcap) != 0) finding("no info for a parsed stream");
    check_message(q, qcap);
    if (w < 1 || h < 1 || (ch != 1 && ch != 3) || tiles < 1) finding("stream info out of range");
    const long pw = (w + 63) / 64 * 64, ph = (h + 63) / 64 * 64;
    if (pw * ph > MAX_PIXELS || tiles > 4) return;
    s2c_set_cpu_mask(hash & 1 ? 0 : ~0u);
    memset(err, 0x55, sizeof err);
    int rc = s2c_board_decode(NULL, NULL, err, cap);
    s2c_set_cpu_mask(~0u);
    if (rc != 0) { check_message(err, cap); return; }
    struct image im = {w, h, ch, hash & 2 ? S2C_IMAGE_PNM : S2C_IMAGE_PNG};
    if (s2c_board_with_pixels(write_image, &im) != 0) finding("writing a decoded image failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t hash = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++) hash = (hash ^ data[i]) * 0x100000001b3u;
    run(data, size, hash);
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    if (fix_checksums(copy, size) && memcmp(copy, data, size) != 0) run(copy, size, hash);
    free(copy);
    return 0;
}
