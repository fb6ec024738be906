#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run one libFuzzer target for a bounded time from its seed corpus; fail on
# any crash, leak, timeout or sanitizer report, showing the report and the
# input.  Prints one summary line (also in <target>.out/summary): execs,
# edges covered (cov), features (ft), corpus size.
# Usage: run-fuzzer.sh TARGET SEED_DIR DICT [LIBFUZZER_OPTION...]
# CRDMA_FUZZ_SECONDS: the time budget (default 60).
set -uo pipefail
exe=$1 seeds=$2 dict=$3
shift 3
name=$(basename "$exe")
secs=${CRDMA_FUZZ_SECONDS:-60}
out=$(dirname "$exe")/$name.out
rm -rf "$out"
mkdir -p "$out/corpus" "$out/crashes"

# The target's scratch files, removed even when it dies.
scratch=$(mktemp -d /dev/shm/crdma-fuzz-run-XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for s in llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
        if command -v "$s" >/dev/null; then
                export ASAN_SYMBOLIZER_PATH
                ASAN_SYMBOLIZER_PATH=$(command -v "$s")
                break
        fi
done

# New inputs go to $out/corpus (the first directory), never to the seeds.
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$dict" -artifact_prefix="$out/crashes/" "$@" \
        "$out/corpus" "$seeds" >"$out/log" 2>&1
status=$?

final_stat() { sed -n "s/^stat::$1: *//p" "$out/log" | tail -n1; }
execs=$(final_stat number_of_executed_units)
last=$(grep -E '^#[0-9]+' "$out/log" | tail -n1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
nseeds=$(find "$seeds" -type f | wc -l)
rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
summary="$name: ${secs} s, ${execs:-?} execs (${rate}/s), cov: ${cov:-?} ft: ${ft:-?}, corpus ${corp:-?} from $nseeds seeds, peak RSS $(final_stat peak_rss_mb) MB"

if [ $status -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error:)' "$out/log"; then
        echo "$summary: FAILED (exit $status)" | tee "$out/summary"
        echo "--- the report (last 80 lines of $out/log):"
        tail -n 80 "$out/log"
        for a in "$out"/crashes/*; do
                [ -f "$a" ] || continue
                echo "--- input $a ($(wc -c <"$a") bytes), base64:"
                head -c 4096 "$a" | base64
                echo "--- reproduce: $exe $a"
        done
        exit 1
fi
echo "$summary: no crash, leak or sanitizer report" | tee "$out/summary"
