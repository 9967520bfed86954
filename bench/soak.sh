#!/usr/bin/env bash
# The soak run (make soak; not in CI): bash bench/soak.sh [BUILD_DIR]
#
# SOAK_MINUTES (30) of mixed load on one gateway, in slices of SOAK_SLICE_SECONDS (60): in every
# slice, at the same time,
#   - the GP query (active CarePlans by NHS number, the Patient included: search.lua gp) and
#     reads by id (read.lua), wrk with SOAK_CONNECTIONS (8) connections each;
#   - HL7 v2 ingest over MLLP at SOAK_MLLP_RATE (20) messages/s on 2 connections
#     (acp-bench-mllp-load --rate: ADT admissions, updates and discharges of new children, every
#     message durable before its ACK; a new stream each slice, so every slice writes).
# The gateway runs on a copy of a SOAK_PATIENTS (2 000) children corpus (acp-bench-corpus, the
# same cache as make bench) with the harness's settings (loopback, no TLS, auth none: every
# request still audited). After each slice the gateway's RSS and database size are read.
# Prints a markdown table, one line per slice, and the verdicts:
#   - RSS drift: the last slice's RSS against the second's (the first warms the caches) < 5 %;
#   - failures: non-2xx answers, wrk socket errors, MLLP ACKs other than AA and client errors
#     over the whole run = 0;
#   - latency drift: the last slice's p99 against the second's, per scenario (reported; the
#     verdict is the reader's: a growing store makes searches a little slower, not much).
# Results (the table, every raw output, the server log): BUILD_DIR/bench/soak/<UTC time>/.
# Exit status 1 when the RSS or failure verdict is FAIL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BENCH_TAG=soak

MINUTES=${SOAK_MINUTES:-30}
SLICE=${SOAK_SLICE_SECONDS:-60}
PATIENTS=${SOAK_PATIENTS:-2000}
CONNECTIONS=${SOAK_CONNECTIONS:-8}
MLLP_RATE=${SOAK_MLLP_RATE:-20}
SEED=${BENCH_SEED:-1}
WRK_THREADS=1
SLICES=$(( (MINUTES * 60 + SLICE - 1) / SLICE ))
[ "$SLICES" -ge 2 ] || die "SOAK_MINUTES must give at least two slices of SOAK_SLICE_SECONDS"

need_wrk
need_tools curl
build_targets acp-gateway acp-bench-corpus acp-bench-mllp-load
BIN=$BUILD/bin
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/soak/$STAMP
mkdir -p "$RESULTS" "$BUILD/bench/data"
WORK=$(mktemp -d "$BUILD/bench/soak.XXXXXX")
bench_traps

DB=$BUILD/bench/data/corpus-$PATIENTS-s$SEED.db
IDS=$BUILD/bench/data/corpus-$PATIENTS-s$SEED.ids
corpus "$PATIENTS" "$DB" "$IDS"
cp "$DB" "$WORK/soak.db"

gateway_args "$WORK/soak.db"
start_server gateway all "$BIN/acp-gateway" "${GATEWAY_ARGS[@]}"
GW=$SERVER_PID
URL=$HTTP_URL
wait_sweep "$WORK/gateway.err"
log "gateway ready at $URL (MLLP $MLLP_PORT); $SLICES slices of $SLICE s"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$GW/status"; }
db_mb() { du -cm "$WORK"/soak.db* | tail -n1 | cut -f1; }

TABLE=$RESULTS/slices.md
{
  echo "| slice | GP req/s | GP p99 ms | read req/s | read p99 ms | MLLP msg/s | MLLP p99 ms | failures | RSS MB | database MB |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$TABLE"
FAILURES=0
for i in $(seq 1 "$SLICES"); do
  run_wrk "gp-$i" "$URL" "$SLICE" all "$CONNECTIONS" search.lua "$IDS" gp >"$WORK/gp.line" &
  gp=$!
  run_wrk "read-$i" "$URL" "$SLICE" all "$CONNECTIONS" read.lua "$IDS" >"$WORK/read.line" &
  rd=$!
  timeout $((SLICE + 120)) "$BIN/acp-bench-mllp-load" --host=127.0.0.1 --port="$MLLP_PORT" \
    --connections=2 --duration="$SLICE" --warmup=0 --prefix="S$i" --seed="$SEED" \
    --patients=200 --rate="$MLLP_RATE" --stream-offset=$((i * 2)) >"$RESULTS/mllp-$i.txt" 2>&1 &
  ml=$!
  wait "$gp" || die "wrk (GP query) failed in slice $i"
  wait "$rd" || die "wrk (reads) failed in slice $i"
  wait "$ml" || { cat "$RESULTS/mllp-$i.txt" >&2; die "the MLLP load failed in slice $i"; }
  kill -0 "$GW" 2>/dev/null || die "the gateway died in slice $i"
  gpl=$(cat "$WORK/gp.line")
  rdl=$(cat "$WORK/read.line")
  mll=$(grep -m1 '^BENCH ' "$RESULTS/mllp-$i.txt") || die "no BENCH line from the MLLP load"
  bad=$(( $(field non2xx <<<"$gpl") + $(field errors <<<"$gpl") + $(field non2xx <<<"$rdl") +
          $(field errors <<<"$rdl") + $(field ae <<<"$mll") + $(field ar <<<"$mll") +
          $(field other <<<"$mll") + $(field mismatch <<<"$mll") + $(field errors <<<"$mll") ))
  FAILURES=$((FAILURES + bad))
  rss=$(rss_kb)
  echo "$i $rss" >>"$WORK/rss"
  echo "$i $(field p99_ms <<<"$gpl") $(field p99_ms <<<"$rdl") $(field p99_ms <<<"$mll")" >>"$WORK/p99"
  printf "| %d | %.0f | %.1f | %.0f | %.1f | %.1f | %.1f | %d | %.1f | %d |\n" "$i" \
    "$(field rps <<<"$gpl")" "$(field p99_ms <<<"$gpl")" "$(field rps <<<"$rdl")" \
    "$(field p99_ms <<<"$rdl")" "$(field rps <<<"$mll")" "$(field p99_ms <<<"$mll")" "$bad" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(db_mb)" >>"$TABLE"
  log "slice $i/$SLICES: $(tail -n1 "$TABLE")"
done
stop_servers
cp "$WORK/gateway.err" "$RESULTS/gateway.log"

read -r _ base < <(sed -n 2p "$WORK/rss")
read -r _ last < <(tail -n1 "$WORK/rss")
drift=$(awk -v a="$base" -v b="$last" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')
rss_ok=$(awk -v d="$drift" 'BEGIN { print (d < 5 ? "pass" : "FAIL") }')
fail_ok=$([ "$FAILURES" -eq 0 ] && echo pass || echo FAIL)
read -r _ gp2 rd2 ml2 < <(sed -n 2p "$WORK/p99")
read -r _ gpn rdn mln < <(tail -n1 "$WORK/p99")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }'; }
{
  echo "# acp-gateway soak, $STAMP"
  echo
  header_lines
  echo "- $MINUTES min in $SLICES slices of $SLICE s; corpus $PATIENTS children; wrk $CONNECTIONS connections" \
       "each for the GP query and reads by id; MLLP at $MLLP_RATE msg/s on 2 connections"
  echo
  cat "$TABLE"
  echo
  echo "| verdict | figure | target | |"
  echo "|---|---|---|---|"
  echo "| RSS drift, slice $SLICES against slice 2 | $drift % ($(awk -v k="$base" 'BEGIN{printf "%.1f", k/1024}') → $(awk -v k="$last" 'BEGIN{printf "%.1f", k/1024}') MB) | < 5 % | $rss_ok |"
  echo "| failures (non-2xx, socket errors, ACKs other than AA) | $FAILURES | 0 | $fail_ok |"
  echo "| p99 drift, GP query / reads / MLLP (last slice ÷ slice 2) | $(ratio "$gp2" "$gpn") / $(ratio "$rd2" "$rdn") / $(ratio "$ml2" "$mln") | reported | |"
} | tee "$RESULTS/soak.md"
[ "$rss_ok" = pass ] && [ "$fail_ok" = pass ]
