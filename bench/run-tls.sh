#!/usr/bin/env bash
# The cost of HTTPS, and the token endpoint's rate (make bench-tls): bash bench/run-tls.sh [BUILD_DIR]
#
# Builds acp-gateway, acp-bench-load-data and acp-bench-https-load (-DACP_BUILD_BENCH=ON) into
# BUILD_DIR, makes the
# development certificates in BUILD_DIR/certs (certs/make-dev-certs.sh), creates the benchmark
# database once (TLS_PATIENTS patients registered with GP practice X81001, cached in
# BUILD_DIR/bench/data/patients-N-gp-X81001.db), and a SMART client for it (bench/smart_client.mjs:
# an EC P-384 and an RSA key, the client registry, the gateway's token keys) in the results
# folder. Then, against 127.0.0.1 only, on one copy of that database, with the same gateway
# binary started afresh for every run (flags sweep off, request log off, otherwise its
# defaults), the transports of a comparison alternately first:
#   read   GET /Patient/<random id> (bench/read.lua, wrk) over keep-alive connections, once
#          over plain HTTP (gateway.http.tls=false) and once over HTTPS (gateway.http.tls=true,
#          the development server certificate, gateway.tls.clientCertificates=optional: wrk
#          presents no certificate); for each of TLS_AUTH_MODES: "smart" (every request
#          carries the bearer token of the gp-practice client, obtained at POST /token once
#          per gateway start; the client's patients, so every answer is a 200; tokens ES384,
#          the gateway's key EC P-384), "smart-rsa" (the same with an RSA gateway key: tokens
#          RS384, far cheaper to check) and "none" (the local superuser: no token to check, so
#          the transport is a larger share of the work). Only the transport differs in a pair.
#   mtls   the same read with auth "smart", by acp-bench-https-load (bench/https_load.cc: one
#          thread per connection), which can present a client certificate: plain HTTP, HTTPS
#          without one (clientCertificates=optional) and mutual TLS (clientCertificates=
#          required, the gateway's default; the development certificate of X81001, the
#          client's organisation) — the deployed configuration, against plain HTTP with the
#          same load client.
#   token  POST /token, client_credentials with a fresh private_key_jwt assertion per request
#          (bench/token.lua; a jti is accepted once only), signed ES384 and RS384
#          (TLS_TOKEN_ALGS), over HTTPS and plain HTTP. The assertions are signed right before
#          each run (they live at most 5 minutes), as many as twice what the highest rate seen
#          so far (at least 250/s) says the run needs; a run that runs out of them says so
#          (column "exhausted").
# REPS repetitions of DURATION seconds after a WARMUP-second warm-up; medians. Prints markdown
# tables; raw wrk output, the gateways' logs and the tables are kept in
# BUILD_DIR/bench/results/<UTC time>-tls/. Nothing here asserts a timing. See bench/README.md.
#
# Environment knobs (defaults): TLS_PATIENTS (10000), TLS_DURATION (10 s), TLS_WARMUP (2 s),
# TLS_REPS (3), TLS_CONNECTIONS (32), TLS_THREADS (2), TLS_AUTH_MODES ("smart smart-rsa
# none"), TLS_PARTS ("read mtls token"), TLS_TOKEN_ALGS ("ES384 RS384"),
# TLS_TOKEN_TRANSPORTS ("https http"), TLS_TOKEN_CONNECTIONS (8).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(realpath -m "${1:-build}")
PATIENTS=${TLS_PATIENTS:-10000}
DURATION=${TLS_DURATION:-10}
WARMUP=${TLS_WARMUP:-2}
REPS=${TLS_REPS:-3}
CONNECTIONS=${TLS_CONNECTIONS:-32}
THREADS=${TLS_THREADS:-2}
AUTH_MODES=${TLS_AUTH_MODES:-smart smart-rsa none}
PARTS=${TLS_PARTS:-read mtls token}
TOKEN_ALGS=${TLS_TOKEN_ALGS:-ES384 RS384}
TOKEN_TRANSPORTS=${TLS_TOKEN_TRANSPORTS:-https http}
TOKEN_CONNECTIONS=${TLS_TOKEN_CONNECTIONS:-8}
HOST=127.0.0.1
GP=X81001             # the practice every benchmark patient is registered with
CLIENT_ID=bench-gp    # the gp-practice client of that practice (smart_client.mjs setup)
# The gateway's public base URL (gateway.http.baseUrl): the same for both transports, so one
# token and one assertion audience serve both. Never resolved: nothing connects to it.
BASE_URL=https://acp-gateway.bench.invalid/fhir
READ_TARGET=0.70      # the security issue: HTTPS keep-alive reads ≥ 70 % of plain HTTP

log() { echo "bench-tls: $*" >&2; }
die() { echo "bench-tls: $*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    log "installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    die "wrk is missing. Run: sudo apt-get install -y wrk"
  fi
fi
for tool in curl openssl node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian packages curl, openssl, nodejs)"
done
CORES=$(nproc)

# ---- build, certificates, data -----------------------------------------------------------
log "building into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DACP_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "$CORES" \
  --target acp-gateway acp-bench-load-data acp-bench-https-load >/dev/null
GATEWAY=$BUILD/bin/acp-gateway
LOADER=$BUILD/bin/acp-bench-load-data
LOADCLIENT=$BUILD/bin/acp-bench-https-load

CERTS=$BUILD/certs
bash "$ROOT/certs/make-dev-certs.sh" "$CERTS" >/dev/null

DATA=$BUILD/bench/data
mkdir -p "$DATA"
DB=$DATA/patients-$PATIENTS-gp-$GP.db
IDS=$DATA/patients-$PATIENTS-gp-$GP.ids
LOAD_LINE="(cached: $DB)"
if [ ! -s "$DB" ] || [ ! -s "$IDS" ]; then
  log "creating the database: $PATIENTS patients registered with $GP, 3 resources each"
  rm -f "$DB" "$IDS" "$DB.tmp" "$DB.tmp-wal" "$DB.tmp-shm" "$IDS.tmp"
  LOAD_LINE=$(timeout 3600 "$LOADER" --db="$DB.tmp" --ids="$IDS.tmp" --patients="$PATIENTS" \
              --gp="$GP")
  echo "$LOAD_LINE" >&2
  [ -e "$DB.tmp-wal" ] && die "the loader left a WAL file behind"
  mv "$IDS.tmp" "$IDS"
  mv "$DB.tmp" "$DB"
else
  log "using the cached database $DB"
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$BUILD/bench/results/$STAMP-tls
mkdir -p "$RESULTS"
KEYS=$RESULTS/smart
node "$ROOT/bench/smart_client.mjs" setup "$KEYS" "$CLIENT_ID" "$GP"
WORK=$(mktemp -d "$BUILD/bench/run-tls.XXXXXX")
cp "$DB" "$WORK/gateway.db"  # one copy for every run: the same data for both transports

# ---- gateway -----------------------------------------------------------------------------
GW_PID=
stop_gateway() {  # SIGTERM, up to 15 s, then SIGKILL
  [ -n "$GW_PID" ] || return 0
  kill -TERM "$GW_PID" 2>/dev/null || { GW_PID=; return 0; }
  for _ in $(seq 1 150); do
    kill -0 "$GW_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$GW_PID" 2>/dev/null || true
  wait "$GW_PID" 2>/dev/null || true
  GW_PID=
}
cleanup() {
  stop_gateway
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_gateway LABEL TRANSPORT AUTH — starts the gateway on the database copy, waits for its
# ready line; sets GW_PID, URL and CLIENT_CERT (curl's certificate options: the client's
# certificate with mtls). Its log: RESULTS/LABEL.log.
#   TRANSPORT  http | https (client certificates optional) | mtls (client certificates required)
#   AUTH       smart (ES384 access tokens) | smart-rsa (RS384) | none
start_gateway() {
  local label=$1 transport=$2 auth=$3 out=$WORK/gateway.out line
  local args=(-Dgateway.http.host="$HOST" -Dgateway.http.port=0 -Dgateway.mllp.host="$HOST"
              -Dgateway.mllp.port=0 -Dgateway.mllp.tls=false
              -Dgateway.store.url="sqlite:$WORK/gateway.db" -Dgateway.log.requests=false
              -Dgateway.flags.intervalSeconds=0)
  CLIENT_CERT=()
  case $transport in
    http) args+=(-Dgateway.http.tls=false) ;;
    https|mtls)
      args+=(-Dgateway.http.tls=true -Dgateway.tls.certificate="$CERTS/server.crt"
             -Dgateway.tls.privateKey="$CERTS/server.key" -Dgateway.tls.caCertificates="$CERTS/ca.crt")
      if [ "$transport" = mtls ]; then
        args+=(-Dgateway.tls.clientCertificates=required)
        CLIENT_CERT=(--cert "$CERTS/clients/$GP.crt" --key "$CERTS/clients/$GP.key")
      else
        args+=(-Dgateway.tls.clientCertificates=optional)
      fi ;;
    *) die "unknown transport $transport" ;;
  esac
  case $auth in
    smart|smart-rsa)
      local key=$KEYS/token-key.pem
      [ "$auth" = smart-rsa ] && key=$KEYS/token-key-rsa.pem
      args+=(-Dgateway.auth.mode=smart -Dgateway.auth.clients="$KEYS/clients.json"
             -Dgateway.auth.tokenKey="$key" -Dgateway.http.baseUrl="$BASE_URL") ;;
    none) args+=(-Dgateway.auth.mode=none) ;;
    *) die "unknown auth mode $auth" ;;
  esac
  "$GATEWAY" "${args[@]}" >"$out" 2>"$RESULTS/$label.log" &
  GW_PID=$!
  line=
  for _ in $(seq 1 600); do  # up to 60 s
    line=$(grep -m1 '^ready http=' "$out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$GW_PID" 2>/dev/null || { cat "$RESULTS/$label.log" >&2; die "the gateway exited ($label)"; }
    sleep 0.1
  done
  [ -n "$line" ] || die "the gateway did not print its ready line within 60 s ($label)"
  line=${line#ready http=}
  if [ "$transport" = http ]; then URL="http://${line%% *}"; else URL="https://${line%% *}"; fi
}

CURL=(curl -sS --max-time 10 --cacert "$CERTS/ca.crt")

# get_token — one access token from POST /token (on the running smart gateway) into
# WORK/token; dies unless it is issued.
get_token() {
  local form body
  form=$(node "$ROOT/bench/smart_client.mjs" forms "$KEYS" "$CLIENT_ID" ES384 "$BASE_URL/token" 1)
  body=$("${CURL[@]}" "${CLIENT_CERT[@]}" -H 'Content-Type: application/x-www-form-urlencoded' \
         --data-binary "$form" "$URL/token") || die "POST /token failed on $URL"
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$body" >"$WORK/token"
  [ -s "$WORK/token" ] || die "POST /token on $URL issued no token: ${body:0:300}"
}

FIRST_ID=$(head -n1 "$IDS" | cut -f1)
# check_read AUTH — one read answers 200 with the patient.
check_read() {
  local auth=(-H 'Accept: application/fhir+json') body
  [ "$1" = none ] || auth+=(-H "Authorization: Bearer $(cat "$WORK/token")")
  body=$("${CURL[@]}" "${CLIENT_CERT[@]}" -f "${auth[@]}" "$URL/Patient/$FIRST_ID") ||
    die "GET /Patient/<id> on $URL failed"
  grep -qF "\"id\":\"$FIRST_ID\"" <<<"$body" || die "GET /Patient/<id> on $URL: ${body:0:300}"
}

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p"; }  # field NAME < BENCH line
median() {  # numbers on stdin, one a line
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_wrk LABEL SECONDS CONNECTIONS SCRIPT ARGS... — one wrk run on URL; prints its BENCH line.
run_wrk() {
  local label=$1 seconds=$2 connections=$3 script=$4 out=$RESULTS/$1.txt
  shift 4
  timeout $((seconds + 60)) wrk -t"$THREADS" -c"$connections" -d"${seconds}s" --timeout 5s \
    --latency -s "$ROOT/bench/$script" "$URL" -- "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

# run_client LABEL SECONDS TRANSPORT — one acp-bench-https-load run on URL (auth smart, the
# token in WORK/token); prints its BENCH line.
run_client() {
  local label=$1 seconds=$2 transport=$3 out=$RESULTS/$1.txt cert=()
  [ "$transport" = mtls ] &&
    cert=(--cert="$CERTS/clients/$GP.crt" --key="$CERTS/clients/$GP.key")
  timeout $((seconds + 60)) "$LOADCLIENT" --url="$URL" --ids="$IDS" --token="$WORK/token" \
    --ca="$CERTS/ca.crt" "${cert[@]}" --connections="$CONNECTIONS" --seconds="$seconds" \
    >"$out" 2>&1 || { cat "$out" >&2; die "acp-bench-https-load failed ($label)"; }
  grep -m1 '^BENCH ' "$out" || die "no BENCH line in $out"
}

# order REP LIST... — the list in odd repetitions, reversed in even ones.
order() {
  local rep=$1
  shift
  if [ $((rep % 2)) = 1 ]; then echo "$@"; else printf '%s\n' "$@" | tac | tr '\n' ' '; fi
}

# ---- header ------------------------------------------------------------------------------
start_gateway probe https none
TLS_LINE=$(openssl s_client -connect "${URL#https://}" -CAfile "$CERTS/ca.crt" -brief \
           </dev/null 2>&1 | grep -E '^(Protocol version|Ciphersuite|Peer signature type)' |
           tr '\n' ';' | sed 's/;$//; s/;/; /g') || true
stop_gateway
{
  echo "# HTTPS and the token endpoint, $STAMP"
  echo
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(modified tree)')"
  echo "- machine: $CORES cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2), $(openssl version | cut -d' ' -f1-2);" \
       "unpinned; $REPS × ${DURATION} s per row after ${WARMUP} s warm-up, the two transports" \
       "alternately first; medians; the gateway restarted for every run"
  echo "- TLS as an OpenSSL client (openssl s_client) negotiates it with the gateway:" \
       "${TLS_LINE:-unknown}; server key" \
       "RSA 2048 (certs/make-dev-certs.sh); client certificates optional (none presented)"
  echo "- data: $PATIENTS patients registered with $GP + 1 Encounter + 1 CarePlan each; load: $LOAD_LINE"
  echo "- smart: gp-practice client $CLIENT_ID ($GP); access tokens ES384 (gateway key EC P-384)," \
       "smart-rsa: RS384 (gateway key RSA 2048)"
} >"$RESULTS/header.md"

# ---- read: plain vs HTTPS ----------------------------------------------------------------
if [[ " $PARTS " == *" read "* ]]; then
  for rep in $(seq 1 "$REPS"); do
    for auth in $AUTH_MODES; do
      for transport in $(order "$rep" http https); do
        label=read-$auth-$transport-$rep
        start_gateway "$label" "$transport" "$auth"
        token_args=()
        if [ "$auth" != none ]; then
          get_token
          token_args=("$WORK/token")
        fi
        check_read "$auth"
        run_wrk "$label-warmup" "$WARMUP" "$CONNECTIONS" read.lua "$IDS" "${token_args[@]}" \
          >/dev/null
        line=$(run_wrk "$label" "$DURATION" "$CONNECTIONS" read.lua "$IDS" "${token_args[@]}")
        stop_gateway
        log "read $auth $transport #$rep: $line"
        echo "read $auth $transport $rep $line" >>"$RESULTS/runs.txt"
      done
    done
  done
fi

# ---- mutual TLS: the deployed configuration, with a client that presents a certificate ----
if [[ " $PARTS " == *" mtls "* ]]; then
  for rep in $(seq 1 "$REPS"); do
    for transport in $(order "$rep" http https mtls); do
      label=client-$transport-$rep
      start_gateway "$label" "$transport" smart
      get_token
      check_read smart
      run_client "$label-warmup" "$WARMUP" "$transport" >/dev/null
      line=$(run_client "$label" "$DURATION" "$transport")
      stop_gateway
      log "client $transport #$rep: $line"
      echo "client smart $transport $rep $line" >>"$RESULTS/runs.txt"
    done
  done
fi

# ---- token endpoint ----------------------------------------------------------------------
# forms FILE ALG COUNT — COUNT fresh form bodies, signed by as many node processes as cores.
forms() {
  local file=$1 alg=$2 count=$3 per i pids=()
  per=$(( (count + CORES - 1) / CORES ))
  for i in $(seq 1 "$CORES"); do
    node "$ROOT/bench/smart_client.mjs" forms "$KEYS" "$CLIENT_ID" "$alg" "$BASE_URL/token" \
      "$per" >"$file.$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || die "signing the assertions failed"; done
  : >"$file"
  for i in $(seq 1 "$CORES"); do
    cat "$file.$i" >>"$file"
    rm -f "$file.$i"
  done
}

if [[ " $PARTS " == *" token "* ]]; then
  declare -A EXPECTED  # ALG-TRANSPORT → the highest rate of 200s seen so far
  for rep in $(seq 1 "$REPS"); do
    for alg in $TOKEN_ALGS; do
      for transport in $(order "$rep" http https); do
        [[ " $TOKEN_TRANSPORTS " == *" $transport "* ]] || continue
        label=token-$alg-$transport-$rep
        start_gateway "$label" "$transport" smart
        key=$alg-$transport
        warm_count=${EXPECTED[$key]:-1000}
        warm_count=$(awk -v r="$warm_count" -v s="$WARMUP" 'BEGIN { n = int(r * s * 3); print (n < 2000 ? 2000 : n) }')
        forms "$WORK/forms" "$alg" "$warm_count"
        warm=$(run_wrk "$label-warmup" "$WARMUP" "$TOKEN_CONNECTIONS" token.lua \
               "$WORK/forms" "$THREADS")
        rate=$(field ok_rps <<<"$warm")
        # Twice what the warm-up's rate needs (more when it ran out: the rate was higher).
        [ "$(field exhausted <<<"$warm")" = 0 ] ||
          rate=$(awk -v r="$rate" 'BEGIN { print r * 2 }')
        best=$(printf '%s\n%s\n' "$rate" "${EXPECTED[$key]:-0}" | sort -g | tail -n1)
        EXPECTED[$key]=$best
        # A warm-up on a busy machine can say far less than the run then does: the rate is
        # taken as at least 250/s (signing costs about what one token costs the gateway).
        count=$(awk -v r="$best" -v d="$DURATION" 'BEGIN { if (r < 250) r = 250; print int(r * (d + 1) * 2) }')
        forms "$WORK/forms" "$alg" "$count"
        line=$(run_wrk "$label" "$DURATION" "$TOKEN_CONNECTIONS" token.lua "$WORK/forms" \
               "$THREADS")
        stop_gateway
        log "token $alg $transport #$rep ($count assertions): $line"
        echo "token $alg $transport $rep $line forms=$count" >>"$RESULTS/runs.txt"
        rate=$(field ok_rps <<<"$line")
        best=$(printf '%s\n%s\n' "$rate" "${EXPECTED[$key]}" | sort -g | tail -n1)
        EXPECTED[$key]=$best
      done
    done
  done
  rm -f "$WORK/forms"
fi

# ---- tables ------------------------------------------------------------------------------
rows() { grep "^$1 $2 $3 " "$RESULTS/runs.txt" || true; }  # rows PART A B
stat() { rows "$1" "$2" "$3" | field "$4" | median; }       # stat PART A B FIELD
sum() { rows "$1" "$2" "$3" | field "$4" | awk '{s += $1} END {print s + 0}'; }

# read_table PART AUTH_MODES TRANSPORTS — rows per auth mode; the first transport is the
# reference of the others: the ratio of the medians, the ratio within each repetition (the two
# runs next to each other) and their median. The verdict takes the lower of the two medians:
# on a busy machine the load drifts between repetitions, and either can flatter.
read_table() {
  local part=$1 auths=$2 transports=$3 auth transport plain r pairs errors ref
  ref=${transports%% *}
  echo "| auth | transport | req/s (median) | p50 ms | p99 ms | errors + non-2xx |" \
       "vs $ref (ratio of medians) | per repetition | median of those | target | verdict |"
  echo "|---|---|---:|---:|---:|---:|---:|---|---:|---|---|"
  for auth in $auths; do
    plain=$(stat "$part" "$auth" "$ref" rps)
    for transport in $transports; do
      [ -n "$(rows "$part" "$auth" "$transport")" ] || continue
      pairs=$(for r in $(seq 1 "$REPS"); do
                a=$(grep "^$part $auth $ref $r " "$RESULTS/runs.txt" | field rps)
                b=$(grep "^$part $auth $transport $r " "$RESULTS/runs.txt" | field rps)
                [ -n "$a" ] && [ -n "$b" ] &&
                  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f ", (a > 0 ? b / a : 0) }'
              done)
      errors=$(( $(sum "$part" "$auth" "$transport" errors) + $(sum "$part" "$auth" "$transport" non2xx) ))
      awk -v au="$auth" -v t="$transport" -v ref="$ref" -v r="$(stat "$part" "$auth" "$transport" rps)" \
          -v a="$(stat "$part" "$auth" "$transport" p50_ms)" \
          -v b="$(stat "$part" "$auth" "$transport" p99_ms)" -v e="$errors" \
          -v p="$plain" -v pr="$pairs" -v tr="$READ_TARGET" 'BEGIN {
        if (t == ref) {
          printf "| %s | %s | %.0f | %.2f | %.2f | %d | 1.00 (reference) | — | — | — | — |\n", au, t, r, a, b, e
        } else {
          ratio = p > 0 ? r / p : 0
          sub(/ $/, "", pr)
          n = split(pr, v, " ")
          for (i = 1; i <= n; i++)  # sort the ratios (few: insertion sort)
            for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
          m = n == 0 ? 0 : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
          low = m < ratio ? m : ratio
          printf "| %s | %s | %.0f | %.2f | %.2f | %d | %.2f | %s | %.2f | ≥ %.2f | %s |\n", au, t, r,
                 a, b, e, ratio, pr, m, tr, (low >= tr ? "pass" : "FAIL")
        }
      }'
    done
  done
}

{
  cat "$RESULTS/header.md"
  if [[ " $PARTS " == *" read "* ]]; then
    echo
    echo "## Keep-alive reads with wrk, HTTPS vs plain HTTP ($CONNECTIONS connections, $THREADS wrk threads)"
    echo
    read_table read "$AUTH_MODES" "http https"
  fi
  if [[ " $PARTS " == *" mtls "* ]]; then
    echo
    echo "## Keep-alive reads with acp-bench-https-load, auth smart: mutual TLS ($CONNECTIONS connections and threads)"
    echo
    echo "https: no client certificate (optional); mtls: the client's certificate, required."
    echo
    read_table client smart "http https mtls"
  fi
  if [[ " $PARTS " == *" token "* ]]; then
    echo
    echo "## POST /token: client_credentials, a fresh private_key_jwt assertion each ($TOKEN_CONNECTIONS connections)"
    echo
    echo "| assertion | transport | tokens/s (200s, median) | p50 ms | p99 ms | answers not 200 |" \
         "exhausted | socket errors | assertions signed per run |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for alg in $TOKEN_ALGS; do
      for transport in $TOKEN_TRANSPORTS; do
        [ -n "$(rows token "$alg" "$transport")" ] || continue
        awk -v al="$alg" -v t="$transport" -v r="$(stat token "$alg" "$transport" ok_rps)" \
            -v a="$(stat token "$alg" "$transport" p50_ms)" \
            -v b="$(stat token "$alg" "$transport" p99_ms)" \
            -v n="$(sum token "$alg" "$transport" non200)" \
            -v x="$(sum token "$alg" "$transport" exhausted)" \
            -v e="$(sum token "$alg" "$transport" errors)" \
            -v f="$(stat token "$alg" "$transport" forms)" 'BEGIN {
          printf "| %s | %s | %.0f | %.2f | %.2f | %d | %d | %d | %d |\n", al, t, r, a, b, n, x, e, f }'
      done
    done
  fi
} >"$RESULTS/table.md"

echo
cat "$RESULTS/table.md"
echo
log "raw wrk output, the gateways' logs and this table: $RESULTS"
