/* s2c_model_paths.h: where s2c's tools find installed models. One search order for s2c-int,
 * s2c-calibrate and s2c-dec (README.md, "Models"):
 *
 *   1. each folder of $S2C_MODEL_PATH (colon-separated), in order;
 *   2. ./Weights (relative to the current folder);
 *   3. the folder holding the running executable;
 *   4. the first Weights/ folder found walking up from the executable's folder (the repository's
 *      Weights/ for binaries under .build/ or out/).
 *
 * A model is named by a file path (anything with a '/' or ending in .s2cq / .safetensors) or by a
 * name such as "hybrid-lite", which means <folder>/<name><ext> in the first folder above that has
 * one. A decoder given no model takes the first .s2cq file (folders in order, files in byte order
 * of their names) whose fingerprint (the file's last 8 bytes, docs/model-format.md) is the
 * bitstream's. Plain C and POSIX: the board decoder (board/) uses it as is. */
#ifndef S2C_MODEL_PATHS_H
#define S2C_MODEL_PATHS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The model the encoders use when given none: the shipped model with the best measured Kodak
 *  rate-distortion (docs/results.md). */
#define S2C_DEFAULT_MODEL "hybrid-lite"

/** Longest path the functions below return (including the NUL). */
#define S2C_MODEL_PATH_MAX 4096

/** The existing search folders in order (duplicates removed), one per line, into buf (NUL-
 *  terminated). Returns how many, or -1 when cap is too small. */
int s2c_model_dirs(char *buf, size_t cap);

/** 1 when `text` names a file (has a '/' or ends in .s2cq or .safetensors), 0 when it is a name. */
int s2c_model_is_path(const char *text);

/** Resolves a model name or path: a path is copied as is (whether it exists or not); a name is
 *  looked up as <folder>/<name><ext> (ext ".s2cq" or ".safetensors") in the search folders.
 *  Returns 0 with the path in out, 1 when no folder has the name, -1 when a path is too long. */
int s2c_model_find(const char *name_or_path, const char *ext, char *out, size_t cap);

/** The fingerprint of a .s2cq file: its last 8 bytes, little-endian (not verified: loading the
 *  model checks it). Returns 0, or -1 when the file cannot be read or is shorter than 8 bytes. */
int s2c_model_read_fingerprint(const char *path, uint64_t *fingerprint);

/** The first .s2cq in the search folders whose fingerprint is `fingerprint`. Returns 0 with its
 *  path in out, 1 when none has it, -1 when a path is too long. */
int s2c_model_find_fingerprint(uint64_t fingerprint, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
