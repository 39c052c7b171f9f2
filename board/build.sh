#!/usr/bin/env bash
# build.sh: builds s2c-dec, the board decoder: the decode path (Sources/QuantModel) as Embedded
# Swift plus board/BoardDecoder.swift, the FixedPoint C kernels with OpenMP, and the C command
# line (board/s2c_dec.c, board/image_write.c), statically linked so it runs on any Linux of its
# architecture with nothing installed.
#
#   board/build.sh aarch64 [OUT]    # cross: aarch64-linux-gnu-gcc; default OUT out/board/s2c-dec-aarch64
#   board/build.sh host [OUT]       # this machine's architecture; default OUT out/board/s2c-dec-host
#
# Environment: SWIFTC (default swiftc); MAIN (the C program around the decoder, default
# "board/s2c_dec.c board/image_write.c"; scripts/check-embedded.sh builds its harness this way);
# EXTRA_SWIFT (more .swift files compiled in); CFLAGS_EXTRA. Needs gcc-aarch64-linux-gnu and
# libc6-dev-arm64-cross for aarch64 (make setup installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${1:?usage: board/build.sh aarch64|host [OUT]}
case "$target" in
aarch64) arch=aarch64; cc=aarch64-linux-gnu-gcc ;;
host)    arch=$(uname -m); cc=gcc ;;
*) echo "build.sh: target must be aarch64 or host, got '$target'" >&2; exit 64 ;;
esac
out=${2:-out/board/s2c-dec-$target}
SWIFTC=${SWIFTC:-swiftc}
command -v "$cc" >/dev/null || { echo "build.sh: $cc missing (make setup installs it)" >&2; exit 1; }
emb=$(dirname "$(command -v "$SWIFTC")")/../lib/swift/embedded
if [ "$arch" = aarch64 ]; then swift_target=aarch64-none-none-elf; else swift_target=$arch-unknown-linux-gnu; fi
[ "$(uname -m)" = "$arch" ] && [ "$target" = aarch64 ] && swift_target=aarch64-unknown-linux-gnu

work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT
cat > "$work/module.modulemap" <<MAP
module FixedPoint {
    header "$root/Sources/FixedPoint/include/s2c_fixedpoint.h"
    export *
}
MAP
# shellcheck disable=SC2086
"$SWIFTC" -target "$swift_target" -enable-experimental-feature Embedded -wmo -parse-as-library -O \
    -module-name QuantModel -I "$work" -c Sources/QuantModel/*.swift board/BoardDecoder.swift ${EXTRA_SWIFT:-} \
    -o "$work/quantmodel.o"
mkdir -p "$(dirname "$out")"
# static-pie: the Embedded Swift object (bare-metal ELF target on aarch64) references its data
# with protected visibility, which a non-PIE static link would need copy relocations for.
link=${LINK--static-pie}
# libgomp.a warns that its (unused) offloading plugin loader calls dlopen: not an error here.
filter_gomp() { grep -v -e "requires at runtime the shared libraries" -e "libgomp.a(.*in function" >&2 || true; }
# shellcheck disable=SC2086
"$cc" -O2 -fopenmp -std=gnu11 $link -I Sources/FixedPoint/include -I Sources/ModelPaths/include -I board \
    ${CFLAGS_EXTRA:-} ${MAIN:-board/s2c_dec.c board/image_write.c} Sources/ModelPaths/*.c Sources/FixedPoint/*.c Sources/FixedPoint/arm/*.c \
    Sources/FixedPoint/x86/*.c "$work/quantmodel.o" "$emb/$swift_target/libswiftUnicodeDataTables.a" -lm -o "$out.tmp" \
    2> >(filter_gomp)
mv "$out.tmp" "$out"
[ -n "${QUIET:-}" ] || echo "build.sh: $out ($(du -k "$out" | cut -f1) KiB, $target, static)"
