#!/bin/bash
# 37-stop-download: SIGTERM to `ewc-etl run` while a download is stalled:
# the server has accepted the connection and sends nothing for 60 s, far
# longer than the test (libcurl alone would wait its 60 s low-speed timeout,
# then retry).  ewc-etl stops within about 2 s of the signal, the run is
# recorded as not ok in the ledger, and nothing partial stays in the spool.
#   A. one SIGTERM
#   B. two SIGTERMs in a row: the same
# The stall is seen, not guessed: the test waits until ewc-etl's connection
# to the server is established.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/hang.csv"
setup_all
hang=$EWC_SOURCE_URL/hang.csv
cat >"$HTTP_SCRIPT" <<'JSON'
{"/hang.csv": {"delay": 60}}
JSON
write_pipeline "$hang"

connected() {     # an established connection to the test server
    [ -n "$(ss -Htn state established "( dport = :$EWC_HTTP_PORT )")" ]
}
spool_tmps() {
    find "$T/spool" -name '.tmp*' | wc -l
}

for part in A B; do
    bg_etl "$part" run
    pid=$BG_PID
    ok "$part: ewc-etl is connected, waiting for the body" -- wait_until 20 connected ||
        diag "$(cat "$T/$part.err")"
    if [ "$part" = B ]; then
        kill -TERM "$pid"
    fi
    bg_signal_wait TERM "$pid" 10
    isnt "$BG_RC" "timeout" "$part: ewc-etl exits after SIGTERM"
    isnt "$BG_RC" "0" "$part: not with exit 0 (exit $BG_RC)"
    ok "$part: within 2 s of the signal (took $BG_SECS s)" -- \
        awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 2) }'
    is "$(q "select status <> 'ok', status <> 'running', finished_at is not null
               from ledger.run order by id desc limit 1")" "t|t|t" \
       "$part: the run is recorded as finished, not ok"
    like "$(cat "$T/$part.err")" "download cancelled" "$part: the log says the download was cancelled"
    is "$(spool_tmps)" "0" "$part: no partial file in the spool"
    bg_sanitizer "$part"
done
is "$(http_count GET /hang.csv)" "0" "the server never answered (both GETs still stalled)"

done_testing
