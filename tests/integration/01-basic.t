#!/bin/bash
# 01-basic: a small UTF-8 CSV of 5 rows loads as 5 exact observations (codes,
# base-unit values, periods), with its ledger rows; `status` shows the run.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/basic.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,吸纳脱贫劳动力就业,2021,926.3万,人,
全国,,采购和帮助销售农副产品,2021,813亿元,,含消费帮扶
全国,,引导企业投资,2022年上半年,1127,家,
广东,广西,吸纳脱贫劳动力就业,2021Q3,"12,345",人,
浙江,四川,财政援助资金,2021年6月,3.5亿元,,
CSV

setup_all
write_pipeline "$EWC_SOURCE_URL/basic.csv"

etl check
is_rc 0 "check accepts the pipeline"

etl run
is_rc 0 "run exits 0"

is "$(obs_dump)" "$(cat <<'EOF2'
agri_products_sold|000000|-|year|2021-01-01|2022-01-01|81300000000|CNY|含消费帮扶
enterprises_guided|000000|-|half|2022-01-01|2022-07-01|1127|enterprise|-
fiscal_aid_funds|330000|510000|month|2021-06-01|2021-07-01|350000000|CNY|-
poverty_labour_employed|000000|-|year|2021-01-01|2022-01-01|9263000|person|-
poverty_labour_employed|440000|450000|quarter|2021-07-01|2021-10-01|12345|person|-
EOF2
)" "the 5 observations, in base units"

is "$(q "select raw_value, line from warehouse.observation order by line")" \
"$(printf '%s\n' '926.3万|2' '813亿元|3' '1127|4' '12,345|5' '3.5亿元|6')" \
    "raw values and line numbers kept"

is "$(q "select status, rows_in, rows_loaded, rows_rejected, http_status,
                sha256, bytes, etag
           from ledger.file")" \
   "loaded|5|5|0|200|$(sha256sum <"$T/www/basic.csv" | cut -d' ' -f1)|$(stat -c %s "$T/www/basic.csv")|$(etag_of "$T/www/basic.csv")" \
   "ledger.file: loaded, 5 in, 5 loaded, 0 rejected, sha256, bytes, etag"

is "$(q "select pipeline, kind, status, files_total, files_loaded,
                files_unchanged, files_failed, rows_loaded, rows_rejected,
                finished_at is not null
           from ledger.run")" \
   "indicators|manual|ok|1|1|0|0|5|0|t" "ledger.run: one ok manual run"

is "$(q "select count(*) from warehouse.observation o
           join ledger.file f on f.id = o.file_id
           join ledger.source s on s.id = o.source_id
          where o.run_id = f.run_id and s.file_id = f.id
            and s.url = '$EWC_SOURCE_URL/basic.csv'")" "5" \
   "observations point at their file, run and source"

is "$(q "select count(*) from ledger.reject")" "0" "no rejects"

is "$(http_count GET /basic.csv 200)" "1" "one GET of the file"

run_id=$(q "select id from ledger.run")
etl status
is_rc 0 "status exits 0"
like "$ETL_OUT" "indicators" "status names the pipeline"
like "$ETL_OUT" "(^|[^0-9])$run_id([^0-9]|$)" "status shows the run id"
like "$ETL_OUT" "(^|[^a-z_])ok([^a-z_]|$)" "status shows the run's status"

etl status --json
is_rc 0 "status --json exits 0"
ok "status --json prints valid JSON" -- python3 -c \
    'import json,sys; json.loads(sys.stdin.read())' <<<"$ETL_OUT"

etl_raw version
is_rc 0 "version exits 0"
like "$ETL_OUT" "[0-9]+\.[0-9]+\.[0-9]+" "version prints a version"

done_testing
