#!/usr/bin/env bash
# The benchmark harness (make bench): bash bench/run.sh [BUILD_DIR]
#
# One command: builds what it needs (-DACP_BUILD_BENCH=ON, only the programs used), creates the
# corpus once (BENCH_PATIENTS children pushed in the partners' formats through the real
# mappers and IngestService: acp-bench-corpus; cached in BUILD_DIR/bench/data/), runs each
# scenario BENCH_REPS times, and prints one markdown table of figures and ratios against
# references measured in the same run, unpinned and pinned (server on core 0, load generator
# on core 1). Parts (BENCH_PARTS, default all, in this order):
#   http     wrk, 32 connections, per mode: the ceiling (acp-bench-minimal-server: a bare Poco
#            server answering a fixed Patient), read by id, the GP query (active CarePlans by
#            NHS number with the Patient included), $acp-summary, a child's Encounter list;
#            then the gateway's peak RSS (VmHWM) at the corpus size
#   bulk     loading a corpus of BENCH_BULK_PATIENTS through IngestService into a new store
#            against acp-bench-raw-insert (the same rows, sqlite3 directly, batched the same);
#            on PostgreSQL against COPY of the same rows (bulk_pg_copy)
#   ingest   MLLP with 1 and 8 connections, the gateway (durable) against the ACK-only
#            @medplum/hl7 peer; hospice and community pushes over HTTP (records/s)
#   mixed    the GP query at 32 connections while MLLP ingest runs at half the durable rate
#            measured just before, on the corpus
#   startup  exec to the "ready http=" line, median of 5 starts on the corpus
# Everything binds to 127.0.0.1, every run has a fixed length, and everything started here is
# stopped when the script ends (also on Ctrl-C or an error). Results (the table, every raw
# output, server logs): BUILD_DIR/bench/results/<UTC time>/. See bench/README.md.
#
# Environment knobs (defaults): BENCH_PARTS ("http bulk ingest mixed startup"), BENCH_MODES
# ("unpinned pinned"), BENCH_PATIENTS (100000), BENCH_DURATION (10 s), BENCH_WARMUP (2 s),
# BENCH_REPS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_BULK_PATIENTS
# (min(BENCH_PATIENTS, 20000)), BENCH_MLLP_CONNECTIONS ("1 8"), BENCH_MLLP_PATIENTS (1000),
# BENCH_PUSH_CONNECTIONS (2), BENCH_PUSH_RECORDS (100), BENCH_MIXED_MODES ("unpinned"),
# BENCH_STARTS (5), BENCH_SEED (1), BENCH_GATEWAY_ARGS (extra gateway options),
# BENCH_STORE (sqlite | postgres: the gateway's store; postgres starts a PostgreSQL cluster for
# the run in BUILD_DIR/bench/pg, fsync on, and copies the corpus into it: bench/pg.sh),
# BENCH_PG_SHARED_BUFFERS (256MB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BENCH_TAG=bench

PARTS=${BENCH_PARTS:-http bulk ingest mixed startup}
MODES=${BENCH_MODES:-unpinned pinned}
PATIENTS=${BENCH_PATIENTS:-100000}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
REPS=${BENCH_REPS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=${BENCH_THREADS:-2}
BULK_PATIENTS=${BENCH_BULK_PATIENTS:-$((PATIENTS < 20000 ? PATIENTS : 20000))}
MLLP_CONNECTIONS=${BENCH_MLLP_CONNECTIONS:-1 8}
MLLP_PATIENTS=${BENCH_MLLP_PATIENTS:-1000}
PUSH_CONNECTIONS=${BENCH_PUSH_CONNECTIONS:-2}
PUSH_RECORDS=${BENCH_PUSH_RECORDS:-100}
MIXED_MODES=${BENCH_MIXED_MODES:-unpinned}
STARTS=${BENCH_STARTS:-5}
SEED=${BENCH_SEED:-1}
STORE=${BENCH_STORE:-sqlite}
case $STORE in sqlite|postgres) ;; *) die "BENCH_STORE must be sqlite or postgres" ;; esac

# Targets (the issue's, on 2 cores with ~1M resources stored).
READ_TARGET=0.60        # read by id ÷ ceiling
GP_TARGET=0.25          # GP query ÷ ceiling
GP_P99_MS=5             # GP query p99 at 32 connections
BULK_TARGET=0.50        # store load rate ÷ raw insert
MLLP_TARGET=1.00        # durable gateway ÷ ACK-only peer at 8 connections
MIXED_P99_MS=10         # GP query p99 while ingest runs at half its capacity
RSS_TARGET_MB=64        # at 100 000 children
STARTUP_TARGET_MS=300

# ---- tools, build ---------------------------------------------------------------------------
need_wrk
need_tools taskset curl
if want ingest || want mixed; then need_tools node npm; fi
if [ "$(nproc)" -lt 2 ] && [[ " $MODES " == *" pinned "* ]]; then
  log "only $(nproc) core: the pinned mode needs 2, skipping it"
  MODES=${MODES//pinned/}
fi
build_targets acp-gateway acp-bench-minimal-server acp-bench-corpus acp-bench-raw-insert \
  acp-bench-mllp-load acp-bench-push-docs
BIN=$BUILD/bin
if want ingest; then need_ack_peer; fi
if [ "$STORE" = postgres ]; then
  need_tools psql sqlite3
  # shellcheck source=bench/pg.sh
  source "$ROOT/bench/pg.sh"
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/results/$STAMP
mkdir -p "$RESULTS" "$BUILD/bench/data"
WORK=$(mktemp -d "$BUILD/bench/run.XXXXXX")
bench_traps
if [ "$STORE" = postgres ]; then
  trap 'stop_servers; pg_stop; rm -rf "$WORK"' EXIT
  pg_start
fi
RUNS=$RESULTS/runs.txt  # one line per measurement: "<part> <key...> BENCH ..."
: >"$RUNS"
record() { echo "$*" >>"$RUNS"; }

# ---- the corpus (cached: corpus in bench/lib.sh) -------------------------------------------
DB=$BUILD/bench/data/corpus-$PATIENTS-s$SEED.db
IDS=$BUILD/bench/data/corpus-$PATIENTS-s$SEED.ids
if want http || want mixed || want startup; then corpus "$PATIENTS" "$DB" "$IDS"; fi

# The corpus on PostgreSQL: the cluster is new every run, so the SQLite corpus's rows are
# copied in every run (bench/pg.sh pg_corpus), into CORPUS_PG.
CORPUS_PG=corpus_${PATIENTS}_s$SEED
if [ "$STORE" = postgres ] && [ -s "$DB" ] && { want http || want mixed || want startup; }; then
  log "copying the corpus into PostgreSQL ($CORPUS_PG)"
  pg_corpus "$DB" "$CORPUS_PG"
  log "corpus copied into PostgreSQL in $PG_CORPUS_SECONDS s"
fi

# work_store NAME — a working copy of the corpus for one part (its writes never reach the
# corpus); prints its location for gateway_args. SQLite: a file copy in WORK; PostgreSQL: a
# database made with CREATE DATABASE … TEMPLATE (a file copy). drop_store NAME removes it.
work_store() {
  if [ "$STORE" = postgres ]; then
    pg_clone "$CORPUS_PG" "$(pg_name "work_$1")"
    pg_url "$(pg_name "work_$1")"
  else
    cp "$DB" "$WORK/$1.db"
    echo "$WORK/$1.db"
  fi
}
drop_store() {
  if [ "$STORE" = postgres ]; then pg_drop "$(pg_name "work_$1")"; else rm -f "$WORK/$1".db*; fi
}

{
  echo "# acp-gateway benchmark, $STAMP"
  echo
  header_lines
  echo "- $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2); $CONNECTIONS connections, $WRK_THREADS wrk threads;" \
       "$REPS × ${DURATION} s per scenario after ${WARMUP} s warm-up, interleaved; medians"
  echo "- parts: $PARTS; modes: $MODES"
  if [ -s "$DB.load" ]; then
    echo "- corpus: $PATIENTS children (acp-bench-corpus, seed $SEED): $(cut -d' ' -f2- "$DB.load")"
  fi
  if [ "$STORE" = postgres ]; then
    copied=
    [ -z "${PG_CORPUS_SECONDS:-}" ] ||
      copied="; the corpus copied in from SQLite (COPY, VACUUM ANALYZE) in $PG_CORPUS_SECONDS s"
    echo "- store: PostgreSQL $(pg_sql postgres 'SHOW server_version' | cut -d' ' -f1) (a cluster for the run," \
         "unix socket, fsync=$(pg_sql postgres 'SHOW fsync'), shared_buffers=$(pg_sql postgres 'SHOW shared_buffers')," \
         "synchronous_commit on); working copies by CREATE DATABASE … TEMPLATE$copied"
  else
    echo "- store: SQLite (WAL, synchronous=FULL); working copies by file copy"
  fi
} >"$RESULTS/header.md"

modes_cpus() {  # modes_cpus MODE — sets SERVER_CPUS and LOAD_CPUS
  if [ "$1" = pinned ]; then SERVER_CPUS=0; LOAD_CPUS=1; else SERVER_CPUS=all; LOAD_CPUS=all; fi
}

FIRST_ID=$( [ -s "$IDS" ] && head -n1 "$IDS" | cut -f1 || true)
FIRST_NHS=$( [ -s "$IDS" ] && head -n1 "$IDS" | cut -f2 || true)
NHS_Q="https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C"

# ---- http -----------------------------------------------------------------------------------
# scenario → "SCRIPT ARGS" (the gateway's; the ceiling runs read.lua on the minimal server)
declare -A HTTP_REQ=(
  [read]="read.lua"
  [gp]="search.lua gp"
  [summary]="search.lua summary"
  [encounters]="search.lua encounters"
)
HTTP_SCENARIOS="read gp summary encounters"

if want http; then
  for mode in $MODES; do
    modes_cpus "$mode"
    log "http, $mode: starting the servers"
    loc=$(work_store gateway)
    start_server "$mode-minimal" "$SERVER_CPUS" "$BIN/acp-bench-minimal-server" --host=127.0.0.1 --port=0
    MINIMAL_URL=$HTTP_URL
    gateway_args "$loc"
    start_server "$mode-gateway" "$SERVER_CPUS" "$BIN/acp-gateway" "${GATEWAY_ARGS[@]}"
    GW_URL=$HTTP_URL
    GW_PID=$SERVER_PID
    wait_sweep "$WORK/$mode-gateway.err"
    log "$mode: start-up Flag sweep $SWEEP"
    record "sweep $mode seconds=${SWEEP% s}"
    # Every request answers what it should.
    check "$GW_URL" "/Patient/$FIRST_ID" "\"id\":\"$FIRST_ID\""
    gp="/CarePlan?subject:Patient.identifier=$NHS_Q$FIRST_NHS&status=active&_include=CarePlan:subject"
    check "$GW_URL" "$gp" '"resourceType":"Patient"'
    check "$GW_URL" "$gp" '"mode":"include"'
    body=$(curl -sS -f "$GW_URL$gp")
    grep -q '"resourceType":"CarePlan"' <<<"$body" || die "the GP query found no CarePlan: ${body:0:400}"
    curl -sS -f "$GW_URL/Patient/\$acp-summary?identifier=$NHS_Q$FIRST_NHS" |
      grep -q '"resuscitation"' || die "the summary of the first child names no resuscitation decision"
    body=$(curl -sS -f "$GW_URL/Encounter?subject=Patient/$FIRST_ID&_sort=-date")
    grep -q '"resourceType":"Encounter"' <<<"$body" || die "the first child has no Encounter: ${body:0:400}"
    check "$MINIMAL_URL" "/Patient/$FIRST_ID" '"resourceType":"Patient"'

    run_wrk "$mode-ceiling-warmup" "$MINIMAL_URL" "$WARMUP" "$LOAD_CPUS" "$CONNECTIONS" read.lua "$IDS" >/dev/null
    for s in $HTTP_SCENARIOS; do
      # shellcheck disable=SC2086
      run_wrk "$mode-$s-warmup" "$GW_URL" "$WARMUP" "$LOAD_CPUS" "$CONNECTIONS" ${HTTP_REQ[$s]%% *} "$IDS" \
        $( [[ "${HTTP_REQ[$s]}" == *" "* ]] && echo "${HTTP_REQ[$s]#* }") >/dev/null
    done
    for rep in $(seq 1 "$REPS"); do
      line=$(run_wrk "$mode-ceiling-$rep" "$MINIMAL_URL" "$DURATION" "$LOAD_CPUS" "$CONNECTIONS" read.lua "$IDS")
      log "$mode ceiling #$rep: $line"
      record "http $mode ceiling $line"
      for s in $HTTP_SCENARIOS; do
        # shellcheck disable=SC2086
        line=$(run_wrk "$mode-$s-$rep" "$GW_URL" "$DURATION" "$LOAD_CPUS" "$CONNECTIONS" ${HTTP_REQ[$s]%% *} "$IDS" \
               $( [[ "${HTTP_REQ[$s]}" == *" "* ]] && echo "${HTTP_REQ[$s]#* }"))
        log "$mode $s #$rep: $line"
        record "http $mode $s $line"
      done
    done
    record "memory $mode BENCH vmhwm_kb=$(vm_hwm "$GW_PID")"
    stop_servers
    cp "$WORK/$mode-gateway.err" "$RESULTS/$mode-gateway.log"
    drop_store gateway
  done
fi

# ---- bulk load --------------------------------------------------------------------------------
# bulk_pg_copy REP — the PostgreSQL bulk load and its reference: acp-bench-corpus into a new
# database (through SqlStore: the gateway's rate), then COPY of the same rows — every table
# of that database, exported as CSV — into an empty one with the same schema, in one
# transaction (bench/pg.sh pg_copy_ref).
bulk_pg_copy() {
  local rep=$1 gline rline
  pg_create bulk_gw
  "$BIN/acp-bench-corpus" --db="$(pg_url bulk_gw)" --ids="$WORK/bulk.ids" --patients="$BULK_PATIENTS" \
    --seed="$SEED" >"$RESULTS/bulk-gateway-$rep.txt" 2>&1 ||
    { cat "$RESULTS/bulk-gateway-$rep.txt" >&2; die "acp-bench-corpus on PostgreSQL failed"; }
  gline=$(grep -m1 '^BENCH ' "$RESULTS/bulk-gateway-$rep.txt")
  log "bulk #$rep gateway (PostgreSQL): $gline"
  record "bulk gateway $gline"
  rline=$(pg_copy_ref bulk_gw bulk_copy "$RESULTS/bulk-pgcopy-$rep.txt")
  log "bulk #$rep PostgreSQL COPY: $rline"
  record "bulk pgcopy $rline"
  pg_drop bulk_gw
  pg_drop bulk_copy
  rm -f "$WORK/bulk.ids"
}

if want bulk; then
  for rep in $(seq 1 "$REPS"); do
    log "bulk #$rep: loading $BULK_PATIENTS children through IngestService ($STORE)"
    if [ "$STORE" = postgres ]; then bulk_pg_copy "$rep"; continue; fi
    rm -f "$WORK"/bulk.db* "$WORK"/raw.db*
    "$BIN/acp-bench-corpus" --db="$WORK/bulk.db" --ids="$WORK/bulk.ids" --patients="$BULK_PATIENTS" \
      --seed="$SEED" >"$RESULTS/bulk-gateway-$rep.txt" 2>&1 ||
      { cat "$RESULTS/bulk-gateway-$rep.txt" >&2; die "acp-bench-corpus failed"; }
    gline=$(grep -m1 '^BENCH ' "$RESULTS/bulk-gateway-$rep.txt")
    tx=$(field transactions <<<"$gline")
    "$BIN/acp-bench-raw-insert" --src="$WORK/bulk.db" --dst="$WORK/raw.db" --transactions="$tx" \
      >"$RESULTS/bulk-raw-$rep.txt" 2>&1 || { cat "$RESULTS/bulk-raw-$rep.txt" >&2; die "acp-bench-raw-insert failed"; }
    rline=$(grep -m1 '^BENCH ' "$RESULTS/bulk-raw-$rep.txt")
    log "bulk #$rep gateway: $gline"
    log "bulk #$rep raw: $rline"
    record "bulk gateway $gline"
    record "bulk raw $rline"
  done
  rm -f "$WORK"/bulk.db* "$WORK"/raw.db*
fi

# ---- ingest -----------------------------------------------------------------------------------
RUN_NO=0
# mllp_load LABEL CONNECTIONS PORT CPUS SECONDS [RATE] [STREAM_OFFSET] — one
# acp-bench-mllp-load run; prints its BENCH line. The caller bumps RUN_NO first (MSH-10s
# unique across runs; this runs in a command substitution, so it cannot).
mllp_load() {
  local label=$1 conns=$2 port=$3 cpus=$4 seconds=$5 rate=${6:-0} offset=${7:-0} out
  out=$RESULTS/$label.txt
  local cmd=("$BIN/acp-bench-mllp-load" --host=127.0.0.1 --port="$port" --connections="$conns"
             --duration="$seconds" --warmup="$WARMUP" --prefix="R$RUN_NO" --seed="$SEED"
             --patients="$MLLP_PATIENTS" --rate="$rate" --stream-offset="$offset")
  [ "$cpus" = all ] || cmd=(taskset -c "$cpus" "${cmd[@]}")
  timeout $((${seconds%.*} + ${WARMUP%.*} + 120)) "${cmd[@]}" >"$out" 2>&1 ||
    { cat "$out" >&2; die "the MLLP load client failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

# fresh_gateway LABEL CPUS — the gateway on a new, empty database in WORK/LABEL (PostgreSQL: a
# new, empty database; the gateway creates its schema).
fresh_gateway() {
  mkdir -p "$WORK/$1"
  if [ "$STORE" = postgres ]; then
    pg_create "$(pg_name "fresh_$1")"
    gateway_args "$(pg_url "$(pg_name "fresh_$1")")"
  else
    gateway_args "$WORK/$1/gateway.db"
  fi
  start_server "$1" "$2" "$BIN/acp-gateway" "${GATEWAY_ARGS[@]}"
}

finish_run() {  # finish_run LABEL — stops the servers, keeps the log, drops the database
  stop_servers
  cp "$WORK/$1.err" "$RESULTS/$1.server.log" 2>/dev/null || true
  rm -rf "${WORK:?}/$1"
  if [ "$STORE" = postgres ]; then pg_drop "$(pg_name "fresh_$1")"; fi
}

if want ingest; then
  FSYNC=$(fsync_rate)
  echo "- synchronous 4 KiB writes (dd oflag=dsync) where the databases live: ${FSYNC:-?}/s;" \
       "node $(node --version), @medplum/hl7 $(node -p "require('$ROOT/bench/node_modules/@medplum/hl7/package.json').version" 2>/dev/null || echo '?')" \
       >>"$RESULTS/header.md"
  for mode in $MODES; do
    modes_cpus "$mode"
    for rep in $(seq 1 "$REPS"); do
      for conns in $MLLP_CONNECTIONS; do
        if [ $((rep % 2)) = 1 ]; then order="peer gateway"; else order="gateway peer"; fi
        for server in $order; do
          label=$mode-mllp-$server-c$conns-$rep
          if [ "$server" = peer ]; then
            start_server "$label" "$SERVER_CPUS" node "$ROOT/bench/mllp_ack_peer.mjs" --host=127.0.0.1 --port=0
          else
            fresh_gateway "$label" "$SERVER_CPUS"
          fi
          RUN_NO=$((RUN_NO + 1))
          line=$(mllp_load "$label" "$conns" "$MLLP_PORT" "$LOAD_CPUS" "$DURATION")
          finish_run "$label"
          log "$label: $line"
          record "mllp $mode $server c$conns $line"
        done
      done
      # Partner pushes over HTTP, each on a fresh gateway and database.
      for partner in hospice community; do
        label=$mode-push-$partner-$rep
        ctype=application/json
        [ "$partner" = community ] && ctype=application/xml
        # Enough documents for 300 records/s per connection (about twice the rate seen on the
        # 2-core machine): each is sent once; a run that runs out says so (exhausted).
        docs=$(( (300 * PUSH_CONNECTIONS * (${DURATION%.*} + ${WARMUP%.*} + 2) + PUSH_RECORDS - 1) / PUSH_RECORDS + 4 ))
        mkdir -p "$WORK/docs"
        "$BIN/acp-bench-push-docs" --kind="$partner" --out="$WORK/docs" --docs="$docs" \
          --records="$PUSH_RECORDS" --seed="$SEED" --first=$((rep * 100000)) ||
          die "acp-bench-push-docs failed"
        fresh_gateway "$label" "$SERVER_CPUS"
        line=$(WRK_THREADS=1 run_wrk "$label" "$HTTP_URL" "$DURATION" "$LOAD_CPUS" "$PUSH_CONNECTIONS" \
               push.lua "$WORK/docs/$partner.list" "$partner" "$ctype")
        finish_run "$label"
        rm -rf "$WORK/docs"
        log "$label: $line"
        record "push $mode $partner $line"
      done
    done
  done
fi

# ---- mixed ------------------------------------------------------------------------------------
if want mixed; then
  for mode in $MIXED_MODES; do
    modes_cpus "$mode"
    for rep in $(seq 1 "$REPS"); do
      label=$mode-mixed-$rep
      gateway_args "$(work_store mixed)"
      start_server "$label" "$SERVER_CPUS" "$BIN/acp-gateway" "${GATEWAY_ARGS[@]}"
      GW_URL=$HTTP_URL
      wait_sweep "$WORK/$label.err"
      # The durable rate on this store just before, then half of it under the GP query load.
      # (different streams in the two runs: new messages, not replays of the first run's)
      RUN_NO=$((RUN_NO + 1))
      cap=$(mllp_load "$label-capacity" 8 "$MLLP_PORT" "$LOAD_CPUS" "$DURATION" 0 0)
      rate=$(awk -v r="$(field rps <<<"$cap")" 'BEGIN { printf "%.1f", r / 2 }')
      log "$label: durable MLLP capacity $(field rps <<<"$cap") msg/s; ingest at $rate msg/s under the GP query"
      RUN_NO=$((RUN_NO + 1))
      mllp_load "$label-ingest" 8 "$MLLP_PORT" "$LOAD_CPUS" "$((${DURATION%.*} + 2))" "$rate" 8 \
        >"$WORK/$label-ingest.line" &
      ingest_pid=$!
      sleep "$WARMUP"
      gpline=$(run_wrk "$label-gp" "$GW_URL" "$DURATION" "$LOAD_CPUS" "$CONNECTIONS" search.lua "$IDS" gp)
      wait "$ingest_pid" || die "the rate-limited MLLP load failed ($label)"
      ingline=$(cat "$WORK/$label-ingest.line")
      finish_run "$label"
      drop_store mixed
      log "$label GP query: $gpline"
      log "$label ingest: $ingline"
      record "mixed $mode capacity $cap"
      record "mixed $mode gp $gpline"
      record "mixed $mode ingest $ingline target_rate=$rate"
    done
  done
fi

# ---- start-up ---------------------------------------------------------------------------------
if want startup; then
  # One copy for every start (the corpus is large): each start is stopped right after its
  # ready line, so the Flag sweep that follows it has written little, if anything.
  gateway_args "$(work_store startup)"
  for i in $(seq 1 "$STARTS"); do
    fifo=$WORK/startup.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    t0=$EPOCHREALTIME
    "$BIN/acp-gateway" "${GATEWAY_ARGS[@]}" >"$fifo" 2>"$WORK/startup-$i.err" &
    PIDS+=("$!")
    exec 3<"$fifo"
    ready=
    while IFS= read -r l <&3; do
      if [[ "$l" == "ready http="* ]]; then ready=$EPOCHREALTIME; break; fi
    done
    [ -n "$ready" ] || die "start $i: no ready line"
    cat <&3 >/dev/null &  # keeps the gateway's stdout drained until it stops
    drain=$!
    exec 3<&-
    ms=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
    # Readiness does not wait for the timed Flag sweep (it starts after the ready line); its
    # duration is in the http part's header line.
    stop_servers
    wait "$drain" 2>/dev/null || true
    cp "$WORK/startup-$i.err" "$RESULTS/startup-$i.log"
    log "start $i: ready after $ms ms"
    record "startup all BENCH ready_ms=$ms"
    rm -f "$fifo"
  done
  drop_store startup
fi

# ---- the table --------------------------------------------------------------------------------
rows() { grep "^$1 " "$RUNS" || true; }            # rows PREFIX (e.g. "http unpinned gp")
stat() { rows "$1" | field "$2" | median; }         # stat PREFIX FIELD — median
sumf() { rows "$1" | field "$2" | total; }          # sumf PREFIX FIELD — sum
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
  if (v == "nan" || v == "") { print "—"; exit }
  ok = (op == ">=") ? v + 0 >= t + 0 : (op == "<") ? v + 0 < t + 0 : v + 0 <= t + 0
  print (ok ? "pass" : "FAIL") }'; }

{
  cat "$RESULTS/header.md"
  if [ -n "$(rows sweep)" ]; then
    echo "- start-up Flag sweep (after the ready line; the figures are after it):" \
         "$(rows sweep | awk '{print $2 " " $3}' | sed 's/seconds=//; s/$/ s/' | paste -sd ';' -)"
  fi
  echo
  echo "| scenario | mode | value | reference | ratio | target | pass/fail |"
  echo "|---|---|---|---|---:|---|---|"
  if want http; then
    for mode in $MODES; do
      ref=$(stat "http $mode ceiling" rps)
      awk -v m="$mode" -v r="$ref" -v a="$(stat "http $mode ceiling" p50_ms)" \
          -v b="$(stat "http $mode ceiling" p99_ms)" 'BEGIN {
        printf "| ceiling: minimal Poco server, fixed Patient | %s | %.0f req/s (p50 %.2f, p99 %.2f ms) | — | 1.00 | — | — |\n", m, r, a, b }'
      for s in $HTTP_SCENARIOS; do
        case $s in
          read) name="read by id: GET /Patient/{id}"; target="≥ $READ_TARGET"; tr=$READ_TARGET; p99t= ;;
          gp) name="GP query: active CarePlans by NHS number, _include=CarePlan:subject"
              target="≥ $GP_TARGET, p99 < $GP_P99_MS ms"; tr=$GP_TARGET; p99t=$GP_P99_MS ;;
          summary) name="\$acp-summary by NHS number"; target="—"; tr=; p99t= ;;
          encounters) name="Encounter list: GET /Encounter?subject=Patient/{id}&_sort=-date"; target="—"; tr=; p99t= ;;
        esac
        rps=$(stat "http $mode $s" rps)
        p50=$(stat "http $mode $s" p50_ms)
        p99=$(stat "http $mode $s" p99_ms)
        errs=$(( $(sumf "http $mode $s" errors) + $(sumf "http $mode $s" non2xx) ))
        ratio=$(awk -v r="$rps" -v c="$ref" 'BEGIN { printf "%.2f", (c > 0 ? r / c : 0) }')
        v="—"
        if [ -n "$tr" ]; then
          v=$(verdict "$ratio" "$tr" ">=")
          if [ -n "$p99t" ] && [ "$(verdict "$p99" "$p99t" "<")" = FAIL ]; then v=FAIL; fi
        fi
        [ "$errs" = 0 ] || v="$v (errors: $errs)"
        awk -v n="$name" -v m="$mode" -v r="$rps" -v a="$p50" -v b="$p99" -v c="$ref" \
            -v q="$ratio" -v t="$target" -v v="$v" 'BEGIN {
          printf "| %s | %s | %.0f req/s (p50 %.2f, p99 %.2f ms) | ceiling %.0f req/s | %s | %s | %s |\n", n, m, r, a, b, c, q, t, v }'
      done
      kb=$(stat "memory $mode" vmhwm_kb)
      mb=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
      awk -v m="$mode" -v mb="$mb" -v n="$PATIENTS" -v t="$RSS_TARGET_MB" -v v="$(verdict "$mb" "$RSS_TARGET_MB" "<=")" 'BEGIN {
        printf "| memory: peak RSS (VmHWM) after the HTTP scenarios, %d children | %s | %s MB | — | — | ≤ %d MB at 100 000 children | %s |\n", n, m, mb, t, (n == 100000 ? v : v " (at " n ")") }'
    done
  fi
  if want bulk; then
    g=$(stat "bulk gateway" versions_per_s)
    if [ "$STORE" = postgres ]; then
      r=$(stat "bulk pgcopy" units_per_s)
      refname="PostgreSQL COPY of the same rows (every table, one transaction)"
    else
      r=$(stat "bulk raw" units_per_s)
      refname="raw batched SQLite insert of the same rows"
    fi
    ratio=$(awk -v g="$g" -v r="$r" 'BEGIN { printf "%.2f", (r > 0 ? g / r : 0) }')
    awk -v g="$g" -v r="$r" -v q="$ratio" -v n="$BULK_PATIENTS" -v t="$BULK_TARGET" \
        -v rec="$(stat "bulk gateway" records_per_s)" -v tx="$(stat "bulk gateway" transactions)" \
        -v v="$(verdict "$ratio" "$BULK_TARGET" ">=")" -v rn="$refname" 'BEGIN {
      printf "| bulk load: %d children via IngestService (map, validate, store), %d transactions | — | %.0f resource versions/s (%.0f records/s) | %s: %.0f versions/s | %s | ≥ %.2f | %s |\n", n, tx, g, rec, rn, r, q, t, v }'
  fi
  if want ingest; then
    for mode in $MODES; do
      for conns in $MLLP_CONNECTIONS; do
        g=$(stat "mllp $mode gateway c$conns" rps)
        p=$(stat "mllp $mode peer c$conns" rps)
        bad=$(( $(sumf "mllp $mode gateway c$conns" ae) + $(sumf "mllp $mode gateway c$conns" ar) + $(sumf "mllp $mode gateway c$conns" other) + $(sumf "mllp $mode gateway c$conns" mismatch) ))
        ratio=$(awk -v g="$g" -v p="$p" 'BEGIN { printf "%.2f", (p > 0 ? g / p : 0) }')
        if [ "$conns" = 8 ]; then target="≥ $MLLP_TARGET"; v=$(verdict "$ratio" "$MLLP_TARGET" ">="); else target="—"; v="—"; fi
        [ "$bad" = 0 ] || v="$v (non-AA: $bad)"
        awk -v m="$mode" -v c="$conns" -v g="$g" -v p="$p" -v q="$ratio" -v t="$target" -v v="$v" \
            -v b="$(stat "mllp $mode gateway c$conns" p99_ms)" 'BEGIN {
          printf "| MLLP ADT, %d connection(s), durable ACK | %s | %.0f msg/s (p99 %.2f ms) | ACK-only @medplum/hl7 peer %.0f msg/s | %s | %s | %s |\n", c, m, g, b, p, q, t, v }'
      done
      for partner in hospice community; do
        [ -n "$(rows "push $mode $partner")" ] || continue
        awk -v m="$mode" -v pa="$partner" -v s="$(stat "push $mode $partner" stored_per_s)" \
            -v r="$(stat "push $mode $partner" rps)" -v b="$(stat "push $mode $partner" p99_ms)" \
            -v c="$PUSH_CONNECTIONS" -v n="$PUSH_RECORDS" -v x="$(sumf "push $mode $partner" exhausted)" \
            -v e="$(( $(sumf "push $mode $partner" errors) + $(sumf "push $mode $partner" non2xx) ))" 'BEGIN {
          note = (x > 0 ? sprintf(" (exhausted: %d)", x) : "") (e > 0 ? sprintf(" (errors: %d)", e) : "")
          printf "| %s push over HTTP, %d records a document, %d connections | %s | %.0f records/s (%.1f pushes/s, p99 %.0f ms) | none | — | — | —%s |\n", pa, n, c, m, s, r, b, note }'
      done
    done
  fi
  if want mixed; then
    for mode in $MIXED_MODES; do
      p99=$(stat "mixed $mode gp" p99_ms)
      awk -v m="$mode" -v r="$(stat "mixed $mode gp" rps)" -v b="$p99" -v a="$(stat "mixed $mode gp" p50_ms)" \
          -v cap="$(stat "mixed $mode capacity" rps)" -v ing="$(stat "mixed $mode ingest" rps)" \
          -v t="$MIXED_P99_MS" -v v="$(verdict "$p99" "$MIXED_P99_MS" "<")" -v c="$CONNECTIONS" 'BEGIN {
        printf "| mixed: GP query at %d connections while MLLP ingest runs at half capacity | %s | p99 %.2f ms (p50 %.2f ms, %.0f req/s); ingest %.0f msg/s | durable MLLP capacity %.0f msg/s (8 connections) | — | p99 < %d ms | %s |\n", c, m, b, a, r, ing, cap, t, v }'
    done
  fi
  if want startup; then
    ms=$(stat "startup all" ready_ms)
    awk -v ms="$ms" -v n="$STARTS" -v t="$STARTUP_TARGET_MS" \
        -v p="$PATIENTS" -v v="$(verdict "$ms" "$STARTUP_TARGET_MS" "<")" 'BEGIN {
      printf "| start-up: exec to \"ready http=\", %d children (median of %d starts; readiness does not wait for the timed Flag sweep) | unpinned | %.0f ms | — | — | < %d ms | %s |\n", p, n, ms, t, v }'
  fi
} | awk -v store="$STORE" '
  # The store column, after the mode: the store the row measured (the ceiling has none).
  /^\| scenario \| mode \|/ { sub(/\| mode \|/, "| mode | store |"); print; next }
  /^\|---\|---\|/ { sub(/^\|---\|---\|/, "|---|---|---|"); print; next }
  /^\| / {
    i = index(substr($0, 3), " | ") + 2       # the end of the scenario cell
    j = index(substr($0, i + 3), " | ") + i + 2  # the end of the mode cell
    st = ($0 ~ /^\| ceiling:/) ? "—" : store
    print substr($0, 1, j) "| " st " " substr($0, j + 1); next }
  { print }' >"$RESULTS/table.md"

echo
cat "$RESULTS/table.md"
echo
log "the table, every raw output and the servers' logs: $RESULTS"
