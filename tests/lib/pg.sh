# tests/lib/pg.sh -- sourced: a throwaway PostgreSQL cluster for the tests,
# the demo and the bench (as postgres's PostgreSQL::Test::Cluster).
#
#   pg_start [DIR]
#       Without DIR: initdb a new cluster in a fresh temp dir; pg_stop will
#       remove it.  With DIR (the demo's .demo/pg): reuse the cluster there
#       if it has one (initdb otherwise), keep it on pg_stop.  Starts the
#       server with no TCP listener, its unix socket in the cluster's dir, a
#       free port; creates database $PG_DBNAME (default "ewc") if missing.
#       Exports PGHOST PGPORT PGUSER PGDATABASE; sets PG_DIR (the cluster's
#       dir), PG_DATA (its data dir), PG_PID (the postmaster's PID).
#   pg_stop
#       Stop that server (pg_ctl stop -m fast on its data dir, then, if it
#       is still alive, SIGQUIT to the recorded postmaster PID), remove a
#       temp cluster's dir.  Safe to call twice or when nothing was started.
#   pg_psql ARGS...    psql -X -v ON_ERROR_STOP=1 against it.
#
# As root, initdb/pg_ctl run as the "postgres" user (PostgreSQL refuses
# root); otherwise as the current user.  Clients connect as PGUSER=postgres
# (trust authentication on the socket).

PG_BINDIR=${PG_BINDIR:-}
PG_DIR=
PG_DATA=
PG_PID=
PG_TEMP=

pg_bindir() {
    if [ -n "$PG_BINDIR" ]; then
        echo "$PG_BINDIR"
        return 0
    fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        echo "pg.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin" \
             "(run tests/install-deps)" >&2
        return 1
    fi
    echo "$d"
}

# Run a server command as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local dir=${1:-} bin port i sock
    if [ -n "$PG_DATA" ]; then
        echo "pg_start: a cluster is already running ($PG_DATA)" >&2
        return 1
    fi
    bin=$(pg_bindir) || return 1
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "pg_start: no 'postgres' user (install postgresql-15)" >&2
        return 1
    fi

    if [ -z "$dir" ]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/ewc-pg.XXXXXX") || return 1
        PG_TEMP=1
    else
        mkdir -p "$dir" || return 1
        dir=$(cd "$dir" && pwd)
        PG_TEMP=
    fi
    PG_DIR=$dir
    PG_DATA=$dir/data
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir" || return 1
        chmod 0700 "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg_start: user postgres cannot write $dir" \
                 "(is a parent directory closed to it?)" >&2
            pg_reset_vars
            return 1
        fi
    fi
    # The socket path must fit in sun_path (107 bytes).
    sock=$dir
    if [ ${#sock} -gt 80 ]; then
        echo "pg_start: path too long for a unix socket: $sock" >&2
        pg_reset_vars
        return 1
    fi

    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
        if ! pg_as_owner "$bin/initdb" -D "$PG_DATA" -A trust -U postgres \
                --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
            echo "pg_start: initdb failed:" >&2
            cat "$dir/initdb.log" >&2
            pg_stop
            return 1
        fi
        pg_as_owner tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF
# ewc-etl tests
listen_addresses = ''
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 128MB
max_wal_size = 2GB
client_connection_check_interval = 200ms
log_min_messages = warning
log_min_error_statement = error
EOF
    fi

    # Already running (the demo after an interrupted run)? Reuse it.
    if pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
        port=$(sed -n 4p "$PG_DATA/postmaster.pid")
    else
        for i in $(seq 1 50); do
            port=$((20000 + RANDOM % 40001))
            [ -e "$sock/.s.PGSQL.$port" ] || break
        done
        if ! pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$dir/server.log" \
                -o "-p $port" -w -t 60 start >"$dir/pg_ctl.log" 2>&1; then
            echo "pg_start: pg_ctl start failed:" >&2
            cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null
            pg_stop
            return 1
        fi
        PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
    fi

    export PGHOST=$sock PGPORT=$port PGUSER=postgres
    export PGDATABASE=${PG_DBNAME:-ewc}
    unset PGPASSWORD PGSERVICE PGSSLMODE PGOPTIONS
    if [ "$(psql -XAtq -d postgres -c \
            "select count(*) from pg_database where datname = '$PGDATABASE'")" != 1 ]; then
        if ! psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
                -c "create database \"$PGDATABASE\"" >/dev/null; then
            echo "pg_start: could not create database $PGDATABASE" >&2
            pg_stop
            return 1
        fi
    fi
    return 0
}

pg_reset_vars() {
    if [ -n "$PG_TEMP" ] && [ -n "$PG_DIR" ]; then
        rm -rf "$PG_DIR"
    fi
    PG_DIR=
    PG_DATA=
    PG_PID=
    PG_TEMP=
}

pg_stop() {
    local bin i
    if [ -n "$PG_DATA" ] && [ -e "$PG_DATA/postmaster.pid" ]; then
        bin=$(pg_bindir)
        pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop \
            >/dev/null 2>&1
    fi
    if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
        # pg_ctl could not stop it: immediate shutdown of that postmaster.
        kill -QUIT "$PG_PID" 2>/dev/null
        for i in $(seq 1 100); do
            kill -0 "$PG_PID" 2>/dev/null || break
            sleep 0.1
        done
    fi
    pg_reset_vars
    return 0
}

pg_psql() {
    psql -X -v ON_ERROR_STOP=1 "$@"
}
