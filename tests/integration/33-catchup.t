#!/bin/bash
# 33-catchup: on start the daemon makes up the fires of a pipeline's
# schedule missed since the ledger's latest nightly run (its
# params->>'scheduled_for'), per the pipeline's "catchup" policy.  The
# schedule is "@every 1h" and the daemon's clock starts at a fixed instant
# (EWC_ETL_CLOCK_START): A+30 s, A = 2026-01-01T00:00Z, so no regular fire
# comes during the test; a fake earlier nightly run says the last fire
# served was A-5h, so the fires A-4h .. A were missed.
#   latest           -> one run, for A
#   all, max 3       -> three runs, for A-2h, A-1h, A, oldest first
#   none             -> no run
#   all, no history  -> no run (never ran on a schedule: nothing missed)
# The daemon logs when it has made up a backlog, and that is waited for.
# For the last two, whose backlog is empty, the clock starts 2 s before the
# regular fire A+1h: catch-up runs come before it, so once its run is done
# each pipeline must have that one run only.
# Each daemon is stopped with SIGTERM and must exit 0.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

cat >"$T/www/c.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,结对学校,2021,824,所,
CSV

setup_all
url=$EWC_SOURCE_URL/c.csv

A=1767225600        # 2026-01-01T00:00:00Z

# fake_run PIPELINE: insert an ok nightly run that served A-5h, print its id.
fake_run() {
    q "insert into ledger.run (pipeline, kind, params, status, finished_at)
       values ('$1', 'nightly', '{\"scheduled_for\": $((A - 5 * 3600))}', 'ok', now())
       returning id"
}
# the runs of PIPELINE after the fake one: "scheduled_for status" lines
runs_of() {
    q "select params->>'scheduled_for', status from ledger.run
        where pipeline = '$1' and id > $2 order by id"
}
finished_count() {     # finished_count PIPELINE AFTER N: at least N runs done
    [ "$(q "select count(*) from ledger.run where pipeline = '$1' and id > $2
             and status <> 'running'")" -ge "$3" ]
}
daemon_start() {     # daemon_start NAME START: the daemon on $T/NAME.yaml, its clock
                     # starting at START; READY=1 waited for
    notify_start || bail_out "could not start the notify listener"
    EWC_ETL_CLOCK_START=$2 bg_etl_raw "$1" -c "$T/$1.yaml" daemon
    DAEMON_PID=$BG_PID
    ok "$1: the daemon is ready" -- wait_until 20 notify_has READY=1
}
log_has() {          # log_has NAME TEXT
    grep -qF -- "$2" "$T/$1.err"
}
daemon_stop() {
    bg_signal_wait TERM "$DAEMON_PID" 20
    is "$BG_RC" "0" "$1: SIGTERM: exit 0"
    bg_sanitizer "$1"
    notify_stop
}

## latest: one run, for the latest missed fire
write_pipeline_ops --out "$T/latest.yaml" --name latest \
    --set 'schedule: "@every 1h"' --set 'catchup: latest' "$url"
fake_run latest >"$T/fake"; f=$(cat "$T/fake")
daemon_start latest "$((A + 30))"
ok "latest: the catch-up is made up" -- \
    wait_until 30 log_has latest "[latest] made up 1 missed run"
is "$(runs_of latest "$f")" "$A|ok" \
   "latest: exactly one new nightly run, for the latest missed fire (A)"
is "$(q "select kind from ledger.run where pipeline = 'latest' and id > $f")" "nightly" \
   "latest: of kind nightly"
is "$(grep -F 'catch-up' "$T/latest.err" | strip_log_prefix)" \
   "[latest] catch-up (latest): 1 missed run to make up" "latest: the log says so"
daemon_stop latest

## all, at most 3: the 3 latest missed fires, oldest first
write_pipeline_ops --out "$T/all.yaml" --name all \
    --set 'schedule: "@every 1h"' --set 'catchup: all' --set 'catchup_max: 3' "$url"
fake_run all >"$T/fake"; f=$(cat "$T/fake")
daemon_start all "2026-01-01T00:00:30Z"
ok "all: the catch-up is made up" -- \
    wait_until 40 log_has all "[all] made up 3 missed runs"
is "$(runs_of all "$f")" \
   "$(printf '%s|ok\n' "$((A - 7200))" "$((A - 3600))" "$A")" \
   "all: exactly 3 runs, for A-2h, A-1h, A, oldest first"
is "$(grep -F 'catch-up' "$T/all.err" | strip_log_prefix)" \
   "[all] catch-up (all): 3 missed runs to make up" "all: the log says so"
is "$(q "select string_agg(f.status, ',' order by r.id) from ledger.run r
          join ledger.file f on f.run_id = r.id where r.pipeline = 'all' and r.id > $f")" \
   "loaded,unchanged,unchanged" "all: the first catch-up run loads, the others find it unchanged"
daemon_stop all

## none: no run; all without any earlier nightly run: no run either
write_pipeline_ops --out "$T/none.yaml" --name none \
    --set 'schedule: "@every 1h"' --set 'catchup: none' "$url"
{
    cat "$T/none.yaml"
    write_pipeline_ops --out /dev/stdout --name fresh \
        --set 'schedule: "@every 1h"' --set 'catchup: all' "$url" | sed -n '/^  fresh:$/,$p'
} >"$T/none2.yaml"
mv "$T/none2.yaml" "$T/none.yaml"
fake_run none >"$T/fake"; f=$(cat "$T/fake")
daemon_start none "$((A + 3600 - 2))"
ok "none, fresh: the regular fire A+1h has run" -- wait_until 30 eval \
    'finished_count none "$f" 1 && finished_count fresh 0 1'
is "$(runs_of none "$f")" "$((A + 3600))|ok" "none: no catch-up run, only the regular one"
is "$(runs_of fresh 0)" "$((A + 3600))|ok" \
   "all without an earlier nightly run: no catch-up run, only the regular one"
unlike "$(cat "$T/none.err")" "catch-up" "none: no catch-up in the log"
ok "none: the daemon schedules both pipelines" -- \
    grep -qF "daemon started: 2 scheduled pipelines" "$T/none.err"
daemon_stop none

done_testing
