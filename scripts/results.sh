#!/usr/bin/env bash
# results.sh: the measurements behind docs/results.md, end to end, from float weights.
#
#   scripts/results.sh [OUT_DIR]      (default: results/, ignored by git)
#
# 1. calibrate Weights/hybrid-t.safetensors into Weights/hybrid-t.s2cq on 256x256 centre crops of
#    the 24 Kodak images (skipped when the .s2cq is newer than the weights: S2C_RECALIBRATE=1 forces it);
# 2. out-of-sample fidelity: s2c-calibrate compare on 8 BSDS500 test photographs (not calibration images);
# 3. float model on Kodak (train/evaluate.py: bpp from likelihoods);
# 4. integer codec on Kodak (s2c-int eval: real file sizes, decoder checked against the encoder);
# 5. JPEG reference (cjpeg) and the Markdown tables with BD-rates (train/results.py).
# Environment: KODAK (default ../shared/data/kodak), MAX_IMAGES (Kodak images evaluated, default
# all 24), CALIB_IMAGES (Kodak images calibrated on, default all), HELD_OUT (BSDS images for the
# out-of-sample check, default 8), QUALITIES (default 1..7), THREADS (default all cores).
# Takes about an hour on 2 idle cores for the full set.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results}
KODAK=${KODAK:-../shared/data/kodak}
BSDS=${BSDS:-../shared/data/train/bsds500/test}
QUALITIES=${QUALITIES:-1,2,3,4,5,6,7}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
W=Weights/hybrid-t.safetensors
M=Weights/hybrid-t.s2cq
[ -f "$W" ] || { echo "results: $W not found (export it: python train/export.py weights -o $W)" >&2; exit 1; }

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

if [ ! -f "$M" ] || [ "$W" -nt "$M" ] || [ -n "${S2C_RECALIBRATE:-}" ]; then
    echo "== calibrate (Kodak, 256x256 centre crops)" >&2
    CALIB_ARG=()
    [ -n "${CALIB_IMAGES:-}" ] && CALIB_ARG=(--max-images "$CALIB_IMAGES")
    "$BIN/s2c-calibrate" calibrate --weights "$W" --images "$KODAK" --crop 256 "${CALIB_ARG[@]}" -o "$M" \
        | tee "$OUT/calibrate.txt"
fi

echo "== out-of-sample fidelity (${HELD_OUT:-8} BSDS500 test photographs)" >&2
HELD="$OUT/heldout"
rm -rf "$HELD" && mkdir -p "$HELD"
for f in $(ls "$BSDS"/*.jpg | sort | head -n "${HELD_OUT:-8}"); do
    "$PY" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" \
        "$f" "$HELD/$(basename "${f%.jpg}").png"
done
"$BIN/s2c-calibrate" compare --weights "$W" --int-model "$M" --images "$HELD" | tee "$OUT/compare-heldout.txt"

echo "== float model on Kodak" >&2
"$PY" train/evaluate.py --weights "$W" --images "$KODAK_SEL" --qualities "$QUALITIES" -o "$OUT/float.csv" >&2

echo "== integer codec on Kodak" >&2
"$BIN/s2c-int" eval --model "$M" --images "$KODAK_SEL" --quality "$QUALITIES" --json "${THREADS_ARG[@]}" > "$OUT/int.json"

echo "== JPEG reference" >&2
"$PY" train/evaluate.py --jpeg --images "$KODAK_SEL" --qualities 5,10,20,30,50,75,90 -o "$OUT/jpeg.csv" >&2

"$PY" train/results.py --float "$OUT/float.csv" --int "$OUT/int.json" --jpeg "$OUT/jpeg.csv" | tee "$OUT/tables.md"
echo "results: wrote $OUT/tables.md" >&2
