#!/bin/bash
# 35-signals: SIGTERM while a file is being loaded (the database is slow: a
# trigger sleeps 60 s on the row whose note is SLEEP-HERE).
#   A. one SIGTERM: no new file; the file in flight is cancelled after the
#      10 s grace, so ewc-etl exits after about 10 s (well before the 60 s
#      sleep); none of the file's rows in the warehouse, the attempt
#      recorded as a failed file and its task failed (no task outlives its
#      run as pending), the run partial with the reason; the next run loads
#      it whole
#   B. a second SIGTERM cancels at once: exit within about 2 s of it
#   C. --workers 2, both processes in a slow file: SIGTERM to the parent
#      stops the child too; neither file leaves a row behind
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/quick.csv"
# slow_file NAME YEAR: 5 rows, the third one sleeps
slow_file() {
    cat >"$T/www/$1.csv" <<CSV
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,$2,200,家,$1
全国,,引导企业投资,$(($2 - 1)),201,家,$1
全国,,共建产业园区,$2,202,个,SLEEP-HERE
全国,,共建产业园区,$(($2 - 1)),203,个,$1
全国,,互派干部,$2,204,人,$1
CSV
}
slow_file slow 2018
slow_file slow2 2016
slow_file slow3 2014

setup_all
quick=$EWC_SOURCE_URL/quick.csv
slow=$EWC_SOURCE_URL/slow.csv
slow2=$EWC_SOURCE_URL/slow2.csv
slow3=$EWC_SOURCE_URL/slow3.csv

trigger_on() {
    q "create or replace function public.test_sleep() returns trigger
       language plpgsql as \$\$
       begin
           if new.note = 'SLEEP-HERE' then
               perform pg_sleep(60);
           end if;
           return null;
       end \$\$;
       create trigger test_sleep after insert on warehouse.observation
           for each row execute function public.test_sleep();" >/dev/null ||
        bail_out "could not create the test trigger"
}
trigger_off() {
    q "drop trigger test_sleep on warehouse.observation" >/dev/null
}
sleepers() {
    q "select count(*) from pg_stat_activity where wait_event = 'PgSleep'"
}
sleeping() {     # sleeping N: N sessions inside the trigger's sleep
    [ "$(sleepers)" -ge "${1:-1}" ]
}
rows_of() {     # rows_of URL: the observations loaded from URL
    q "select count(*) from warehouse.observation
        where source_id in (select id from ledger.source where url = '$1')"
}
run_of() {      # the run of the process PID
    q "select id from ledger.run where pid = $1"
}
sig_pending() {     # sig_pending PID SIGNO: the signal awaits delivery
    local m
    for m in $(awk '$1 == "SigPnd:" || $1 == "ShdPnd:" { print $2 }' \
                   "/proc/$1/status" 2>/dev/null); do
        if (( (16#$m >> ($2 - 1)) & 1 )); then
            return 0
        fi
    done
    return 1
}
# stop_taken PID: its handler has the SIGTERM (delivered, no longer pending;
# ewc-etl logs nothing then) and the file in flight is still being loaded
# (its session sleeps in the trigger): the grace has begun
stop_taken() {
    ! sig_pending "$1" 15 && sleeping
}

## A. one SIGTERM: the grace, then the file in flight is rolled back
trigger_on
write_pipeline "$quick" "$slow"
bg_etl a run
pa=$BG_PID
ok "A: ewc-etl is inside slow.csv's load (trigger sleeping)" -- wait_until 60 sleeping ||
    diag "$(cat "$T/a.err")"
bg_signal_wait TERM "$pa" 25
is "$BG_RC" "4" "A: SIGTERM in a file: exit 4 (partial: quick.csv was loaded)"
ok "A: it waited for the grace ($BG_SECS s >= 9)" -- \
    awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s >= 9) }'
ok "A: and exited within 13 s of the signal ($BG_SECS s)" -- \
    awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 13) }'
ok "A: the server's sleep was cancelled" -- wait_until 10 eval '[ "$(sleepers)" = 0 ]'
ra=$(run_of "$pa")
is "$(rows_of "$slow")" "0" "A: none of slow.csv's rows in the warehouse"
is "$(q "select count(*) from warehouse.observation where note in ('slow', 'SLEEP-HERE')")" \
   "0" "A: not even under another source"
is "$(q "select status, rows_loaded, error from ledger.file where run_id = $ra and url = '$slow'")" \
   "failed|0|not loaded: the run was stopped by a signal" \
   "A: the attempt at slow.csv is recorded, failed, with why"
is "$(q "select state, file_id is not null from ledger.task where run_id = $ra and url = '$slow'")" \
   "failed|t" "A: slow.csv's task is failed, not left pending"
is "$(q "select status, files_total, files_loaded, files_failed from ledger.run
          where id = $ra")" "partial|2|1|1" "A: the run is recorded partial"
is "$(q "select error from ledger.run where id = $ra")" \
   "stopped by a signal before all files were loaded" "A: with the reason"
is "$(q "select status, rows_loaded from ledger.file where run_id = $ra and url = '$quick'")" \
   "loaded|10" "A: quick.csv (before the signal) is loaded"
bg_sanitizer a

trigger_off
etl run
is_rc 0 "A: the next run: exit 0"
is "$(q "select status, rows_loaded from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$slow'")" \
   "loaded|5" "A: the next run loads slow.csv"
is "$(rows_of "$slow")" "5" "A: all 5 of its rows"

## B. a second SIGTERM cancels at once
trigger_on
write_pipeline "$quick" "$slow" "$slow2"
bg_etl b run
pb=$BG_PID
ok "B: ewc-etl is inside slow2.csv's load" -- wait_until 60 sleeping ||
    diag "$(cat "$T/b.err")"
kill -TERM "$pb"
ok "B: the first SIGTERM was taken and slow2.csv's load goes on" -- \
    wait_until 10 stop_taken "$pb"
ok "B: after the first SIGTERM it still runs (grace)" -- bg_alive "$pb"
bg_signal_wait TERM "$pb" 15
is "$BG_RC" "4" "B: second SIGTERM: exit 4"
ok "B: exited within 3 s of the second signal ($BG_SECS s)" -- \
    awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 3) }'
rb=$(run_of "$pb")
is "$(rows_of "$slow2")" "0" "B: none of slow2.csv's rows in the warehouse"
is "$(q "select count(*) from warehouse.observation where note = 'slow2'
            or (note = 'SLEEP-HERE' and period_start = '2016-01-01')")" \
   "0" "B: not even under another source"
is "$(q "select state from ledger.task where run_id = $rb and url = '$slow2'")" "failed" \
   "B: slow2.csv's task is failed, not left pending"
is "$(q "select status, error from ledger.run where id = $rb")" \
   "partial|stopped by a signal before all files were loaded" "B: the run is partial, with the reason"
bg_sanitizer b
wait_until 10 eval '[ "$(sleepers)" = 0 ]'

trigger_off
etl run
is_rc 0 "B: the next run: exit 0"
is "$(rows_of "$slow2")" "5" "B: it loads slow2.csv whole"

## C. --workers 2: the stop reaches the worker process too
trigger_on
slow_file slow2 2012      # a new version of slow2.csv: it loads again
write_pipeline "$slow2" "$slow3"
before=$(q "select count(*) from warehouse.observation")
bg_etl c run --workers 2
pc=$BG_PID
ok "C: both processes are inside a slow load" -- wait_until 60 sleeping 2 ||
    diag "$(cat "$T/c.err")"
kids=$(bg_children "$pc")
is "$(printf '%s\n' "$kids" | sed '/^$/d' | wc -l)" "1" "C: the run has one worker child"
bg_signal_wait TERM "$pc" 25
ok "C: exits within 13 s of SIGTERM ($BG_SECS s)" -- \
    awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 13) }'
is "$BG_RC" "5" "C: exit 5 (no file loaded)"
ok "C: the worker child is gone too" -- wait_until 5 eval '! bg_alive "${kids:-0}"'
ok "C: both sleeps were cancelled" -- wait_until 10 eval '[ "$(sleepers)" = 0 ]'
rc_=$(run_of "$pc")
is "$(q "select count(*) from warehouse.observation")" "$before" \
   "C: no row of either file in the warehouse"
is "$(q "select string_agg(state, ',') from ledger.task where run_id = $rc_")" \
   "failed,failed" "C: both tasks failed, none left pending"
is "$(q "select count(*) from ledger.file where run_id = $rc_ and status = 'failed'")" "2" \
   "C: both attempts recorded"
is "$(q "select status from ledger.run where id = $rc_")" "failed" "C: the run is failed"
bg_sanitizer c
trigger_off

done_testing
