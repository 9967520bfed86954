#!/usr/bin/env bash
# The ingest benchmarks (make bench-ingest): bash bench/run-ingest.sh [BUILD_DIR]
#
# 1. mapping: acp-bench-ingest-mapping — the partner mappers (HL7 v2 ADT and ORU^R01, hospice
#    export, community export) parse + map, and parse + map + R4 validation, on one thread
#    (pinned to core 0 when there are 2 cores), no store. Prints messages/records/patients per
#    second and MB/s; the ADT rows against the issue's 8000 messages/s per core.
# 2. mllp: acp-bench-mllp-load — N connections, each sending one ADT message and waiting for
#    its ACK (checked: AA, MSA-2 = MSH-10) before the next — against
#      (a) the gateway, started from BUILD_DIR on a fresh SQLite database for every run
#          (auth none, everything on 127.0.0.1), and
#      (b) the ACK-only peer bench/mllp_ack_peer.mjs (@medplum/hl7 Hl7Server: parse + AA,
#          no storage; installed with npm ci into bench/node_modules),
#    with 1 and 8 connections, interleaved, REPS repetitions of DURATION seconds after a
#    warm-up, medians. The issue's target: the durable gateway rate with 8 connections ≥ the
#    ACK-only peer's.
# Prints markdown tables; they and every raw output are kept in
# BUILD_DIR/bench/results/ingest-<UTC time>/. Every process started here is stopped on exit
# (also on Ctrl-C or an error). Nothing asserts timings. See bench/README.md.
#
# Environment knobs (defaults): INGEST_DURATION (10 s), INGEST_WARMUP (2 s), INGEST_REPS (3),
# INGEST_CONNECTIONS ("1 8"), INGEST_PARTS ("mapping mllp"), INGEST_MAPPING_DURATION
# (= INGEST_DURATION), INGEST_MODES ("unpinned"; "pinned" puts the server on core 0 and the
# load client on core 1), INGEST_PATIENTS (1000: the children each connection's messages are
# about; with the default most messages in a run are about a new child — a few tens makes
# the mix update-heavy, as a hospital feed is).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
DURATION=${INGEST_DURATION:-10}
WARMUP=${INGEST_WARMUP:-2}
REPS=${INGEST_REPS:-3}
CONNECTIONS=${INGEST_CONNECTIONS:-1 8}
PARTS=${INGEST_PARTS:-mapping mllp}
MAPPING_DURATION=${INGEST_MAPPING_DURATION:-$DURATION}
MODES=${INGEST_MODES:-unpinned}
PATIENTS=${INGEST_PATIENTS:-1000}
HOST=127.0.0.1
TARGET_CONNECTIONS=8  # the issue's target: gateway ≥ peer at this many connections

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BENCH_TAG=bench-ingest

# ---- tools -------------------------------------------------------------------------------
command -v taskset >/dev/null 2>&1 || die "taskset is missing. Run: sudo apt-get install -y util-linux"
command -v curl >/dev/null 2>&1 || die "curl is missing. Run: sudo apt-get install -y curl"
if want mllp; then
  command -v node >/dev/null 2>&1 || die "node is missing (the ACK-only peer). Run: sudo apt-get install -y nodejs npm"
  command -v npm >/dev/null 2>&1 || die "npm is missing. Run: sudo apt-get install -y npm"
fi
CORES=$(nproc)
if [ "$CORES" -lt 2 ] && [[ " $MODES " == *" pinned "* ]]; then
  log "only $CORES core: the pinned mode needs 2, skipping it"
  MODES=${MODES//pinned/}
fi

# ---- build -------------------------------------------------------------------------------
build_targets acp-gateway acp-bench-ingest-mapping acp-bench-mllp-load
GATEWAY=$BUILD/bin/acp-gateway
MAPPER=$BUILD/bin/acp-bench-ingest-mapping
LOADER=$BUILD/bin/acp-bench-mllp-load

if want mllp; then need_ack_peer; fi

# ---- bookkeeping ---------------------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/results/ingest-$STAMP
mkdir -p "$RESULTS"
WORK=$(mktemp -d "$BUILD/bench/ingest.XXXXXX")
bench_traps

{
  echo "# acp-gateway ingest benchmark, $STAMP"
  echo
  header_lines
  if want mllp; then
    # The ceiling for one commit per ACK: synchronous 4 KiB writes where the databases live.
    fsync=$(fsync_rate)
    echo "- synchronous 4 KiB writes (dd oflag=dsync) where the gateway's database lives: ${fsync:-?}/s"
    echo "- node $(node --version), @medplum/hl7 $(node -p "require('$ROOT/bench/node_modules/@medplum/hl7/package.json').version" 2>/dev/null || echo '?')"
  fi
} >"$RESULTS/header.md"

# ---- 1. mapping --------------------------------------------------------------------------
if want mapping; then
  log "mapping throughput: ${MAPPING_DURATION} s per row × $REPS after ${WARMUP} s warm-up"
  map_cmd=("$MAPPER" --duration="$MAPPING_DURATION" --warmup="$WARMUP" --reps="$REPS")
  [ "$CORES" -ge 2 ] && map_cmd=(taskset -c 0 "${map_cmd[@]}")
  "${map_cmd[@]}" >"$RESULTS/mapping.md" 2>"$RESULTS/mapping.log" ||
    { cat "$RESULTS/mapping.log" >&2; die "acp-bench-ingest-mapping failed"; }
fi

# ---- 2. MLLP -----------------------------------------------------------------------------
# run_load LABEL CONNECTIONS PORT CPUS — one load run; prints its BENCH line.
run_load() {
  local label=$1 conns=$2 port=$3 cpus=$4 out
  out=$RESULTS/$label.txt
  local cmd=("$LOADER" --host="$HOST" --port="$port" --connections="$conns"
             --duration="$DURATION" --warmup="$WARMUP" --prefix="R${RUN_NO}"
             --patients="$PATIENTS")
  [ "$cpus" = all ] || cmd=(taskset -c "$cpus" "${cmd[@]}")
  timeout $((${DURATION%.*} + ${WARMUP%.*} + 120)) "${cmd[@]}" >"$out" 2>&1 ||
    { cat "$out" >&2; die "the load client failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

RUN_NO=0
# one_run MODE SERVER CONNECTIONS REP — starts SERVER (peer or gateway) fresh, loads it, stops it.
one_run() {
  local mode=$1 server=$2 conns=$3 rep=$4 server_cpus load_cpus line label extra=""
  if [ "$mode" = pinned ]; then server_cpus=0; load_cpus=1; else server_cpus=all; load_cpus=all; fi
  RUN_NO=$((RUN_NO + 1))
  label=$mode-$server-c$conns-$rep
  if [ "$server" = peer ]; then
    start_server "$label" "$server_cpus" node "$ROOT/bench/mllp_ack_peer.mjs" --host="$HOST" --port=0
  else
    mkdir -p "$WORK/$label"
    start_server "$label" "$server_cpus" "$GATEWAY" -Dgateway.http.host="$HOST" \
      -Dgateway.http.port=0 -Dgateway.mllp.host="$HOST" -Dgateway.mllp.port=0 \
      -Dgateway.store.url="sqlite:$WORK/$label/gateway.db" -Dgateway.log.requests=false \
      -Dgateway.auth.mode=none -Dgateway.http.tls=false -Dgateway.mllp.tls=false
  fi
  line=$(run_load "$label" "$conns" "$MLLP_PORT" "$load_cpus")
  if [ -n "$HTTP_URL" ]; then  # what the gateway holds now: the writes were real
    local p e
    p=$(curl -sS --max-time 10 "$HTTP_URL/Patient?_summary=count" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
    e=$(curl -sS --max-time 10 "$HTTP_URL/Encounter?_summary=count" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
    extra=" stored_patients=${p:-?} stored_encounters=${e:-?}"
  fi
  stop_servers
  cp "$WORK/$label.err" "$RESULTS/$label.server.log" 2>/dev/null || true
  rm -rf "$WORK/$label"
  log "$label: $line$extra"
  echo "$mode $server c$conns $line$extra" >>"$RESULTS/runs.txt"
}

if want mllp; then
  for mode in $MODES; do
    for rep in $(seq 1 "$REPS"); do
      for conns in $CONNECTIONS; do
        # Alternate which server goes first, so neither always follows the other.
        if [ $((rep % 2)) = 1 ]; then order="peer gateway"; else order="gateway peer"; fi
        for server in $order; do one_run "$mode" "$server" "$conns" "$rep"; done
      done
    done
  done
fi

# ---- tables ------------------------------------------------------------------------------
stat() {  # stat MODE SERVER CONNECTIONS FIELD — median over the repetitions
  grep "^$1 $2 c$3 " "$RESULTS/runs.txt" | field "$4" | median
}
sum() {  # sum MODE SERVER CONNECTIONS FIELD...
  local mode=$1 server=$2 conns=$3 f total=0 v
  shift 3
  for f in "$@"; do
    v=$(grep "^$mode $server c$conns " "$RESULTS/runs.txt" | field "$f" | awk '{s += $1} END {print s + 0}')
    total=$((total + v))
  done
  echo "$total"
}

{
  cat "$RESULTS/header.md"
  if want mapping; then
    echo
    echo "## Mapping (one thread, no store)"
    echo
    cat "$RESULTS/mapping.md"
  fi
  if want mllp; then
    echo
    echo "## MLLP end to end (ADT mix; one message in flight per connection)"
    echo
    echo "$REPS × ${DURATION} s per row after ${WARMUP} s warm-up in each run, peer and gateway" \
         "runs interleaved, medians; a fresh server (and for the gateway a fresh database) per run;" \
         "$PATIENTS children per connection (INGEST_PATIENTS)."
    echo
    echo "| scenario | connections | peer msg/s | gateway msg/s | ratio gateway/peer |" \
         "gateway p50 ms | gateway p99 ms | peer p99 ms | target | non-AA gateway / peer |" \
         "errors gateway / peer |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
    for mode in $MODES; do
      for conns in $CONNECTIONS; do
        prps=$(stat "$mode" peer "$conns" rps)
        grps=$(stat "$mode" gateway "$conns" rps)
        gp50=$(stat "$mode" gateway "$conns" p50_ms)
        gp99=$(stat "$mode" gateway "$conns" p99_ms)
        pp99=$(stat "$mode" peer "$conns" p99_ms)
        gbad=$(sum "$mode" gateway "$conns" ae ar other mismatch)
        pbad=$(sum "$mode" peer "$conns" ae ar other mismatch)
        gerr=$(sum "$mode" gateway "$conns" errors)
        perr=$(sum "$mode" peer "$conns" errors)
        awk -v m="$mode" -v c="$conns" -v p="$prps" -v g="$grps" -v a="$gp50" -v b="$gp99" \
            -v q="$pp99" -v tc="$TARGET_CONNECTIONS" -v gb="$gbad" -v pb="$pbad" \
            -v ge="$gerr" -v pe="$perr" 'BEGIN {
          ratio = p > 0 ? g / p : 0
          target = (c == tc) ? sprintf("≥ 1.00: %s", ratio >= 1 ? "pass" : "FAIL") : "—"
          printf "| ADT mix, %s | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %d / %d | %d / %d |\n",
                 m, c, p, g, ratio, a, b, q, target, gb, pb, ge, pe }'
      done
    done
    echo
    echo "Reference figures measured elsewhere on a 2-core machine (shared/reference/performance.md):" \
         "@medplum/hl7 MLLP server, parse + ACK only: 2.9k msg/s on 1 connection, 5.6k on 8;" \
         "fsync rate of the disk ~3.5k/s (the ceiling for one ACK per commit)."
  fi
} >"$RESULTS/table.md"

echo
cat "$RESULTS/table.md"
echo
log "raw output and these tables: $RESULTS"
