/* s2c_dec.c: s2c-dec, the decoder for boards: .s2c bitstream -> PNG or PNM.
 *
 * The decoding itself is the Embedded Swift build of Sources/QuantModel (board/BoardDecoder.swift)
 * on the FixedPoint C kernels, so this program decodes exactly what `s2c-int decode` decodes, bit
 * for bit, on any CPU, SIMD path and thread count. This file is the command line: arguments,
 * files, the image writer, and messages. No floating point here either.
 *
 * Exit status: 0 decoded; 1 the input, the model or the output failed (message on stderr);
 * 64 bad usage. Nothing is written when decoding fails: the image goes to a temporary file next
 * to the output, renamed into place only once it is complete. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_write.h"
#include "s2c_fixedpoint.h"
#include "s2c_model_paths.h"
#include "board_decoder.h"

#define MAX_MODEL_BYTES (1L << 30)
enum { EXIT_USAGE = 64 };

static const char *usage_text =
    "usage: s2c-dec IN.s2c -o OUT.png [--model NAME|PATH] [--threads N] [--cpu MASK] [-q]\n";

static const char *help_text =
    "Decode an .s2c bitstream (made by `s2c-int encode`) into an image.\n"
    "The output is bit-exact with `s2c-int decode` on every CPU, SIMD path and thread count.\n"
    "\n"
    "arguments:\n"
    "  IN.s2c              input bitstream ('-' reads stdin)\n"
    "  -o, --output PATH   output image: PNG, or PNM when PATH ends in .ppm, .pgm or .pnm (P6 for\n"
    "                      colour, P5 for gray); '-' writes a PNG to stdout. Gray bitstreams\n"
    "                      give gray images.\n"
    "                      PNGs are written uncompressed (stored deflate): about 3 bytes a pixel.\n"
    "options:\n"
    "  --model NAME|PATH   integer model the bitstream was made with: a name (hybrid-lite:\n"
    "                      hybrid-lite.s2cq in the model folders) or a .s2cq path; default:\n"
    "                      $S2C_MODEL, else the installed model whose fingerprint the bitstream\n"
    "                      carries. Model folders, in order: each folder of $S2C_MODEL_PATH\n"
    "                      (colon-separated), ./Weights, this program's folder, the first\n"
    "                      Weights/ above this program\n"
    "  --threads N         worker threads, 1...1024 (default: one per core; output never depends on it)\n"
    "  --cpu MASK          CPU feature mask, decimal or 0x-hex, forcing lower kernel paths\n"
    "                      (0 = plain C; same as S2C_CPU_MASK)\n"
    "  -q, --quiet         no progress lines on stderr\n"
    "  -h, --help          this text\n"
    "  --version           version, and the kernels this CPU runs\n";

static int quiet;

static void fail_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "s2c-dec: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%sRun 's2c-dec --help' for more.\n", usage_text);
    exit(EXIT_USAGE);
}

/* Decimal digits only (never octal: "08" is 8; no sign, no spaces). */
static int parse_ulong(const char *s, unsigned long long *out) {
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

/* Whole file (or stdin) into memory, refusing more than cap bytes before reading them. */
static uint8_t *read_all(const char *path, long cap, long *count, const char *what) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    if (!f) {
        fprintf(stderr, "s2c-dec: cannot open %s '%s': %s\n", what, name, strerror(errno));
        return NULL;
    }
    struct stat st = {0};
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "s2c-dec: %s '%s' is a folder\n", what, name);
        if (f != stdin) fclose(f);
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > cap) {
        fprintf(stderr, "s2c-dec: %s '%s' is %lld bytes, more than any valid one (%ld)\n", what, name,
                (long long)st.st_size, cap);
        if (f != stdin) fclose(f);
        return NULL;
    }
    long size = 0, room = S_ISREG(st.st_mode) && st.st_size > 0 ? (long)st.st_size + 1 : 1 << 16;
    uint8_t *buf = malloc((size_t)room);
    while (buf) {
        size_t got = fread(buf + size, 1, (size_t)(room - size), f);
        size += (long)got;
        if (size < room) break;
        if (size > cap) break;
        long grow = room > cap / 2 ? cap + 1 : room * 2;
        uint8_t *more = realloc(buf, (size_t)grow);
        if (!more) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = more;
        room = grow;
    }
    int bad = buf == NULL || ferror(f);
    if (f != stdin) fclose(f);
    if (!buf) {
        fprintf(stderr, "s2c-dec: out of memory reading %s '%s'\n", what, name);
        return NULL;
    }
    if (bad) {
        fprintf(stderr, "s2c-dec: cannot read %s '%s': %s\n", what, name, strerror(errno));
        free(buf);
        return NULL;
    }
    if (size > cap) {
        fprintf(stderr, "s2c-dec: %s '%s' is more than %ld bytes, more than any valid one\n", what, name, cap);
        free(buf);
        return NULL;
    }
    *count = size;
    return buf;
}

/* The model for a stream of fingerprint fp: --model, else $S2C_MODEL (a name or a path), else the
 * installed model with that fingerprint (s2c_model_paths.h). Returns a malloc'd path, or NULL
 * after saying why on stderr. */
static char *find_model(const char *given, uint64_t fp, const char *in_name) {
    static char path[S2C_MODEL_PATH_MAX], dirs[1 << 16], list[1 << 17];
    const char *env = getenv("S2C_MODEL");
    const char *named = given ? given : env && *env ? env : NULL;
    int rc = named ? s2c_model_find(named, ".s2cq", path, sizeof path)
                   : s2c_model_find_fingerprint(fp, path, sizeof path);
    if (rc == 0) return strdup(path);
    if (rc < 0) {
        fprintf(stderr, "s2c-dec: model path too long\n");
        return NULL;
    }
    /* The folders as "a, b, c" (each line of dirs ends in '\n'). */
    if (s2c_model_dirs(dirs, sizeof dirs) <= 0) strcpy(dirs, "(no search folder exists)\n");
    size_t k = 0;
    for (const char *c = dirs; *c && k + 3 < sizeof list; c++) {
        if (*c != '\n') list[k++] = *c;
        else if (c[1]) { list[k++] = ','; list[k++] = ' '; }
    }
    list[k] = 0;
    if (named)
        fprintf(stderr, "s2c-dec: model '%s' not found: no %s.s2cq in %s (set S2C_MODEL_PATH, or give a path)\n",
                named, named, list);
    else
        fprintf(stderr, "s2c-dec: %s was made with model 0x%016" PRIx64 ", which is not installed: no .s2cq "
                        "with that fingerprint in %s; pass --model PATH\n", in_name, fp, list);
    return NULL;
}

typedef struct {
    FILE *f;
    const char *path;
} ModelReader;

static int fill_model(uint8_t *dst, long n, void *ctx) {
    ModelReader *r = ctx;
    if (n > 0 && (!dst || fread(dst, 1, (size_t)n, r->f) != (size_t)n)) {
        fprintf(stderr, "s2c-dec: cannot read model '%s': %s\n", r->path,
                ferror(r->f) ? strerror(errno) : "file shrank while reading");
        return 1;
    }
    return 0;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

typedef struct {
    FILE *f;
    int format;
    long width, height, channels;
} ImageJob;

static int write_pixels(const uint8_t *px, long n, void *ctx) {
    ImageJob *j = ctx;
    if (n != j->width * j->height * j->channels) {
        errno = EINVAL;
        return 1;
    }
    return s2c_image_write(j->f, j->format, px, (uint32_t)j->width, (uint32_t)j->height, (int)j->channels) ? 1 : 0;
}

/* The temporary output while it is written: a signal removes it before the program dies. */
static char *volatile pending_tmp;

static void remove_pending(int sig) {
    char *t = pending_tmp;
    if (t) unlink(t);                       /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Writes to an open stream; returns 0 or prints why not. */
static int write_stream(FILE *f, const char *name, ImageJob *job) {
    job->f = f;
    if (s2c_board_with_pixels(write_pixels, job) || fflush(f)) {
        fprintf(stderr, "s2c-dec: cannot write %s: %s\n", name, strerror(errno));
        return 1;
    }
    return 0;
}

/* Writes the decoded image to path through path.tmp-XXXXXX and rename(2). "-" is stdout; an
 * existing output that is not a regular file (a FIFO, /dev/null, a terminal) is written in place,
 * never replaced. */
static int write_output(const char *path, const char *input, int format, long w, long h, long ch) {
    ImageJob job = {NULL, format, w, h, ch};
    if (!strcmp(path, "-")) return write_stream(stdout, "<stdout>", &job);
    struct stat so, si;
    if (stat(path, &so) == 0) {
        if (S_ISDIR(so.st_mode)) {
            fprintf(stderr, "s2c-dec: output '%s' is a folder\n", path);
            return 1;
        }
        if (strcmp(input, "-") && stat(input, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            fprintf(stderr, "s2c-dec: output '%s' is the input file; choose another name\n", path);
            return 1;
        }
        if (!S_ISREG(so.st_mode)) {
            FILE *f = fopen(path, "wb");      /* no O_CREAT effect: it exists; devices ignore O_TRUNC */
            if (!f) {
                fprintf(stderr, "s2c-dec: cannot open output '%s': %s\n", path, strerror(errno));
                return 1;
            }
            int bad = write_stream(f, path, &job);
            if (fclose(f) != 0 && !bad) {
                fprintf(stderr, "s2c-dec: cannot write '%s': %s\n", path, strerror(errno));
                bad = 1;
            }
            return bad;
        }
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return 1;
    int fd = -1;
    unsigned seed = (unsigned)getpid() ^ (unsigned)now_ms();
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(tmp, n, "%s.tmp-%06x", path, (seed >> 8) & 0xffffff);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        fprintf(stderr, "s2c-dec: cannot create a temporary file next to '%s': %s\n", path, strerror(errno));
        free(tmp);
        return 1;
    }
    pending_tmp = tmp;
    signal(SIGINT, remove_pending);
    signal(SIGTERM, remove_pending);
    signal(SIGHUP, remove_pending);
    job.f = fdopen(fd, "wb");
    int bad = !job.f;
    if (!bad) bad = s2c_board_with_pixels(write_pixels, &job) != 0 || fflush(job.f) != 0 || fsync(fd) != 0;
    int err = errno;
    if (job.f ? fclose(job.f) != 0 : close(fd) != 0) {
        if (!bad) err = errno;
        bad = 1;
    }
    if (!bad && rename(tmp, path) != 0) {
        err = errno;
        bad = 1;
    }
    if (bad) {
        unlink(tmp);
        fprintf(stderr, "s2c-dec: cannot write '%s': %s\n", path, strerror(err));
    }
    pending_tmp = NULL;
    free(tmp);
    return bad;
}

/* One stderr line rewritten per tile, when stderr is a terminal and there is more than one tile. */
static int progress_shown;
static void show_progress(long done, long total, void *ctx) {
    (void)ctx;
    if (quiet || total < 2 || !isatty(2)) return;
    fprintf(stderr, "\rdecoding %ld tiles: %ld%%", total, 100 * done / total);
    progress_shown = 1;
}

static const char *kernel_names(uint32_t flags) {
    if (flags & S2C_CPU_DOTPROD) return "NEON + dotprod";
    if (flags & S2C_CPU_NEON) return "NEON";
    if (flags & S2C_CPU_AMX) return "AMX + AVX-512 VNNI";
    if (flags & S2C_CPU_AVX512VNNI) return "AVX-512 VNNI";
    if (flags & S2C_CPU_AVX2) return "AVX2";
    return "C reference";
}

int main(int argc, char **argv) {
    const char *input = NULL, *output = NULL, *model_arg = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t key = eq && a[0] == '-' && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
#define OPT(name) (strlen(name) == key && !strncmp(a, name, key))
#define NO_VALUE()                                                            \
    do {                                                                      \
        if (key < strlen(a)) fail_usage("option %s takes no value", a);       \
    } while (0)
#define NEED_VALUE()                                                          \
    do {                                                                      \
        if (eq && key < strlen(a)) val = eq + 1;                              \
        else if (i + 1 < argc) val = argv[++i];                               \
        else fail_usage("option %s needs a value", a);                        \
    } while (0)
        if (OPT("-h") || OPT("--help")) {
            NO_VALUE();
            printf("%s\n%s", usage_text, help_text);
            return 0;
        } else if (OPT("--version")) {
            NO_VALUE();
            char version[128];
            s2c_board_version(version, sizeof version);
            printf("s2c-dec %s, kernels: %s\n", version, kernel_names(s2c_cpu_flags()));
            return 0;
        } else if (OPT("-q") || OPT("--quiet")) {
            NO_VALUE();
            quiet = 1;
        } else if (OPT("-o") || OPT("--output")) {
            NEED_VALUE();
            if (output) fail_usage("output given twice ('%s')", val);
            output = val;
        } else if (OPT("--model")) {
            NEED_VALUE();
            if (model_arg) fail_usage("--model given twice ('%s')", val);
            model_arg = val;
        } else if (OPT("--threads")) {
            NEED_VALUE();
            unsigned long long t;
            if (parse_ulong(val, &t) || t < 1 || t > 1024) fail_usage("--threads must be in 1...1024, got '%s'", val);
            threads = (long)t;
        } else if (OPT("--cpu")) {
            NEED_VALUE();
            uint32_t m;   /* the kernels' own parser, as for S2C_CPU_MASK and s2c-int */
            if (s2c_cpu_parse_mask(val, &m)) fail_usage("--cpu expects a 32-bit mask such as 0x1f or 31, got '%s'", val);
            s2c_set_cpu_mask(m);
        } else if (a[0] == '-' && a[1] != 0) {
            fail_usage("unknown option '%s'", a);
        } else if (!input) {
            input = a;
        } else {
            fail_usage("unexpected argument '%s' (one input at a time)", a);
        }
#undef OPT
#undef NO_VALUE
#undef NEED_VALUE
    }
    if (!input) fail_usage("%s", "missing input bitstream");
    if (!output) fail_usage("%s", "missing -o OUT (an image path, or '-' for stdout)");
    if (!*output) fail_usage("%s", "empty output name");
    if (threads) s2c_set_threads((int)threads);
    int format = ends_with(output, ".ppm") || ends_with(output, ".pgm") || ends_with(output, ".pnm")
                     ? S2C_IMAGE_PNM : S2C_IMAGE_PNG;

    /* 1. The bitstream: read, validate (CRCs), before the model costs anything. */
    char err[512] = "";
    long n;
    uint8_t *stream = read_all(input, s2c_board_max_stream_bytes(), &n, "input");
    if (!stream) return 1;
    const char *in_name = strcmp(input, "-") ? input : "<stdin>";
    if (s2c_board_parse_stream(stream, n, err, sizeof err)) {
        fprintf(stderr, "s2c-dec: %s: %s\n", in_name, err);
        free(stream);
        return 1;
    }
    free(stream);
    long w, h, ch, tiles;
    uint64_t fp;
    char quality[32];
    s2c_board_stream_info(&w, &h, &ch, &tiles, &fp, quality, sizeof quality);

    /* 2. The model. */
    char *model_path = find_model(model_arg, fp, in_name);
    if (!model_path) return 1;
    if (!quiet)
        fprintf(stderr, "s2c-dec: %s: %ldx%ld %s, quality %s, %ld tile%s; model %s\n", in_name, w, h,
                ch == 1 ? "gray" : "rgb", quality, tiles, tiles == 1 ? "" : "s", model_path);
    long long t0 = now_ms();
    ModelReader mr = {fopen(model_path, "rb"), model_path};
    struct stat st = {0};
    if (!mr.f || fstat(fileno(mr.f), &st) != 0 || !S_ISREG(st.st_mode)) {
        const char *why = !mr.f || !st.st_mode ? strerror(errno)
                          : S_ISDIR(st.st_mode) ? "it is a folder" : "it is not a regular file";
        fprintf(stderr, "s2c-dec: cannot open model '%s': %s\n", model_path, why);
        if (mr.f) fclose(mr.f);
        return 1;
    }
    if (st.st_size > MAX_MODEL_BYTES) {
        fprintf(stderr, "s2c-dec: model '%s' is %lld bytes, more than any valid one\n", model_path, (long long)st.st_size);
        fclose(mr.f);
        return 1;
    }
    err[0] = 0;
    int rc = s2c_board_load_model((long)st.st_size, fill_model, &mr, err, sizeof err);
    fclose(mr.f);
    if (rc) {
        if (err[0]) fprintf(stderr, "s2c-dec: model '%s': %s\n", model_path, err);
        return 1;
    }
    if (s2c_board_model_fingerprint() != fp) {
        fprintf(stderr, "s2c-dec: %s was made with model %016" PRIx64 ", but '%s' is %016" PRIx64
                        "; pass the model it was made with (--model)\n",
                in_name, fp, model_path, s2c_board_model_fingerprint());
        return 1;
    }
    long long t1 = now_ms();

    /* 3. Decode, then write. */
    err[0] = 0;
    int failed = s2c_board_decode(show_progress, NULL, err, sizeof err);
    if (progress_shown) fprintf(stderr, "\r\033[K");
    if (failed) {
        fprintf(stderr, "s2c-dec: %s: %s\n", in_name, err);
        return 1;
    }
    long long t2 = now_ms();
    if (write_output(output, input, format, w, h, ch)) return 1;
    s2c_board_release();
    if (!quiet)
        fprintf(stderr, "s2c-dec: %s: model %lld ms, decode %lld ms (%d threads, %s)\n",
                strcmp(output, "-") ? output : "<stdout>", t1 - t0, t2 - t1, s2c_get_threads(),
                kernel_names(s2c_cpu_flags()));
    free(model_path);
    return 0;
}
