#!/usr/bin/env bash
# gpu_session.sh: training on a lent GPU machine (the `device` tool) within its limits: at most
# 64 MiB travels there (repo + carried folders), at most 8 files / 16 MiB each / 64 MiB come back
# per command, 10 minutes per command, ~30 minutes per session, the machine stays warm (and keeps
# /tmp) only while calls follow each other. The 684 MB CPU checkpoint cannot travel, so a GPU
# session trains a fresh run there and brings its float weights (f16, ~114 MB) back in parts.
#
#   here:    bash train/gpu_session.sh pack            # training photos -> .gpudata/ (carried)
#   device:  bash train/gpu_session.sh train 8         # 8 minutes; repeat: it resumes /tmp/s2c-run
#   device:  bash train/gpu_session.sh fetch 0         # export f16, parts 0-3 (+ manifest) -> $OUT
#   device:  bash train/gpu_session.sh fetch 1         # parts 4-7 -> $OUT
#   here:    bash train/gpu_session.sh unpack DIR...   # the files_at folders -> Weights/, checked
#   here:    bash train/gpu_session.sh restore         # put the shipped weights back in git's index
#
# The shipped weights (Weights/*.safetensors + *.s2cq of every model, ~220 MB) are tracked, and tracked
# files always travel, which would exceed the 64 MiB: `pack` takes them out of git's index (the
# files stay on disk; .git/info/exclude ignores them) and `restore` puts them back. Commit
# nothing between the two (a commit would delete the weights); `git status` shows them as deleted
# until `restore`.
#
# Device calls: carry [".gpudata"], e.g. run(command="bash train/gpu_session.sh train 8",
# carry=[".gpudata"], timeout_s=600). BATCH (default 16) and CROP (default 256) override the
# batch and crop (CONFIG and DEVICE exist for testing it here); EMA=1 on the first fetch brings the
# moving average of the weights (train.py --ema) instead of the weights. Then evaluate (train/evaluate.py) and keep the better weights: continue on CPU
# with `train/train.py --config hybrid-t --init Weights/hybrid-t.safetensors --out <new run dir>`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-/tmp/s2c-run}
CONFIG=${CONFIG:-hybrid-t}
W=/tmp/s2c-weights/$CONFIG.safetensors
PART_MIB=15
PY=${PYTHON:-python3}
# Every shipped weights and model file (all models): together far more than 64 MiB.
SHIPPED=$(git ls-files 'Weights/*.safetensors' 'Weights/*.s2cq'; grep -x 'Weights/.*\.\(safetensors\|s2cq\)' .git/info/exclude 2>/dev/null || true)
SHIPPED=$(echo "$SHIPPED" | sort -u | tr '\n' ' ')

case "${1:-}" in
pack)
    for f in $SHIPPED; do
        if git ls-files --error-unmatch "$f" >/dev/null 2>&1; then git rm --cached -q "$f"; fi
        grep -qx "$f" .git/info/exclude 2>/dev/null || echo "$f" >> .git/info/exclude
    done
    rm -rf .gpudata && mkdir -p .gpudata
    cp -r ../shared/data/train/. .gpudata/
    grep -qx '/.gpudata/' .git/info/exclude 2>/dev/null || echo '/.gpudata/' >> .git/info/exclude
    echo "gpu_session: .gpudata $(du -sm .gpudata | cut -f1) MiB; repo files that travel:" \
         "$(git ls-files -co --exclude-standard -z | du -cm --files0-from=- | tail -1 | cut -f1) MiB (limit 64 MiB together)"
    ;;
train)
    minutes=${2:?minutes}
    [ -d .gpudata ] || { echo "gpu_session: .gpudata missing (carry it)" >&2; exit 1; }
    "$PY" -c "import torch, numpy, PIL; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    mkdir -p "$RUN"
    PYTHONUNBUFFERED=1 "$PY" train/train.py --config "$CONFIG" --device "${DEVICE:-cuda}" --bf16 \
        --batch "${BATCH:-16}" --crop "${CROP:-256}" --data .gpudata --out "$RUN" --minutes "$minutes" \
        --save-minutes 2 --log-every 50
    if [ -n "${OUT:-}" ]; then cp "$RUN/log.txt" "$OUT/train-log.txt"; fi
    ;;
fetch)
    k=${2:?part group 0, 1, ...}
    : "${OUT:?OUT is set by the device tool}"
    if [ ! -f "$W.parts.json" ]; then
        mkdir -p "$(dirname "$W")"
        "$PY" train/export.py weights --checkpoint "$RUN/checkpoint.pt" -o "$W" --dtype f16 ${EMA:+--ema}
        "$PY" train/ckpt.py split "$W" --part-mib "$PART_MIB"
    fi
    for i in 0 1 2 3; do
        p=$(printf "%s.part%03d" "$W" $((4 * k + i)))
        [ -f "$p" ] && cp "$p" "$OUT/"
    done
    if [ "$k" = 0 ]; then cp "$W.parts.json" "${W%.safetensors}.json" "$RUN/log.txt" "$OUT/"; fi
    ls -l "$OUT"
    ;;
restore)
    git reset -q -- $SHIPPED
    for f in $SHIPPED; do sed -i "\\#^$f\$#d" .git/info/exclude; done
    git status --short -- Weights
    echo "gpu_session: shipped weights are tracked again"
    ;;
unpack)
    shift
    [ $# -ge 1 ] || { echo "usage: gpu_session.sh unpack DIR..." >&2; exit 2; }
    mkdir -p Weights/gpu
    for d in "$@"; do find "$d" -maxdepth 1 -type f -exec cp {} Weights/gpu/ \;; done
    "$PY" train/ckpt.py join "Weights/gpu/$CONFIG.safetensors"
    echo "gpu_session: Weights/gpu/$CONFIG.safetensors checked against its SHA-256 manifest;" \
         "evaluate it, then move it (and $CONFIG.json) to Weights/ if it is better"
    ;;
*)
    sed -n 2,26p "$0"
    exit 2
    ;;
esac
