#!/usr/bin/env bash
# bench-codec.sh: wall time and peak memory of s2c-int encode/decode against a baseline build,
# measured in the same run (runs alternate: baseline, current, baseline, ...), with the outputs
# checked identical.
#
#   scripts/bench-codec.sh BASELINE [MODEL.s2cq] [IMAGE.png]
#
# BASELINE is an s2c-int binary or a git revision (built into a worktree under /tmp, release).
# MODEL defaults to Weights/hybrid-t.s2cq, IMAGE to kodim04 (768x512). Environment: RUNS
# (default 3 per binary and thread count), THREADS (default "1 2"), QUALITY (default 4).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: scripts/bench-codec.sh BASELINE_BIN_OR_REV [MODEL] [IMAGE]}
MODEL=${2:-Weights/hybrid-t.s2cq}
IMAGE=${3:-../shared/data/kodak/kodim04.png}
RUNS=${RUNS:-3}
THREADS=${THREADS:-"1 2"}
QUALITY=${QUALITY:-4}
[ -f "$MODEL" ] || { echo "bench-codec: model $MODEL not found" >&2; exit 1; }
[ -f "$IMAGE" ] || { echo "bench-codec: image $IMAGE not found" >&2; exit 1; }

swift build -c release --product s2c-int >&2
NEW="$(swift build -c release --show-bin-path)/s2c-int"
if [ -x "$BASE" ]; then
    OLD="$BASE"
else
    WT=/tmp/s2c-bench-$(git rev-parse --short "$BASE")
    [ -d "$WT" ] || git worktree add -f "$WT" "$BASE" >&2
    (cd "$WT" && swift build -c release --product s2c-int >&2)
    OLD="$WT/.build/release/s2c-int"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One run: prints "seconds peak_kb".
run() { /usr/bin/time -f "%e %M" -o "$TMP/t" "$@" >/dev/null 2>&1; cat "$TMP/t"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$NEW" encode "$IMAGE" -o "$TMP/ref.s2c" --quality "$QUALITY" --model "$MODEL"
"$NEW" decode "$TMP/ref.s2c" -o "$TMP/ref.png" --model "$MODEL"
echo "image $IMAGE, model $MODEL, quality $QUALITY, $RUNS runs each (median), $(nproc) cores"
echo "baseline $OLD"
echo "current  $NEW"
printf "%-7s %-8s %12s %12s %8s %12s %12s\n" op threads "base s" "current s" ratio "base MB" "current MB"
for op in decode encode; do
    for t in $THREADS; do
        : > "$TMP/old"; : > "$TMP/new"
        for i in $(seq "$RUNS"); do
            for which in old new; do
                bin=$OLD; [ $which = new ] && bin=$NEW
                rm -f "$TMP/out.png" "$TMP/out.s2c"
                if [ $op = decode ]; then
                    run "$bin" decode "$TMP/ref.s2c" -o "$TMP/out.png" --model "$MODEL" --threads "$t" >> "$TMP/$which"
                    cmp -s "$TMP/out.png" "$TMP/ref.png" || { echo "bench-codec: $which decode output differs" >&2; exit 1; }
                else
                    run "$bin" encode "$IMAGE" -o "$TMP/out.s2c" --quality "$QUALITY" --model "$MODEL" --threads "$t" >> "$TMP/$which"
                    cmp -s "$TMP/out.s2c" "$TMP/ref.s2c" || { echo "bench-codec: $which bitstream differs" >&2; exit 1; }
                fi
            done
        done
        os=$(cut -d' ' -f1 "$TMP/old" | median); ns=$(cut -d' ' -f1 "$TMP/new" | median)
        om=$(cut -d' ' -f2 "$TMP/old" | median); nm=$(cut -d' ' -f2 "$TMP/new" | median)
        awk -v op=$op -v t="$t" -v os="$os" -v ns="$ns" -v om="$om" -v nm="$nm" 'BEGIN {
            printf "%-7s %-8s %12.2f %12.2f %7.2fx %12.0f %12.0f\n", op, t, os, ns, os / ns, om / 1024, nm / 1024 }'
    done
done
