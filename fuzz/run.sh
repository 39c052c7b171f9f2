#!/usr/bin/env bash
# fuzz/run.sh: runs the libFuzzer harnesses (docs/robustness.md), building them first.
#
#   fuzz/run.sh [--time S | --runs N] [HARNESS...]   fuzz each for S seconds (default 60) or N inputs
#   fuzz/run.sh --regress [HARNESS...]               run every committed input once, no fuzzing
#
# Harnesses: bitstream model modelgraph safetensors png board (default: all). Inputs: the
# committed seeds fuzz/corpus/H (board shares bitstream's), the committed regression inputs
# fuzz/regressions/H (every finding, kept), and the working corpus .build-fuzz/corpus/H (not
# committed; kept between runs). A crash, leak, sanitizer report, timeout (60 s an input, wall clock: the machine is shared) or an
# allocation over 512 MB stops the run with a non-zero exit and leaves the input in
# .build-fuzz/artifacts/H/. One summary line per harness: inputs run, rate, coverage.
# Environment: NICE (default 19), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
all=(bitstream model modelgraph safetensors png board)
mode=time; amount=60
while [ $# -gt 0 ]; do
    case $1 in
    --time) mode=time; amount=${2:?}; shift 2 ;;
    --runs) mode=runs; amount=${2:?}; shift 2 ;;
    --regress) mode=regress; shift ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 64 ;;
    *) break ;;
    esac
done
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
bash fuzz/build.sh "${harnesses[@]}"

export SWIFT_BACKTRACE=enable=no          # let libFuzzer, not the Swift runtime, handle crashes
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=1}"
status=0
for h in "${harnesses[@]}"; do
    seeds=fuzz/corpus/$h
    [ "$h" = board ] && seeds=fuzz/corpus/bitstream
    regress=fuzz/regressions/$h
    work=.build-fuzz/corpus/$h
    art=.build-fuzz/artifacts/$h
    log=.build-fuzz/logs/$h.log
    mkdir -p "$work" "$art" "$(dirname "$log")"
    opts=(-timeout=60 -malloc_limit_mb=512 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/")
    dict=fuzz/dict/$h.dict
    [ "$h" = board ] && dict=fuzz/dict/bitstream.dict
    [ -f "$dict" ] && opts+=(-dict="$dict")
    case $h in
    bitstream|board|png) opts+=(-max_len=8192) ;;
    modelgraph) opts+=(-max_len=1024 -len_control=0) ;;   # scripts of up to 85 edits from the start
    safetensors) opts+=(-max_len=16384) ;;
    esac
    if [ $mode = regress ]; then
        files=("$seeds"/*)
        [ -d "$regress" ] && files+=("$regress"/*)
        start=$(date +%s.%N)
        if ! nice -n "${NICE:-19}" ".build-fuzz/fuzz-$h" "${opts[@]}" ${FUZZ_ARGS:-} "${files[@]}" > "$log" 2>&1; then
            echo "fuzz/run.sh: $h: FAILED on a committed input (log: $log)"; tail -40 "$log"; status=1; continue
        fi
        printf "fuzz/run.sh: %-11s regress: %d committed inputs OK in %.1f s\n" "$h" "${#files[@]}" \
            "$(echo "$(date +%s.%N) - $start" | bc)"
        continue
    fi
    limit=(-max_total_time="$amount")
    [ $mode = runs ] && limit=(-runs="$amount")
    dirs=("$work" "$seeds")
    [ -d "$regress" ] && dirs+=("$regress")
    if ! nice -n "${NICE:-19}" ".build-fuzz/fuzz-$h" "${opts[@]}" "${limit[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" > "$log" 2>&1; then
        echo "fuzz/run.sh: $h: FINDING (log: $log; input in $art/)"; grep -m3 -E "ERROR|finding|SUMMARY" "$log" || tail -20 "$log"
        status=1; continue
    fi
    runs=$(grep -m1 "stat::number_of_executed_units" "$log" | awk '{print $2}')
    rate=$(grep -m1 "stat::average_exec_per_sec" "$log" | awk '{print $2}')
    cov=$(grep -E "^#[0-9]+" "$log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+")
    printf "fuzz/run.sh: %-11s %s inputs, %s/s, %s\n" "$h" "$runs" "$rate" "$cov"
done
exit $status
