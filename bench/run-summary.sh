#!/usr/bin/env bash
# $acp-summary latency on a store of N children (make bench-summary): bash bench/run-summary.sh [BUILD_DIR]
#
# 1. A database of SUMMARY_PATIENTS (100 000) children, each with a Patient, an Encounter and a
#    partner-like advance care plan (acp-bench-load-data --acp-items: dated CPR decision,
#    places of care and death, emergency plan, review date); every tenth child also has a
#    later plan from a second source that disagrees. Built once and cached in
#    BUILD_DIR/bench/data/acp-patients-N.db.
# 2. The gateway on that database (timed Flag sweep off, so the database is only read), and
#    wrk with SUMMARY_CONNECTIONS (8) connections, interleaved, SUMMARY_REPS (3) × SUMMARY_DURATION
#    (10 s) each:
#      summary    GET /Patient/$acp-summary?identifier=<NHS number>    (bench/search.lua summary)
#      reference  GET /CarePlan?subject:Patient.identifier=<NHS number> (bench/search.lua) —
#                 the chained search a GP system makes today for the same child, on the same
#                 server and data.
#    Medians; the table gives the summary's p50/p99 and its rate and latency as ratios to the
#    reference. Nothing asserts timings. Results: BUILD_DIR/bench/results/summary-<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
PATIENTS=${SUMMARY_PATIENTS:-100000}
DURATION=${SUMMARY_DURATION:-10}
REPS=${SUMMARY_REPS:-3}
CONNECTIONS=${SUMMARY_CONNECTIONS:-8}
THREADS=${SUMMARY_THREADS:-2}
HOST=127.0.0.1

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BENCH_TAG=bench-summary

need_wrk
need_tools curl
build_targets acp-gateway acp-bench-load-data

DATA=$BUILD/bench/data
mkdir -p "$DATA"
DB=$DATA/acp-patients-$PATIENTS.db
IDS=$DATA/acp-patients-$PATIENTS.ids
if [ ! -s "$DB" ] || [ ! -s "$IDS" ]; then
  log "creating the database: $PATIENTS children with plans (a few minutes)"
  rm -f "$DB" "$IDS" "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm" "$IDS.tmp"
  timeout 3600 "$BUILD/bin/acp-bench-load-data" --db="$DB.tmp" --ids="$IDS.tmp" \
    --patients="$PATIENTS" --acp-items >&2
  mv "$IDS.tmp" "$IDS"
  mv "$DB.tmp" "$DB"
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/results/summary-$STAMP
mkdir -p "$RESULTS"
OUT=$RESULTS/gateway.out
"$BUILD/bin/acp-gateway" -Dgateway.http.host="$HOST" -Dgateway.http.port=0 \
  -Dgateway.mllp.host="$HOST" -Dgateway.mllp.port=0 -Dgateway.store.url="sqlite:$DB" \
  -Dgateway.log.requests=false -Dgateway.flags.intervalSeconds=0 \
  -Dgateway.auth.mode=none -Dgateway.http.tls=false -Dgateway.mllp.tls=false >"$OUT" 2>"$RESULTS/gateway.err" &
GW=$!
trap 'kill -TERM $GW 2>/dev/null || true; wait $GW 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q '^ready http=' "$OUT" 2>/dev/null && break
  kill -0 $GW 2>/dev/null || { cat "$RESULTS/gateway.err" >&2; die "the gateway exited"; }
  sleep 0.1
done
line=$(grep -m1 '^ready http=' "$OUT") || die "no ready line"
line=${line#ready http=}
URL="http://${line%% *}"

# The answer is real: the first child's summary names its CPR decision.
NHS=$(head -n1 "$IDS" | cut -f2)
curl -sS -f "$URL/Patient/\$acp-summary?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C$NHS" |
  grep -q '"resuscitation"' || die "the summary of the first child has no resuscitation item"


for rep in $(seq 1 "$REPS"); do
  for what in summary reference; do
    request=summary
    [ "$what" = reference ] && request=search
    out=$RESULTS/$what-$rep.txt
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency \
      -s "$ROOT/bench/search.lua" "$URL" -- "$IDS" "$request" >"$out" 2>&1 ||
      { cat "$out" >&2; die "wrk failed"; }
    b=$(grep -m1 '^BENCH ' "$out") || die "no BENCH line in $out"
    log "$what $rep: $b"
    echo "$what $b" >>"$RESULTS/runs.txt"
  done
done

stat() { grep "^$1 " "$RESULTS/runs.txt" | field "$2" | median; }
{
  echo "# \$acp-summary on $PATIENTS children, $STAMP"
  echo
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores;" \
       "$CONNECTIONS connections; $REPS × ${DURATION} s, medians; reference = the chained CarePlan search by NHS number"
  echo
  echo "| request | req/s | p50 ms | p99 ms | errors / non-2xx |"
  echo "|---|---:|---:|---:|---|"
  for what in summary reference; do
    echo "| $what | $(stat "$what" rps) | $(stat "$what" p50_ms) | $(stat "$what" p99_ms) |" \
         "$(stat "$what" errors) / $(stat "$what" non2xx) |"
  done
  awk -v s="$(stat summary rps)" -v r="$(stat reference rps)" -v sp="$(stat summary p99_ms)" \
      -v rp="$(stat reference p99_ms)" \
      'BEGIN { printf "\nratio summary/reference: rate %.2f, p99 %.2f\n", s / r, sp / rp }'
} | tee "$RESULTS/summary.md"
