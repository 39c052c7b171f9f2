#!/usr/bin/env bash
# check-encoder.sh: encoder byte conformance. Re-encodes the committed conformance sources with
# s2c-int on the C reference kernels (--cpu 0) and on the best kernels of this CPU (3 threads), and
# requires the committed bitstreams byte for byte:
#   Tests/Conformance/*.s2c          with Tests/Conformance/nano.s2cq
#   Tests/Conformance/MODEL/*.s2c    with Weights/MODEL.s2cq, for every such folder (hybrid-t, hybrid-lite, ...)
# The sources are made as scripts/make-conformance.sh makes them: the fixture
# Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png, cropped to the stream's top-left W x H
# (gray streams: PIL's convert("L") first). Quality and tile size come from each stream's header
# (s2c-int info --json), so a new stream or model folder needs no change here.
# Usage: check-encoder.sh [S2C_INT]   (default: the debug build, swift build --show-bin-path)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$(swift build --show-bin-path)/s2c-int}
[ -x "$bin" ] || { echo "check-encoder: $bin missing (swift build first)"; exit 1; }
fixture=Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sets=("nano:Tests/Conformance/nano.s2cq:Tests/Conformance")
for d in Tests/Conformance/*/; do
    d=${d%/}
    name=$(basename "$d")
    ls "$d"/*.s2c >/dev/null 2>&1 || continue
    [ -f "Weights/$name.s2cq" ] || { echo "check-encoder: FAILED: $d has bitstreams but Weights/$name.s2cq is missing"; exit 1; }
    sets+=("$name:Weights/$name.s2cq:$d")
done

count=0
for s in "${sets[@]}"; do
    IFS=: read -r name model dir <<< "$s"
    for stream in "$dir"/*.s2c; do
        info=$("$bin" info --json "$stream")
        read -r w h color q tiles tw th < <(python3 -c '
import json, sys
i = json.loads(sys.argv[1])
print(i["width"], i["height"], i["color"], i["quality"], i["tiles"], i["tile_width"], i["tile_height"])' "$info")
        src="$work/src-$w-$h-$color.png"
        [ -f "$src" ] || python3 - "$fixture" "$src" "$w" "$h" "$color" <<'PY'
import sys
from PIL import Image
fixture, out, w, h, color = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
im = Image.open(fixture).convert("RGB")
if color == "gray":
    im = im.convert("L")
if w > im.width or h > im.height:
    sys.exit(f"check-encoder: a {w}x{h} stream is larger than the fixture")
im.crop((0, 0, w, h)).save(out)
PY
        args=(encode "$src" --model "$model" --quality "$q")
        [ "$tiles" -gt 1 ] && args+=(--tile "$(( tw > th ? tw : th ))")
        for path in c best; do
            out="$work/$name-$(basename "$stream" .s2c)-$path.s2c"
            if [ $path = c ]; then "$bin" "${args[@]}" -o "$out" --cpu 0 --threads 1 2>/dev/null
            else "$bin" "${args[@]}" -o "$out" --threads 3 2>/dev/null; fi
            if ! cmp -s "$out" "$stream"; then
                echo "check-encoder: FAILED: $name $(basename "$stream") re-encoded on the $path path differs from the committed stream"
                echo "  s2c-int ${args[*]}"; cmp "$out" "$stream" || true; exit 1
            fi
        done
        count=$((count + 1))
        echo "check-encoder: $name $(basename "$stream"): C and best paths give the committed $(wc -c < "$stream") bytes"
    done
done
echo "check-encoder: OK ($count bitstreams, ${#sets[@]} models, byte-identical on the C reference and the best kernels)"
