#!/usr/bin/env bash
# Demo (`make demo` builds and calls this): encode and decode a Kodak image with the integer
# codec, then report bits per pixel and PSNR.
#
# The product model is Weights/hybrid-t.s2cq (S2C-Hybrid-T, calibrated from our own float
# weights, train/RESULTS.md: still early in training, so its quality is far from the paper's).
# If it is missing (a checkout without it), the demo runs the very same codec with the committed
# test model Tests/Conformance/nano.s2cq (an untrained tiny network: its pictures are noise,
# the pipeline is real) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-../shared/data/kodak/kodim23.png}
[ -f "$IMAGE" ] || { echo "demo: $IMAGE not found; pass an image path" >&2; exit 1; }
BIN=$(swift build -c release --show-bin-path)
MODEL=Weights/hybrid-t.s2cq
if [ ! -f "$MODEL" ]; then
    echo "demo: $MODEL is missing from this checkout."
    echo "demo: running the codec with the untrained test model Tests/Conformance/nano.s2cq instead:"
    echo "      the numbers below show the pipeline working, not compression quality."
    MODEL=Tests/Conformance/nano.s2cq
fi
mkdir -p out
name=$(basename "$IMAGE" .png)
"$BIN/s2c-int" encode "$IMAGE" -o "out/$name.s2c" --model "$MODEL" --quality 4
"$BIN/s2c-int" decode "out/$name.s2c" -o "out/$name.decoded.png" --model "$MODEL"
"$BIN/s2c-int" info "out/$name.s2c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$(cd "$(dirname "$IMAGE")" && pwd)/$(basename "$IMAGE")" "$tmp/"
echo "demo: s2c-int eval (encode, decode, check decoder == encoder reconstruction, PSNR):"
"$BIN/s2c-int" eval --images "$tmp" --model "$MODEL" --quality 4 2>/dev/null
echo "demo: wrote out/$name.s2c and out/$name.decoded.png"
