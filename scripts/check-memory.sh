#!/usr/bin/env bash
# check-memory.sh: the decoders' memory bound (docs/robustness.md, "Memory bound"). Under `ulimit -v`
# (address space, so thread stacks and mapped libraries count), with 1 thread and the nano test model:
#
#   peak <= V0 + 8 bytes x image pixels + 32 bytes x padded pixels of the largest tile + 16 MiB
#
# where V0 is the same decoder's measured minimum for a one-pixel stream (runtime, libraries, model).
# The image term is the output (pixels, and s2c-int's PNG encoding); the tile term is the network's
# working set, which must not grow with the number of tiles. Valid streams must decode under the
# bound; hostile ones (a tiny file declaring a 16384 x 4096 image of 2880-pixel tiles, a 2880 x 2880
# one-tile image, a tile too large to decode) must end with exit status 1 and a message, never a
# signal (the tile too large to decode under V0 + 16 MiB: refused before anything is allocated).
# Checks s2c-int decode and the board decoder s2c-dec (host build).
# Usage: check-memory.sh [S2C_INT]   (default: the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$(swift build --show-bin-path)/s2c-int}
model=Tests/Conformance/nano.s2cq
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
QUIET=1 bash board/build.sh host "$work/s2c-dec"

# Valid streams: one 512x512 tile; 2048x512 and 1024x1024 as four 512x512 tiles.
python3 - "$work" <<'PY'
import sys
from PIL import Image
im = Image.open("Tests/CalibrateTests/Fixtures/kodim23-crop-70x50.png").convert("RGB")
for w, h in [(512, 512), (2048, 512), (1024, 1024)]:
    im.resize((w, h)).save(f"{sys.argv[1]}/src-{w}x{h}.png")
PY
for s in 512x512 2048x512 1024x1024; do
    "$bin" encode "$work/src-$s.png" -o "$work/$s.s2c" --model $model --tile 512 2>/dev/null
done

# Hostile streams: valid headers, tile tables and CRCs, 4 garbage bytes per z and y stream.
python3 - "$work" "$model" <<'PY'
import struct, sys, zlib
out, model = sys.argv[1], sys.argv[2]
fp = struct.unpack("<Q", open(model, "rb").read()[-8:])[0]
crc = lambda b: struct.pack("<I", zlib.crc32(b) & 0xFFFFFFFF)
def stream(name, w, h, tw=None, th=None, gray=0):
    tiled = tw is not None
    tiles = ((w + tw - 1) // tw) * ((h + th - 1) // th) if tiled else 1
    hdr = b"\x89S2C" + bytes([2 if tiled else 1, gray]) + struct.pack("<HQHHII", 1024, fp, w, h, 4 * tiles, 4 * tiles)
    if tiled:
        hdr += struct.pack("<HH", tw, th)
    b = hdr + crc(hdr)
    if tiled:
        table = struct.pack("<II", 4, 4) * tiles
        b += table + crc(table)
    payload = b"\x01\x02\x03\x04" * (2 * tiles)
    open(f"{out}/{name}.s2c", "wb").write(b + payload + crc(payload))
stream("hostile-16384x4096", 16384, 4096, 2880, 2880)
stream("hostile-2880x2880", 2880, 2880)
stream("hostile-tile-too-large", 4000, 4000)
PY

# Smallest `ulimit -v` (KiB, 1 MiB steps) under which "$@" exits 0.
minimum() {
    local lo=1024 hi=8388608 mid
    while [ $((hi - lo)) -gt 1024 ]; do
        mid=$(((lo + hi) / 2))
        if (ulimit -v $mid; "$@" >/dev/null 2>&1); then hi=$mid; else lo=$mid; fi
    done
    echo $hi
}

fail=0
for dec in s2c-int s2c-dec; do
    if [ $dec = s2c-int ]; then run=("$bin" decode); else run=("$work/s2c-dec" -q); fi
    common=(--model $model --threads 1)
    v0=$(minimum "${run[@]}" Tests/Conformance/one-pixel-q3.s2c -o "$work/o.png" "${common[@]}" 2>/dev/null)
    echo "check-memory: $dec: V0 (one-pixel stream) = $((v0 / 1024)) MiB of address space"
    check() {   # stream, image pixels, padded pixels of the largest tile, expected exit status, message
        local limit=$((v0 + (8 * $2 + 32 * $3) / 1024 + 16384)) rc=0
        (ulimit -v $limit; exec "${run[@]}" "$work/$1.s2c" -o "$work/o.png" "${common[@]}") > "$work/out" 2>&1 || rc=$?
        if [ $rc -ne "$4" ] || { [ -n "$5" ] && ! grep -q -- "$5" "$work/out"; }; then
            echo "check-memory: FAILED: $dec $1 under ulimit -v $((limit / 1024)) MiB: exit $rc (want $4)"; cat "$work/out"; fail=1
        else
            echo "check-memory: $dec $1: exit $rc under ulimit -v $((limit / 1024)) MiB"
        fi
    }
    check 512x512 $((512 * 512)) $((512 * 512)) 0 ""
    check 2048x512 $((2048 * 512)) $((512 * 512)) 0 ""
    check 1024x1024 $((1024 * 1024)) $((512 * 512)) 0 ""
    check hostile-16384x4096 $((16384 * 4096)) $((2880 * 2880)) 1 "does not decode cleanly"
    check hostile-2880x2880 $((2880 * 2880)) $((2880 * 2880)) 1 "does not decode cleanly"
    check hostile-tile-too-large 0 0 1 "larger than this codec handles"     # refused before any allocation
done
[ $fail = 0 ] || exit 1
echo "check-memory: OK (valid streams decode and hostile ones fail cleanly within the documented bound)"
