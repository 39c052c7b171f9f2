#!/usr/bin/env bash
# ship-weights.sh: replaces a shipped model's files with a training checkpoint's weights, the
# mechanical part of shipping (Weights/README.md says when a model may be replaced: measurably
# better on Kodak, train/RESULTS.md records the measurement).
#
#   scripts/ship-weights.sh hybrid-lite train/runs/hybrid-lite/checkpoint.pt
#
# 1. Weights/<name>.safetensors (+ .json): the checkpoint's moving average (EMA), float16, or with
#    SHIP=raw its raw weights (when they measure better on Kodak: train/RESULTS.md, run 3);
#    Weights/<name>.train.safetensors: its raw weights, float16, when that file is shipped (the
#    models that keep training on CPUs), so that training resumes from them on a new machine;
# 2. Weights/<name>.s2cq: calibrated on the Kodak images with the calibrator's defaults;
# 3. Tests/Conformance/<name>/: that model's conformance streams and pixel hashes
#    (scripts/make-conformance.sh <name>);
# 4. prints the SHA-256 of each file and the model fingerprint for Weights/README.md.
# Writes nothing when the checkpoint has no moving average (SHIP=ema). The checkpoint is copied
# first, so a training run may keep writing its own.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/ship-weights.sh CONFIG CHECKPOINT" >&2; exit 64; }
name=$1
ckpt=$2
[ -f "$ckpt" ] || { echo "ship-weights: $ckpt: no such file" >&2; exit 1; }
PY=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$ckpt" "$tmp/checkpoint.pt"

case ${SHIP:-ema} in
ema) ema=(--ema) ;;
raw) ema=() ;;
*) echo "ship-weights: SHIP must be ema or raw, got '$SHIP'" >&2; exit 64 ;;
esac
echo "== export (${SHIP:-ema}, float16)" >&2
"$PY" train/export.py weights --checkpoint "$tmp/checkpoint.pt" "${ema[@]}" --dtype f16 -o "$tmp/$name.safetensors"
if [ -f "Weights/$name.train.safetensors" ]; then
    echo "== export (raw weights, float16)" >&2
    "$PY" train/export.py weights --checkpoint "$tmp/checkpoint.pt" --dtype f16 -o "$tmp/$name.train.safetensors"
    mv "$tmp/$name.train.safetensors" "Weights/$name.train.safetensors"
    rm -f "$tmp/$name.train.json"
fi
mv "$tmp/$name.safetensors" "Weights/$name.safetensors"
mv "$tmp/$name.json" "Weights/$name.json"

echo "== calibrate" >&2
swift build -c release --product s2c-calibrate >&2
"$(swift build -c release --show-bin-path)/s2c-calibrate" calibrate --weights "Weights/$name.safetensors" \
    --images ../shared/data/kodak -o "Weights/$name.s2cq"

echo "== conformance streams" >&2
scripts/make-conformance.sh "$name"

echo "== for Weights/README.md" >&2
for f in "Weights/$name.safetensors" "Weights/$name.train.safetensors" "Weights/$name.json" "Weights/$name.s2cq"; do
    [ -f "$f" ] && echo "  - \`$(basename "$f")\` $(sha256sum "$f" | cut -d' ' -f1)"
done
echo "  fingerprint 0x$(tail -c 8 "Weights/$name.s2cq" | od -An -tx8 | tr -d ' ')"
