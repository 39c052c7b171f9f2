#!/usr/bin/env bash
# fuzz/make-model.sh: regenerates fuzz/pico.s2cq, the base model of the modelgraph fuzz harness
# (fuzz/harness/modelgraph.swift; docs/robustness.md). Never run in CI; the file is committed.
#
# hybrid-pico (train/s2c/config.py) is nano's graph cut to what the harness needs: every block kind,
# SIMD widths, an empty stage, about a third of nano's multiply-adds. Its weights are untrained:
# the golden model's fixed seed and perturbations (train/export.py golden --config hybrid-pico),
# calibrated on the fixture image as Tests/Conformance/nano.s2cq is (scripts/make-conformance.sh).
# The same sources give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product s2c-calibrate >/dev/null
bin=$(swift build --show-bin-path)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
python3 train/export.py golden --config hybrid-pico --weights-only -o "$t"
"$bin/s2c-calibrate" calibrate --weights "$t/pico-weights.safetensors" --images Tests/CalibrateTests/Fixtures \
    --crop 64 -o fuzz/pico.s2cq > "$t/calibrate.log"
tail -1 "$t/calibrate.log"
