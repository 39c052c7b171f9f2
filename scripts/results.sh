#!/usr/bin/env bash
# results.sh: the measurements behind docs/results.md, end to end, for every shipped model.
#
#   scripts/results.sh [OUT_DIR]      (default: results/, ignored by git)
#
# For each model Weights/<name>.s2cq that has its float weights Weights/<name>.safetensors
# (MODELS="hybrid-lite hybrid-t" picks some):
#   1. (only with S2C_RECALIBRATE=1, or when the .s2cq is missing) calibrate the float weights into
#      the .s2cq on the 24 Kodak images (the calibrator's default: each image's most detailed 256x256 window);
#   2. out-of-sample fidelity: s2c-calibrate compare on 8 BSDS500 test photographs (not calibration images);
#   3. float model on Kodak (train/evaluate.py: bpp from likelihoods);
#   4. integer codec on Kodak (s2c-int eval: real file sizes, decoder checked against the encoder);
# then the reference codecs on the same images, real file sizes (train/evaluate.py --codec):
# JPEG (cjpeg -optimize, 4:2:0), WebP (cwebp -m 6), AVIF (avifenc -s 4 -y 444), and the Markdown
# tables with BD-rates and the RD plot (train/results.py): OUT_DIR/tables.md, OUT_DIR/rd-kodak.png.
# Installs what it needs and lacks (Debian's webp and libavif-bin; matplotlib from PyPI).
# Environment: KODAK (default ../shared/data/kodak), MAX_IMAGES (Kodak images evaluated, default
# all 24), HELD_OUT (BSDS images for the out-of-sample check, default 8; 0 skips it), QUALITIES
# (default 1..7), THREADS (default all cores), CODECS (default "jpeg webp avif"), REUSE=1 (keep the
# outputs a previous run left in OUT_DIR and measure only what is missing: a new model's numbers
# beside the old ones without remeasuring them; delete a file to remeasure it).
# Time on 2 idle cores, all 24 images: hybrid-t ~25 min, hybrid-lite ~5 min, the three reference
# codecs ~15 min.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results}
KODAK=${KODAK:-../shared/data/kodak}
BSDS=${BSDS:-../shared/data/train/bsds500/test}
QUALITIES=${QUALITIES:-1,2,3,4,5,6,7}
CODECS=${CODECS:-jpeg webp avif}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
# have FILE: REUSE=1 and FILE is there from an earlier run (then the step is skipped).
have() { [ -n "${REUSE:-}" ] && [ -s "$1" ] && echo "== reusing $1" >&2; }

if [ -z "${MODELS:-}" ]; then
    MODELS=$(for m in Weights/*.s2cq; do n=$(basename "$m" .s2cq); [ -f "Weights/$n.safetensors" ] && echo "$n"; done)
fi
[ -n "$MODELS" ] || { echo "results: no Weights/<name>.s2cq with its .safetensors" >&2; exit 1; }

echo "== setup" >&2
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=""
for pair in cjpeg:libjpeg-turbo-progs cwebp:webp dwebp:webp avifenc:libavif-bin avifdec:libavif-bin; do
    command -v "${pair%%:*}" >/dev/null || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $(echo "$missing" | tr ' ' '\n' | sort -u) >&2
fi
"$PY" -c "import matplotlib" 2>/dev/null || PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q "matplotlib==3.11.2" >&2

echo "== build" >&2
swift build -c release --product s2c-int >&2
swift build -c release --product s2c-calibrate >&2
BIN=$(swift build -c release --show-bin-path)
THREADS_ARG=()
[ -n "${THREADS:-}" ] && THREADS_ARG=(--threads "$THREADS")

KODAK_SEL="$KODAK"
if [ -n "${MAX_IMAGES:-}" ]; then
    KODAK_SEL="$OUT/kodak-subset"
    rm -rf "$KODAK_SEL" && mkdir -p "$KODAK_SEL"
    ls "$KODAK"/*.png | sort | head -n "$MAX_IMAGES" | xargs -I{} cp {} "$KODAK_SEL"/
fi
HELD="$OUT/heldout"
if [ "${HELD_OUT:-8}" != 0 ]; then
    rm -rf "$HELD" && mkdir -p "$HELD"
    for f in $(ls "$BSDS"/*.jpg | sort | head -n "${HELD_OUT:-8}"); do
        "$PY" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" \
            "$f" "$HELD/$(basename "${f%.jpg}").png"
    done
fi

MODEL_ARGS=()
for name in $MODELS; do
    W=Weights/$name.safetensors
    M=Weights/$name.s2cq
    [ -f "$W" ] || { echo "results: $W not found (export it: python train/export.py weights -o $W)" >&2; exit 1; }
    if [ ! -f "$M" ] || [ -n "${S2C_RECALIBRATE:-}" ]; then
        echo "== $name: calibrate (Kodak)" >&2
        "$BIN/s2c-calibrate" calibrate --weights "$W" --images "$KODAK" -o "$M" | tee "$OUT/$name-calibrate.txt"
    fi
    if [ "${HELD_OUT:-8}" != 0 ] && ! have "$OUT/$name-compare-heldout.txt"; then
        echo "== $name: out-of-sample fidelity (${HELD_OUT:-8} BSDS500 test photographs)" >&2
        "$BIN/s2c-calibrate" compare --weights "$W" --int-model "$M" --images "$HELD" | tee "$OUT/$name-compare-heldout.txt"
    fi
    have "$OUT/$name-float.csv" || { echo "== $name: float model on Kodak" >&2
    "$PY" train/evaluate.py --weights "$W" --images "$KODAK_SEL" --qualities "$QUALITIES" -o "$OUT/$name-float.csv" >&2; }
    have "$OUT/$name-int.json" || { echo "== $name: integer codec on Kodak" >&2
    "$BIN/s2c-int" eval --model "$M" --images "$KODAK_SEL" --quality "$QUALITIES" --json "${THREADS_ARG[@]}" \
        > "$OUT/$name-int.json.part" && mv "$OUT/$name-int.json.part" "$OUT/$name-int.json"; }
    MODEL_ARGS+=(--model "$name" "$OUT/$name-float.csv" "$OUT/$name-int.json")
done

REF_ARGS=()
for c in $CODECS; do
    have "$OUT/$c.csv" || { echo "== reference codec: $c" >&2
    "$PY" train/evaluate.py --codec "$c" --images "$KODAK_SEL" -o "$OUT/$c.csv" >&2; }
    case $c in jpeg) label=JPEG ;; webp) label=WebP ;; avif) label=AVIF ;; *) label=$c ;; esac
    REF_ARGS+=(--ref "$label" "$OUT/$c.csv")
done

"$PY" train/results.py "${MODEL_ARGS[@]}" "${REF_ARGS[@]}" --plot "$OUT/rd-kodak.png" | tee "$OUT/tables.md"
echo "results: wrote $OUT/tables.md and $OUT/rd-kodak.png (docs/results.md holds the committed copy)" >&2
