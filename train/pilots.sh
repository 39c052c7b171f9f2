#!/usr/bin/env bash
# Equal-CPU-time pilot runs of candidate configs, each followed by a Kodak check (float model,
# first 8 images, qualities 1/4/7): how hybrid-lite's sizes and recipe were chosen
# (train/RESULTS.md, "hybrid-lite: choosing the sizes").
#
#   bash train/pilots.sh CPU_MINUTES LABEL=CONFIG[:train.py flags] ...
#   bash train/pilots.sh 30 lite=hybrid-lite lite-nozero=hybrid-lite:--no-zero-init small=lite-small
#
# Each pilot trains from random initialisation into train/runs/pilots/LABEL (a pilot whose folder
# already has a checkpoint is only evaluated again) with --cpu-minutes, so that a busy machine
# does not favour one candidate: CPU time counts all of the process's threads. Results are
# appended to train/runs/pilots/summary.txt. Run it at low priority (nice -n 19, setsid).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 64; }
minutes=$1; shift
out=train/runs/pilots
mkdir -p "$out"
common=(--threads 2 --batch 4 --crop 128 --log-every 50 --bf16)
for spec in "$@"; do
    label=${spec%%=*}; rest=${spec#*=}
    config=${rest%%:*}; flags=""
    [ "$rest" != "$config" ] && flags=${rest#*:}
    dir=$out/$label
    if [ ! -f "$dir/checkpoint.pt" ]; then
        # shellcheck disable=SC2086
        python3 train/train.py --config "$config" --out "$dir" --init none \
            --cpu-minutes "$minutes" "${common[@]}" $flags
    fi
    res=$(python3 train/evaluate.py --checkpoint "$dir/checkpoint.pt" --max-images 8 --qualities 1,4,7 2>/dev/null)
    step=$(python3 -c "import torch,sys; s=torch.load(sys.argv[1],weights_only=False); print(s['step'], s['samples'])" "$dir/checkpoint.pt")
    { echo "## $label ($config $flags): $minutes CPU-min, step/samples $step"; echo "$res"; } | tee -a "$out/summary.txt"
done
