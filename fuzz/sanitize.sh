#!/usr/bin/env bash
# fuzz/sanitize.sh: the test suites under AddressSanitizer + UndefinedBehaviorSanitizer
# (docs/robustness.md, "Sanitizer build"). `make sanitize` runs it.
#
#   1. the C checks on this machine's CPU: scripts/aarch64/check_main.c (every GEMM and layer-kernel
#      variant against the C reference, rANS round trips) and board/test_image_write.c, built with
#      clang -fsanitize=address,undefined -fno-sanitize-recover=undefined (any report fails);
#   2. the whole Swift test suite (swift test) built with --sanitize=address and the C targets with
#      -fsanitize=undefined, in its own build folder (.build-asan).
# Swift code needs no UBSan: it traps on overflow and out-of-range access in every build.
# Usage: fuzz/sanitize.sh [c|swift]  (default both)
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
CLANG=${CLANG:-$(dirname "$(command -v swiftc)")/clang}
ompInclude=/usr/lib/llvm-14/lib/clang/14.0.6/include
ompLib=/usr/lib/llvm-14/lib
what=${1:-all}
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
t0=$(date +%s)

if [ "$what" = all ] || [ "$what" = c ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    san=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)
    echo "fuzz/sanitize.sh: C kernel checks (check_main.c) under ASan + UBSan"
    "$CLANG" "${san[@]}" -fopenmp -idirafter "$ompInclude" -march=native -std=gnu11 -Wall -Wextra -Werror \
        -I Sources/FixedPoint/include Sources/FixedPoint/*.c Sources/FixedPoint/x86/*.c Sources/FixedPoint/arm/*.c \
        scripts/aarch64/check_main.c -L"$ompLib" -Wl,-rpath,"$ompLib" -lomp -o "$work/check_main" \
        2> >(grep -v "Cannot export local symbol" >&2)
    seed=${S2C_TEST_SEED:-$(date +%s)}
    OMP_NUM_THREADS=2 "$work/check_main" "$seed" | tail -3
    echo "fuzz/sanitize.sh: board image writer (test_image_write.c) under ASan + UBSan"
    "$CLANG" "${san[@]}" -std=gnu11 -Wall -Wextra -Werror -I board board/test_image_write.c board/image_write.c \
        -o "$work/test_image_write" 2> >(grep -v "Cannot export local symbol" >&2)
    mkdir -p "$work/img"
    "$work/test_image_write" "$work/img" > "$work/list"
    echo "fuzz/sanitize.sh: image writer wrote $(wc -l < "$work/list") images, no report"
fi

if [ "$what" = all ] || [ "$what" = swift ]; then
    flags=(--scratch-path .build-asan --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined)
    echo "fuzz/sanitize.sh: swift build --build-tests ${flags[*]}"
    "$SWIFT" build --build-tests "${flags[@]}"
    echo "fuzz/sanitize.sh: swift test under ASan + UBSan"
    # Leak detection off: LSan does not see the Swift runtime's and the test harness's long-lived
    # objects through tagged enum payloads (the fuzz harnesses check leaks, fuzz/lsan.supp).
    ASAN_OPTIONS=detect_leaks=0 "$SWIFT" test --skip-build "${flags[@]}"
fi
echo "fuzz/sanitize.sh: OK in $(( $(date +%s) - t0 )) s"
