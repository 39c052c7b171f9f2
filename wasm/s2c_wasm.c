/* s2c_wasm.c: the exports of s2c-decoder.wasm: the board decoder's C interface (board/BoardDecoder.swift)
 * with its C callbacks bound to JavaScript imports, plus buffers the JavaScript side (s2c-decoder.js)
 * can allocate, the decoded image as RGBA, and the kernel mask. No second decoder: parsing, validation
 * and decoding are the Swift code s2c-int and s2c-dec run.
 *
 * Functions that can fail return 0 on success, or 1 with a one-line message in s2c_wasm_error(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s2c_fixedpoint.h"
#include "board_decoder.h"

/* Imports (module "s2c") that s2c-decoder.js provides. */
/* Copies the model's n bytes to dst (in this module's memory); 0 on success. */
__attribute__((import_module("s2c"), import_name("fill_model"))) int js_fill_model(uint8_t *dst, long n);
/* Called after each decoded tile. */
__attribute__((import_module("s2c"), import_name("progress"))) void js_progress(long done, long total);

#define EXPORT(name) __attribute__((export_name(#name)))

static char err[1024];
static char text[128];

static void set_error(const char *msg) {
    strncpy(err, msg, sizeof err - 1);
    err[sizeof err - 1] = 0;
}

/** The message of the last failure (NUL-terminated UTF-8). */
EXPORT(s2c_wasm_error) const char *s2c_wasm_error(void) { return err; }

/** n bytes of this module's memory for the caller to fill (NULL when out of memory). */
EXPORT(s2c_wasm_alloc) void *s2c_wasm_alloc(long n) { return malloc(n > 0 ? (size_t)n : 1); }

EXPORT(s2c_wasm_free) void s2c_wasm_free(void *p) { free(p); }

/** Largest bitstream a valid header can describe. */
EXPORT(s2c_wasm_max_stream_bytes) long s2c_wasm_max_stream_bytes(void) { return s2c_board_max_stream_bytes(); }

/** Parses and fully validates the n bytes at data (header, tile table, CRCs) and keeps the bitstream. */
EXPORT(s2c_wasm_parse_stream) int s2c_wasm_parse_stream(const uint8_t *data, long n) {
    err[0] = 0;
    return s2c_board_parse_stream(data, n, err, sizeof err);
}

/** The kept bitstream's header: info[0..3] = width, height, channels (3 RGB, 1 gray), tiles; the model
 *  fingerprint in *fp; its quality as text in s2c_wasm_text(). */
EXPORT(s2c_wasm_stream_info) int s2c_wasm_stream_info(long *info, uint64_t *fp) {
    if (s2c_board_stream_info(&info[0], &info[1], &info[2], &info[3], fp, text, sizeof text)) {
        set_error("no bitstream parsed");
        return 1;
    }
    return 0;
}

/** Text written by the last call that returns some (quality, version). */
EXPORT(s2c_wasm_text) const char *s2c_wasm_text(void) { return text; }

static int fill_model(uint8_t *dst, long n, void *ctx) {
    (void)ctx;
    if (js_fill_model(dst, n)) {
        set_error("the model bytes could not be copied in");
        return 1;
    }
    return 0;
}

/** Loads a model of n bytes, which js_fill_model provides; replaces the loaded one. */
EXPORT(s2c_wasm_load_model) int s2c_wasm_load_model(long n) {
    err[0] = 0;
    return s2c_board_load_model(n, fill_model, NULL, err, sizeof err);
}

/** The loaded model's fingerprint (0 when none is loaded). */
EXPORT(s2c_wasm_model_fingerprint) uint64_t s2c_wasm_model_fingerprint(void) { return s2c_board_model_fingerprint(); }

static void progress(long done, long total, void *ctx) {
    (void)ctx;
    js_progress(done, total);
}

/** Decodes the kept bitstream with the loaded model (js_progress after each tile); keeps the image. */
EXPORT(s2c_wasm_decode) int s2c_wasm_decode(void) {
    err[0] = 0;
    return s2c_board_decode(progress, NULL, err, sizeof err);
}

typedef struct { uint8_t *rgba; long pixels; } RGBAJob;

static int to_rgba(const uint8_t *px, long n, void *ctx) {
    RGBAJob *job = ctx;
    uint8_t *o = job->rgba;
    if (n == job->pixels * 3) {
        for (long i = 0; i < job->pixels; i++, o += 4, px += 3) {
            o[0] = px[0]; o[1] = px[1]; o[2] = px[2]; o[3] = 255;
        }
    } else if (n == job->pixels) {
        for (long i = 0; i < job->pixels; i++, o += 4, px++) {
            o[0] = o[1] = o[2] = px[0]; o[3] = 255;
        }
    } else {
        return 1;
    }
    return 0;
}

/** The decoded image as RGBA (4 bytes a pixel, alpha 255, gray replicated), in a buffer of
 *  4 * pixels bytes the caller frees with s2c_wasm_free; NULL on failure. */
EXPORT(s2c_wasm_rgba) uint8_t *s2c_wasm_rgba(long pixels) {
    RGBAJob job = {malloc((size_t)pixels * 4), pixels};
    if (!job.rgba) {
        set_error("out of memory for the RGBA image");
        return NULL;
    }
    if (s2c_board_with_pixels(to_rgba, &job)) {
        free(job.rgba);
        set_error("no decoded image of that size");
        return NULL;
    }
    return job.rgba;
}

typedef struct { uint8_t *copy; long n; } CopyJob;

static int copy_pixels(const uint8_t *px, long n, void *ctx) {
    CopyJob *job = ctx;
    job->copy = malloc(n > 0 ? (size_t)n : 1);
    if (!job->copy) return 1;
    memcpy(job->copy, px, (size_t)n);
    job->n = n;
    return 0;
}

/** The decoded pixels as the decoder holds them (RGB, or one byte a pixel when gray), in a buffer the
 *  caller frees; its size in *n. NULL on failure. */
EXPORT(s2c_wasm_pixels) uint8_t *s2c_wasm_pixels(long *n) {
    CopyJob job = {NULL, 0};
    if (s2c_board_with_pixels(copy_pixels, &job)) {
        set_error("no decoded image, or out of memory");
        return NULL;
    }
    *n = job.n;
    return job.copy;
}

/** Drops the kept bitstream, model and image. */
EXPORT(s2c_wasm_release) void s2c_wasm_release(void) { s2c_board_release(); }

/** The release and format versions (S2CVersion.line). */
EXPORT(s2c_wasm_version) const char *s2c_wasm_version(void) {
    s2c_board_version(text, sizeof text);
    return text;
}

/** The kernel flags in effect (detected & mask): S2C_CPU_WASM_SIMD128 when the SIMD128 kernels run. */
EXPORT(s2c_wasm_cpu_flags) uint32_t s2c_wasm_cpu_flags(void) { return s2c_cpu_flags(); }

/** The flags this build can use (S2C_CPU_WASM_SIMD128 in the SIMD build, 0 in the scalar one). */
EXPORT(s2c_wasm_cpu_flags_detected) uint32_t s2c_wasm_cpu_flags_detected(void) { return s2c_cpu_flags_detected(); }

/** Replaces the kernel mask (0 forces the C reference); applies to the next decode. */
EXPORT(s2c_wasm_set_cpu_mask) void s2c_wasm_set_cpu_mask(uint32_t mask) { s2c_set_cpu_mask(mask); }
