#!/usr/bin/env bash
# Checks of scripts/lib/postgres.sh that need no server: pg_start must stop
# at the first failed step (it runs where set -e is off) and must never
# work outside the directory it made; pg_make_dir must fall back to /tmp
# when $TMPDIR is unusable. Run by scripts/test.
set -uo pipefail
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postgres.sh
fails=0
check() { # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# 1. mktemp fails everywhere: pg_start returns non-zero and runs nothing
# after it (the old script went on to mkdir -p /data and initdb -D /data).
(
  # shellcheck source=postgres.sh
  source "$lib"
  calls=""
  pg_find_bin() { pg_bin=/nonexistent/bin; }
  mktemp() { return 1; }
  pg_as() { calls+=" $*"; }
  mkdir() { calls+=" mkdir $*"; }
  chown() { calls+=" chown $*"; }
  id() { if [[ "${1:-}" == -u && $# -eq 1 ]]; then echo 1000; else echo tester; fi; }
  if pg_start 2>/dev/null; then exit 1; fi
  [[ -z "$calls" && -z "$pg_dir" ]]
)
check "pg_start stops when no directory can be made" test $? -eq 0

# 2. TMPDIR that the cluster's owner cannot reach: fall back to /tmp.
if [[ $(id -u) -eq 0 ]] && id -u postgres >/dev/null 2>&1; then
  shut=$(command mktemp -d /tmp/itsmkit-shut.XXXXXX)
  chmod 0700 "$shut"
  (
    # shellcheck source=postgres.sh
    source "$lib"
    pg_user=postgres
    TMPDIR=$shut pg_make_dir 2>/dev/null || exit 1
    trap 'rm -rf -- "$pg_dir"' EXIT
    [[ "$pg_dir" == /tmp/itsmkit-pg.* ]] && runuser -u postgres -- test -w "$pg_dir"
  )
  check "pg_make_dir falls back to /tmp when TMPDIR is shut" test $? -eq 0
  rm -rf -- "$shut"
else
  echo "skip pg_make_dir fallback (needs root and a postgres user)"
fi

# 3. pg_stop removes only a directory pg_make_dir made.
(
  # shellcheck source=postgres.sh
  source "$lib"
  keep=$(command mktemp -d /tmp/itsmkit-keep.XXXXXX)
  pg_dir=$keep
  pg_stop
  [[ -d "$keep" ]] && rm -rf -- "$keep"
)
check "pg_stop leaves a directory it did not make" test $? -eq 0

exit $((fails > 0))
