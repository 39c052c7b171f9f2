/* image_write.h: 8-bit gray / RGB images to PNG or PNM, with no library (the board decoder's
 * output; the board has no libpng or zlib to count on).
 *
 * PNG: one IHDR, IDAT chunks of at most 1 MiB, IEND; the zlib stream uses stored (uncompressed)
 * deflate blocks, so files are about w * h * channels bytes, and every PNG reader accepts them.
 * PNM: P6 (RGB) or P5 (gray), maxval 255. */
#ifndef S2C_IMAGE_WRITE_H
#define S2C_IMAGE_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { S2C_IMAGE_PNG = 0, S2C_IMAGE_PNM = 1 };

/* Writes a w x h image with `channels` 1 (gray) or 3 (RGB), rows top to bottom, to f.
 * Returns 0, or -1 when a write fails (errno set by stdio) or the arguments are out of range
 * (w, h in 1...65535 for PNM, 1...2^31-1 for PNG; errno EINVAL). */
int s2c_image_write(FILE *f, int format, const uint8_t *pixels, uint32_t w, uint32_t h, int channels);

/* CRC-32 (ISO 3309, as PNG and zlib use it) of n bytes, continuing from crc (start with 0). */
uint32_t s2c_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
