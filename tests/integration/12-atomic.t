#!/bin/bash
# 12-atomic: a file is loaded whole or not at all.
#   A. the database refuses one row (a trigger raises): no row of that
#      file stays, it is failed in the ledger, the other file loads; once
#      the trigger is gone the next run loads it.
#   B. ewc-etl is killed -9 in the middle of loading a file (a trigger
#      sleeps on one row): no partial rows; while it ran, a second run was
#      refused (pipeline locked, exit 1); the next run loads the file.
. "$(dirname "$0")/../lib/env.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
cat >"$T/www/boom.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2019,100,家,boom
全国,,引导企业投资,2020,101,家,boom
全国,,共建产业园区,2020,102,个,FAIL-HERE
全国,,共建产业园区,2019,103,个,boom
全国,,互派干部,2020,104,人,boom
CSV
cat >"$T/www/slow.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2018,200,家,slow
全国,,引导企业投资,2017,201,家,slow
全国,,共建产业园区,2018,202,个,SLEEP-HERE
全国,,共建产业园区,2017,203,个,slow
全国,,互派干部,2018,204,人,slow
CSV

setup_all
a=$EWC_SOURCE_URL/a.csv
boom=$EWC_SOURCE_URL/boom.csv
slow=$EWC_SOURCE_URL/slow.csv

q "create function public.test_refuse() returns trigger language plpgsql as \$\$
   begin
       if new.note = 'FAIL-HERE' then
           raise exception 'test trigger refuses line %', new.line;
       end if;
       if new.note = 'SLEEP-HERE' then
           perform pg_sleep(120);
       end if;
       return null;
   end \$\$;
   create trigger test_refuse after insert on warehouse.observation
       for each row execute function public.test_refuse();" >/dev/null ||
    bail_out "could not create the test trigger"

## A. the database refuses a row
write_pipeline "$a" "$boom"
etl run
is_rc 4 "A: one file refused by the database, the other loaded: exit 4"
is "$(q "select count(*) from warehouse.observation where note in ('boom', 'FAIL-HERE')")" \
   "0" "A: no row of boom.csv in the warehouse"
is "$(q "select status, rows_loaded from ledger.file where url = '$boom'")" \
   "failed|0" "A: boom.csv failed in the ledger"
like "$(q "select error from ledger.file where url = '$boom'")" \
   "test trigger refuses line 4" "A: with the database's error"
is "$(q "select coalesce(file_id::text, 'none') from ledger.source where url = '$boom'")" \
   "none" "A: no loaded version of boom.csv recorded"
is "$(q "select status, rows_loaded from ledger.file where url = '$a'")" \
   "loaded|10" "A: a.csv loaded"

sed -i 's/,FAIL-HERE$/,boom/' "$T/www/boom.csv"
etl run
is_rc 0 "A: next run, the row accepted: exit 0"
is "$(q "select count(*) from warehouse.observation where note = 'boom'")" "5" \
   "A: all 5 rows of boom.csv loaded"
is "$(q "select status from ledger.file where run_id = (select max(id) from ledger.run)
          and url = '$a'")" "unchanged" "A: a.csv unchanged"

## B. kill -9 while a file is being loaded
write_pipeline "$a" "$boom" "$slow"
"$EWC_ETL" -c "$T/pipeline.yaml" run >"$T/killed.out" 2>"$T/killed.err" &
etl_pid=$!
sleeping=0
for i in $(seq 1 300); do
    sleeping=$(q "select count(*) from pg_stat_activity where wait_event = 'PgSleep'")
    [ "$sleeping" -gt 0 ] && break
    kill -0 "$etl_pid" 2>/dev/null || break
    sleep 0.1
done
is "$sleeping" "1" "B: ewc-etl is inside the load of slow.csv (trigger sleeping)" ||
    diag "$(cat "$T/killed.err")"

is "$(q "select count(*) from warehouse.observation where note in ('slow', 'SLEEP-HERE')")" \
   "0" "B: its rows are not visible while it loads"

etl run
is_rc 1 "B: a second run of the same pipeline meanwhile: exit 1"
like "$ETL_ERR" "lock|busy|another|running" "B: it says the pipeline is busy"

kill -KILL "$etl_pid" 2>/dev/null
wait "$etl_pid" 2>/dev/null
is "$?" "137" "B: ewc-etl killed by SIGKILL"
for i in $(seq 1 100); do
    sleeping=$(q "select count(*) from pg_stat_activity where wait_event = 'PgSleep'")
    [ "$sleeping" -eq 0 ] && break
    sleep 0.1
done
is "$sleeping" "0" "B: the server dropped the dead client's session"

is "$(q "select count(*) from warehouse.observation where note in ('slow', 'SLEEP-HERE')")" \
   "0" "B: no partial rows of slow.csv after the kill"
is "$(q "select count(*) from ledger.file where url = '$slow' and status = 'loaded'")" \
   "0" "B: slow.csv not recorded as loaded"
is "$(q "select count(*) from ledger.source where url = '$slow' and file_id is not null")" \
   "0" "B: no loaded version of slow.csv recorded"
is "$(q "select count(*) from warehouse.observation")" "15" \
   "B: the warehouse holds exactly what it held before (10 + 5)"

q "drop trigger test_refuse on warehouse.observation" >/dev/null
etl run
is_rc 0 "B: the next run: exit 0"
is "$(q "select status, rows_loaded from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$slow'")" \
   "loaded|5" "B: slow.csv loaded by the next run"
is "$(q "select count(*) from warehouse.observation where note in ('slow', 'SLEEP-HERE')")" \
   "5" "B: its 5 rows, once"
is "$(q "select count(*) from warehouse.observation")" "20" "B: 20 observations in all"
like "$(q "select coalesce(max(status), 'none') from ledger.run where pid = $etl_pid")" \
   "^(running|failed)$" "B: the killed run is recorded (by its pid) as running or failed"

done_testing
