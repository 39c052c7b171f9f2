#!/usr/bin/env bash
# bench-decode.sh: decode speed of the integer decoders against the PyTorch fp32 reference of the same
# decoder-side network, in one run, per kernel path (issue 10).
#
#   scripts/bench-decode.sh [IMAGE.png]
#
# For every Weights/NAME.s2cq whose float weights Weights/NAME.safetensors exist, on one image
# (default ../shared/data/kodak/kodim04.png) at one quality and thread count:
#   - s2c-int decode (release build; portable by default, see NATIVE) and s2c-dec (board/build.sh
#     host), each forced to each kernel path by S2C_CPU_MASK: c (0), avx2 (0x1), avx512vnni (0x7), amx (0xf),
#     those this CPU has; every output is checked equal to the C path's pixels;
#   - scripts/bench-decode-torch.py: h_s + the entropy-parameter networks + g_s in float32 with
#     use_fast_cpu_paths, as PyTorch picks its kernels (native) and capped to AVX2
#     (ATEN_CPU_CAPABILITY=avx2, DNNL_MAX_CPU_ISA=AVX2: what an AVX2-only x86 box runs);
#   - scripts/bench-peak.c: the peak multiply-accumulate rate of each path's inner instruction on the
#     same thread count.
# Runs are interleaved round by round (int and dec per path, then torch), RUNS rounds, medians quoted.
# Times: whole-process wall time for s2c-int and s2c-dec (model load, entropy decoding and the image
# write included), the network alone for PyTorch (model load and g_a / h_a excluded). MAC/s: the
# decoder-side network's multiply-adds as PyTorch runs them (conv / linear hooks + attention
# matmuls, the parameter nets on each checkerboard pass's own half), over the wall time.
# The ratio column is PyTorch time / integer time against the matched PyTorch (avx2 path vs
# PyTorch capped to AVX2, the others vs native) and against native PyTorch.
#
# Environment: QUALITY (4), THREADS (2), RUNS (3), PATHS (default: every path this CPU has),
# NATIVE=1 (s2c-int with -march=native instead of S2C_PORTABLE=1), PYTHON (python3), NICE (10),
# BASELINE (another s2c-int binary, e.g. an older build, timed in the same rounds: column "base").
# Shared machines: everything runs under nice -n $NICE; medians of interleaved rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-../shared/data/kodak/kodim04.png}
QUALITY=${QUALITY:-4}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
PYTHON=${PYTHON:-python3}
NICE=${NICE:-10}
[ -f "$IMAGE" ] || { echo "bench-decode: image $IMAGE not found" >&2; exit 1; }
case "$THREADS$RUNS$QUALITY" in *[!0-9.]*) echo "bench-decode: THREADS, RUNS and QUALITY must be numbers" >&2; exit 64 ;; esac

models=()
for m in Weights/*.s2cq; do
    [ -f "$m" ] || continue
    n=$(basename "$m" .s2cq)
    if [ -f "Weights/$n.safetensors" ]; then models+=("$n"); else echo "bench-decode: $m has no Weights/$n.safetensors: skipped" >&2; fi
done
[ ${#models[@]} -gt 0 ] || { echo "bench-decode: no Weights/*.s2cq with float weights" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Builds: s2c-int (portable unless NATIVE=1), s2c-dec (host), the peak loops.
if [ "${NATIVE:-0}" = 1 ]; then
    swift build -c release --product s2c-int >&2
    INT="$(swift build -c release --show-bin-path)/s2c-int"
else
    S2C_PORTABLE=1 swift build -c release --product s2c-int --scratch-path .build-portable >&2
    INT="$(S2C_PORTABLE=1 swift build -c release --scratch-path .build-portable --show-bin-path)/s2c-int"
fi
QUIET=1 bash board/build.sh host "$TMP/s2c-dec" >&2
DEC="$TMP/s2c-dec"
${CC:-cc} -O2 -fopenmp scripts/bench-peak.c -o "$TMP/bench-peak"

# Kernel paths: name and mask; only those this CPU has (s2c-dec --version names the detected kernels).
all_paths="c:0 avx2:0x1 avx512vnni:0x7 amx:0xf"
have=$("$DEC" --version 2>/dev/null | sed 's/.*kernels: //')
paths=()
for pm in $all_paths; do
    p=${pm%%:*}
    [ -n "${PATHS:-}" ] && ! [[ " $PATHS " == *" $p "* ]] && continue
    case "$p" in
    avx2) [[ "$have" == *AVX2* || "$have" == *AVX-512* ]] || continue ;;
    avx512vnni) [[ "$have" == *VNNI* ]] || continue ;;
    amx) [[ "$have" == *AMX* ]] || continue ;;
    esac
    paths+=("$pm")
done

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
wall() { /usr/bin/time -f "%e" -o "$TMP/t" nice -n "$NICE" "$@" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; return 1; }; cat "$TMP/t"; }

echo "bench-decode: $(basename "$IMAGE"), quality $QUALITY, $THREADS threads, $RUNS interleaved rounds (medians), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "s2c-int: $INT ($([ "${NATIVE:-0}" = 1 ] && echo native || echo portable)); s2c-dec: board/build.sh host (gcc -O2, portable)"
nice -n "$NICE" "$TMP/bench-peak" "$THREADS" > "$TMP/peak"
declare -A peak
while read -r _ name rate _; do peak[$name]=$rate; done < "$TMP/peak"
printf "measured peak (%s threads):" "$THREADS"
for pm in "${paths[@]}"; do p=${pm%%:*}; printf " %s %.1f GMAC/s" "$p" "$(awk -v r="${peak[$p]:-0}" 'BEGIN{print r/1e9}')"; done
echo

for name in "${models[@]}"; do
    model=Weights/$name.s2cq
    "$INT" encode "$IMAGE" -o "$TMP/$name.s2c" --quality "$QUALITY" --model "$model" 2>/dev/null
    S2C_CPU_MASK=0 "$DEC" -q "$TMP/$name.s2c" -o "$TMP/$name.ref.ppm" --model "$model" --threads "$THREADS"
    for pm in "${paths[@]}"; do : > "$TMP/int.${pm%%:*}"; : > "$TMP/dec.${pm%%:*}"; : > "$TMP/base.${pm%%:*}"; done
    : > "$TMP/torch.native"; : > "$TMP/torch.avx2"; : > "$TMP/macs"
    for r in $(seq "$RUNS"); do
        for pm in "${paths[@]}"; do
            p=${pm%%:*} mask=${pm#*:}
            rm -f "$TMP/o.png" "$TMP/o.ppm"
            S2C_CPU_MASK=$mask wall "$INT" decode "$TMP/$name.s2c" -o "$TMP/o.png" --model "$model" --threads "$THREADS" >> "$TMP/int.$p"
            S2C_CPU_MASK=$mask wall "$DEC" -q "$TMP/$name.s2c" -o "$TMP/o.ppm" --model "$model" --threads "$THREADS" >> "$TMP/dec.$p"
            if [ -n "${BASELINE:-}" ]; then
                S2C_CPU_MASK=$mask wall "$BASELINE" decode "$TMP/$name.s2c" -o "$TMP/b.png" --model "$model" --threads "$THREADS" >> "$TMP/base.$p"
                cmp -s "$TMP/b.png" "$TMP/o.png" || echo "bench-decode: note: BASELINE's PNG bytes differ on $p" >&2
            fi
            cmp -s "$TMP/o.ppm" "$TMP/$name.ref.ppm" || { echo "bench-decode: s2c-dec output on $p differs from the C path" >&2; exit 1; }
            "$PYTHON" - "$TMP/o.png" "$TMP/$name.ref.ppm" <<'PY' || { echo "bench-decode: s2c-int output on $p differs from the C path" >&2; exit 1; }
import sys
from PIL import Image
a, b = (Image.open(p).convert("RGB").tobytes() for p in sys.argv[1:3])
sys.exit(a != b)
PY
        done
        for isa in native avx2; do
            env_isa=()
            [ $isa = avx2 ] && env_isa=(ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2)
            env "${env_isa[@]}" nice -n "$NICE" "$PYTHON" scripts/bench-decode-torch.py "Weights/$name.safetensors" "$IMAGE" \
                --quality "$QUALITY" --threads "$THREADS" --runs 1 --warmup 1 > "$TMP/torch.out"
            awk '/^torch_s/ {print $2}' "$TMP/torch.out" >> "$TMP/torch.$isa"
            awk '/^macs/ {print $2}' "$TMP/torch.out" > "$TMP/macs"
        done
    done
    macs=$(cat "$TMP/macs")
    tn=$(median < "$TMP/torch.native"); ta=$(median < "$TMP/torch.avx2")
    echo
    awk -v n="$name" -v m="$macs" -v tn="$tn" -v ta="$ta" 'BEGIN {
        printf "%s: decoder-side network %.1f GMAC; PyTorch fp32 (median): native %.2f s, capped to AVX2 %.2f s\n", n, m / 1e9, tn, ta }'
    printf "%-11s %9s %9s %8s %8s %13s %11s %11s %9s%s\n" path "s2c-int" "s2c-dec" "dec/int" "torch" "torch/int" "torch*/int" "int GMAC/s" "of peak" \
        "$([ -n "${BASELINE:-}" ] && echo "      base  base/int")"
    for pm in "${paths[@]}"; do
        p=${pm%%:*}
        ti=$(median < "$TMP/int.$p"); td=$(median < "$TMP/dec.$p"); tb=$(median < "$TMP/base.$p")
        tm=$tn; [ "$p" = avx2 ] && tm=$ta
        awk -v p="$p" -v ti="$ti" -v td="$td" -v tm="$tm" -v tn="$tn" -v m="$macs" -v pk="${peak[$p]:-0}" -v sfx="$([ "$p" = avx2 ] && echo avx2 || echo native)" 'BEGIN {
            printf "%-11s %8.2fs %8.2fs %7.2fx %8s %12.2fx %10.2fx %11.1f %8.0f%%", p, ti, td, td / ti, sfx, tm / ti, tn / ti,
                   m / ti / 1e9, (pk > 0 ? 100 * m / ti / pk : 0) }'
        if [ -n "${BASELINE:-}" ]; then awk -v tb="$tb" -v ti="$ti" 'BEGIN { printf " %8.2fs %8.2fx", tb, tb / ti }'; fi
        echo
    done
    echo "(torch/int: against the matched PyTorch (column torch); torch*/int: against native PyTorch. Runs, s:"
    for pm in "${paths[@]}"; do
        p=${pm%%:*}
        echo "  $p: s2c-int [$(tr '\n' ' ' < "$TMP/int.$p" | sed 's/ $//')] s2c-dec [$(tr '\n' ' ' < "$TMP/dec.$p" | sed 's/ $//')]$([ -n "${BASELINE:-}" ] && echo " base [$(tr '\n' ' ' < "$TMP/base.$p" | sed 's/ $//')]")"
    done
    echo "  torch native [$(tr '\n' ' ' < "$TMP/torch.native" | sed 's/ $//')], capped to AVX2 [$(tr '\n' ' ' < "$TMP/torch.avx2" | sed 's/ $//')])"
done
