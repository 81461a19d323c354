#!/bin/bash
# 47-plan: `ewc-etl plan` and `backfill --dry-run` say what a run or a
# backfill would do, and do nothing.
#   - plan without --fetch: no HTTP request; every URL with the ledger's
#     current version (sha256 prefix, ETag, Last-Modified, rows, when) and
#     its rows in the warehouse; the warehouse and every ledger table the
#     same before and after (md5 of each table's rows)
#   - plan --fetch: conditional GETs as a run (304 unchanged), the changed
#     file tried and rolled back: its +added ~changed -removed, and still
#     every table the same; a following backfill records the same counts
#     in ledger.file; a first version, a 404 and a refused file reported
#   - --year 2020..2022 expands three years, repeated --year works (plan,
#     run, backfill); a backfill of two years is two runs, one per year, and
#     a failed year does not stop the next;
#     bad years, reversed ranges and wrong options are usage errors (exit 2)
#   - a backfill does not fetch a URL without {year}; its plan says so
#   - exit 1: database unreachable; the pipeline held by another run
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
for y in 2020 2021; do
    cat >"$T/www/a-$y.csv" <<CSV
$HEAD
全国,,引导企业投资,$y,2193,家,
全国,,共建产业园区,$y,482,个,
全国,,互派干部,${y}年上半年,2448,人,
广东,广西,吸纳脱贫劳动力就业,$y,"12,345",人,
CSV
done
cat >"$T/www/national.csv" <<CSV
$HEAD
全国,,结对学校,2019,824,所,
全国,,结对医院,2019,582,所,
CSV
touch -d '2024-01-01 00:00:00 UTC' "$T/www/"*.csv

setup_all
write_pipeline_ops --fetch 'years: [2020, 2021]' \
    "$EWC_SOURCE_URL/a-{year}.csv" "$EWC_SOURCE_URL/national.csv"
A20=$EWC_SOURCE_URL/a-2020.csv
A21=$EWC_SOURCE_URL/a-2021.csv
A22=$EWC_SOURCE_URL/a-2022.csv
NAT=$EWC_SOURCE_URL/national.csv

# md5 of every table of the ledger and the warehouse, one line each (a
# partitioned table with its partitions); one psql
tables_sum() {
    psql -XAtq -v ON_ERROR_STOP=1 <<'SQL'
select format('select %L || '' '' || count(*) || '' '' || md5(coalesce(string_agg('
              't::text, '','' order by t::text), '''')) from %I.%I t',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname in ('ledger', 'warehouse') and c.relkind in ('r', 'p')
   and not c.relispartition
 order by 1 \gexec
SQL
}
# the last values of their sequences
seq_sum() {
    q "select string_agg(schemaname || '.' || sequencename || '=' ||
                         coalesce(last_value::text, '-'), ' ' order by 1, 2)
         from pg_sequences where schemaname in ('ledger', 'warehouse')"
}
# field $2 of the plan's JSON ($ETL_OUT) for URL $1 (python expression on f)
js() {
    python3 - "$ETL_OUT" "$1" "$2" <<'PY'
import json, sys
plan = json.loads(sys.argv[1])
for p in plan:
    for f in p["files"]:
        if f["url"] == sys.argv[2]:
            v = eval(sys.argv[3], {}, {"f": f, "p": p})
            print("null" if v is None else v)
PY
}
# the table line of URL $1 in $ETL_OUT, blanks squeezed
row_of() {
    printf '%s\n' "$ETL_OUT" | grep -F " $1" | head -n 1 | tr -s ' ' | sed 's/^ //'
}

etl run
is_rc 0 "the first run loads a-2020, a-2021 and national: exit 0"
is "$(q "select count(*) from ledger.file where status = 'loaded'")" "3" "3 files loaded"
tables0=$(tables_sum)
seq0=$(seq_sum)
sha21=$(q "select left(sha256, 8) from ledger.source where url = '$A21'")
at21=$(q "select to_char(f.finished_at, 'YYYY-MM-DD HH24:MI:SS') from ledger.source s
           join ledger.file f on f.id = s.file_id where s.url = '$A21'")

## plan: no network, nothing written
: >"$HTTP_LOG"
etl plan
is_rc 0 "plan: exit 0"
is "$(http_log_lines | wc -l)" "0" "plan made no HTTP request"
is "$(tables_sum)" "$tables0" "plan: every ledger and warehouse table unchanged"
is "$(seq_sum)" "$seq0" "plan: not even a sequence moved"
like "$ETL_OUT" "^plan indicators \\(run\\): 3 URLs" "the plan's title: a run, 3 URLs"
is "$(row_of "$A21")" "2021 $sha21 4 $at21 4 fetch $A21" \
   "a-2021: year, sha256 prefix, rows it loaded, when, rows now, fetch"
is "$(row_of "$NAT")" "- $(q "select left(sha256, 8) from ledger.source where url = '$NAT'") 2 $(
    q "select to_char(f.finished_at, 'YYYY-MM-DD HH24:MI:SS') from ledger.source s
        join ledger.file f on f.id = s.file_id where s.url = '$NAT'") 2 fetch $NAT" \
   "national.csv: no year, its version, fetched by a run"
like "$ETL_OUT" "etag $(etag_of "$T/www/a-2021.csv" | sed 's/"/\\"/g'), last-modified Mon, 01 Jan 2024 00:00:00 GMT" \
     "the validators of the current version"
like "$ETL_OUT" "3 to fetch, 0 skipped; 10 rows in the warehouse from them; nothing downloaded" \
     "the summary: 3 to fetch, 10 rows now"

etl plan --json
is_rc 0 "plan --json: exit 0"
is "$(js "$A21" 'f["current"]["sha256_prefix"], f["current"]["rows_loaded"], f["rows_now"], f["plan"], f["year"]')" \
   "('$sha21', 4, 4, 'fetch', 2021)" "JSON: a-2021's version, rows, plan and year"
is "$(js "$NAT" 'f["year"], p["kind"], p["fetch"]')" "(None, 'run', False)" \
   "JSON: national.csv without a year; a run's plan without --fetch"
is "$(js "$A21" 'f["current"]["etag"]')" "$(etag_of "$T/www/a-2021.csv")" "JSON: the ETag"
is "$(http_log_lines | wc -l)" "0" "plan --json made no HTTP request either"

## plan --fetch: a changed file tried and rolled back
cat >"$T/www/a-2021.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2200,家,
全国,,共建产业园区,2021,482,个,
广东,广西,吸纳脱贫劳动力就业,2021,"12,345",人,
全国,,结对学校,2021,900,所,
全国,,结对医院,2021,600,所,
CSV
: >"$HTTP_LOG"
etl plan --fetch
is_rc 0 "plan --fetch: exit 0"
is "$(http_log_lines | sort)" "$(printf '%s\n' "GET /a-2020.csv 304 $(etag_of "$T/www/a-2020.csv")" \
    "GET /a-2021.csv 200 $(q "select etag from ledger.source where url = '$A21'")" \
    "GET /national.csv 304 $(etag_of "$T/www/national.csv")")" \
   "conditional GETs as a run: two 304, a-2021 changed (200)"
is "$(tables_sum)" "$tables0" "plan --fetch: every ledger and warehouse table unchanged"
isnt "$(seq_sum)" "$seq0" "the rolled-back loads advanced sequences (ids are not reused)"
new21=$(sha256sum "$T/www/a-2021.csv" | cut -c1-8)
is "$(row_of "$A21")" "2021 $sha21 4 $at21 4 load 200 $new21 5 0 +2 ~1 -1 $A21" \
   "a-2021: would load 5 rows, 0 rejected, +2 ~1 -1 against its current version"
is "$(row_of "$A20" | cut -d' ' -f7-8)" "unchanged 304" "a-2020: unchanged (304)"
like "$ETL_OUT" "1 to load \\(5 rows, 0 rejected; revised: 2 added, 1 changed, 1 removed\\), 2 unchanged, 0 failed, 0 skipped; nothing written" \
     "the summary counts the plan"
is "$(q "select count(*) from warehouse.observation where raw_value = '2200'")" "0" \
   "nothing of the new version is visible"
ls "$T/spool" | grep -qx "$(sha256sum "$T/www/a-2021.csv" | cut -d' ' -f1)"
is "$?" "0" "the download stays in the spool under its sha256"

etl plan --fetch --json
is_rc 0 "plan --fetch --json: exit 0"
plan_counts=$(js "$A21" 'f["rows_loaded"], f["rows_rejected"], f["rows_added"], f["rows_changed"], f["rows_removed"]')
is "$plan_counts" "(5, 0, 2, 1, 1)" "JSON: a-2021's would-be counts"
is "$(js "$A20" 'f["plan"], f["http_status"]')" "('unchanged', 304)" "JSON: a-2020 unchanged, 304"
is "$(tables_sum)" "$tables0" "plan --fetch --json: still every table unchanged"

## the real backfill counts the same
: >"$HTTP_LOG"
etl backfill --year 2021
is_rc 0 "backfill --year 2021: exit 0"
bf=$(q "select max(id) from ledger.run")
is "$(q "select '(' || rows_loaded || ', ' || rows_rejected || ', ' || rows_added || ', '
                || rows_changed || ', ' || rows_removed || ')'
           from ledger.file where run_id = $bf and url = '$A21'")" "$plan_counts" \
   "the backfill's ledger.file has the counts the plan announced"
is "$(q "select string_agg(url, ' ' order by url) from ledger.file where run_id = $bf")" "$A21" \
   "the backfill's only file is a-2021 (no national.csv)"
is "$(http_count GET /national.csv)" "0" "a backfill does not fetch a URL without {year}"
is "$(http_count GET /a-2021.csv)" "1" "it fetched a-2021 once"
tables1=$(tables_sum)

## backfill --dry-run: the backfill's URLs, three years
cat >"$T/www/a-2022.csv" <<CSV
$HEAD
全国,,引导企业投资,2022,2300,家,
CSV
: >"$HTTP_LOG"
etl backfill --dry-run --year 2020..2022
is_rc 0 "backfill --dry-run --year 2020..2022: exit 0"
like "$ETL_OUT" "^plan indicators \\(backfill\\): 4 URLs" "the plan of a backfill: 4 URLs"
is "$(printf '%s\n' "$ETL_OUT" | grep -o 'a-20[0-9][0-9]\.csv$' | tr '\n' ' ')" \
   "a-2020.csv a-2021.csv a-2022.csv " "three years expanded"
is "$(row_of "$A22")" "2022 - - - 0 fetch $A22" "a-2022: no version yet, no rows"
is "$(row_of "$NAT" | cut -d' ' -f7)" "skip" "national.csv: skipped"
like "$ETL_OUT" "skipped: no \\{year\\} in its URL template; a backfill does not fetch it" \
     "it says why"
like "$ETL_OUT" "3 to fetch, 1 skipped" "the summary: 3 to fetch, 1 skipped"
is "$(http_log_lines | wc -l)" "0" "backfill --dry-run made no HTTP request"
is "$(tables_sum)" "$tables1" "backfill --dry-run: every table unchanged"

: >"$HTTP_LOG"
etl backfill --dry-run --fetch --year 2021 --year 2022 --json
is_rc 0 "backfill --dry-run --fetch, repeated --year: exit 0"
is "$(js "$A22" 'p["years"], f["plan"], f["first_version"], f["rows_loaded"]')" \
   "([2021, 2022], 'load', True, 1)" "a-2022: a first version of 1 row"
is "$(js "$A21" 'f["plan"]')" "unchanged" "a-2021: unchanged since the backfill"
is "$(js "$NAT" 'f["plan"], "http_status" in f')" "('skip', False)" \
   "national.csv skipped, not downloaded"
is "$(http_count GET /national.csv)" "0" "the dry run did not fetch national.csv"
is "$(http_count GET /a-2020.csv)" "0" "nor a year not asked for"
is "$(tables_sum)" "$tables1" "backfill --dry-run --fetch: every table unchanged"

## failures are part of the report: a 404, a refused file
rm "$T/www/a-2022.csv"
etl plan --fetch --year 2022
is_rc 0 "plan --fetch with a 404: still exit 0"
is "$(row_of "$A22" | cut -d' ' -f6-7)" "failed 404" "a-2022: failed, 404"
like "$ETL_OUT" "failed: .*404" "the error is shown under it"
printf '%s\n' "$HEAD" '全国,,不知道的指标,2022,1,家,' '全国,,又一个指标,2022,2,家,' \
    >"$T/www/a-2022.csv"
etl plan --fetch --year 2022 --json
is_rc 0 "plan --fetch with a refused file: exit 0"
is "$(js "$A22" 'f["plan"]')" "refused" "a-2022 refused by its checks"
like "$(js "$A22" 'f["error"]')" "reject" "with the reason"
is "$(tables_sum)" "$tables1" "still every table unchanged"

## run and plan with several years
etl plan --year 2020 --year 2022 --json
is "$(js "$NAT" 'p["years"], f["plan"]')" "([2020, 2022], 'fetch')" \
   "plan --year 2020 --year 2022: a run's plan keeps national.csv"
is "$(python3 -c 'import json,sys; print(sorted(f["url"].rsplit("/",1)[1] for f in json.loads(sys.argv[1])[0]["files"]))' "$ETL_OUT")" \
   "['a-2020.csv', 'a-2022.csv', 'national.csv']" "the two years and national.csv"
: >"$HTTP_LOG"
rm "$T/www/a-2022.csv"
etl run --year 2020..2021
is_rc 0 "run --year 2020..2021: exit 0"
is "$(q "select params->'years' from ledger.run order by id desc limit 1")" "[2020, 2021]" \
   "the run records its years"
is "$(http_log_lines | awk '{print $2}' | sort | tr '\n' ' ')" \
   "/a-2020.csv /a-2021.csv /national.csv " "it asked for both years and national.csv"

## a backfill of two years: one run, one transaction each
before=$(q "select max(id) from ledger.run")
: >"$HTTP_LOG"
etl backfill --year 2020..2021
is_rc 0 "backfill --year 2020..2021: exit 0"
is "$(q "select string_agg(kind || ' ' || (params->>'year') || ' ' || status || ' '
                           || files_loaded, ',' order by id)
           from ledger.run where id > $before")" "backfill 2020 ok 1,backfill 2021 ok 1" \
   "two backfill runs, one per year, each loading its year's file"
like "$ETL_OUT" "run [0-9]+ indicators: ok.*\\n.*run [0-9]+ indicators: ok" "two summaries"
is "$(http_count GET /national.csv)" "0" "national.csv not fetched by the backfill"

## a year that fails does not stop the next one, nor undo the one before
obs20=$(obs_of "$A20")
mv "$T/www/a-2020.csv" "$T/www/a-2020.csv.away"
sed -i 's/,2200,/,2201,/' "$T/www/a-2021.csv"
before=$(q "select max(id) from ledger.run")
etl backfill --year 2020 --year 2021
is_rc 5 "backfill of 2020 (404) and 2021: exit 5, the worst of the years"
is "$(q "select string_agg((params->>'year') || ' ' || status, ',' order by id)
           from ledger.run where id > $before")" "2020 failed,2021 ok" \
   "2020 failed, 2021 was still backfilled"
is "$(q "select count(*) from warehouse.observation where raw_value = '2201'")" "1" \
   "2021's new figure is in"
is "$(obs_of "$A20")" "$obs20" "2020's old rows stay"
mv "$T/www/a-2020.csv.away" "$T/www/a-2020.csv"

## usage errors: exit 2, nothing recorded
last=$(q "select max(id) from ledger.run")
etl plan --year 2022..2020
is_rc 2 "plan --year 2022..2020: exit 2"
like "$ETL_ERR" '^ewc-etl: --year: year range "2022..2020" ends before it starts' \
     "a reversed range is refused"
etl backfill --year 1850
is_rc 2 "backfill --year 1850: exit 2"
like "$ETL_ERR" "year 1850 is out of range \\(1900 to 2100\\)" "out of range"
etl run --year 2020..x
is_rc 2 "run --year 2020..x: exit 2"
like "$ETL_ERR" 'expected a year or a range such as 2020..2022, found "2020..x"' "garbage"
etl backfill --dry-run
is_rc 2 "backfill --dry-run without --year: exit 2"
like "$ETL_ERR" "backfill: --year is required" "it says --year is required"
etl backfill --year 2021 --fetch
is_rc 2 "backfill --fetch without --dry-run: exit 2"
like "$ETL_ERR" "--fetch and --json go with --dry-run" "it says so"
etl plan --offline
is_rc 2 "plan --offline: exit 2"
etl plan --pipeline nope
is_rc 2 "plan of an unknown pipeline: exit 2"
is "$(q "select count(*) from ledger.run where id > $last")" "0" "usage errors record no run"

## exit 1: no database; the pipeline held by another run
etl --db "host=127.0.0.1 port=1 connect_timeout=3" plan
is_rc 1 "plan with the database unreachable: exit 1"
psql -XAtq -c "select pg_advisory_lock(hashtext('ewc-etl'), hashtext('indicators'));
               select pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
held() {
    [ "$(q "select count(*) from pg_locks where locktype = 'advisory' and granted")" = 1 ]
}
ok "another session holds the pipeline's lock" -- wait_until 20 held
etl plan --fetch
is_rc 1 "plan --fetch while the pipeline is being run: exit 1"
like "$ETL_ERR" "is being run by another process" "it says why"
etl plan
is_rc 0 "plan without --fetch needs no lock: exit 0"
# end the holding session from the server side; its psql (ours) then exits
q "select pg_terminate_backend(pid) from pg_locks
    where locktype = 'advisory' and granted" >/dev/null
wait "$holder" 2>/dev/null
ok "the holding session ended" -- wait_until 20 eval '! held'
etl plan --fetch
is_rc 0 "plan --fetch once the lock is free: exit 0"

done_testing
