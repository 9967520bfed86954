#!/usr/bin/env bash
# make fuzz / make fuzz-replay / make fuzz-merge (docs/reliability.md).
#
#   run.sh fuzz   <build-dir> <seconds> [target...]  runs each target (all when none named) for
#                 <seconds> with libFuzzer, ASan and UBSan, one after another, on a copy of its
#                 committed corpus in <build-dir>/corpus/<target> (new inputs land there, the
#                 committed corpus is read only); a crash, leak, timeout or broken contract
#                 leaves its input in <build-dir>/artifacts/<target>/ and fails the run.
#                 Prints each target's executions, coverage and corpus size (the figures
#                 docs/reliability.md records).
#   run.sh replay <build-dir> [target...]            runs the committed corpora once under the
#                 sanitizers (what the ordinary build's ctest fuzz_replay.* does without them).
#   run.sh merge  <build-dir> [target...]            merges what the runs found into the
#                 committed corpus, keeping only inputs that add coverage (libFuzzer -merge=1).
# The build is made first in <build-dir> with clang (CMake option ACP_FUZZ).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mode="$1"; build="$2"; shift 2
seconds=60
if [ "$mode" = fuzz ]; then seconds="$1"; shift; fi

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DACP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_all -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then mapfile -t targets < "$build/fuzz-targets.txt"; fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  exe="$build/bin/fuzz_$t"
  committed="$here/corpus/$t"
  [ -x "$exe" ] || { echo "no fuzz target $t" >&2; exit 2; }
  case "$mode" in
    fuzz)
      work="$build/corpus/$t"; art="$build/artifacts/$t"
      mkdir -p "$work" "$art"
      log="$build/logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log"; mkdir -p "$build/logs"
      dict=(); [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
      echo "== $t: ${seconds}s (log $log)"
      if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
           -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$work" "$committed" \
           >"$log" 2>&1; then
        grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" | tr '\n' ' '
        grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*" "$log" | tail -1
      else
        echo "FAILED: $t — see $log and $art/"; grep -E "ERROR|contract broken|SUMMARY" "$log" | head -5
        status=1
      fi
      ;;
    replay)
      n=$(find "$committed" -type f | wc -l)
      mkdir -p "$build/artifacts/$t"
      if "$exe" -runs=0 -artifact_prefix="$build/artifacts/$t/" "$committed" \
           >"$build/replay-$t.log" 2>&1; then
        echo "$t: $n inputs replayed"
      else
        echo "FAILED: $t — see $build/replay-$t.log"; status=1
      fi
      ;;
    merge)
      before=$(find "$committed" -type f | wc -l)
      if "$exe" -merge=1 -max_len=65536 "$committed" "$build/corpus/$t" >"$build/merge-$t.log" 2>&1; then
        echo "$t: $before -> $(find "$committed" -type f | wc -l) inputs"
      else
        echo "FAILED: $t merge — see $build/merge-$t.log"; status=1
      fi
      ;;
    *) echo "usage: run.sh fuzz|replay|merge <build-dir> ..." >&2; exit 2 ;;
  esac
done
exit $status
