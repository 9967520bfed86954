# PostgreSQL for the benchmark harness (BENCH_STORE=postgres in bench/run.sh): sourced after
# bench/lib.sh, never run. Needs ROOT, BUILD, WORK, BIN, SEED and the lib.sh functions.
#
# pg_start starts a throw-away PostgreSQL cluster for the run with tests/support/pg_cluster.sh
# in BUILD/bench/pg (unix socket only, trust), with benchmark settings: fsync on
# (PG_FSYNC=on), shared_buffers BENCH_PG_SHARED_BUFFERS (256MB), synchronous_commit on (the
# gateway sets it on every session anyway). pg_stop stops it and removes its data (run.sh's
# EXIT trap calls it). Each store is one database, the gateway's tables in its public schema:
#   acp_empty        the gateway's schema with no rows (acp-bench-corpus of 1 child, truncated)
#   corpus_N_sSEED   the corpus: the cached SQLite corpus's rows copied in (pg_corpus)
#   work_*           working copies: CREATE DATABASE … TEMPLATE corpus_… STRATEGY FILE_COPY
# so a part's writes (the Flag sweep, ingest) never reach the corpus, as with the SQLite copy.

PG_DIR=$BUILD/bench/pg
PG_BASE_URL=

pg_start() {
  log "starting a PostgreSQL cluster in $PG_DIR (fsync on, shared_buffers ${BENCH_PG_SHARED_BUFFERS:-256MB})"
  bash "$ROOT/tests/support/pg_cluster.sh" stop "$PG_DIR" >/dev/null  # an interrupted run's
  PG_BASE_URL=$(PG_FSYNC=on PG_SHARED_BUFFERS=${BENCH_PG_SHARED_BUFFERS:-256MB} \
                bash "$ROOT/tests/support/pg_cluster.sh" start "$PG_DIR") ||
    die "could not start the PostgreSQL cluster (tests/support/pg_cluster.sh)"
}

pg_stop() {
  [ -n "$PG_BASE_URL" ] || return 0
  bash "$ROOT/tests/support/pg_cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  PG_BASE_URL=
}

# pg_url DB — the libpq URI of database DB (pg_cluster.sh's URL names the database postgres).
pg_url() { echo "${PG_BASE_URL/\/\/\/postgres\?/\/\/\/$1?}"; }

# pg_sql DB SQL... — runs SQL in DB (psql, stop at the first error), prints unaligned tuples.
pg_sql() {
  local db=$1
  shift
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -v ON_ERROR_STOP=1 "$(pg_url "$db")" -c "$*"
}

# pg_name TEXT — TEXT as a database name (lower case, [a-z0-9_]).
pg_name() { tr 'A-Z-' 'a-z_' <<<"$1" | tr -cd 'a-z0-9_'; }

pg_drop() { pg_sql postgres "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }
pg_create() { pg_drop "$1"; pg_sql postgres "CREATE DATABASE $1"; }

# pg_clone SRC DST — DST as a copy of SRC (files copied; no session may be on SRC).
pg_clone() {
  pg_drop "$2"
  pg_sql postgres "CREATE DATABASE $2 TEMPLATE $1 STRATEGY FILE_COPY"
}

# pg_tables DB — the gateway's tables in DB, schema_version excluded, one a line.
pg_tables() {
  pg_sql "$1" "SELECT tablename FROM pg_tables WHERE schemaname = 'public'
               AND tablename <> 'schema_version' ORDER BY tablename"
}

# pg_empty_schema — creates acp_empty once: the schema SqlStore's migration makes (one child
# loaded with acp-bench-corpus, then every table emptied; the audit tables, which refuse
# TRUNCATE, must be empty already: the corpus writes no audit).
pg_empty_schema() {
  [ -n "$(pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = 'acp_empty'")" ] && return 0
  pg_create acp_empty
  "$BIN/acp-bench-corpus" --db="$(pg_url acp_empty)" --ids="$WORK/empty.ids" --patients=1 \
    --seed="$SEED" >"$WORK/empty.txt" 2>&1 || { cat "$WORK/empty.txt" >&2; die "acp-bench-corpus on PostgreSQL failed"; }
  local t list=
  for t in $(pg_tables acp_empty); do
    case $t in
      audit_log|audit_patient)
        [ "$(pg_sql acp_empty "SELECT count(*) FROM $t")" = 0 ] || die "acp_empty: $t is not empty" ;;
      *) list+="${list:+, }$t" ;;
    esac
  done
  pg_sql acp_empty "TRUNCATE $list RESTART IDENTITY"
  rm -f "$WORK/empty.ids" "$WORK/empty.txt"
}

# pg_setval DB — every identity column's next value after its table's largest.
pg_setval() {
  local t c
  while IFS='|' read -r t c; do
    pg_sql "$1" "SELECT setval(pg_get_serial_sequence('$t', '$c'), coalesce(max($c), 0) + 1, false) FROM $t" >/dev/null
  done < <(pg_sql "$1" "SELECT table_name, column_name FROM information_schema.columns
                        WHERE table_schema = 'public' AND is_identity = 'YES'")
}

# pg_corpus SQLITE_DB PGDB — PGDB (new) with every row of the SQLite corpus: from acp_empty,
# each table exported with sqlite3 as CSV (NULL as \N, BLOBs as bytea hex, REALs with 17
# digits) and loaded with COPY … FROM STDIN naming the columns; then the identity sequences,
# VACUUM ANALYZE (statistics and the visibility map, as a long-running database has), and a
# row count check of every table. Sets PG_CORPUS_SECONDS.
pg_corpus() {
  local src=$1 db=$2 t0 t cols sel name type c n m
  t0=$EPOCHREALTIME
  pg_empty_schema
  pg_clone acp_empty "$db"
  local pgtables
  pgtables=$(pg_tables "$db")
  # resources first: the index tables and conditional_keys reference it.
  for t in $(sqlite3 "$src" "SELECT name FROM sqlite_master WHERE type = 'table'
                             AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'
                             ORDER BY name <> 'resources', name"); do
    grep -qx "$t" <<<"$pgtables" || die "table $t of the SQLite corpus is not in the PostgreSQL schema"
    cols= sel=
    while IFS='|' read -r name type; do
      case ${type^^} in
        BLOB) c="'\\x' || hex($name)" ;;
        REAL) c="printf('%.17g', $name)" ;;
        *) c=$name ;;
      esac
      cols+="${cols:+, }$name"
      sel+="${sel:+, }$c"
    done < <(sqlite3 "$src" "SELECT name, type FROM pragma_table_info('$t')")
    sqlite3 -bail -csv -nullvalue '\N' "$src" "SELECT $sel FROM $t" |
      PGOPTIONS='-c synchronous_commit=off' psql -X -q -v ON_ERROR_STOP=1 "$(pg_url "$db")" \
        -c "COPY $t($cols) FROM STDIN WITH (FORMAT csv, NULL '\\N')" ||
      die "copying table $t into PostgreSQL failed"
  done
  pg_setval "$db"
  pg_sql "$db" "VACUUM ANALYZE"
  for t in $(pg_tables "$db"); do
    n=$(sqlite3 "$src" "SELECT count(*) FROM $t")
    m=$(pg_sql "$db" "SELECT count(*) FROM $t")
    [ "$n" = "$m" ] || die "table $t: $n rows in SQLite, $m in PostgreSQL"
  done
  PG_CORPUS_SECONDS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

# pg_copy_ref SRCDB DSTDB OUT — the bulk reference: every table of SRCDB (loaded by the
# gateway) exported as CSV (not timed), then loaded into DSTDB (new, from acp_empty) with
# COPY … FROM STDIN, all tables in ONE transaction through one psql session (timed, commit
# included, synchronous_commit on). Writes OUT's BENCH line like acp-bench-raw-insert's:
#   BENCH tables=N rows=R units=U transactions=1 seconds=S units_per_s=X rows_per_s=Y
# (units: the versions rows).
pg_copy_ref() {
  local src=$1 dst=$2 out=$3 t rows=0 n tables=0 units script t0 t1
  pg_empty_schema
  pg_clone acp_empty "$dst"
  mkdir -p "$WORK/pgcopy"
  script=$WORK/pgcopy/load.sql
  echo "BEGIN;" >"$script"
  # Parents first: resources before the tables whose rows reference it.
  for t in resources $(pg_tables "$src" | grep -vx resources); do
    n=$(pg_sql "$src" "SELECT count(*) FROM $t")
    [ "$n" = 0 ] && continue
    pg_sql "$src" "\\copy $t TO '$WORK/pgcopy/$t.csv' WITH (FORMAT csv)" >/dev/null
    echo "\\copy $t FROM '$WORK/pgcopy/$t.csv' WITH (FORMAT csv)" >>"$script"
    rows=$((rows + n))
    tables=$((tables + 1))
    [ "$t" = versions ] && units=$n
  done
  echo "COMMIT;" >>"$script"
  t0=$EPOCHREALTIME
  psql -X -q -v ON_ERROR_STOP=1 "$(pg_url "$dst")" -f "$script" >"$out.log" 2>&1 ||
    { cat "$out.log" >&2; die "the PostgreSQL COPY reference failed"; }
  t1=$EPOCHREALTIME
  rm -rf "$WORK/pgcopy"
  awk -v a="$t0" -v b="$t1" -v n="$tables" -v r="$rows" -v u="${units:-0}" 'BEGIN {
    s = b - a
    printf "BENCH tables=%d rows=%d units=%d transactions=1 seconds=%.3f units_per_s=%.1f rows_per_s=%.1f\n", n, r, u, s, u / s, r / s }' >"$out"
  cat "$out"
}
