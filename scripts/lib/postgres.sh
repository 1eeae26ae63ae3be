# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests and benchmarks, sourced by
# scripts/test and scripts/with-postgres.
#
#   pg_start   installs PostgreSQL from Debian's packages when it is missing
#              and we are root, creates a cluster in a temporary directory
#              owned by the postgres user (PostgreSQL refuses to run as
#              root), starts it on a free loopback port, creates the
#              database itsmkit and exports ITSMKIT_POSTGRES_URL. It returns
#              non-zero, with a message, when no server can be had.
#   pg_stop    stops the cluster and removes its directory; safe to call
#              more than once and when pg_start failed half way.

pg_dir=""
pg_bin=""
pg_user=""

pg_log() { printf 'postgres: %s\n' "$*" >&2; }

# pg_find_bin sets pg_bin to the newest PostgreSQL server's bin directory.
pg_find_bin() {
  local d
  pg_bin=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && pg_bin=$d
  done
  if [[ -z "$pg_bin" ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    pg_bin=$(dirname "$(command -v initdb)")
  fi
  [[ -n "$pg_bin" ]]
}

# pg_as runs a command as the cluster's owner.
pg_as() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}

# pg_free_port prints a TCP port on 127.0.0.1 that nothing listens on.
pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# pg_stop_distro_clusters stops the clusters Debian's packages create and
# start on installation (main), which would otherwise keep running, on port
# 5432, after the tests. Only called right after we installed PostgreSQL.
pg_stop_distro_clusters() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  local ver name
  while read -r ver name _; do
    [[ -n "$ver" && -n "$name" ]] || continue
    pg_log "stopping cluster $ver/$name that the package installation started"
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
  done < <(pg_lsclusters -h 2>/dev/null)
}

# pg_make_dir creates pg_dir, a fresh directory the cluster's owner can
# use, under $TMPDIR or else /tmp. A candidate is refused when mktemp
# fails, when the owner cannot reach it (TMPDIR under a mode-700 parent),
# when it holds a quote, or when the server's Unix socket in it would
# exceed the kernel's limit on socket paths (about 107 bytes).
pg_make_dir() {
  local base dir
  pg_dir=""
  for base in "${TMPDIR:-/tmp}" /tmp; do
    dir=$(mktemp -d "$base/itsmkit-pg.XXXXXX" 2>/dev/null) || continue
    if [[ -z "$dir" || ! -d "$dir" ]]; then
      continue
    fi
    # "/sock/.s.PGSQL.65535" is 20 bytes.
    if ((${#dir} + 20 > 107)) || [[ "$dir" == *"'"* ]]; then
      rm -rf -- "$dir"
      continue
    fi
    if ! chmod 0755 "$dir"; then
      rm -rf -- "$dir"
      continue
    fi
    if [[ $(id -u) -eq 0 ]]; then
      if ! chown "$pg_user" "$dir" || ! runuser -u "$pg_user" -- test -x "$dir" -a -w "$dir"; then
        pg_log "$dir is not usable by $pg_user (a parent directory shuts it out?); trying /tmp"
        rm -rf -- "$dir"
        continue
      fi
    fi
    pg_dir=$dir
    return 0
  done
  pg_log "cannot create a directory for the cluster under ${TMPDIR:-/tmp} or /tmp"
  return 1
}

# pg_start runs under `if ! pg_start` in the callers, where set -e is off:
# every step checks its own status, so that nothing runs once one failed
# (above all nothing outside pg_dir).
pg_start() {
  if ! pg_find_bin; then
    if [[ $(id -u) -ne 0 ]]; then
      pg_log "no PostgreSQL server installed and not root to install one; tests that need ITSMKIT_POSTGRES_URL will skip"
      return 1
    fi
    pg_log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2 || {
      pg_log "apt-get install postgresql failed"
      return 1
    }
    pg_stop_distro_clusters
    pg_find_bin || { pg_log "installed, but no initdb under /usr/lib/postgresql/*/bin"; return 1; }
  fi
  if [[ $(id -u) -eq 0 ]]; then
    pg_user=postgres
    if ! id -u "$pg_user" >/dev/null 2>&1; then
      useradd --system --home-dir /var/lib/postgresql --shell /bin/sh "$pg_user" || {
        pg_log "cannot create the postgres user"
        return 1
      }
    fi
  else
    pg_user=$(id -un) || return 1
  fi
  pg_make_dir || return 1
  [[ -n "$pg_dir" && -d "$pg_dir" ]] || { pg_log "no cluster directory"; return 1; }
  pg_as mkdir "$pg_dir/data" "$pg_dir/sock" || { pg_log "cannot create directories in $pg_dir"; return 1; }
  if ! pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1; then
    pg_as rm -rf "$pg_dir/data" || return 1
    pg_as mkdir "$pg_dir/data" || return 1
    pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale >"$pg_dir/initdb.log" 2>&1 || {
      pg_log "initdb failed:"; cat "$pg_dir/initdb.log" >&2
      return 1
    }
  fi
  # Loopback only; fsync off because the cluster is thrown away (durability
  # is tested by killing backends, not the machine). max_connections is
  # high enough for parallel test packages, each with its own pool. The
  # chosen port can be taken between the check and the start: try again on
  # another.
  local port="" attempt started=""
  for attempt in 1 2 3 4 5; do
    port=$(pg_free_port) || { pg_log "no free port"; return 1; }
    if pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$pg_dir/sock' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
      started=1
      break
    fi
    pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    pg_log "the server did not start on port $port (attempt $attempt)"
  done
  if [[ -z "$started" ]]; then
    pg_log "the server did not start:"; cat "$pg_dir/server.log" >&2
    return 1
  fi
  pg_as "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c 'CREATE DATABASE itsmkit' >/dev/null || {
    pg_log "CREATE DATABASE failed"
    return 1
  }
  export ITSMKIT_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/itsmkit?sslmode=disable"
  export ITSMKIT_PG_BIN="$pg_bin"
  pg_log "PostgreSQL $("$pg_bin/postgres" --version | awk "{print \$3}") at $ITSMKIT_POSTGRES_URL (cluster in $pg_dir)"
}

pg_stop() {
  # Only ever a directory pg_make_dir made.
  if [[ -n "$pg_dir" && "$pg_dir" == */itsmkit-pg.* && -d "$pg_dir" ]]; then
    if [[ -f "$pg_dir/data/postmaster.pid" ]]; then
      pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$pg_dir"
  fi
  pg_dir=""
}
