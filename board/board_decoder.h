/* board_decoder.h: the C entry points of the Embedded Swift decoder (board/BoardDecoder.swift,
 * @_cdecl), shared by its C callers: s2c-dec (board/s2c_dec.c), the browser decoder
 * (wasm/s2c_wasm.c) and the board fuzz harness (fuzz/harness/board.c). */
#ifndef S2C_BOARD_DECODER_H
#define S2C_BOARD_DECODER_H

#include <stdint.h>

long s2c_board_max_stream_bytes(void);
int s2c_board_parse_stream(const uint8_t *data, long count, char *err, long cap);
int s2c_board_stream_info(long *width, long *height, long *channels, long *tiles, uint64_t *fingerprint,
                          char *quality, long cap);
int s2c_board_load_model(long count, int (*fill)(uint8_t *dst, long n, void *ctx), void *ctx, char *err, long cap);
uint64_t s2c_board_model_fingerprint(void);
int s2c_board_decode(void (*progress)(long done, long total, void *ctx), void *ctx, char *err, long cap);
int s2c_board_with_pixels(int (*body)(const uint8_t *px, long n, void *ctx), void *ctx);
void s2c_board_release(void);
void s2c_board_version(char *buf, long cap);

#endif
