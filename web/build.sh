#!/usr/bin/env bash
# build.sh: assembles the static demo page: web/*.html, *.js, *.css, the decoder module from
# wasm/build.sh, every shipped model (Weights/*.s2cq, hard-linked when it can be) and models.json,
# the list the page picks a stream's model from by fingerprint.
#
#   web/build.sh [WASM_DIR [OUT]]    # defaults out/wasm and out/web; then serve OUT, e.g.
#                                    # python3 -m http.server -d out/web 8000
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=${1:-out/wasm}
out=${2:-out/web}
for f in s2c-decoder.js s2c-decoder.wasm s2c-decoder-scalar.wasm; do
    [ -f "$wasm/$f" ] || { echo "web/build.sh: $wasm/$f missing (run wasm/build.sh $wasm first)" >&2; exit 1; }
done
default=$(sed -n 's/^#define S2C_DEFAULT_MODEL "\(.*\)"/\1/p' Sources/ModelPaths/include/s2c_model_paths.h)
mkdir -p "$out/models"
cp web/index.html web/app.js web/worker.js web/style.css "$wasm"/s2c-decoder.js "$wasm"/s2c-decoder*.wasm "$out/"
# The fingerprint is a model file's last 8 bytes, little-endian (docs/model-format.md).
entries=()
for m in Weights/*.s2cq; do
    name=$(basename "$m" .s2cq)
    size=$(stat -c %s "$m")
    fp=$(od -An -tx8 -j $((size - 8)) -N8 --endian=little "$m" | tr -d ' ')
    ln -f "$m" "$out/models/$name.s2cq" 2>/dev/null || cp "$m" "$out/models/$name.s2cq"
    d=false; [ "$name" = "$default" ] && d=true
    entries+=("{\"name\": \"$name\", \"url\": \"models/$name.s2cq\", \"fingerprint\": \"0x$fp\", \"bytes\": $size, \"default\": $d}")
done
{ echo "["; (IFS=$'\n'; echo "${entries[*]}" | sed '$!s/$/,/; s/^/  /'); echo "]"; } > "$out/models.json"
[ -n "${QUIET:-}" ] || echo "web/build.sh: $out (serve it: python3 -m http.server -d $out 8000)"
