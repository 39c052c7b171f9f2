#!/usr/bin/env bash
# make-conformance.sh: regenerates Tests/Conformance (never run in CI): the nano test model,
# bitstreams encoded with it, and the SHA-256 of their decoded pixels. Only after a deliberate
# change of the model format, the bitstream format or a kernel's specified output.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=Tests/Conformance
swift build --scratch-path .build-lead >/dev/null
bin=$(swift build --scratch-path .build-lead --show-bin-path)
"$bin/s2c-calibrate" calibrate --weights Tests/CalibrateTests/Fixtures/nano-weights.safetensors \
    --images Tests/CalibrateTests/Fixtures --crop 64 -o $dir/nano.s2cq
src=Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png
python3 - "$src" $dir <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
im.crop((0, 0, 1, 1)).save(f"{out}/src-1x1.png")
im.convert("L").crop((0, 0, 33, 17)).save(f"{out}/src-gray-33x17.png")
PY
"$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q1.s2c --model $dir/nano.s2cq --quality 1
"$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q4.5.s2c --model $dir/nano.s2cq --quality 4.5
"$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q7.s2c --model $dir/nano.s2cq --quality 7
"$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q3-tiles64.s2c --model $dir/nano.s2cq --quality 3 --tile 64
"$bin/s2c-int" encode $dir/src-1x1.png -o $dir/one-pixel-q3.s2c --model $dir/nano.s2cq --quality 3
"$bin/s2c-int" encode $dir/src-gray-33x17.png -o $dir/gray-33x17-q6.s2c --model $dir/nano.s2cq --quality 6
# The shipped model on the same small images (Tests/Conformance/hybrid-t): whenever
# Weights/hybrid-t.s2cq changes, these must be regenerated (the bitstreams carry its fingerprint).
ht=Weights/hybrid-t.s2cq
if [ -f $ht ]; then
    mkdir -p $dir/hybrid-t
    rm -f $dir/hybrid-t/*.s2c
    "$bin/s2c-int" encode $src -o $dir/hybrid-t/kodim23-70x50-q1.s2c --model $ht --quality 1
    "$bin/s2c-int" encode $src -o $dir/hybrid-t/kodim23-70x50-q7-tiles64.s2c --model $ht --quality 7 --tile 64
    "$bin/s2c-int" encode $dir/src-gray-33x17.png -o $dir/hybrid-t/gray-33x17-q4.s2c --model $ht --quality 4
fi
rm -f $dir/src-1x1.png $dir/src-gray-33x17.png
GENERATE_EXPECTED=1 swift test --scratch-path .build-lead --filter conformanceBitstreamsDecodeToExpectedPixels
if [ -f $ht ]; then
    GENERATE_EXPECTED=1 swift test --scratch-path .build-lead --filter shippedModelConformance
fi
echo "make-conformance: wrote $dir"
