#!/usr/bin/env bash
# check-embedded.sh: compiles the decode path (Sources/QuantModel) as Embedded Swift for
# aarch64 (the board target) and for the host, runs both (aarch64 under qemu-user), and
# requires identical output. Fails if QuantModel leaves the Embedded subset.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
EMB=$(dirname "$(command -v "$SWIFTC")")/../lib/swift/embedded
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v $tool >/dev/null || { echo "check-embedded: $tool missing (make setup installs it)"; exit 1; }
done
flags=(-enable-experimental-feature Embedded -wmo -parse-as-library -O -module-name QuantModel)
srcs=(Sources/QuantModel/*.swift scripts/embedded/Harness.swift)

echo "== Embedded Swift decode path: aarch64 =="
"$SWIFTC" -target aarch64-none-none-elf "${flags[@]}" -c "${srcs[@]}" -o "$out/qm-arm.o"
aarch64-linux-gnu-gcc -O2 scripts/embedded/main.c "$out/qm-arm.o" \
    "$EMB/aarch64-none-none-elf/libswiftUnicodeDataTables.a" -lm -o "$out/harness-arm"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/harness-arm" "$@" | tee "$out/arm.txt"

echo "== Embedded Swift decode path: host (x86_64) =="
"$SWIFTC" -target x86_64-unknown-linux-gnu "${flags[@]}" -c "${srcs[@]}" -o "$out/qm-host.o"
cc -O2 scripts/embedded/main.c "$out/qm-host.o" \
    "$EMB/x86_64-unknown-linux-gnu/libswiftUnicodeDataTables.a" -lm -o "$out/harness-host"
"$out/harness-host" "$@" | tee "$out/host.txt"

if grep -q "fingerprint 0000000000000000" "$out/arm.txt"; then
    echo "check-embedded: FAILED (a self-test returned 0)"; exit 1
fi
if ! cmp -s "$out/arm.txt" "$out/host.txt"; then
    echo "check-embedded: FAILED (aarch64 and host differ)"; diff "$out/arm.txt" "$out/host.txt"; exit 1
fi
echo "check-embedded: OK (aarch64 output equals host output)"
