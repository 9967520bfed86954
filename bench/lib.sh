# Shell functions shared by the benchmark scripts (bench/run.sh, run-ingest.sh, soak.sh): sourced,
# never run. The including script sets BENCH_TAG (the prefix of its messages), ROOT, BUILD and
# WORK (a scratch folder it removes), and calls bench_traps once. Every process started with
# start_server is stopped by stop_servers, and on exit (also on Ctrl-C or an error).

log() { echo "${BENCH_TAG:-bench}: $*" >&2; }
die() { echo "${BENCH_TAG:-bench}: $*" >&2; exit 1; }
want() { [[ " $PARTS " == *" $1 "* ]]; }  # want PART — is PART in $PARTS?

# need_wrk — installs wrk (Debian package) when missing and running as root, else says how.
need_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = "0" ]; then
    log "installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing. Run: sudo apt-get install -y wrk"
  fi
}

# need_tools TOOL... — each must be on PATH.
need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || die "$t is missing (Debian: util-linux for taskset, curl, nodejs npm)"
  done
}

# build_targets TARGET... — configures BUILD with -DACP_BUILD_BENCH=ON and builds only them.
build_targets() {
  log "building into $BUILD: $*"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DACP_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target "$@" >/dev/null
}

# need_ack_peer — npm ci in bench/ (the ACK-only MLLP peer) when bench/package-lock.json changed.
need_ack_peer() {
  local stamp=$ROOT/bench/node_modules/.installed
  if [ ! -e "$stamp" ] || [ "$ROOT/bench/package-lock.json" -nt "$stamp" ]; then
    log "installing the ACK-only peer's npm packages (bench/package-lock.json)"
    (cd "$ROOT/bench" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
  fi
}

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

stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
}

bench_traps() {
  trap 'stop_servers; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
}

# start_server NAME CPU_LIST COMMAND... — starts it in the background (under taskset unless
# CPU_LIST is "all"), stdout in WORK/NAME.out and stderr in WORK/NAME.err, and waits up to
# 60 s for its ready line ("ready http=H:P mllp=H:P", "ready http=H:P" or "ready mllp=H:P").
# Sets SERVER_PID, HTTP_URL (http://H:P, empty without http=), MLLP_PORT (empty without mllp=).
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
  line=
  for _ in $(seq 1 600); do
    line=$(grep -m1 '^ready ' "$out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited"; }
    sleep 0.1
  done
  [ -n "$line" ] || die "$name did not print its ready line within 60 s"
  HTTP_URL=
  MLLP_PORT=
  if [[ "$line" == *"http="* ]]; then
    local http=${line#*http=}
    HTTP_URL="http://${http%% *}"
  fi
  if [[ "$line" == *"mllp="* ]]; then
    local mllp=${line##*mllp=}
    mllp=${mllp%% *}
    MLLP_PORT=${mllp##*:}
  fi
}

# gateway_args STORE — the gateway's options for a benchmark run on STORE (an SQLite file, or a
# postgresql:// URI): loopback, ports chosen by the kernel, no TLS, auth none (the local
# superuser: still audited), no request log; then BENCH_GATEWAY_ARGS (word-split) for
# experiments.
gateway_args() {
  local url="sqlite:$1"
  [[ "$1" == postgresql://* ]] && url=$1
  GATEWAY_ARGS=(-Dgateway.http.host=127.0.0.1 -Dgateway.http.port=0
                -Dgateway.mllp.host=127.0.0.1 -Dgateway.mllp.port=0
                -Dgateway.store.url="$url" -Dgateway.log.requests=false
                -Dgateway.auth.mode=none -Dgateway.http.tls=false -Dgateway.mllp.tls=false)
  # shellcheck disable=SC2206
  [ -z "${BENCH_GATEWAY_ARGS:-}" ] || GATEWAY_ARGS+=(${BENCH_GATEWAY_ARGS})
}

# wait_sweep ERRFILE — waits (up to 10 min) for the gateway's start-up Flag sweep to end;
# sets SWEEP to its duration ("N s").
wait_sweep() {
  local line=
  for _ in $(seq 1 6000); do
    line=$(grep -m1 -o 'timed Flags re-evaluated in [0-9.]* s' "$1" 2>/dev/null || true)
    [ -n "$line" ] && break
    sleep 0.1
  done
  [ -n "$line" ] || die "the gateway's start-up Flag sweep did not end within 10 min"
  SWEEP=${line#timed Flags re-evaluated in }
}

# vm_hwm PID — the process's peak resident set (VmHWM) in kB.
vm_hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# check URL PATH EXPECT [COUNT] — one GET must answer 200 with EXPECT exactly COUNT (1) times.
check() {
  local body n
  body=$(curl -sS --max-time 10 -f -H 'Accept: application/fhir+json' "$1$2") ||
    die "GET $2 on $1 failed"
  n=$(grep -oF -- "$3" <<<"$body" | wc -l)
  [ "$n" = "${4:-1}" ] || die "GET $2 on $1: $3 found $n times instead of ${4:-1}: ${body:0:400}"
}

# run_wrk LABEL URL SECONDS CPUS CONNECTIONS SCRIPT ARGS... — one wrk run (2 threads, or
# WRK_THREADS) with bench/SCRIPT, its output in RESULTS/LABEL.txt; prints its BENCH line.
run_wrk() {
  local label=$1 url=$2 seconds=$3 cpus=$4 conns=$5 script=$6 out
  shift 6
  out=$RESULTS/$label.txt
  local cmd=(wrk -t"${WRK_THREADS:-2}" -c"$conns" -d"${seconds}s" --timeout 5s --latency
             -s "$ROOT/bench/$script" "$url" -- "$@")
  [ "$cpus" = all ] || cmd=(taskset -c "$cpus" "${cmd[@]}")
  timeout $((${seconds%.*} + 60)) "${cmd[@]}" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p"; }  # field NAME < BENCH line

median() {  # numbers on stdin, one a line
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

total() { awk '{s += $1} END {print s + 0}'; }  # numbers on stdin, one a line

# header_lines — commit, machine and load average, for a results header.
header_lines() {
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(modified tree)')"
  echo "- machine: $(nproc) cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# fsync_rate — synchronous 4 KiB writes per second (dd oflag=dsync) in WORK.
fsync_rate() {
  dd if=/dev/zero of="$WORK/fsync-probe" bs=4k count=300 oflag=dsync 2>&1 |
    awk '/copied/ {for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.0f", 300 / $(i - 1)}'
  rm -f "$WORK/fsync-probe"
}

# corpus N DB IDS — creates DB and IDS (BENCH_SEED / SEED) with acp-bench-corpus unless cached
# (BUILD/bench/data); the load's BENCH line goes to DB.load. Needs BIN and SEED.
corpus() {
  local n=$1 db=$2 ids=$3
  if [ -s "$db" ] && [ -s "$ids" ] && [ -s "$db.load" ]; then
    log "using the cached corpus $db"
    return 0
  fi
  log "creating the corpus: $n children through the partner mappers and IngestService"
  rm -f "$db" "$ids" "$db.load" "$db.tmp" "$db.tmp-wal" "$db.tmp-shm" "$ids.tmp"
  timeout 86400 "$BIN/acp-bench-corpus" --db="$db.tmp" --ids="$ids.tmp" --patients="$n" \
    --seed="$SEED" >"$db.load.tmp" || { cat "$db.load.tmp" >&2; die "acp-bench-corpus failed"; }
  [ -e "$db.tmp-wal" ] && die "the corpus loader left a WAL file behind"
  mv "$ids.tmp" "$ids"
  mv "$db.tmp" "$db"
  mv "$db.load.tmp" "$db.load"
  log "corpus: $(cat "$db.load")"
}

