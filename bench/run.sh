#!/usr/bin/env bash
# The FHIR server core benchmark (make bench): bash bench/run.sh [BUILD_DIR]
#
# Builds acp-gateway and the bench programs (-DACP_BUILD_BENCH=ON) into BUILD_DIR, creates the
# benchmark database once (cached in BUILD_DIR/bench/data/), then measures with wrk, against
# 127.0.0.1 only:
#   read    GET /Patient/<random id>                                       (bench/read.lua)
#   search  GET /CarePlan?subject:Patient.identifier=<nhs-number system>|<random NHS number>
#                                                                          (bench/search.lua)
# on the gateway and on the minimal Poco server (the ceiling, same settings), interleaved,
# REPS repetitions of DURATION seconds after a warm-up, medians reported; once unpinned and
# once pinned (servers on core 0, wrk on core 1). Prints a markdown table; raw wrk output and
# the table are kept in BUILD_DIR/bench/results/<time>/. See bench/README.md.
#
# Environment knobs (defaults): BENCH_PATIENTS (100000), BENCH_DURATION (10 s),
# BENCH_WARMUP (2 s), BENCH_REPS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_MODES ("unpinned pinned").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
PATIENTS=${BENCH_PATIENTS:-100000}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
REPS=${BENCH_REPS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
MODES=${BENCH_MODES:-unpinned pinned}
HOST=127.0.0.1

# Targets (gateway vs the minimal server in the same run and mode).
READ_TARGET=0.60
SEARCH_TARGET=0.25
P99_TARGET_MS=5

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    log "installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing. Run: sudo apt-get install -y wrk"
  fi
fi
command -v taskset >/dev/null 2>&1 || die "taskset is missing. Run: sudo apt-get install -y util-linux"
command -v curl >/dev/null 2>&1 || die "curl is missing. Run: sudo apt-get install -y curl"
CORES=$(nproc)
if [ "$CORES" -lt 2 ] && [[ " $MODES " == *" pinned "* ]]; then
  log "only $CORES core: the pinned mode needs 2, skipping it"
  MODES=${MODES//pinned/}
fi

# ---- build -------------------------------------------------------------------------------
log "building into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DACP_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "$CORES" \
  --target acp-gateway acp-bench-minimal-server acp-bench-load-data >/dev/null
GATEWAY=$BUILD/bin/acp-gateway
MINIMAL=$BUILD/bin/acp-bench-minimal-server
LOADER=$BUILD/bin/acp-bench-load-data

# ---- data (cached) -----------------------------------------------------------------------
DATA=$BUILD/bench/data
mkdir -p "$DATA"
DB=$DATA/patients-$PATIENTS.db
IDS=$DATA/patients-$PATIENTS.ids
LOAD_LINE="(cached: $DB)"
if [ ! -s "$DB" ] || [ ! -s "$IDS" ]; then
  log "creating the database: $PATIENTS patients, 3 resources each (a few minutes)"
  rm -f "$DB" "$IDS" "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm" "$IDS.tmp"
  LOAD_LINE=$(timeout 1200 "$LOADER" --db="$DB.tmp" --ids="$IDS.tmp" --patients="$PATIENTS")
  echo "$LOAD_LINE" >&2
  [ -e "$DB.tmp-wal" ] && die "the loader left a WAL file behind"
  mv "$IDS.tmp" "$IDS"
  mv "$DB.tmp" "$DB"
else
  log "using the cached database $DB"
fi

# ---- servers -----------------------------------------------------------------------------
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/results/$STAMP
mkdir -p "$RESULTS"
WORK=$(mktemp -d "$BUILD/bench/run.XXXXXX")
PIDS=()

stop_pid() {  # stop_pid PID: SIGTERM, up to 15 s, then SIGKILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME CPU_LIST COMMAND... — starts it (under taskset when CPU_LIST is not
# "all"), waits for its "ready http=HOST:PORT" line, sets SERVER_PID and SERVER_URL.
start_server() {
  local name=$1 cpus=$2 out line
  shift 2
  out=$WORK/$name.out
  if [ "$cpus" = all ]; then
    "$@" >"$out" 2>"$WORK/$name.err" &
  else
    taskset -c "$cpus" "$@" >"$out" 2>"$WORK/$name.err" &
  fi
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 600); do  # up to 60 s
    line=$(grep -m1 '^ready http=' "$out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited"; }
    sleep 0.1
  done
  [ -n "$line" ] || die "$name did not print its ready line within 60 s"
  line=${line#ready http=}
  SERVER_URL="http://${line%% *}"  # the gateway's line goes on with " mllp=HOST:PORT"
}

stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
}

# ---- measurement -------------------------------------------------------------------------
FIRST_ID=$(head -n1 "$IDS" | cut -f1)
FIRST_NHS=$(head -n1 "$IDS" | cut -f2)
SEARCH_PATH="/CarePlan?subject:Patient.identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C$FIRST_NHS"

# check URL PATH EXPECT — one request must answer 200 with EXPECT exactly once in the body.
check() {
  local body n
  body=$(curl -sS --max-time 10 -f -H 'Accept: application/fhir+json' "$1$2") ||
    die "GET $2 on $1 failed"
  n=$(grep -oF -- "$3" <<<"$body" | wc -l)
  [ "$n" = 1 ] || die "GET $2 on $1: $3 found $n times instead of once: ${body:0:300}"
}

# run_wrk LABEL URL SCRIPT SECONDS WRK_CPUS — one wrk run; prints its BENCH line.
run_wrk() {
  local label=$1 url=$2 script=$3 seconds=$4 cpus=$5 out
  out=$RESULTS/$label.txt
  local cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s --latency
             -s "$ROOT/bench/$script" "$url" -- "$IDS")
  [ "$cpus" = all ] || cmd=(taskset -c "$cpus" "${cmd[@]}")
  timeout $((seconds + 30)) "${cmd[@]}" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p"; }  # field NAME < BENCH line

median() {  # numbers on stdin, one a line
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SCENARIOS="minimal-read gateway-read minimal-search gateway-search"
declare -A URL SCRIPT
SCRIPT[read]=read.lua
SCRIPT[search]=search.lua

{
  echo "# acp-gateway benchmark, $STAMP"
  echo
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(modified tree)')"
  echo "- machine: $CORES cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2); $CONNECTIONS connections, $THREADS wrk threads;" \
       "$REPS × ${DURATION} s per scenario after ${WARMUP} s warm-up, interleaved; medians"
  echo "- data: $PATIENTS patients + 1 Encounter + 1 CarePlan each; load: $LOAD_LINE"
} >"$RESULTS/header.md"

for mode in $MODES; do
  if [ "$mode" = pinned ]; then SERVER_CPUS=0; WRK_CPUS=1; else SERVER_CPUS=all; WRK_CPUS=all; fi
  log "mode $mode: starting the servers"
  cp "$DB" "$WORK/gateway.db"
  start_server minimal "$SERVER_CPUS" "$MINIMAL" --host="$HOST" --port=0
  URL[minimal]=$SERVER_URL
  start_server gateway "$SERVER_CPUS" "$GATEWAY" -Dgateway.http.host="$HOST" \
    -Dgateway.http.port=0 -Dgateway.mllp.port=0 -Dgateway.store.url="sqlite:$WORK/gateway.db" \
    -Dgateway.log.requests=false -Dgateway.auth.mode=none -Dgateway.http.tls=false -Dgateway.mllp.tls=false \
    ${BENCH_GATEWAY_ARGS:-}
  URL[gateway]=$SERVER_URL
  # The start-up Flag sweep re-evaluates every child while it takes writer turns between the
  # audit commits; the figures are of the steady state after it (its duration is reported).
  for _ in $(seq 1 6000); do  # up to 10 min
    sweep=$(grep -m1 -o 'timed Flags re-evaluated in [0-9.]* s' "$WORK/gateway.err" 2>/dev/null || true)
    [ -n "$sweep" ] && break
    sleep 0.1
  done
  [ -n "$sweep" ] || die "the gateway's start-up Flag sweep did not end within 10 min"
  log "$mode: $sweep"
  echo "$mode start-up sweep: ${sweep#timed Flags re-evaluated in }" >>"$RESULTS/sweeps.txt"
  check "${URL[gateway]}" "/Patient/$FIRST_ID" "\"id\":\"$FIRST_ID\""
  check "${URL[gateway]}" "$SEARCH_PATH" '"resourceType":"CarePlan"'
  check "${URL[minimal]}" "/Patient/$FIRST_ID" '"resourceType":"Patient"'

  for s in $SCENARIOS; do
    log "$mode warm-up $s"
    run_wrk "$mode-$s-warmup" "${URL[${s%%-*}]}" "${SCRIPT[${s#*-}]}" "$WARMUP" "$WRK_CPUS" \
      >/dev/null
  done
  for rep in $(seq 1 "$REPS"); do
    for s in $SCENARIOS; do
      line=$(run_wrk "$mode-$s-$rep" "${URL[${s%%-*}]}" "${SCRIPT[${s#*-}]}" "$DURATION" \
             "$WRK_CPUS")
      log "$mode $s #$rep: $line"
      echo "$mode $s $line" >>"$RESULTS/runs.txt"
    done
  done
  stop_servers
  rm -f "$WORK"/gateway.db*
done

# ---- table -------------------------------------------------------------------------------
stat() {  # stat MODE SCENARIO FIELD — median of FIELD over the repetitions
  grep "^$1 $2 " "$RESULTS/runs.txt" | field "$3" | median
}
sum() {  # sum MODE SCENARIO FIELD
  grep "^$1 $2 " "$RESULTS/runs.txt" | field "$3" | awk '{s += $1} END {print s + 0}'
}

{
  cat "$RESULTS/header.md"
  sed 's/^/- /' "$RESULTS/sweeps.txt"
  echo
  echo "| scenario | mode | req/s (median) | p50 ms | p99 ms | ratio vs minimal server |" \
       "ratio target | ratio | p99 < ${P99_TARGET_MS} ms | errors |"
  echo "|---|---|---:|---:|---:|---:|---|---|---|---:|"
  for mode in $MODES; do
    for kind in read search; do
      ref=$(stat "$mode" "minimal-$kind" rps)
      for server in minimal gateway; do
        s=$server-$kind
        rps=$(stat "$mode" "$s" rps)
        p50=$(stat "$mode" "$s" p50_ms)
        p99=$(stat "$mode" "$s" p99_ms)
        errors=$(( $(sum "$mode" "$s" errors) + $(sum "$mode" "$s" non2xx) ))
        if [ "$server" = minimal ]; then
          target=$([ "$kind" = read ] && echo "$READ_TARGET" || echo "$SEARCH_TARGET")
          awk -v k="$kind" -v m="$mode" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$errors" \
              -v t="$P99_TARGET_MS" 'BEGIN {
            printf "| %s — minimal server | %s | %.0f | %.2f | %.2f | 1.00 (reference) | — | — | %s | %d |\n",
                   k, m, r, a, b, (b < t ? "pass" : "FAIL"), e }'
        else
          awk -v k="$kind" -v m="$mode" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$errors" \
              -v ref="$ref" -v tr="$target" -v t="$P99_TARGET_MS" 'BEGIN {
            ratio = ref > 0 ? r / ref : 0
            printf "| %s — gateway | %s | %.0f | %.2f | %.2f | %.2f | ≥ %.2f | %s | %s | %d |\n",
                   k, m, r, a, b, ratio, tr, (ratio >= tr ? "pass" : "FAIL"),
                   (b < t ? "pass" : "FAIL"), e }'
        fi
      done
    done
  done
} >"$RESULTS/table.md"

echo
cat "$RESULTS/table.md"
echo
log "raw wrk output and this table: $RESULTS"
