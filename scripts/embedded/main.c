/* main.c: C driver of the Embedded Swift decode-path harness (runs natively and under qemu).
 * Usage: harness MODEL.s2cq [BITSTREAM.s2c ...] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

uint64_t s2c_embedded_model_file_selftest(uint32_t seed);
uint64_t s2c_embedded_parse_model(const uint8_t *data, long count);
uint64_t s2c_embedded_synthesis_hash(const uint8_t *data, long count, long h, long w, long q, uint32_t seed);
uint64_t s2c_embedded_decode_hash(const uint8_t *model, long mcount, const uint8_t *stream, long scount);

static uint8_t *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*n ? *n : 1);
    if (!buf || fread(buf, 1, *n, f) != (size_t)*n) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    for (uint32_t seed = 1; seed <= 3; seed++)
        printf("selftest seed %u fingerprint %016" PRIx64 "\n", seed, s2c_embedded_model_file_selftest(seed));
    if (argc < 2) return 0;
    long mn;
    uint8_t *model = slurp(argv[1], &mn);
    printf("model fingerprint %016" PRIx64 "\n", s2c_embedded_parse_model(model, mn));
    for (long q = 1; q <= 7; q += 3)
        printf("g_s 4x8 latents quality %ld output hash %016" PRIx64 "\n", q,
               s2c_embedded_synthesis_hash(model, mn, 4, 8, q, 12345u + (uint32_t)q));
    for (int i = 2; i < argc; i++) {
        long sn;
        uint8_t *s = slurp(argv[i], &sn);
        const char *base = argv[i];
        for (const char *p = argv[i]; *p; p++) if (*p == '/') base = p + 1;
        printf("decode %s pixels hash %016" PRIx64 "\n", base, s2c_embedded_decode_hash(model, mn, s, sn));
        free(s);
    }
    free(model);
    return 0;
}
