#!/bin/bash
# 08-retry: 503 (with Retry-After: 1) then 503 then 200: retried and loaded,
# three GETs; a 503 that never ends fails the file after 1 + retries GETs;
# a dropped connection is retried too.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/http
cp "$DATA/national-2021.csv" "$T/www/a.csv"
cp "$DATA/national-2021.csv" "$T/www/down.csv"
cp "$DATA/national-2021.csv" "$T/www/flaky.csv"

setup_all
a=$EWC_SOURCE_URL/a.csv

cat >"$HTTP_SCRIPT" <<'JSON'
{"/a.csv": [{"status": 503, "headers": {"Retry-After": "1"}},
            {"status": 503}]}
JSON
write_pipeline --retries 3 "$a"
etl run
is_rc 0 "503, 503, 200: run exits 0"
is "$(http_log_lines /a.csv | cut -d' ' -f1-3)" \
"$(printf '%s\n' 'GET /a.csv 503' 'GET /a.csv 503' 'GET /a.csv 200')" \
   "server log: 3 GETs, 503 503 200"
is "$(q "select status, http_status, rows_loaded from ledger.file")" "loaded|200|10" \
   "the file is loaded"
t1=$(python3 -c 'import json,sys
t=[json.loads(l)["time"] for l in open(sys.argv[1])]
print("yes" if t[1] - t[0] >= 0.9 else "no: %.3f s" % (t[1] - t[0]))' "$HTTP_LOG")
is "$t1" "yes" "Retry-After: 1 is honoured (1 s before the second GET)"

# 503 forever, retries: 2 -> 3 GETs, the file fails.
cat >"$HTTP_SCRIPT" <<'JSON'
{"/down.csv": {"status": 503}}
JSON
write_pipeline --retries 2 "$EWC_SOURCE_URL/down.csv" "$a"
etl run
is_rc 4 "503 forever on one of two files: exit 4"
is "$(http_count GET /down.csv)" "3" "down.csv: 1 GET + 2 retries"
is "$(q "select status, http_status from ledger.file
          where url = '$EWC_SOURCE_URL/down.csv'")" "failed|503" \
   "down.csv failed with http_status 503"
like "$(q "select error from ledger.file where url = '$EWC_SOURCE_URL/down.csv'")" \
   "503" "its error names the status"
is "$(q "select status from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$a'")" \
   "unchanged" "a.csv: unchanged (304)"

# A dropped connection, then a body cut short, then the file: loaded.
cat >"$HTTP_SCRIPT" <<'JSON'
{"/flaky.csv": [{"drop": true}, {"truncate": 50}]}
JSON
write_pipeline --retries 3 "$EWC_SOURCE_URL/flaky.csv"
etl run
is_rc 0 "dropped connection and short body are retried: exit 0"
is "$(http_count GET /flaky.csv)" "3" "flaky.csv: 3 GETs"
is "$(q "select status, rows_loaded, bytes from ledger.file
          where url = '$EWC_SOURCE_URL/flaky.csv'")" \
   "loaded|10|$(stat -c %s "$T/www/flaky.csv")" \
   "flaky.csv loaded whole (not the 50-byte body)"

done_testing
