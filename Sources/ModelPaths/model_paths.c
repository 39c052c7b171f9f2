/* model_paths.c: the model search order of s2c_model_paths.h. POSIX only, no allocation that a
 * user's files can make large: at most MAX_DIRS folders and MAX_FILES model files per folder. */
#define _DEFAULT_SOURCE
#include "s2c_model_paths.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_DIRS = 64, MAX_FILES = 4096 };

typedef struct {
    int count;
    char path[MAX_DIRS][S2C_MODEL_PATH_MAX];
} DirList;

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Adds `p` (its first n bytes) if it is an existing folder not already listed (compared by
 * realpath) and there is room. */
static void add_dir(DirList *d, const char *p, size_t n) {
    if (n == 0 || n >= S2C_MODEL_PATH_MAX || d->count == MAX_DIRS) return;
    char cand[S2C_MODEL_PATH_MAX], real[PATH_MAX], other[PATH_MAX];
    memcpy(cand, p, n);
    cand[n] = 0;
    if (!is_dir(cand) || !realpath(cand, real)) return;
    for (int i = 0; i < d->count; i++)
        if (realpath(d->path[i], other) && strcmp(real, other) == 0) return;
    memcpy(d->path[d->count++], cand, n + 1);
}

static void search_dirs(DirList *d) {
    d->count = 0;
    const char *env = getenv("S2C_MODEL_PATH");
    if (env) {
        for (const char *s = env;;) {
            const char *colon = strchr(s, ':');
            size_t n = colon ? (size_t)(colon - s) : strlen(s);
            add_dir(d, s, n);
            if (!colon) break;
            s = colon + 1;
        }
    }
    add_dir(d, "Weights", 7);
    char exe[S2C_MODEL_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = 0;
    add_dir(d, exe, strlen(exe));
    /* The first Weights/ walking up from the executable's folder. */
    char cand[S2C_MODEL_PATH_MAX];
    for (;;) {
        if ((size_t)snprintf(cand, sizeof cand, "%s/Weights", exe) < sizeof cand && is_dir(cand)) {
            add_dir(d, cand, strlen(cand));
            return;
        }
        slash = strrchr(exe, '/');
        if (!slash || slash == exe) return;
        *slash = 0;
    }
}

int s2c_model_dirs(char *buf, size_t cap) {
    DirList *d = malloc(sizeof *d);
    if (!d) return -1;
    search_dirs(d);
    size_t used = 0;
    int rc = d->count;
    if (cap == 0) rc = -1;
    else buf[0] = 0;
    for (int i = 0; i < d->count && rc >= 0; i++) {
        size_t n = strlen(d->path[i]);
        if (used + n + 2 > cap) { rc = -1; break; }
        memcpy(buf + used, d->path[i], n);
        used += n;
        buf[used++] = '\n';
        buf[used] = 0;
    }
    free(d);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int s2c_model_is_path(const char *text) {
    return strchr(text, '/') != NULL || ends_with(text, ".s2cq") || ends_with(text, ".safetensors");
}

static int copy_out(const char *s, char *out, size_t cap) {
    size_t n = strlen(s);
    if (n + 1 > cap) return -1;
    memcpy(out, s, n + 1);
    return 0;
}

int s2c_model_find(const char *name_or_path, const char *ext, char *out, size_t cap) {
    if (s2c_model_is_path(name_or_path)) return copy_out(name_or_path, out, cap);
    DirList *d = malloc(sizeof *d);
    if (!d) return -1;
    search_dirs(d);
    int rc = 1;
    char cand[S2C_MODEL_PATH_MAX];
    for (int i = 0; i < d->count && rc == 1; i++) {
        if ((size_t)snprintf(cand, sizeof cand, "%s/%s%s", d->path[i], name_or_path, ext) >= sizeof cand) continue;
        if (is_file(cand)) rc = copy_out(cand, out, cap);
    }
    free(d);
    return rc;
}

int s2c_model_read_fingerprint(const char *path, uint64_t *fingerprint) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char b[8];
    int ok = fseek(f, -8, SEEK_END) == 0 && fread(b, 1, 8, f) == 8;
    fclose(f);
    if (!ok) return -1;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    *fingerprint = v;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .s2cq file names of one folder, sorted by strcmp (not the locale). */
static int list_models(const char *dir, char ***names) {
    *names = NULL;
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int count = 0;
    char **v = malloc(MAX_FILES * sizeof *v);
    struct dirent *e;
    while (v && count < MAX_FILES && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".s2cq")) continue;
        if (!(v[count] = strdup(e->d_name))) break;
        count++;
    }
    closedir(dp);
    if (v) qsort(v, (size_t)count, sizeof *v, by_name);
    *names = v;
    return count;
}

int s2c_model_find_fingerprint(uint64_t fingerprint, char *out, size_t cap) {
    DirList *d = malloc(sizeof *d);
    if (!d) return -1;
    search_dirs(d);
    int rc = 1;
    char cand[S2C_MODEL_PATH_MAX];
    for (int i = 0; i < d->count && rc == 1; i++) {
        char **names;
        int n = list_models(d->path[i], &names);
        for (int j = 0; j < n; j++) {
            uint64_t fp;
            if (rc == 1 && (size_t)snprintf(cand, sizeof cand, "%s/%s", d->path[i], names[j]) < sizeof cand
                && is_file(cand) && s2c_model_read_fingerprint(cand, &fp) == 0 && fp == fingerprint)
                rc = copy_out(cand, out, cap);
            free(names[j]);
        }
        free(names);
    }
    free(d);
    return rc;
}
