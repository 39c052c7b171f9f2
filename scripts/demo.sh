#!/usr/bin/env bash
# Demo (`make demo` builds and calls this): encode and decode a Kodak image with the integer
# codec, then report bits per pixel and PSNR.
#
# It uses the default model, the shipped model with the best measured Kodak rate-distortion
# (README.md, "Models and where the tools find them"), found as every user's encode finds it; the
# decode names no model: s2c-int finds the installed one by the fingerprint the stream carries.
# If no shipped model is installed (a checkout without Weights/), the demo runs the very same
# codec with the committed test model Tests/Conformance/nano.s2cq (an untrained tiny network:
# its pictures are noise, the pipeline is real) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${1:-../shared/data/kodak/kodim23.png}
[ -f "$IMAGE" ] || { echo "demo: $IMAGE not found; pass an image path" >&2; exit 1; }
BIN=$(swift build -c release --show-bin-path)
mkdir -p out
name=$(basename "$IMAGE" .png)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
MODEL=()
if ! "$BIN/s2c-int" encode "$IMAGE" -o "out/$name.s2c" --quality 4 2> "$tmp/err"; then
    cat "$tmp/err" >&2
    grep -q "not found" "$tmp/err" || exit 1
    echo "demo: no shipped model is installed in this checkout."
    echo "demo: running the codec with the untrained test model Tests/Conformance/nano.s2cq instead:"
    echo "      the numbers below show the pipeline working, not compression quality."
    MODEL=(--model Tests/Conformance/nano.s2cq)
    "$BIN/s2c-int" encode "$IMAGE" -o "out/$name.s2c" --quality 4 "${MODEL[@]}"
fi
"$BIN/s2c-int" decode "out/$name.s2c" -o "out/$name.decoded.png" "${MODEL[@]}"
"$BIN/s2c-int" info "out/$name.s2c"
ln -s "$(cd "$(dirname "$IMAGE")" && pwd)/$(basename "$IMAGE")" "$tmp/"
echo "demo: s2c-int eval (encode, decode, check decoder == encoder reconstruction, PSNR):"
"$BIN/s2c-int" eval --images "$tmp" --quality 4 "${MODEL[@]}" 2>/dev/null
echo "demo: wrote out/$name.s2c and out/$name.decoded.png"
