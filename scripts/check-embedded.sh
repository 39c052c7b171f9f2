#!/usr/bin/env bash
# check-embedded.sh: compiles the decode path (Sources/QuantModel, as Embedded Swift, plus the
# FixedPoint C kernels) for aarch64, the board target, and for the host; runs both (aarch64
# under qemu-user with NEON + dotprod) and requires identical output: model-file self-tests
# and, given model files as arguments (or a nano model calibrated here), hashes of the
# integer g_s output. Fails if QuantModel leaves the Embedded subset.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
SWIFTC=${SWIFTC:-swiftc}
EMB=$(dirname "$(command -v "$SWIFTC")")/../lib/swift/embedded
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v $tool >/dev/null || { echo "check-embedded: $tool missing (make setup installs it)"; exit 1; }
done

models=("$@")
if [ ${#models[@]} -eq 0 ]; then
    # A small real model: hybrid-nano's fixture weights calibrated on the fixture crop.
    swift build --product s2c-calibrate >/dev/null
    "$(swift build --show-bin-path)/s2c-calibrate" calibrate --weights Tests/CalibrateTests/Fixtures/nano-weights.safetensors \
        --images Tests/CalibrateTests/Fixtures --crop 64 -o "$out/nano.s2cq" >/dev/null 2>&1
    models=("$out/nano.s2cq")
fi

cat > "$out/module.modulemap" <<MAP
module FixedPoint {
    header "$root/Sources/FixedPoint/include/s2c_fixedpoint.h"
    export *
}
MAP
flags=(-enable-experimental-feature Embedded -wmo -parse-as-library -O -module-name QuantModel -I "$out")
srcs=(Sources/QuantModel/*.swift scripts/embedded/Harness.swift)
csrc=(Sources/FixedPoint/*.c Sources/FixedPoint/arm/*.c Sources/FixedPoint/x86/*.c)

echo "== Embedded Swift decode path: aarch64 (qemu -cpu max) =="
"$SWIFTC" -target aarch64-none-none-elf "${flags[@]}" -c "${srcs[@]}" -o "$out/qm-arm.o"
aarch64-linux-gnu-gcc -O2 -fopenmp -std=gnu11 -I Sources/FixedPoint/include scripts/embedded/main.c "${csrc[@]}" \
    "$out/qm-arm.o" "$EMB/aarch64-none-none-elf/libswiftUnicodeDataTables.a" -lm -o "$out/harness-arm"
qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$out/harness-arm" "${models[@]}" | sed "s|$out/||" | tee "$out/arm.txt"

echo "== Embedded Swift decode path: host =="
"$SWIFTC" -target "$(uname -m)-unknown-linux-gnu" "${flags[@]}" -c "${srcs[@]}" -o "$out/qm-host.o"
gcc -O2 -fopenmp -std=gnu11 -I Sources/FixedPoint/include scripts/embedded/main.c "${csrc[@]}" \
    "$out/qm-host.o" "$EMB/$(uname -m)-unknown-linux-gnu/libswiftUnicodeDataTables.a" -lm -o "$out/harness-host"
"$out/harness-host" "${models[@]}" | sed "s|$out/||" | tee "$out/host.txt"
S2C_CPU_MASK=0 "$out/harness-host" "${models[@]}" | sed "s|$out/||" > "$out/host-c.txt"

if grep -q " 0000000000000000$" "$out/arm.txt"; then
    echo "check-embedded: FAILED (a self-test or a model returned 0)"; exit 1
fi
for other in host host-c; do
    if ! cmp -s "$out/arm.txt" "$out/$other.txt"; then
        echo "check-embedded: FAILED (aarch64 and $other differ)"; diff "$out/arm.txt" "$out/$other.txt"; exit 1
    fi
done
echo "check-embedded: OK (aarch64 NEON, host SIMD and host C reference give identical output)"
