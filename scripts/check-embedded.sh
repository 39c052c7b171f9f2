#!/usr/bin/env bash
# check-embedded.sh: compiles the decode path (Sources/QuantModel, as Embedded Swift, plus the
# FixedPoint C kernels) for aarch64, the board target, and for the host; runs both (aarch64
# under qemu-user with NEON + dotprod) and requires identical output: model-file self-tests,
# the integer g_s on fixed latents, and the full decoder on the committed conformance
# bitstreams (whose host decode is pinned by SHA-256 in Tests/Conformance/expected.txt).
# Usage: check-embedded.sh [MODEL.s2cq BITSTREAM.s2c ...]. Fails if QuantModel leaves the
# Embedded subset.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v $tool >/dev/null || { echo "check-embedded: $tool missing (make setup installs it)"; exit 1; }
done

# Default: the committed conformance model and bitstreams (Tests/Conformance).
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=(Tests/Conformance/nano.s2cq Tests/Conformance/*.s2c)
fi

# The same build as the board decoder (board/build.sh), with the check harness as the program.
build() { QUIET=1 MAIN=scripts/embedded/main.c EXTRA_SWIFT=scripts/embedded/Harness.swift board/build.sh "$@"; }

echo "== Embedded Swift decode path: aarch64 (qemu -cpu max) =="
build aarch64 "$out/harness-arm"
qemu-aarch64 -cpu max "$out/harness-arm" "${args[@]}" | sed "s|$out/||" | tee "$out/arm.txt"

echo "== Embedded Swift decode path: host =="
build host "$out/harness-host"
"$out/harness-host" "${args[@]}" | sed "s|$out/||" | tee "$out/host.txt"
S2C_CPU_MASK=0 "$out/harness-host" "${args[@]}" | sed "s|$out/||" > "$out/host-c.txt"

if grep -q " 0000000000000000$" "$out/arm.txt"; then
    echo "check-embedded: FAILED (a self-test or a model returned 0)"; exit 1
fi
for other in host host-c; do
    if ! cmp -s "$out/arm.txt" "$out/$other.txt"; then
        echo "check-embedded: FAILED (aarch64 and $other differ)"; diff "$out/arm.txt" "$out/$other.txt"; exit 1
    fi
done
echo "check-embedded: OK (aarch64 NEON, host SIMD and host C reference give identical output)"
