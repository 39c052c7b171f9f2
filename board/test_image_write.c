/* test_image_write.c: writes PNG and PNM files of the same pseudo-random images for
 * scripts/check-board.sh, which reads the PNGs back with PIL and compares them with the PNM
 * payloads. Sizes cross every boundary of the writer: one stored block exactly (65535 bytes),
 * one byte more, several blocks, and more than one 1 MiB IDAT chunk.
 * Usage: test_image_write DIR  (writes DIR/<w>x<h>x<c>.png and .pnm, prints their names) */
#include <stdio.h>
#include <stdlib.h>

#include "image_write.h"

int main(int argc, char **argv) {
    if (argc != 2) return 64;
    static const unsigned sizes[][3] = {
        {1, 1, 1}, {1, 1, 3}, {13106, 5, 1}, {13107, 5, 1}, {21844, 1, 3}, {21845, 1, 3},
        {700, 600, 3}, {2000, 700, 1}, {3, 40000, 3},
    };
    unsigned x = 12345;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const unsigned w = sizes[s][0], h = sizes[s][1], c = sizes[s][2];
        const size_t n = (size_t)w * h * c;
        unsigned char *px = malloc(n);
        if (!px) return 1;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            px[i] = (unsigned char)(i % 7 == 0 ? 0 : i % 11 == 0 ? 255 : x >> 24);
        }
        for (int fmt = 0; fmt < 2; fmt++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%ux%ux%u.%s", argv[1], w, h, c, fmt ? "pnm" : "png");
            FILE *f = fopen(path, "wb");
            if (!f || s2c_image_write(f, fmt ? S2C_IMAGE_PNM : S2C_IMAGE_PNG, px, w, h, (int)c) || fclose(f)) {
                fprintf(stderr, "test_image_write: %s failed\n", path);
                return 1;
            }
            if (!fmt) printf("%s\n", path);
        }
        free(px);
    }
    /* Arguments out of range are refused. */
    unsigned char one = 0;
    FILE *null = fopen("/dev/null", "wb");
    if (!null || !s2c_image_write(null, S2C_IMAGE_PNG, &one, 0, 1, 1) || !s2c_image_write(null, S2C_IMAGE_PNG, &one, 1, 1, 2) ||
        !s2c_image_write(null, S2C_IMAGE_PNM, &one, 70000, 1, 1) || !s2c_image_write(null, 7, &one, 1, 1, 1)) {
        fprintf(stderr, "test_image_write: bad arguments were accepted\n");
        return 1;
    }
    fclose(null);
    return 0;
}
