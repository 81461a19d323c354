# tests/lib/proc.sh -- sourced after env.sh by the tests that run ewc-etl in
# the background (daemon, signals, workers, backfill): start it, wait for
# things with bounded timeouts, stop it by PID, listen on a notify socket.
#
#   bg_etl NAME ARGS...     start "$EWC_ETL -c $T/pipeline.yaml ARGS" in the
#                           background; stdout in $T/NAME.out, stderr in
#                           $T/NAME.err; its PID in BG_PID.  Every PID
#                           started so is killed (SIGKILL, with its child
#                           processes) at exit if still alive.
#   bg_etl_raw NAME ARGS... the same without -c
#   bg_wait PID SECONDS     wait at most SECONDS for PID to exit: BG_RC is
#                           its exit status, or "timeout" (it still runs);
#                           BG_SECS the seconds waited (e.g. 1.23)
#   bg_signal_wait SIG PID SECONDS
#                           send SIG to PID, then bg_wait (BG_SECS counts
#                           from the signal)
#   strip_log_prefix        filter: log lines without their time and level
#   bg_kill PID             SIGKILL PID and its child processes, reap it
#   bg_children PID         the PIDs whose parent is PID
#   bg_sanitizer NAME       fails a test if $T/NAME.err has a sanitizer report
#   wait_until SECONDS CMD...
#                           run CMD every 0.1 s until it succeeds (0) or
#                           SECONDS pass (1)
#   now_s                   seconds since the epoch, with microseconds
#   notify_start            listen on $T/notify.sock (tests/lib/notifyd.py);
#                           exports NOTIFY_SOCKET; what arrives goes to
#                           $T/notify.log, one "KEY=value" a line
#   notify_stop             stop that listener (by its PID)
#   notify_has LINE         whether LINE arrived (exact line)
#   notify_after FIRST THEN whether a line THEN arrived after a line FIRST
#                           (the last FIRST)

PROC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BG_PIDS=()
BG_PID=
BG_RC=
BG_SECS=
NOTIFY_PID=

now_s() {
    echo "$EPOCHREALTIME"
}

# The children of a process, from /proc (no pkill: only what we started).
bg_children() {
    local stat pid rest ppid
    for stat in /proc/[0-9]*/stat; do
        read -r pid rest 2>/dev/null <"$stat" || continue
        rest=${rest##*) }
        read -r _ ppid _ <<<"$rest"
        if [ "$ppid" = "$1" ]; then
            echo "$pid"
        fi
    done
}

# Whether PID runs (a zombie does not count).
bg_alive() {
    local st
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}

bg_etl_raw() {
    local name=$1
    shift
    "$EWC_ETL" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

bg_etl() {
    local name=$1
    shift
    bg_etl_raw "$name" -c "$T/pipeline.yaml" "$@"
}

bg_wait() {
    local pid=$1 secs=$2 t0=${BG_T0:-} deadline
    [ -n "$t0" ] || t0=$(now_s)
    deadline=$(awk -v a="$t0" -v b="$secs" 'BEGIN { printf "%.6f", a + b }')
    while bg_alive "$pid"; do
        if awk -v n="$(now_s)" -v d="$deadline" 'BEGIN { exit !(n >= d) }'; then
            BG_RC=timeout
            BG_SECS=$secs
            return 0
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
    BG_RC=$?
    BG_SECS=$(awk -v a="$t0" -v n="$(now_s)" 'BEGIN { printf "%.2f", n - a }')
    return 0
}

bg_signal_wait() {
    local BG_T0
    BG_T0=$(now_s)
    kill "-$1" "$2"
    bg_wait "$2" "$3"
}

# Log lines without the "2025-01-01 12:00:00.000 INFO: " of a non-terminal.
strip_log_prefix() {
    sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [A-Z]+: //'
}

bg_kill() {
    local pid=$1 c
    for c in $(bg_children "$pid"); do
        kill -KILL "$c" 2>/dev/null
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

bg_sanitizer() {
    if [[ $(cat "$T/$1.err" 2>/dev/null) =~ $SANITIZER_RE ]]; then
        fail "no sanitizer report from background ewc-etl ($1)"
        diag "$(head -n 40 "$T/$1.err")"
    fi
    return 0
}

wait_until() {
    local secs=$1 i n
    shift
    n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
    for ((i = 0; i < n; i++)); do
        if "$@"; then
            return 0
        fi
        sleep 0.1
    done
    "$@"
}

notify_start() {
    local py=${PYTHON:-python3}
    rm -f "$T/notify.log" "$T/notify.sock"
    "$py" "$PROC_LIB_DIR/notifyd.py" "$T/notify.sock" "$T/notify.log" \
        2>"$T/notifyd.err" &
    NOTIFY_PID=$!
    if ! wait_until 10 test -e "$T/notify.log"; then
        diag "notifyd.py did not start:" "$(cat "$T/notifyd.err")"
        return 1
    fi
    export NOTIFY_SOCKET=$T/notify.sock
}

notify_stop() {
    if [ -n "$NOTIFY_PID" ]; then
        kill -TERM "$NOTIFY_PID" 2>/dev/null
        bg_wait "$NOTIFY_PID" 5
        [ "$BG_RC" = timeout ] && bg_kill "$NOTIFY_PID"
        NOTIFY_PID=
    fi
    unset NOTIFY_SOCKET
    return 0
}

notify_has() {
    grep -qxF -- "$1" "$T/notify.log" 2>/dev/null
}

notify_after() {
    awk -v a="$1" -v b="$2" '$0 == a { seen = NR } $0 == b && seen { ok = 1; last = NR }
        END { exit !(ok && last > seen) }' "$T/notify.log" 2>/dev/null
}

# write_pipeline_ops [--name P] [--out FILE] [--set 'KEY: VALUE']...
#                    [--fetch 'KEY: VALUE']... [--listen ADDR] URL...
# Like env.sh's write_pipeline (fetch -> parse -> normalize -> validate ->
# load), plus pipeline keys (--set, one line each: schedule, timezone,
# catchup, workers, ...) and keys of the fetch stage (--fetch: years, vars).
# URLs may hold {year} and {var} templates.  Writes $T/pipeline.yaml unless
# --out says where.  The daemon's HTTP server listens on --listen's
# address, by default 127.0.0.1:0 (any free port: daemons of test files
# that run at once must not meet on the default port); --listen '' leaves
# the key out (the default address).
write_pipeline_ops() {
    local name=indicators out=$T/pipeline.yaml url urls='' sets='' fetch=''
    local listen=127.0.0.1:0 http=''
    while [ $# -gt 0 ]; do
        case $1 in
        --name) name=$2; shift 2 ;;
        --listen) listen=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --set) sets="$sets    $2"$'\n'; shift 2 ;;
        --fetch) fetch="$fetch, $2"; shift 2 ;;
        *) break ;;
        esac
    done
    for url in "$@"; do
        urls="$urls${urls:+, }\"$url\""
    done
    if [ -n "$listen" ]; then
        http="http: { listen: \"$listen\" }"
    fi
    cat >"$out" <<EOF
catalog: $REPO/config/catalog
spool: \${EWC_SPOOL}
$http
pipelines:
  $name:
$sets    stages:
      - { name: fetch, kind: http_fetch, urls: [$urls],
          retries: 1, backoff_ms: 100$fetch }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize],
          max_reject_ratio: 0.3 }
      - { name: load, kind: pg_load, needs: [validate] }
EOF
}

proc_cleanup() {
    local rc=$? pid
    for pid in "${BG_PIDS[@]}"; do
        if bg_alive "$pid"; then
            bg_kill "$pid"
        fi
    done
    notify_stop
    (exit "$rc")
    env_cleanup
}
trap proc_cleanup EXIT
