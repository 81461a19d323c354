#!/bin/bash
# 09-404: a URL answering 404 fails its file (not retried), the others load:
# exit 4, run partial.  When every file fails: exit 5, run failed.
. "$(dirname "$0")/../lib/env.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"

setup_all
a=$EWC_SOURCE_URL/a.csv
m=$EWC_SOURCE_URL/missing.csv
write_pipeline --retries 3 "$m" "$a"

etl run
is_rc 4 "one 404 of two files: exit 4"
is "$(q "select status, http_status, rows_loaded from ledger.file where url = '$m'")" \
   "failed|404|0" "missing.csv: failed, http_status 404"
like "$(q "select error from ledger.file where url = '$m'")" "404" \
   "its error names the status"
is "$(q "select status, rows_loaded from ledger.file where url = '$a'")" \
   "loaded|10" "a.csv: loaded"
is "$(q "select status, files_total, files_loaded, files_failed, rows_loaded
           from ledger.run")" "partial|2|1|1|10" "ledger.run: partial"
is "$(http_count GET /missing.csv)" "1" "a 404 is not retried"
like "$ETL_ERR" "missing\.csv" "the log names the failed URL"

# Every file fails -> exit 5.
cat >"$HTTP_SCRIPT" <<'JSON'
{"/gone.csv": {"status": 404}, "/forbidden.csv": {"status": 403}}
JSON
write_pipeline "$EWC_SOURCE_URL/gone.csv" "$EWC_SOURCE_URL/forbidden.csv"
etl run
is_rc 5 "every file failed: exit 5"
is "$(q "select status, files_total, files_failed from ledger.run
          order by id desc limit 1")" "failed|2|2" "ledger.run: failed"
is "$(q "select string_agg(http_status::text, ',' order by http_status) from ledger.file
          where run_id = (select max(id) from ledger.run)")" "403,404" \
   "both failures recorded with their status"

# Nothing listening: a connection error, retried, then failed.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_pipeline --retries 1 "http://127.0.0.1:$port/a.csv"
etl run
is_rc 5 "connection refused on the only file: exit 5"
is "$(q "select status from ledger.file where run_id = (select max(id) from ledger.run)")" \
   "failed" "the file is failed"
like "$(q "select coalesce(error, '') from ledger.file
            where run_id = (select max(id) from ledger.run)")" \
   "[Cc]onnect|refused" "its error says the connection failed"

done_testing
