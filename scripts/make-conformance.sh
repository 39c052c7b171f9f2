#!/usr/bin/env bash
# make-conformance.sh: regenerates Tests/Conformance (never run in CI): bitstreams encoded with the
# committed test model (nano) and with each shipped model, and the SHA-256 of their decoded pixels.
#
#   scripts/make-conformance.sh              # everything: the nano model and its streams, every shipped model
#   scripts/make-conformance.sh hybrid-lite  # only these shipped models' streams (Weights/<name>.s2cq)
#
# Run it only after a deliberate change of the model format, the bitstream format or a kernel's
# specified output (everything), or when a shipped model's .s2cq changes (that model: its
# bitstreams carry the model's fingerprint).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=Tests/Conformance
swift build --scratch-path .build-lead >/dev/null
bin=$(swift build --scratch-path .build-lead --show-bin-path)
src=Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png
if [ $# -eq 0 ]; then
    models=$(for m in Weights/*.s2cq; do basename "$m" .s2cq; done)
else
    models="$*"
fi
python3 - "$src" $dir <<'PY'
import sys
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
im.crop((0, 0, 1, 1)).save(f"{out}/src-1x1.png")
im.convert("L").crop((0, 0, 33, 17)).save(f"{out}/src-gray-33x17.png")
PY
if [ $# -eq 0 ]; then
    "$bin/s2c-calibrate" calibrate --weights Tests/CalibrateTests/Fixtures/nano-weights.safetensors \
        --images Tests/CalibrateTests/Fixtures --crop 64 -o $dir/nano.s2cq
    "$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q1.s2c --model $dir/nano.s2cq --quality 1
    "$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q4.5.s2c --model $dir/nano.s2cq --quality 4.5
    "$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q7.s2c --model $dir/nano.s2cq --quality 7
    "$bin/s2c-int" encode $src -o $dir/kodim23-70x50-q3-tiles64.s2c --model $dir/nano.s2cq --quality 3 --tile 64
    "$bin/s2c-int" encode $dir/src-1x1.png -o $dir/one-pixel-q3.s2c --model $dir/nano.s2cq --quality 3
    "$bin/s2c-int" encode $dir/src-gray-33x17.png -o $dir/gray-33x17-q6.s2c --model $dir/nano.s2cq --quality 6
fi
# Each shipped model on the same small images: lowest quality, highest quality in 64-pixel tiles, gray.
for name in $models; do
    m=Weights/$name.s2cq
    [ -f "$m" ] || { echo "make-conformance: $m not found" >&2; exit 1; }
    top=$( { "$bin/s2c-int" encode $src -o /dev/null --model "$m" --quality 1000 2>&1 || true; } | sed -n 's/.*range 1\.\.\.\([0-9]*\).*/\1/p')
    [ -n "$top" ] || { echo "make-conformance: cannot read $m's quality range" >&2; exit 1; }
    mkdir -p "$dir/$name"
    rm -f "$dir/$name"/*.s2c
    "$bin/s2c-int" encode $src -o "$dir/$name/kodim23-70x50-q1.s2c" --model "$m" --quality 1
    "$bin/s2c-int" encode $src -o "$dir/$name/kodim23-70x50-q$top-tiles64.s2c" --model "$m" --quality "$top" --tile 64
    "$bin/s2c-int" encode $dir/src-gray-33x17.png -o "$dir/$name/gray-33x17-q4.s2c" --model "$m" --quality 4
done
rm -f $dir/src-1x1.png $dir/src-gray-33x17.png
# The default model's Kodak-size stream (Tests/Conformance/<default>/large: the browser check's;
# outside the folders the debug-build and qemu conformance runs read), pinned by s2c-int's decode.
default=$(sed -n 's/^#define S2C_DEFAULT_MODEL "\(.*\)"/\1/p' Sources/ModelPaths/include/s2c_model_paths.h)
kodak=../shared/data/kodak/kodim23.png
for name in $models; do
    [ "$name" = "$default" ] || continue
    if [ ! -f $kodak ]; then echo "make-conformance: $kodak missing: $dir/$name/large not rewritten" >&2; continue; fi
    mkdir -p "$dir/$name/large"
    rm -f "$dir/$name/large"/*.s2c
    "$bin/s2c-int" encode $kodak -o "$dir/$name/large/kodim23-768x512-q4.s2c" --model "Weights/$name.s2cq" --quality 4
    "$bin/s2c-int" decode "$dir/$name/large/kodim23-768x512-q4.s2c" -o "$dir/$name/large/decoded.png" --model "Weights/$name.s2cq"
    python3 - "$dir/$name/large" <<'PY'
import hashlib, sys
from PIL import Image
d = sys.argv[1]
im = Image.open(f"{d}/decoded.png")
print(f"kodim23-768x512-q4.s2c {im.width}x{im.height} {'gray' if im.mode == 'L' else 'rgb'} "
      f"{hashlib.sha256(im.tobytes()).hexdigest()}", file=open(f"{d}/expected.txt", "w"))
PY
    rm -f "$dir/$name/large/decoded.png"
done
if [ $# -eq 0 ]; then
    GENERATE_EXPECTED=1 swift test --scratch-path .build-lead --filter conformanceBitstreamsDecodeToExpectedPixels
fi
# Rewrites every shipped model's expected.txt; the unchanged ones come out the same.
GENERATE_EXPECTED=1 swift test --scratch-path .build-lead --filter shippedModelConformance
echo "make-conformance: wrote $dir ($([ $# -eq 0 ] && echo "nano and ")$models)"
