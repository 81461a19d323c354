# tests/lib/http.sh -- sourced: start and stop the loopback HTTP server
# (tests/lib/httpd.py) that serves indicator files to ewc-etl.
#
#   http_start ROOT [SCRIPT [LOG]]
#       serve directory ROOT on 127.0.0.1:<ephemeral>; SCRIPT is the JSON
#       file of canned responses (default $HTTP_STATE/script.json, which need
#       not exist), LOG the request log (default $HTTP_STATE/requests.log).
#       Exports EWC_HTTP_PORT, EWC_SOURCE_URL=http://127.0.0.1:PORT,
#       HTTP_SCRIPT, HTTP_LOG; records the server's PID in HTTP_PID.
#       HTTP_PORT=N asks for port N instead of any free one (the demo keeps
#       its URLs stable across runs that way); it fails if N is taken.
#   http_stop
#       kill that PID (only that one) and wait for it.  Safe to call twice.
#   http_log_lines [PATH]
#       the request log as "METHOD PATH STATUS INM" lines (for assertions).

HTTP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HTTP_PID=
HTTP_STATE=

http_start() {
    local root=${1:?http_start: ROOT}
    local py=${PYTHON:-python3}
    if [ -n "$HTTP_PID" ]; then
        echo "http_start: already running (pid $HTTP_PID)" >&2
        return 1
    fi
    HTTP_STATE=$(mktemp -d "${TMPDIR:-/tmp}/ewc-http.XXXXXX") || return 1
    HTTP_SCRIPT=${2:-$HTTP_STATE/script.json}
    HTTP_LOG=${3:-$HTTP_STATE/requests.log}
    : >"$HTTP_LOG"
    "$py" "$HTTP_LIB_DIR/httpd.py" "$HTTP_STATE/port" --root "$root" \
        --script "$HTTP_SCRIPT" --log "$HTTP_LOG" --port "${HTTP_PORT:-0}" \
        2>"$HTTP_STATE/stderr" &
    HTTP_PID=$!
    local i
    for i in $(seq 1 100); do
        if [ -s "$HTTP_STATE/port" ]; then
            break
        fi
        if ! kill -0 "$HTTP_PID" 2>/dev/null; then
            echo "http_start: httpd.py exited:" >&2
            cat "$HTTP_STATE/stderr" >&2
            wait "$HTTP_PID" 2>/dev/null
            HTTP_PID=
            rm -rf "$HTTP_STATE"
            HTTP_STATE=
            return 1
        fi
        sleep 0.05
    done
    if [ ! -s "$HTTP_STATE/port" ]; then
        echo "http_start: no port file after 5 s" >&2
        http_stop
        return 1
    fi
    EWC_HTTP_PORT=$(cat "$HTTP_STATE/port")
    EWC_SOURCE_URL=http://127.0.0.1:$EWC_HTTP_PORT
    export EWC_HTTP_PORT EWC_SOURCE_URL HTTP_SCRIPT HTTP_LOG
}

http_stop() {
    if [ -n "$HTTP_PID" ]; then
        kill -TERM "$HTTP_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do
            kill -0 "$HTTP_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$HTTP_PID" 2>/dev/null
        wait "$HTTP_PID" 2>/dev/null
        HTTP_PID=
    fi
    if [ -n "$HTTP_STATE" ]; then
        rm -rf "$HTTP_STATE"
        HTTP_STATE=
    fi
    return 0
}

# Print the request log compactly, optionally only for one path:
#   GET /a.csv 304 "sha1..."
http_log_lines() {
    local py=${PYTHON:-python3}
    "$py" - "$HTTP_LOG" "${1:-}" <<'PY'
import json, sys
log, only = sys.argv[1], sys.argv[2]
for line in open(log, encoding="utf-8"):
    r = json.loads(line)
    if only and r["path"] != only:
        continue
    print(r["method"], r["path"], r["status"], r["if_none_match"] or "-")
PY
}
