#!/usr/bin/env bash
# Equal-CPU-time pilot runs of candidate configs or recipes, each followed by a Kodak check (float
# model, first 8 images, qualities 1/4/7): how hybrid-lite's sizes and recipe were chosen
# (train/RESULTS.md, "hybrid-lite").
#
#   bash train/pilots.sh CPU_MINUTES LABEL=CONFIG[:train.py flags] ...
#   bash train/pilots.sh 20 lite=hybrid-lite lite-nozero=hybrid-lite:--no-zero-init small=lite-small
#   FROM=train/runs/pilots/lite bash train/pilots.sh 10 lr1=hybrid-lite:--lr=1e-4 lr2=hybrid-lite:--lr=2e-4
#
# Each pilot trains into train/runs/pilots/LABEL from random initialisation, or from a copy of
# FROM/checkpoint.pt (recipe pilots continue one run), for --cpu-minutes, so that a busy machine
# does not favour one candidate: CPU time counts all of the process's threads. A finished pilot
# (its folder has pilot-done) is only evaluated again. Results are appended to
# train/runs/pilots/summary.txt. Run it at low priority (nice -n 19, setsid).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,14p' "$0"; exit 64; }
minutes=$1; shift
out=train/runs/pilots
mkdir -p "$out"
common=(--threads 2 --batch 4 --crop 128 --log-every 50 --bf16)
for spec in "$@"; do
    label=${spec%%=*}; rest=${spec#*=}
    config=${rest%%:*}; flags=""
    [ "$rest" != "$config" ] && flags=${rest#*:}
    dir=$out/$label
    if [ ! -f "$dir/pilot-done" ]; then
        if [ -n "${FROM:-}" ] && [ ! -f "$dir/checkpoint.pt" ]; then
            mkdir -p "$dir" && cp "$FROM/checkpoint.pt" "$dir/checkpoint.pt"
        fi
        # shellcheck disable=SC2086
        python3 train/train.py --config "$config" --out "$dir" --init none \
            --cpu-minutes "$minutes" "${common[@]}" $flags
        touch "$dir/pilot-done"
    fi
    res=$(python3 train/evaluate.py --checkpoint "$dir/checkpoint.pt" --max-images 8 --qualities 1,4,7 2>/dev/null)
    step=$(python3 -c "import torch,sys; s=torch.load(sys.argv[1],weights_only=False); print(s['step'], s['samples'])" "$dir/checkpoint.pt")
    { echo "## $label ($config $flags${FROM:+, from $FROM}): $minutes CPU-min, step/samples $step"; echo "$res"; } | tee -a "$out/summary.txt"
done
