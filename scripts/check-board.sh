#!/usr/bin/env bash
# check-board.sh: builds s2c-dec, the board decoder (board/build.sh), for aarch64 and the host,
# and checks it as a user would run it:
#   - every committed conformance bitstream (Tests/Conformance for nano, Tests/Conformance/<name>
#     for each shipped model Weights/<name>.s2cq)
#     decodes to the pixels pinned in their expected.txt (SHA-256 of the pixels, the same pins
#     swift test holds s2c-int to): aarch64 under qemu with NEON + dotprod (-cpu max) and with
#     NEON alone (-cpu cortex-a53), the host's best kernels, the host's C reference, 1 and 3 threads;
#   - its image writer: PNGs of sizes across its block and chunk boundaries read back (PIL) equal
#     to the same images as PNM; the decoder's PNGs read back to the pinned pixels, gray as gray;
#   - the model search: a stream finds its model by fingerprint, a name is looked up in the model
#     folders, a missing model is named by its fingerprint;
#   - stdin/stdout; bad usage exits 64; a missing, truncated or corrupt input, a wrong or corrupt
#     model, and an output that is the input or a folder exit 1 with a message and leave no file
#     behind (and an existing output untouched).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-gcc qemu-aarch64 python3; do
    command -v $tool >/dev/null || { echo "check-board: $tool missing (make setup installs it)"; exit 1; }
done
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
board/build.sh aarch64 "$t/s2c-dec-aarch64"
board/build.sh host "$t/s2c-dec-host"
arm_max() { qemu-aarch64 -cpu max "$t/s2c-dec-aarch64" "$@"; }
arm_a53() { qemu-aarch64 -cpu cortex-a53 "$t/s2c-dec-aarch64" "$@"; }
host() { "$t/s2c-dec-host" "$@"; }
host_c() { "$t/s2c-dec-host" --cpu 0 "$@"; }
host_t1() { "$t/s2c-dec-host" --threads 1 "$@"; }
host_t3() { "$t/s2c-dec-host" --threads 3 "$@"; }
fails=0
fail() { echo "check-board: FAILED: $*"; fails=$((fails + 1)); }

# SHA-256 of a PNM's pixels (the bytes after its 3 header lines).
pnm_sha() { python3 - "$1" <<'PY'
import hashlib, sys
d = open(sys.argv[1], "rb").read()
i = 0
for _ in range(3):
    i = d.index(b"\n", i) + 1
print(hashlib.sha256(d[i:]).hexdigest())
PY
}
# Strict PNG structure (every chunk's CRC, IHDR first, IEND last, the zlib stream complete with
# nothing after it: PIL checks less), then the SHA-256 of the pixels as PIL reads them.
png_sha() { python3 - "$1" "$2" <<'PY'
import hashlib, struct, sys, zlib
from PIL import Image
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, types, idat = 8, [], b""
while pos < len(d):
    n, = struct.unpack(">I", d[pos:pos + 4])
    t, body, crc = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n], d[pos + 8 + n:pos + 12 + n]
    assert len(crc) == 4 and struct.unpack(">I", crc)[0] == zlib.crc32(t + body), f"CRC of {t}"
    types.append(t)
    if t == b"IDAT":
        idat += body
    pos += 12 + n
assert types[0] == b"IHDR" and types[-1] == b"IEND" and b"IDAT" in types, types
z = zlib.decompressobj()
raw = z.decompress(idat)
assert z.eof and not z.unused_data, "zlib stream incomplete or followed by junk"
im = Image.open(sys.argv[1])
im.load()
want = "L" if sys.argv[2] == "gray" else "RGB"
print(hashlib.sha256(im.tobytes()).hexdigest() if im.mode == want else f"mode {im.mode}, not {want}")
PY
}

# 0. The command line and image writer use no floating point: the compiler proves it for aarch64
#    (-mgeneral-regs-only refuses any floating-point type), with every warning an error.
for f in board/s2c_dec.c board/image_write.c Sources/ModelPaths/model_paths.c; do
    aarch64-linux-gnu-gcc -O2 -std=gnu11 -mgeneral-regs-only -Wall -Wextra -Werror -I Sources/FixedPoint/include \
        -I Sources/ModelPaths/include -I board -c "$f" -o "$t/nofloat.o" || fail "$f: floating point or a warning (see above)"
done

# The image writer alone, across its block and chunk boundaries.
mkdir -p "$t/img"
gcc -O2 -std=gnu11 -Wall -Werror -I board board/test_image_write.c board/image_write.c -o "$t/test_image_write"
"$t/test_image_write" "$t/img" > "$t/img/list"
while read -r png; do
    size=${png##*/}
    size=${size%.png}
    c=${size##*x}
    want=$(pnm_sha "${png%.png}.pnm")
    got=$(png_sha "$png" "$([ "$c" = 1 ] && echo gray || echo rgb)" 2>&1 | tail -1) || got="invalid PNG: $got"
    [ -n "$want" ] && [ "$got" = "$want" ] || fail "image writer: $png: $got, expected $want"
done < "$t/img/list"
echo "check-board: image writer: PNGs well-formed (chunk CRCs, complete zlib stream) and equal to their PNMs ($(wc -l < "$t/img/list") sizes)"

# 1. Conformance: every bitstream, every runner. First, qemu's CPUs give the paths meant.
arm_max --version | grep -q "kernels: NEON + dotprod$" || fail "qemu -cpu max does not run the dotprod kernels"
arm_a53 --version | grep -q "kernels: NEON$" || fail "qemu -cpu cortex-a53 does not run the NEON kernels"
n=0
sets="Tests/Conformance:Tests/Conformance/nano.s2cq"
for w in Weights/*.s2cq; do
    name=$(basename "$w" .s2cq)
    [ -f "Tests/Conformance/$name/expected.txt" ] || { fail "shipped model $w has no conformance set Tests/Conformance/$name"; continue; }
    sets="$sets Tests/Conformance/$name:$w"
done
for set in $sets; do
    dir=${set%%:*}
    model=${set#*:}
    [ -f "$model" ] || { fail "model $model missing"; continue; }
    first=1
    while read -r name size color sha; do
        [ -n "$sha" ] || { fail "$dir/expected.txt: no hash for $name"; continue; }
        runners="host host_c host_t1 host_t3 arm_max"
        # The slow runner (qemu without dotprod) on the nano model only; a shipped model once per set.
        if [ "$dir" = Tests/Conformance ] || [ $first -eq 1 ]; then runners="$runners arm_a53"; fi
        first=0
        for r in $runners; do
            $r -q "$dir/$name" -o "$t/out.ppm" --model "$model" || { fail "$r $dir/$name exited $?"; continue; }
            got=$(pnm_sha "$t/out.ppm") || got="unreadable PNM"
            [ "$got" = "$sha" ] || fail "$r $dir/$name: pixels $got, expected $sha"
        done
        host -q "$dir/$name" -o "$t/out.png" --model "$model" || fail "PNG decode of $dir/$name exited $?"
        got=$(png_sha "$t/out.png" "$color" 2>&1 | tail -1) || got="unreadable PNG"
        [ "$got" = "$sha" ] || fail "PNG of $dir/$name: $got, expected $sha"
        n=$((n + 1))
    done < "$dir/expected.txt"
done
echo "check-board: $n conformance bitstreams decoded to their pinned pixels (aarch64 NEON+dotprod and NEON, host SIMD and C, 1-3 threads; PNG and PNM)"

# 2. The command line.
s=Tests/Conformance/kodim23-70x50-q7.s2c
m=Tests/Conformance/nano.s2cq
expect_exit() {   # expect_exit CODE MESSAGE-PATTERN COMMAND...
    local code=$1 pat=$2
    shift 2
    set +e
    "$@" > "$t/stdout" 2> "$t/stderr"
    local rc=$?
    set -e
    [ $rc -eq "$code" ] || fail "'$*' exited $rc, expected $code ($(head -c 300 "$t/stderr"))"
    grep -q -- "$pat" "$t/stderr" || fail "'$*': stderr lacks '$pat': $(head -c 300 "$t/stderr")"
}
no_leftovers() { ! ls "$t/work" 2>/dev/null | grep -q . || fail "files left behind: $(ls "$t/work")"; }
mkdir -p "$t/work"

want=$(grep "^${s##*/} " Tests/Conformance/expected.txt | cut -d' ' -f4)
cat "$s" | host -q - -o - --model "$m" > "$t/stdout.png" || fail "stdin -> stdout decode exited $?"
[ -n "$want" ] && [ "$(png_sha "$t/stdout.png" rgb 2>&1 | tail -1)" = "$want" ] || fail "stdin -> stdout decode differs"
host --help | grep -q "usage: s2c-dec" || fail "--help"
host --version | grep -q "^s2c-dec [0-9.]* (bitstream versions 1-2, model file version 1), kernels: " || fail "--version"

expect_exit 64 "missing -o" host "$s"
expect_exit 64 "missing input" host -o "$t/work/x.png"
expect_exit 64 "unknown option" host --frobnicate "$s" -o "$t/work/x.png"
expect_exit 64 "threads must be" host --threads 0 "$s" -o "$t/work/x.png"
expect_exit 64 "needs a value" host "$s" -o
expect_exit 1 "cannot open input" host "$t/nope.s2c" -o "$t/work/x.png" --model "$m"
head -c 60 "$s" > "$t/trunc.s2c"
expect_exit 1 "trunc.s2c" host "$t/trunc.s2c" -o "$t/work/x.png" --model "$m"
python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[len(d)//2]^=0x40; open(sys.argv[2],'wb').write(d)" "$s" "$t/flip.s2c"
expect_exit 1 "flip.s2c" host "$t/flip.s2c" -o "$t/work/x.png" --model "$m"
expect_exit 1 "was made with model" host "$s" -o "$t/work/x.png" --model Weights/hybrid-t.s2cq
head -c 1000 "$m" > "$t/bad.s2cq"
expect_exit 1 "model '$t/bad.s2cq'" host "$s" -o "$t/work/x.png" --model "$t/bad.s2cq"
cp "$s" "$t/in.s2c"
expect_exit 1 "made with model 0x[0-9a-f]\{16\}, which is not installed" \
    env -u S2C_MODEL -u S2C_MODEL_PATH -C "$t" ./s2c-dec-host in.s2c -o work/x.png
no_leftovers
# The model search (s2c_model_paths.h): by fingerprint among several models, and by name.
mkdir -p "$t/models"
ln -s "$(pwd)/$m" "$t/models/nano.s2cq"
for w in Weights/*.s2cq; do ln -s "$(pwd)/$w" "$t/models/"; done
env -u S2C_MODEL -C "$t" S2C_MODEL_PATH="$t/models" ./s2c-dec-host -q in.s2c -o work/fp.png \
    || fail "decode by fingerprint (S2C_MODEL_PATH) exited $?"
[ "$(png_sha "$t/work/fp.png" rgb 2>&1 | tail -1)" = "$want" ] || fail "decode by fingerprint: wrong pixels"
rm -f "$t/work/fp.png"
env -u S2C_MODEL -C "$t" S2C_MODEL_PATH="$t/models" ./s2c-dec-host -q in.s2c -o work/name.png --model nano \
    || fail "--model nano (a name in S2C_MODEL_PATH) exited $?"
rm -f "$t/work/name.png"
expect_exit 1 "model 'nope' not found: no nope.s2cq in $t/models" \
    env -u S2C_MODEL S2C_MODEL_PATH="$t/models" "$t/s2c-dec-host" "$s" -o "$t/work/x.png" --model nope
expect_exit 64 "mask" host --cpu 0x100000000 "$s" -o "$t/work/x.png" --model "$m"
no_leftovers
cp "$s" "$t/work/in.s2c"
expect_exit 1 "is the input file" host "$t/work/in.s2c" -o "$t/work/in.s2c" --model "$m"
ln -s in.s2c "$t/work/link.png"
expect_exit 1 "is the input file" host "$t/work/in.s2c" -o "$t/work/link.png" --model "$m"
cmp -s "$s" "$t/work/in.s2c" || fail "the input was changed"
rm "$t/work/link.png" "$t/work/in.s2c"
mkdir "$t/work/dir.png"
expect_exit 1 "is a folder" host "$s" -o "$t/work/dir.png" --model "$m"
rmdir "$t/work/dir.png"
echo "keep me" > "$t/work/old.png"
expect_exit 1 "flip.s2c" host "$t/flip.s2c" -o "$t/work/old.png" --model "$m"
[ "$(cat "$t/work/old.png")" = "keep me" ] || fail "a failed decode changed the existing output"
rm "$t/work/old.png"
no_leftovers
S2C_MODEL="$m" host -q "$s" -o "$t/work/env.png" || fail "S2C_MODEL not used"
rm -f "$t/work/env.png"
# A write that fails half way (file size limit) removes its temporary file.
expect_exit 1 "cannot write" bash -c "ulimit -f 4; trap '' XFSZ; exec '$t/s2c-dec-host' -q --model '$m' '$s' -o '$t/work/big.ppm'"
no_leftovers
# An output that exists and is not a regular file is written in place, never replaced.
mkfifo "$t/work/fifo"
cat "$t/work/fifo" > "$t/fifo.out" &
reader=$!
host -q "$s" -o "$t/work/fifo" --model "$m" || fail "writing to a FIFO exited $?"
wait $reader
[ -p "$t/work/fifo" ] || fail "the FIFO was replaced"
[ "$(png_sha "$t/fifo.out" rgb 2>&1 | tail -1)" = "$want" ] || fail "the PNG written to a FIFO differs"
rm "$t/work/fifo"
no_leftovers
expect_exit 1 "not a regular file" host "$s" -o "$t/work/x.png" --model /dev/null
expect_exit 64 "takes no value" host --quiet=yes "$s" -o "$t/work/x.png"
expect_exit 64 "given twice" host "$s" -o "$t/work/x.png" --model "$m" --model "$m"
host -q --threads 08 "$s" -o "$t/work/t8.png" --model "$m" || fail "--threads 08 (decimal) refused"
rm -f "$t/work/t8.png"

if [ $fails -ne 0 ]; then echo "check-board: $fails failure(s)"; exit 1; fi
echo "check-board: OK (s2c-dec for aarch64 and the host: conformance, PNG/PNM output, errors)"
