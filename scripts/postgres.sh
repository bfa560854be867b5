#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the test suite, from Debian's
# `postgresql` package. Sourced by scripts/test.sh; exports NEWSTAG_TEST_POSTGRES_URL and
# stops the server when the calling shell exits. Runs the server as the `postgres` user.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
    echo "postgres.sh: PostgreSQL is not installed; its tests will skip (or fail under CI=true)" >&2
    return 0
fi
pg_dir=$(mktemp -d /tmp/newstag-pg.XXXXXX)
pg_port=${NEWSTAG_TEST_POSTGRES_PORT:-55432}
chown postgres "$pg_dir"
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "'$pg_bin/initdb' -D '$pg_dir/data' -U postgres --auth=trust -E UTF8 >'$pg_dir/initdb.log' 2>&1"
run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -l '$pg_dir/server.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $pg_port -k '$pg_dir' -c fsync=on\" start >/dev/null"
export NEWSTAG_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
stop_postgres() { run_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1"; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
