#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the test suite (docs/testing.md).
#
#   pg_cluster.sh start DIR   initdb + start a cluster for DIR (a running one is kept); prints its URL
#   pg_cluster.sh stop DIR    stops it (fast shutdown) and removes its data; nothing running is fine
#   pg_cluster.sh url DIR     prints the libpq URL of its superuser database; fails if not started
#
# The cluster listens on a unix socket only (no TCP) and trusts every local connection. It runs
# with fsync off: it is thrown away after the run, and no test crashes the machine under it, so
# flushing its files would only make the suite slower (about a quarter of the PostgreSQL run);
# the gateway's own durability setting, synchronous_commit=on on every session, is what the
# tests check (tests/store/pg_connection_test.cc). Production keeps fsync on
# (docs/operations.md). Two knobs for other users of the script (the benchmark, bench/pg.sh):
# PG_FSYNC=on runs it with fsync on (default off) and PG_SHARED_BUFFERS sets shared_buffers
# (default 16MB); both are read by `start` and apply to a newly created cluster only.
# Its files live in
# DIR/cluster, or, when the server's user cannot reach DIR or the socket's path would be too long,
# in a mktemp directory under /tmp whose path is written to DIR/location. The URL is written to
# DIR/url; the last stopped cluster's log is kept as DIR/postgres.log.
#
# initdb and postgres refuse to run as root: as root the server runs as the `postgres` system user
# (created by Debian's postgresql package) through runuser; otherwise as the current user. The
# superuser role is `postgres` either way. The newest /usr/lib/postgresql/<version>/bin is used
# unless PG_BINDIR names another.
set -euo pipefail

usage() { echo "usage: $0 start|stop|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
case "$cmd" in start|stop|url) ;; *) usage ;; esac

mkdir -p "$2"
DIR=$(cd "$2" && pwd -P)
PORT=5432  # the socket lives in a private directory, so the default port never clashes

die() { echo "pg_cluster: $*" >&2; exit 1; }
case "${PG_FSYNC:-off}" in on|off) ;; *) die "PG_FSYNC must be on or off" ;; esac
[[ "${PG_SHARED_BUFFERS:-16MB}" =~ ^[0-9]+(kB|MB|GB)?$ ]] || die "PG_SHARED_BUFFERS: e.g. 256MB"

if [ -z "${PG_BINDIR:-}" ]; then
  PG_BINDIR=$(for d in /usr/lib/postgresql/*/bin; do
                [ -x "$d/initdb" ] && echo "$d"; done | sort -V | tail -n 1)
  if [ -z "$PG_BINDIR" ] && command -v initdb >/dev/null 2>&1; then
    PG_BINDIR=$(dirname "$(command -v initdb)")
  fi
fi
[ -x "${PG_BINDIR:-/nonexistent}/initdb" ] ||
  die "no PostgreSQL server binaries (initdb) found: install the Debian package postgresql (make deps)"

if [ "$(id -u)" = 0 ]; then
  SERVER_USER=postgres
  id -u "$SERVER_USER" >/dev/null 2>&1 ||
    die "running as root, but there is no '$SERVER_USER' user to run the server as (install postgresql)"
  as_server() { (cd / && runuser -u "$SERVER_USER" -- "$@" 9>&-); }
else
  SERVER_USER=$(id -un)
  as_server() { (cd / && "$@" 9>&-); }
fi

# One start or stop at a time per DIR. (as_server closes fd 9: a postmaster that inherited it
# would hold the lock for its lifetime.)
exec 9>"$DIR/.lock"
flock 9

# The cluster directory of a started (or stale) cluster, or nothing.
cluster_dir() {
  if [ -f "$DIR/location" ]; then cat "$DIR/location"
  elif [ -d "$DIR/cluster" ]; then echo "$DIR/cluster"
  fi
}

# Whether the postmaster of cluster dir $1 is alive: its pid names a live (not zombie) process
# called postgres. (An unreaped, killed postmaster still passes `pg_ctl status`.)
running() {
  local pid st comm
  [ -n "$1" ] && [ -f "$1/data/postmaster.pid" ] || return 1
  pid=$(head -n 1 "$1/data/postmaster.pid")
  read -r st comm < <(ps -o stat=,comm= -p "$pid" 2>/dev/null) || return 1
  [ "$comm" = postgres ] && [ "${st:0:1}" != Z ]
}

# Whether it accepts connections.
ready() { running "$1" && "$PG_BINDIR/pg_isready" -q -h "$1" -p "$PORT" -t 10 9>&-; }

urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in [A-Za-z0-9/._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

url_of() { echo "postgresql:///postgres?host=$(urlencode "$1")&port=$PORT&user=postgres"; }

stop_cluster() {
  local cl
  cl=$(cluster_dir)
  if [ -n "$cl" ]; then
    if running "$cl"; then
      as_server "$PG_BINDIR/pg_ctl" stop -D "$cl/data" -m fast -w -t 60 >/dev/null ||
        as_server "$PG_BINDIR/pg_ctl" stop -D "$cl/data" -m immediate -w -t 30 >/dev/null ||
        die "could not stop the server of $cl"
    fi
    [ -f "$cl/postgres.log" ] && cp "$cl/postgres.log" "$DIR/postgres.log"
    rm -rf "$cl"
  fi
  rm -f "$DIR/url" "$DIR/location"
}

case "$cmd" in
  url)
    cl=$(cluster_dir)
    ready "$cl" || die "no cluster running for $DIR: run bash $0 start $DIR"
    url_of "$cl"
    ;;

  stop)
    stop_cluster
    ;;

  start)
    cl=$(cluster_dir)
    if ready "$cl"; then
      url_of "$cl" | tee "$DIR/url"
      exit 0
    fi
    stop_cluster  # whatever is left of an earlier, interrupted run

    cl="$DIR/cluster"
    reachable=yes
    if [ "$(id -u)" = 0 ] && ! runuser -u "$SERVER_USER" -- test -x "$DIR"; then
      reachable=no  # e.g. a clone under a 0700 home directory
    fi
    # A unix socket's path is at most 107 bytes: "$cl/.s.PGSQL.$PORT".
    if [ "$reachable" = no ] || [ $(( ${#cl} + 16 )) -gt 107 ]; then
      cl=$(mktemp -d /tmp/acp-pg-XXXXXX)
      echo "$cl" >"$DIR/location"
    else
      mkdir -p "$cl"
    fi
    chmod 700 "$cl"
    [ "$(id -u)" = 0 ] && chown "$SERVER_USER:" "$cl"

    # --no-sync: initdb does not flush the new files (~3 s); the server runs with fsync off too.
    if ! as_server "$PG_BINDIR/initdb" --no-sync -D "$cl/data" -U postgres -E UTF8 --locale=C \
           --auth=trust >"$cl/initdb.log" 2>&1; then
      cat "$cl/initdb.log" >&2
      die "initdb failed"
    fi
    q=${cl//\'/\'\'}
    cat >>"$cl/data/postgresql.conf" <<EOF

# pg_cluster.sh: a throw-away test cluster
listen_addresses = ''
unix_socket_directories = '$q'
port = $PORT
max_connections = 200
shared_buffers = ${PG_SHARED_BUFFERS:-16MB}
fsync = ${PG_FSYNC:-off}
synchronous_commit = on
full_page_writes = on
EOF
    if ! as_server "$PG_BINDIR/pg_ctl" start -D "$cl/data" -l "$cl/postgres.log" -w -t 60 \
           >/dev/null; then
      tail -n 30 "$cl/postgres.log" >&2 || true
      die "the server did not start (log above)"
    fi
    url_of "$cl" | tee "$DIR/url"
    ;;
esac
