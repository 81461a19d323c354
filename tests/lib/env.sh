# tests/lib/env.sh -- sourced first by every tests/integration/*.t: TAP
# helpers, a fresh PostgreSQL cluster, a work dir, cleanup on exit, and
# helpers to write pipeline YAML, run ewc-etl and query the database.
#
#   REPO            the repository root
#   EWC_ETL         the binary under test (make integration sets it)
#   T               this test's temp dir (removed on exit); T/www is served
#   etl ARGS...     run "$EWC_ETL -c $T/pipeline.yaml ARGS", output kept in
#                   ETL_OUT / ETL_ERR, exit status in ETL_RC; never fails
#   etl_raw ARGS... the same without -c
#   q SQL           psql -XAtq, ON_ERROR_STOP; one row per line, '|' between
#   write_pipeline [--ratio R] [--retries N] [--name P] URL...
#                   writes $T/pipeline.yaml: fetch -> parse -> normalize ->
#                   validate -> load, catalog from the repo, spool in $T
#   is_rc EXPECTED NAME   is "$ETL_RC" EXPECTED, showing stderr on mismatch
#
# On a failed assertion the last ewc-etl command's stderr is shown.

set -o pipefail
TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TESTS_LIB/../.." && pwd)
. "$TESTS_LIB/tap.sh"
. "$TESTS_LIB/pg.sh"
. "$TESTS_LIB/http.sh"

EWC_ETL=${EWC_ETL:-$REPO/ewc-etl}
unset EWC_DB EWC_CONFIG
export LC_ALL=C.UTF-8
export PGCONNECT_TIMEOUT=10

T=$(mktemp -d "${TMPDIR:-/tmp}/ewc-t.XXXXXX")
mkdir -p "$T/www" "$T/spool"
export EWC_SPOOL=$T/spool
ETL_OUT=
ETL_ERR=
ETL_RC=
ETL_CMD=

env_cleanup() {
    local rc=$?
    http_stop
    pg_stop
    if [ -n "${KEEP_TMP:-}" ]; then
        echo "# kept $T" >&2
    else
        rm -rf "$T"
    fi
    if [ -z "$TAP_DONE" ] && [ "$rc" -eq 0 ]; then
        rc=255
    fi
    exit "$rc"
}
trap env_cleanup EXIT
trap 'exit 130' INT TERM

show_last_etl() {
    if [ -n "$ETL_CMD" ]; then
        diag "  last command: $ETL_CMD (exit $ETL_RC)"
        if [ -n "$ETL_ERR" ]; then
            diag "  its stderr:" "$(printf '%s\n' "$ETL_ERR" | tail -n 15)"
        fi
    fi
}
TAP_ON_FAIL=show_last_etl

if [ ! -x "$EWC_ETL" ]; then
    bail_out "no ewc-etl binary at $EWC_ETL (make, or set EWC_ETL)"
fi

# Sanitizer builds (make asan): exit statuses that no ewc-etl exit status
# can be mistaken for, and every report is a failed test of its own.
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86}
export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=87}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:exitcode=88}
SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer'

etl_raw() {
    ETL_CMD="ewc-etl $*"
    ETL_OUT=$("$EWC_ETL" "$@" 2>"$T/.stderr")
    ETL_RC=$?
    ETL_ERR=$(cat "$T/.stderr")
    if [[ $ETL_ERR =~ $SANITIZER_RE ]]; then
        fail "no sanitizer report from: $ETL_CMD"
        diag "$(printf '%s\n' "$ETL_ERR" | head -n 40)"
    fi
    return 0
}

etl() {
    etl_raw -c "$T/pipeline.yaml" "$@"
}

is_rc() {
    is "$ETL_RC" "$1" "$2"
}

q() {
    psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# Start the cluster, migrate, serve $T/www.  Bails out when impossible.
setup_all() {
    pg_start || bail_out "could not start PostgreSQL"
    http_start "$T/www" || bail_out "could not start the HTTP server"
    # migrate reads the config (the catalog fills the dimension tables)
    [ -e "$T/pipeline.yaml" ] || write_pipeline "$EWC_SOURCE_URL/none.csv"
    etl migrate
    if [ "$ETL_RC" -ne 0 ]; then
        diag "$ETL_ERR"
        bail_out "ewc-etl migrate failed (exit $ETL_RC)"
    fi
}

write_pipeline() {
    local ratio=0.3 retries=3 name=indicators url urls=
    while [ $# -gt 0 ]; do
        case $1 in
        --ratio) ratio=$2; shift 2 ;;
        --retries) retries=$2; shift 2 ;;
        --name) name=$2; shift 2 ;;
        *) break ;;
        esac
    done
    for url in "$@"; do
        urls="$urls${urls:+, }\"$url\""
    done
    cat >"$T/pipeline.yaml" <<EOF
catalog: $REPO/config/catalog
spool: \${EWC_SPOOL}
pipelines:
  $name:
    stages:
      - { name: fetch, kind: http_fetch, urls: [$urls],
          retries: $retries, backoff_ms: 100 }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize],
          max_reject_ratio: $ratio }
      - { name: load, kind: pg_load, needs: [validate] }
EOF
}

# The observations as sorted text lines (without the file/run columns),
# for exact comparisons:
#   indicator|region|partner|kind|start|end|value|unit|note
obs_dump() {
    q "select indicator, region, coalesce(partner, '-'), period_kind,
              period_start, period_end, trim_scale(value), unit,
              coalesce(note, '-')
         from warehouse.observation ${1:-}" | LC_ALL=C sort
}

# obs_dump of the observations loaded from one URL (its current version).
obs_of() {
    obs_dump "where source_id in (select id from ledger.source
                                   where url = '$1')"
}

# Number of requests in the HTTP log matching METHOD PATH [STATUS].
http_count() {
    http_log_lines "$2" | awk -v m="$1" -v s="${3:-}" \
        '$1 == m && (s == "" || $3 == s) { n++ } END { print n + 0 }'
}

# The ETag httpd.py gives a file.
etag_of() {
    echo "\"$(sha1sum <"$1" | cut -d' ' -f1)\""
}
