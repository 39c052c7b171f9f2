#!/usr/bin/env bash
# build.sh: builds s2c-decoder.wasm, the decoder for web pages and node: the decode path
# (Sources/QuantModel) as Embedded Swift plus board/BoardDecoder.swift (the board decoder's C
# interface), the FixedPoint C kernels single-threaded (no OpenMP in wasm: wasm/include has the
# one-thread omp.h and pthread.h they need), wasm/s2c_wasm.c (the exports), wasi-libc (malloc,
# memcpy, stdio) and compiler-rt's builtins, linked by wasm-ld as a WASI reactor.
#
#   wasm/build.sh [OUTDIR]      # default out/wasm: s2c-decoder.wasm (SIMD128 kernels),
#                               # s2c-decoder-scalar.wasm (C reference only, for engines without
#                               # SIMD128) and s2c-decoder.js (the JavaScript API)
#   wasm/build.sh --check OUT   # the checkasm harness (scripts/aarch64/check_main.c) as a WASI
#                               # command with the SIMD128 kernels; run it with wasm/run-wasi.mjs
#
# Environment: SWIFTC (default swiftc), CLANG (default: the clang next to swiftc, else clang),
# WASM_LD (default wasm-ld), WASI_SYSROOT (default /usr: Debian's wasi-libc), WASM_BUILTINS
# (libclang_rt.builtins-wasm32.a; default: the first under /usr/lib/llvm-*), ONLY=simd|scalar.
# Debian packages: wasi-libc, libclang-rt-19-dev-wasm32 (make setup-wasm installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-out/wasm}
SWIFTC=${SWIFTC:-swiftc}
swiftbin=$(dirname "$(command -v "$SWIFTC")")
CLANG=${CLANG:-$([ -x "$swiftbin/clang" ] && echo "$swiftbin/clang" || echo clang)}
WASM_LD=${WASM_LD:-$([ -x "$swiftbin/wasm-ld" ] && echo "$swiftbin/wasm-ld" || echo wasm-ld)}
sysroot=${WASI_SYSROOT:-/usr}
builtins=${WASM_BUILTINS:-$( (ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null || true) | sort -V | tail -1)}
swiftlib=$swiftbin/../lib/swift/embedded/wasm32-unknown-none-wasm
for f in "$sysroot/lib/wasm32-wasi/libc.a:wasi-libc" "$builtins:libclang-rt-19-dev-wasm32" \
         "$swiftlib/libswiftUnicodeDataTables.a:a Swift toolchain with Embedded Swift for wasm32"; do
    [ -n "${f%%:*}" ] && [ -f "${f%%:*}" ] || { echo "build.sh: ${f%%:*} missing (install ${f#*:}; make setup-wasm)" >&2; exit 1; }
done
command -v "$WASM_LD" >/dev/null || { echo "build.sh: $WASM_LD missing (the Swift toolchain has one)" >&2; exit 1; }

# -Wno-unused-variable: some kernels compute a size only their `#pragma omp ... if (...)` reads.
cflags=(--target=wasm32-wasi --sysroot="$sysroot" -O2 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-variable
        -I wasm/include -I Sources/FixedPoint/include -I board)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = --check ]; then
    out=${2:?usage: wasm/build.sh --check OUT.wasm}
    objs=()
    for f in Sources/FixedPoint/*.c Sources/FixedPoint/wasm/*.c scripts/aarch64/check_main.c; do
        [ -f "$f" ] || continue
        "$CLANG" "${cflags[@]}" -msimd128 -c "$f" -o "$work/$(echo "$f" | tr / _).o"
        objs+=("$work/$(echo "$f" | tr / _).o")
    done
    "$WASM_LD" "$sysroot/lib/wasm32-wasi/crt1-command.o" "${objs[@]}" -L "$sysroot/lib/wasm32-wasi" -lc "$builtins" \
        -z stack-size=1048576 --max-memory=4294967296 -o "$out"
    exit 0
fi
cat > "$work/module.modulemap" <<MAP
module FixedPoint {
    header "$root/Sources/FixedPoint/include/s2c_fixedpoint.h"
    export *
}
MAP
# The Swift part has no SIMD of its own (the kernels are C): one object serves both builds.
# No stack protector: wasm keeps return addresses outside linear memory, and wasi-libc has no
# __stack_chk_guard.
"$SWIFTC" -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -parse-as-library -O \
    -Xfrontend -disable-stack-protector -module-name QuantModel -I "$work" \
    -c Sources/QuantModel/*.swift board/BoardDecoder.swift -o "$work/quantmodel.o"

mkdir -p "$out"
build() {  # build NAME FLAGS...: one module
    local name=$1
    shift
    local objs=()
    for f in Sources/FixedPoint/*.c Sources/FixedPoint/wasm/*.c wasm/s2c_wasm.c; do
        [ -f "$f" ] || continue
        local o="$work/$name-$(echo "$f" | tr / _).o"
        "$CLANG" "${cflags[@]}" "$@" -c "$f" -o "$o"
        objs+=("$o")
    done
    # A reactor (no main; _initialize runs the C constructors); memory grows up to the wasm32 limit
    # of 4 GiB; a 1 MiB stack (the attention kernels keep two 32 x 32 int32 tables on it).
    "$WASM_LD" --no-entry "$sysroot/lib/wasm32-wasi/crt1-reactor.o" "$work/quantmodel.o" "${objs[@]}" \
        -L "$sysroot/lib/wasm32-wasi" -lc "$builtins" "$swiftlib/libswiftUnicodeDataTables.a" \
        --gc-sections --strip-debug -z stack-size=1048576 --max-memory=4294967296 -o "$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name"
    [ -n "${QUIET:-}" ] || echo "build.sh: $out/$name ($(du -k "$out/$name" | cut -f1) KiB)"
}
[ "${ONLY:-}" = scalar ] || build s2c-decoder.wasm -msimd128
[ "${ONLY:-}" = simd ] || build s2c-decoder-scalar.wasm
cp wasm/s2c-decoder.js "$out/s2c-decoder.js"
