#!/usr/bin/env bash
# check-aarch64.sh: cross-compiles the FixedPoint kernels for aarch64 and checks NEON / NEON-dotprod (GEMM
# and the layer kernels of s2c_ops.h: dwconv, LayerNorm, lut16, gated, rescale, window attention)
# against the C reference (plus a rANS round trip) under qemu-aarch64, with operands that end at an
# inaccessible page (tail over-reads fault). Usage: check-aarch64.sh [seed]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
CC="${AARCH64_CC:-aarch64-linux-gnu-gcc}"
QEMU="${QEMU_AARCH64:-qemu-aarch64}"
SYSROOT="${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"
seed="${1:-${S2C_TEST_SEED:-$(date +%s)}}"

missing=0
command -v "$CC" >/dev/null 2>&1 || { echo "check-aarch64: cross compiler '$CC' not found (apt-get install gcc-aarch64-linux-gnu; 'make setup' does this)"; missing=1; }
command -v "$QEMU" >/dev/null 2>&1 || { echo "check-aarch64: '$QEMU' not found (apt-get install qemu-user; 'make setup' does this)"; missing=1; }
[ -d "$SYSROOT" ] || { echo "check-aarch64: sysroot $SYSROOT not found (comes with the cross compiler's libc: libc6-dev-arm64-cross)"; missing=1; }
[ "$missing" -eq 0 ] || exit 1

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

src=(
  "$root"/Sources/FixedPoint/*.c
  "$root"/Sources/FixedPoint/arm/*.c
  "$root"/Sources/FixedPoint/x86/*.c   # compile to nothing on aarch64: proves the guards
  "$root"/scripts/aarch64/check_main.c
)
echo "check-aarch64: $CC -O2 -fopenmp (dotprod per function), ${#src[@]} files"
"$CC" -O2 -fopenmp -Wall -Wextra -Werror -std=gnu11 -I"$root/Sources/FixedPoint/include" "${src[@]}" \
  -o "$out/check_aarch64"

# -cpu max: NEON + dotprod emulated, so every ladder level runs. Threads exercise the OpenMP paths.
echo "check-aarch64: $QEMU -cpu max -L $SYSROOT, seed $seed"
OMP_NUM_THREADS=3 "$QEMU" -cpu max -L "$SYSROOT" "$out/check_aarch64" "$seed"
