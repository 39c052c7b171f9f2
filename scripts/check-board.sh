#!/usr/bin/env bash
# check-board.sh: builds s2c-dec, the board decoder (board/build.sh), for aarch64 and the host,
# and checks it as a user would run it:
#   - every committed conformance bitstream (Tests/Conformance and Tests/Conformance/hybrid-t)
#     decodes to the pixels pinned in their expected.txt (SHA-256 of the pixels, the same pins
#     swift test holds s2c-int to): aarch64 under qemu with NEON + dotprod (-cpu max) and with
#     NEON alone (-cpu cortex-a53), the host's best kernels, the host's C reference, 1 and 3 threads;
#   - its image writer: PNGs of sizes across its block and chunk boundaries read back (PIL) equal
#     to the same images as PNM; the decoder's PNGs read back to the pinned pixels, gray as gray;
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
png_sha() { python3 - "$1" "$2" <<'PY'
import hashlib, sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
want = "L" if sys.argv[2] == "gray" else "RGB"
print(hashlib.sha256(im.tobytes()).hexdigest() if im.mode == want else f"mode {im.mode}, not {want}")
PY
}

# 0. The command line and image writer use no floating point: the compiler proves it for aarch64
#    (-mgeneral-regs-only refuses any floating-point type), with every warning an error.
for f in board/s2c_dec.c board/image_write.c; do
    aarch64-linux-gnu-gcc -O2 -std=gnu11 -mgeneral-regs-only -Wall -Wextra -Werror -I Sources/FixedPoint/include \
        -I board -c "$f" -o "$t/nofloat.o" || fail "$f: floating point or a warning (see above)"
done

# The image writer alone, across its block and chunk boundaries.
mkdir -p "$t/img"
gcc -O2 -std=gnu11 -Wall -Werror -I board board/test_image_write.c board/image_write.c -o "$t/test_image_write"
"$t/test_image_write" "$t/img" > "$t/img/list"
python3 - "$t/img/list" <<'PY' || fail "image writer"
import sys
from PIL import Image
bad = 0
for png in open(sys.argv[1]).read().split():
    pnm = png[:-4] + ".pnm"
    d = open(pnm, "rb").read()
    i = 0
    for _ in range(3):
        i = d.index(b"\n", i) + 1
    im = Image.open(png)
    im.load()
    w, h, c = map(int, png.rsplit("/", 1)[1][:-4].split("x"))
    if im.size != (w, h) or im.mode != ("L" if c == 1 else "RGB") or im.tobytes() != d[i:]:
        print(f"check-board: {png}: {im.size} {im.mode} differs from {pnm}")
        bad += 1
sys.exit(1 if bad else 0)
PY
echo "check-board: image writer: PNGs read back equal to their PNMs ($(wc -l < "$t/img/list") sizes)"

# 1. Conformance: every bitstream, every runner.
n=0
for set in "Tests/Conformance:Tests/Conformance/nano.s2cq" "Tests/Conformance/hybrid-t:Weights/hybrid-t.s2cq"; do
    dir=${set%%:*}
    model=${set#*:}
    [ -f "$model" ] || { fail "model $model missing"; continue; }
    while read -r name size color sha; do
        runners="host host_c host_t1 host_t3 arm_max"
        # The slow runner (qemu without dotprod) on the small model only; hybrid-t once per set.
        if [ "$dir" = Tests/Conformance ] || [ $n -eq 0 ]; then runners="$runners arm_a53"; fi
        for r in $runners; do
            $r -q "$dir/$name" -o "$t/out.ppm" --model "$model" || { fail "$r $dir/$name exited $?"; continue; }
            got=$(pnm_sha "$t/out.ppm") || got="unreadable PNM"
            [ "$got" = "$sha" ] || fail "$r $dir/$name: pixels $got, expected $sha"
        done
        host -q "$dir/$name" -o "$t/out.png" --model "$model"
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

cat "$s" | host -q - -o - --model "$m" > "$t/stdout.png"
[ "$(png_sha "$t/stdout.png" rgb)" = "$(grep "^${s##*/} " Tests/Conformance/expected.txt | cut -d' ' -f4)" ] ||
    fail "stdin -> stdout decode differs"
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
expect_exit 1 "no model" env -u S2C_MODEL -C "$t" ./s2c-dec-host in.s2c -o work/x.png
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

if [ $fails -ne 0 ]; then echo "check-board: $fails failure(s)"; exit 1; fi
echo "check-board: OK (s2c-dec for aarch64 and the host: conformance, PNG/PNM output, errors)"
