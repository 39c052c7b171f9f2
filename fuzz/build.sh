#!/usr/bin/env bash
# fuzz/build.sh: builds the libFuzzer harnesses (docs/robustness.md) into .build-fuzz/.
#
# The Swift modules (QuantModel, ImageIO, Calibrate) are compiled from Sources/ with
# `swiftc -sanitize=fuzzer,address` (coverage + AddressSanitizer; Swift itself traps on overflow
# and out-of-bounds), the FixedPoint C kernels with `clang -fsanitize=fuzzer-no-link,address,undefined`.
# The board harness compiles Sources/QuantModel + board/BoardDecoder.swift as Embedded Swift, as
# board/build.sh does, with the board's C image writer, under the same sanitizers.
#
#   fuzz/build.sh            # every harness
#   fuzz/build.sh bitstream  # one (bitstream, model, modelgraph, safetensors, png, board)
#
# Environment: SWIFTC (default swiftc), CLANG (default: the clang next to swiftc), OUT
# (default .build-fuzz). Rebuilds only what is older than its sources.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
SWIFTC=${SWIFTC:-swiftc}
bindir=$(dirname "$(command -v "$SWIFTC")")
CLANG=${CLANG:-$bindir/clang}
OUT=${OUT:-.build-fuzz}
ompInclude=/usr/lib/llvm-14/lib/clang/14.0.6/include
ompLib=/usr/lib/llvm-14/lib
all=(bitstream model modelgraph safetensors png board)
want=("$@")
[ ${#want[@]} -gt 0 ] || want=("${all[@]}")
for h in "${want[@]}"; do
    case " ${all[*]} " in *" $h "*) ;; *) echo "fuzz/build.sh: unknown harness '$h' (${all[*]})" >&2; exit 64 ;; esac
done
mkdir -p "$OUT/obj" "$OUT/mod" "$OUT/emb"

# Newer-than test: rebuild $1 if it is missing or older than any of the remaining files.
stale() {
    local target=$1; shift
    [ -e "$target" ] || return 0
    local f
    for f in "$@"; do [ "$f" -nt "$target" ] && return 0; done
    return 1
}

csan=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
# Coverage only where control flow depends on the input (rANS, dispatch, the image writer): in the
# arithmetic kernels it would only slow the loops down (a third of all time), their branches
# follow the model's fixed shapes.
cov() { case $1 in Sources/FixedPoint/rans.c|Sources/FixedPoint/dispatch.c|Sources/FixedPoint/cpu.c|board/*) echo -fsanitize=fuzzer-no-link ;; esac; }
swsan=(-sanitize=fuzzer,address -g)

# MARK: - FixedPoint C kernels (one set for both Swift flavours)
cat > "$OUT/mod/module.modulemap" <<MAP
module FixedPoint {
    header "$root/Sources/FixedPoint/include/s2c_fixedpoint.h"
    export *
}
module ModelPaths {
    header "$root/Sources/ModelPaths/include/s2c_model_paths.h"
    export *
}
MAP
csrc=(Sources/FixedPoint/*.c Sources/FixedPoint/x86/*.c Sources/FixedPoint/arm/*.c)
cobjs=()
for c in "${csrc[@]}" board/image_write.c Sources/ModelPaths/model_paths.c; do
    o="$OUT/obj/$(echo "${c%.c}" | tr / _).o"
    cobjs+=("$o")
    if stale "$o" "$c" Sources/FixedPoint/include/*.h Sources/FixedPoint/*.h Sources/ModelPaths/include/*.h board/*.h "$0"; then
        "$CLANG" -c -O2 -std=gnu11 -fopenmp -idirafter "$ompInclude" -march=native -fno-fast-math "${csan[@]}" $(cov "$c") \
            -I Sources/FixedPoint/include -I Sources/ModelPaths/include -I board "$c" -o "$o"
    fi
done
fpobjs=("${cobjs[@]:0:${#csrc[@]}}")
imgobj=${cobjs[${#csrc[@]}]}
pathsobj=${cobjs[${#csrc[@]}+1]}   # the model search (ImageIO's ModelSearch imports it)
omp=(-L"$ompLib" -Xlinker -rpath -Xlinker "$ompLib" -lomp)

# MARK: - Swift modules
swmod() {   # name, extra flags..., -- sources...
    local name=$1; shift
    local flags=()
    while [ "$1" != "--" ]; do flags+=("$1"); shift; done
    shift
    if stale "$OUT/obj/$name.o" "$@" "$0"; then
        "$SWIFTC" -module-name "$name" -parse-as-library -wmo -O "${swsan[@]}" -I "$OUT/mod" \
            -Xcc -idirafter -Xcc "$ompInclude" "${flags[@]}" -emit-module -emit-module-path "$OUT/mod/$name.swiftmodule" \
            -c "$@" -o "$OUT/obj/$name.o"
    fi
}
need_quant=0; need_img=0; need_cal=0
for h in "${want[@]}"; do
    case $h in
    bitstream|model|modelgraph) need_quant=1 ;;
    png) need_img=1 ;;
    safetensors) need_quant=1; need_img=1; need_cal=1 ;;   # Calibrate imports ImageIO
    esac
done
[ $need_quant = 0 ] || swmod QuantModel -enable-testing -- Sources/QuantModel/*.swift
[ $need_img = 0 ] || swmod ImageIO -I Sources/_CLibPNG -- Sources/ImageIO/*.swift
[ $need_cal = 0 ] || swmod Calibrate -I Sources/_COpenBLAS -I Sources/_CLibPNG -- Sources/Calibrate/*.swift

# MARK: - Harnesses
link() {    # harness, objects/libraries...
    local h=$1; shift
    local src=("$root/fuzz/harness/Common.swift" "$root/fuzz/harness/$h.swift")
    local deps=()
    for a in "$@"; do [ -f "$a" ] && deps+=("$a"); done
    if stale "$OUT/fuzz-$h" "${src[@]}" "${deps[@]}" "$0"; then
        "$SWIFTC" -parse-as-library -O "${swsan[@]}" -I "$OUT/mod" -Xcc -idirafter -Xcc "$ompInclude" \
            "${src[@]}" "$@" "${omp[@]}" -o "$OUT/fuzz-$h.tmp" 2> >(grep -v "Cannot export local symbol" >&2)
        mv "$OUT/fuzz-$h.tmp" "$OUT/fuzz-$h"
        echo "fuzz/build.sh: $OUT/fuzz-$h"
    fi
}
for h in "${want[@]}"; do
    case $h in
    bitstream|model|modelgraph) link "$h" "$OUT/obj/QuantModel.o" "${fpobjs[@]}" ;;
    png) link png "$OUT/obj/ImageIO.o" "$pathsobj" -I Sources/_CLibPNG -lpng16 ;;
    safetensors) link safetensors "$OUT/obj/Calibrate.o" "$OUT/obj/QuantModel.o" "$OUT/obj/ImageIO.o" "$pathsobj" \
                     "${fpobjs[@]}" -I Sources/_COpenBLAS -I Sources/_CLibPNG -lopenblas -lpng16 ;;
    board)
        # Embedded Swift, as board/build.sh compiles it; the C harness drives its entry points.
        emb="$OUT/emb/quantmodel.o"
        if stale "$emb" Sources/QuantModel/*.swift board/BoardDecoder.swift "$0"; then
            "$SWIFTC" -target "$(uname -m)-unknown-linux-gnu" -enable-experimental-feature Embedded -wmo \
                -parse-as-library -O "${swsan[@]}" -module-name QuantModel -I "$OUT/mod" \
                -c Sources/QuantModel/*.swift board/BoardDecoder.swift -o "$emb"
        fi
        if stale "$OUT/fuzz-board" fuzz/harness/board.c "$emb" "${cobjs[@]}" "$0"; then
            "$CLANG" -O1 -g -std=gnu11 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DS2C_REPO="\"$root\"" \
                -I Sources/FixedPoint/include -I board fuzz/harness/board.c "$emb" "${cobjs[@]}" \
                "$(dirname "$bindir")/lib/swift/embedded/$(uname -m)-unknown-linux-gnu/libswiftUnicodeDataTables.a" \
                "${omp[@]}" -o "$OUT/fuzz-board.tmp" 2> >(grep -v "Cannot export local symbol" >&2)
            mv "$OUT/fuzz-board.tmp" "$OUT/fuzz-board"
            echo "fuzz/build.sh: $OUT/fuzz-board"
        fi
        ;;
    esac
done
