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
    pg_user=$(id -un)
  fi
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/itsmkit-pg.XXXXXX")
  chmod 0755 "$pg_dir"
  mkdir -p "$pg_dir/data" "$pg_dir/sock"
  [[ $(id -u) -eq 0 ]] && chown -R "$pg_user" "$pg_dir"
  if ! pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1; then
    pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale >"$pg_dir/initdb.log" 2>&1 || {
      pg_log "initdb failed:"; cat "$pg_dir/initdb.log" >&2
      return 1
    }
  fi
  local port
  port=$(pg_free_port) || { pg_log "no free port"; return 1; }
  # Loopback only; fsync off because the cluster is thrown away (durability
  # is tested by killing backends, not the machine). max_connections is
  # high enough for parallel test packages, each with its own pool.
  if ! pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir/sock -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
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
  if [[ -n "$pg_dir" && -d "$pg_dir" ]]; then
    if [[ -f "$pg_dir/data/postmaster.pid" ]]; then
      pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$pg_dir"
  fi
  pg_dir=""
}
