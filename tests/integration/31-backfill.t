#!/bin/bash
# 31-backfill: `ewc-etl backfill --year Y` re-ingests one year of a {year}
# templated pipeline in one transaction.
#   - twice in a row: the same warehouse contents for the year (checksum of
#     its rows without file/run ids), kind backfill in the ledger, the
#     rows now from the backfill; the other year untouched
#   - --offline with the HTTP server stopped: from the spool, same result
#   - kill -9 during the download, and kill -9 in the middle of the year's
#     transaction (a trigger sleeps on one row of the second file): the
#     year's previous rows all stay, nothing of the killed backfill shows
#   - one file of the year 404s: exit 5, the old rows stay (although the
#     other file of the year changed on the server)
#   - no --year: exit 2
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

for y in 2020 2021; do
    cat >"$T/www/a-$y.csv" <<CSV
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,$y,2193,家,
全国,,共建产业园区,$y,482,个,
全国,,采购和帮助销售农副产品,$y,813亿元,,
全国,,互派干部,${y}年上半年,2448,人,
广东,广西,吸纳脱贫劳动力就业,$y,"12,345",人,
CSV
    cat >"$T/www/b-$y.csv" <<CSV
地区,结对地区,指标,时期,数值,单位,备注
福建,宁夏,财政援助资金,$y,4.5亿元,,
江苏,陕西,引导企业投资,${y}年第三季度,128,家,
浙江,四川,财政援助资金,${y}年6月,3.5亿元,,
全国,,结对学校,$y,824,所,SLEEP-HERE
全国,,结对医院,$y,582,所,
CSV
done

setup_all
tmpl="$EWC_SOURCE_URL/{part}-{year}.csv"
write_pipeline_ops --fetch 'years: [2020, 2021]' --fetch 'vars: { part: [a, b] }' "$tmpl"

# md5 of the year's observations, without file_id and run_id
year_sum() {
    q "select count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', indicator,
              region, coalesce(partner, '-'), period_kind, period_start, period_end,
              trim_scale(value), unit, qualifier, raw_value, coalesce(note, '-'),
              source_id, line), E'\n' order by source_id, line), ''))
         from warehouse.observation
        where period_start >= make_date($1, 1, 1)
          and period_start < make_date($1 + 1, 1, 1)"
}
# the year's rows with the file and run they came from
year_ids() {
    q "select source_id, line, file_id, run_id from warehouse.observation
        where period_start >= make_date($1, 1, 1)
          and period_start < make_date($1 + 1, 1, 1)
        order by source_id, line"
}
last_run() {
    q "select max(id) from ledger.run"
}

etl run
is_rc 0 "the first run loads both years: exit 0"
is "$(q "select count(*) filter (where status = 'loaded'), count(*) from ledger.file")" \
   "4|4" "4 files loaded ({part}-{year} for a, b and 2020, 2021)"
sum2020=$(year_sum 2020)
sum2021=$(year_sum 2021)
ids2020=$(year_ids 2020)
ids2021_first=$(year_ids 2021)
is "${sum2021%% *}" "10" "2021 has 10 observations"
is "${sum2020%% *}" "10" "2020 has 10 observations"

## backfill twice: same contents
: >"$HTTP_LOG"
etl backfill --year 2021
is_rc 0 "backfill --year 2021: exit 0"
bf1=$(last_run)
is "$(q "select kind, status, params->>'year', files_total, files_loaded,
                rows_loaded from ledger.run where id = $bf1")" \
   "backfill|ok|2021|2|2|10" "ledger.run: kind backfill, ok, year 2021, 2 files, 10 rows"
is "$(q "select string_agg(url || ' ' || status, ',' order by url) from ledger.file
          where run_id = $bf1")" \
   "$EWC_SOURCE_URL/a-2021.csv loaded,$EWC_SOURCE_URL/b-2021.csv loaded" \
   "only 2021's files are in the backfill"
is "$(http_log_lines | sort)" "$(printf '%s\n' 'GET /a-2021.csv 200 -' 'GET /b-2021.csv 200 -')" \
   "the year's files fetched again, unconditionally; no other year's"
is "$(year_sum 2021)" "$sum2021" "2021's contents are the same"
is "$(q "select string_agg(rows_loaded || ' ' || rows_added || ' ' || rows_changed || ' '
                           || rows_removed, ',') from ledger.file where run_id = $bf1")" \
   "5 0 0 0,5 0 0 0" "the backfill loaded both files: each compared, nothing changed"
is "$(year_ids 2021)" "$ids2021_first" \
   "2021's rows unchanged, so left as the first run wrote them (same file and run ids)"
is "$(year_ids 2020)" "$ids2020" "2020's rows untouched (same file and run ids)"

etl backfill --year 2021
is_rc 0 "the same backfill again: exit 0"
bf2=$(last_run)
is "$(q "select kind, status, files_loaded from ledger.run where id = $bf2")" \
   "backfill|ok|2" "the second backfill is ok"
is "$(year_sum 2021)" "$sum2021" "2021's contents identical after the second backfill"
is "$(year_ids 2021)" "$ids2021_first" "2021's rows still one per key, as first written"
is "$(year_ids 2020)" "$ids2020" "2020 still untouched"
is "$(q "select count(*) from warehouse.observation")" "20" "20 observations in all"

## --offline, the HTTP server stopped: from the spool
port=$EWC_HTTP_PORT
http_stop
etl backfill --year 2021 --offline
is_rc 0 "backfill --offline without an HTTP server: exit 0"
bf3=$(last_run)
is "$(q "select kind, status, params->>'offline', files_loaded from ledger.run
          where id = $bf3")" "backfill|ok|true|2" "ledger.run: offline backfill, ok"
is "$(year_sum 2021)" "$sum2021" "2021's contents identical after the offline backfill"
is "$(q "select count(*) from ledger.file where run_id = $bf3 and status = 'loaded'
                                             and rows_changed = 0")" "2" \
   "2021's files reloaded from the spool and compared"
is "$(year_ids 2020)" "$ids2020" "2020 still untouched"
HTTP_PORT=$port http_start "$T/www" || bail_out "could not restart the HTTP server"
is "$EWC_SOURCE_URL" "http://127.0.0.1:$port" "the HTTP server is back on its port"

ids2021=$(year_ids 2021)

## kill -9 during the download (the server delays b-2021.csv)
cat >"$HTTP_SCRIPT" <<'JSON'
{"/b-2021.csv": [{"delay": 20}]}
JSON
bg_etl killed1 backfill --year 2021
k1=$BG_PID
running_backfill() {
    [ "$(q "select count(*) from ledger.run where pid = $1 and kind = 'backfill'")" = 1 ]
}
# the server took the delayed answer off its script: b-2021.csv's request
# arrived and is held there for 20 s
held_b2021() {
    python3 - "$HTTP_SCRIPT" <<'PY'
import json, sys
sys.exit(json.load(open(sys.argv[1], encoding="utf-8")).get("/b-2021.csv") != [])
PY
}
ok "the backfill started (its run is in the ledger)" -- wait_until 20 running_backfill "$k1"
ok "the server holds its request for b-2021.csv" -- wait_until 20 held_b2021
ok "it is still running (waiting for b-2021.csv)" -- bg_alive "$k1"
bg_kill "$k1"
is "$(year_sum 2021)" "$sum2021" "killed while downloading: 2021's contents intact"
is "$(year_ids 2021)" "$ids2021" "2021's rows are still the previous backfill's"
is "$(q "select count(*) from ledger.file f join ledger.run r on r.id = f.run_id
          where r.pid = $k1 and f.status = 'loaded'")" "0" "no file of it recorded loaded"

## kill -9 in the middle of the year's transaction: b-2021.csv changes
## the row the trigger sleeps on, so that its load writes it
echo '{}' >"$HTTP_SCRIPT"
cp "$T/www/b-2021.csv" "$T/b-2021.orig"
sed -i 's/^全国,,结对学校,2021,824,所,SLEEP-HERE/全国,,结对学校,2021,825,所,SLEEP-HERE/' \
    "$T/www/b-2021.csv"
q "create function public.test_sleep() returns trigger language plpgsql as \$\$
   begin
       if new.note = 'SLEEP-HERE' then
           perform pg_sleep(120);
       end if;
       return null;
   end \$\$;
   create trigger test_sleep after insert on warehouse.observation
       for each row execute function public.test_sleep();" >/dev/null ||
    bail_out "could not create the test trigger"
sleeping() {
    [ "$(q "select count(*) from pg_stat_activity where wait_event = 'PgSleep'")" -gt 0 ]
}
bg_etl killed2 backfill --year 2021
k2=$BG_PID
ok "the backfill is inside b-2021.csv's load (trigger sleeping)" -- \
    wait_until 30 sleeping || diag "$(cat "$T/killed2.err")"
is "$(q "select count(*) from ledger.file f join ledger.run r on r.id = f.run_id
          where r.pid = $k2")" "0" "its file rows are not visible while it runs"
bg_kill "$k2"
ok "the server dropped the killed backfill's session" -- wait_until 20 eval '! sleeping'
q "drop trigger test_sleep on warehouse.observation" >/dev/null
cp "$T/b-2021.orig" "$T/www/b-2021.csv"
is "$(year_sum 2021)" "$sum2021" "killed mid-transaction: 2021's contents intact"
is "$(year_ids 2021)" "$ids2021" "2021's rows are all the previous backfill's: no partial file"
is "$(q "select count(*) from ledger.file f join ledger.run r on r.id = f.run_id
          where r.pid = $k2")" "0" "nothing of the killed backfill's files in the ledger"
is "$(q "select count(*) from warehouse.observation")" "20" "still 20 observations"
is "$(year_ids 2020)" "$ids2020" "2020 still untouched"

## one file of the year 404s: exit 5, old data intact
sed -i 's/,2193,/,2194,/' "$T/www/a-2021.csv"
cat >"$HTTP_SCRIPT" <<'JSON'
{"/b-2021.csv": {"status": 404}}
JSON
etl backfill --year 2021
is_rc 5 "a backfill with a 404: exit 5" ||
    diag "a file of the year that fails in fetch must fail the whole backfill" \
         "before anything is loaded (etl/runner.c run_register): the year's other" \
         "files must not be committed alone"
bf404=$(last_run)
is "$(q "select kind, status from ledger.run where id = $bf404")" "backfill|failed" \
   "ledger.run: the backfill failed"
like "$ETL_ERR" "b-2021\.csv" "the log names the missing file"
like "$ETL_ERR" "a backfill loads all of the year's files or none" \
     "and says why the whole year failed"
is "$(q "select string_agg(url || ' ' || status || ' ' || coalesce(http_status::text, '-'),
                           ',' order by url)
           from ledger.file where run_id = $bf404")" \
   "$EWC_SOURCE_URL/a-2021.csv failed 200,$EWC_SOURCE_URL/b-2021.csv failed 404" \
   "the ledger records b-2021.csv failed (404), and a-2021.csv not loaded with it"
like "$(q "select error from ledger.file where run_id = $bf404 and url like '%/a-2021.csv'")" \
   "^not loaded: .*b-2021\.csv" "a-2021.csv's row says why: the year failed on b-2021.csv"
is "$(q "select count(*) from ledger.task where run_id = $bf404 and state = 'pending'")" "0" \
   "no task of the backfill is left pending"
is "$(year_sum 2021)" "$sum2021" \
   "2021's old contents intact (a-2021.csv's new value not loaded alone)"
is "$(year_ids 2021)" "$ids2021" "2021's rows still the previous backfill's"
is "$(q "select count(*) from warehouse.observation where raw_value = '2194'")" "0" \
   "nothing of the failed backfill is visible"
echo '{}' >"$HTTP_SCRIPT"

## usage
etl backfill
is_rc 2 "backfill without --year: exit 2"
like "$ETL_ERR" "^ewc-etl: backfill: --year is required" "it says --year is required"
etl backfill --year 20x1
is_rc 2 "backfill --year 20x1: exit 2"
is "$(printf '%s\n' "$ETL_ERR" | head -n 1)" \
   'ewc-etl: --year: expected a year or a range such as 2020..2022, found "20x1"' \
   "it says the year is invalid"
is "$(q "select count(*) from ledger.run where id > $bf404")" "0" \
   "usage errors record no run"

bg_sanitizer killed1
bg_sanitizer killed2
done_testing
