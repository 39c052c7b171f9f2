#!/usr/bin/env bash
# check-wasm.sh: the browser decoder (wasm/, web/) from scratch:
#   1. builds s2c-decoder.wasm (SIMD128 kernels), s2c-decoder-scalar.wasm (C reference) and
#      s2c-decoder.js (wasm/build.sh), and the demo page (web/build.sh);
#   2. checkasm (scripts/aarch64/check_main.c built for wasm32 + SIMD128, run under node's WASI):
#      every SIMD128 kernel against its C reference, random and extreme inputs, printed seed;
#   3. node: every conformance stream of nano and of each shipped model to its pinned SHA-256 (SIMD128,
#      the same module forced to C, the scalar module), and the refusals, with the messages s2c-int
#      prints when a built s2c-int is found (.build/debug or .build/release; S2C_INT overrides);
#   4. headless Chromium: the page decodes every conformance stream and the Kodak-size one to the pinned
#      SHA-256 of its canvas, shows the refusals, and leaves a screenshot in out/web-check/.
# Usage: check-wasm.sh [SEED]   (SEED: checkasm's; default a random one, printed)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in node chromium; do
    command -v $tool >/dev/null || { echo "check-wasm: $tool missing (make setup-wasm installs it)"; exit 1; }
done
t0=$(date +%s)
echo "== wasm build =="
bash wasm/build.sh out/wasm
bash wasm/build.sh --check out/wasm/checkasm.wasm
QUIET=1 bash web/build.sh out/wasm out/web
echo "== checkasm: wasm SIMD128 vs C (node $(node --version)) =="
# The flag: node 18 (Debian 12's nodejs) needs it for WASI; node 20+ accepts it and ignores it.
node --no-warnings --experimental-wasi-unstable-preview1 wasm/run-wasi.mjs out/wasm/checkasm.wasm "$@"
echo "== node: conformance streams and refusals =="
if [ -z "${S2C_INT:-}" ]; then
    for b in .build/debug/s2c-int .build/release/s2c-int; do [ -x "$b" ] && { export S2C_INT=$b; break; }; done
fi
node wasm/test-node.mjs out/wasm
echo "== headless Chromium: the demo page =="
node web/test-chromium.mjs out/web out/web-check
echo "check-wasm: OK ($(( $(date +%s) - t0 )) s; s2c-decoder.wasm $(stat -c %s out/wasm/s2c-decoder.wasm) bytes, scalar $(stat -c %s out/wasm/s2c-decoder-scalar.wasm) bytes)"
