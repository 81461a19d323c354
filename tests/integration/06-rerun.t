#!/bin/bash
# 06-rerun: running twice loads nothing twice: the second run sends the
# stored validators (If-None-Match), gets 304 and marks the files unchanged.
# A third run with the ETag unusable (server forgets it) but the same body
# is unchanged too, by sha256.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/http
cp "$DATA/national-2021.csv" "$T/www/a.csv"
gzip -n -c "$DATA/national-2021.csv" >"$T/www/b.csv.gz"
touch -d '2024-01-01 00:00:00 UTC' "$T/www/a.csv" "$T/www/b.csv.gz"

setup_all
a=$EWC_SOURCE_URL/a.csv
b=$EWC_SOURCE_URL/b.csv.gz
write_pipeline "$a" "$b"

etl run
is_rc 0 "first run exits 0"
first=$(obs_dump)
is "$(q "select count(*) from warehouse.observation")" "20" "first run: 20 observations"
is "$(q "select etag from ledger.source where url = '$a'")" "$(etag_of "$T/www/a.csv")" \
   "ledger.source keeps a.csv's ETag"
is "$(q "select last_modified from ledger.source where url = '$a'")" \
   "Mon, 01 Jan 2024 00:00:00 GMT" "ledger.source keeps a.csv's Last-Modified"

etl run
is_rc 0 "second run exits 0"
is "$(obs_dump)" "$first" "second run: the same observations, no duplicates"
is "$(q "select count(*) from warehouse.observation")" "20" "still 20 observations"
is "$(q "select status, files_total, files_loaded, files_unchanged, files_failed,
                rows_loaded from ledger.run order by id desc limit 1")" \
   "ok|2|0|2|0|0" "second run: 2 files unchanged, 0 loaded"
is "$(q "select string_agg(status, ',') from ledger.file
          where run_id = (select max(id) from ledger.run)")" "unchanged,unchanged" \
   "second run's ledger.file rows are 'unchanged'"
is "$(q "select string_agg(distinct http_status::text, ',') from ledger.file
          where run_id = (select max(id) from ledger.run)")" "304" \
   "recorded with HTTP status 304"

is "$(http_log_lines /a.csv)" \
"$(printf '%s\n' "GET /a.csv 200 -" "GET /a.csv 304 $(etag_of "$T/www/a.csv")")" \
   "server log: a.csv fetched, then If-None-Match sent and 304 returned"
is "$(http_log_lines /b.csv.gz)" \
"$(printf '%s\n' "GET /b.csv.gz 200 -" "GET /b.csv.gz 304 $(etag_of "$T/www/b.csv.gz")")" \
   "server log: b.csv.gz the same"
like "$(python3 -c 'import json,sys
print([json.loads(l)["if_modified_since"] for l in open(sys.argv[1])][1])' "$HTTP_LOG")" \
   "Mon, 01 Jan 2024 00:00:00 GMT|None" \
   "If-Modified-Since, when sent, is the stored Last-Modified"

# The server now ignores validators (always 200, new ETag) but the body is
# the same: unchanged by sha256, nothing reloaded.
cat >"$HTTP_SCRIPT" <<'JSON'
{"/a.csv": {"headers": {"ETag": "\"other\""}}}
JSON
touch -d '2024-06-01 00:00:00 UTC' "$T/www/a.csv"
etl run
is_rc 0 "third run exits 0"
is "$(http_count GET /a.csv 200)" "2" "a.csv was downloaded again (new validators)"
is "$(q "select status from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$a'")" \
   "unchanged" "same sha256: a.csv unchanged"
is "$(obs_dump)" "$first" "third run: the same observations"
is "$(q "select count(distinct file_id) from warehouse.observation")" "2" \
   "observations still come from the first run's two files"

done_testing
