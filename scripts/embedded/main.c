/* main.c: C driver of the Embedded Swift decode-path harness (runs natively and under qemu). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

uint64_t s2c_embedded_model_file_selftest(uint32_t seed);
uint64_t s2c_embedded_parse_model(const uint8_t *data, long count);
uint64_t s2c_embedded_synthesis_hash(const uint8_t *data, long count, long h, long w, long q, uint32_t seed);

int main(int argc, char **argv) {
    for (uint32_t seed = 1; seed <= 3; seed++)
        printf("selftest seed %u fingerprint %016" PRIx64 "\n", seed, s2c_embedded_model_file_selftest(seed));
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "cannot open %s\n", argv[i]); return 1; }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf || fread(buf, 1, n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", argv[i]); return 1; }
        fclose(f);
        printf("%s fingerprint %016" PRIx64 "\n", argv[i], s2c_embedded_parse_model(buf, n));
        for (long q = 1; q <= 7; q += 3)
            printf("%s g_s 4x8 latents quality %ld output hash %016" PRIx64 "\n", argv[i], q,
                   s2c_embedded_synthesis_hash(buf, n, 4, 8, q, 12345u + (uint32_t)q));
        free(buf);
    }
    return 0;
}
