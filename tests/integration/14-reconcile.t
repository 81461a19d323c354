#!/bin/bash
# 14-reconcile: a national row of an additive indicator is compared with
# the sum of the same file's province rows.  reconcile: warn loads the
# file and records the difference in ledger.reconcile; reconcile: fail
# refuses the file (nothing of it loaded, the previous version kept) and
# still records why.  Rows within the tolerance pass silently.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/r.csv" <<'CSV'
地区,指标,时期,数值,单位
全国,新增引导企业,2021,2193,家
广东,新增引导企业,2021,1000,家
江苏,新增引导企业,2021,1150,家
全国,共建产业园区,2021,482,个
广东,共建产业园区,2021,400,个
浙江,共建产业园区,2021,82,个
全国,吸纳脱贫劳动力就业,2021,926.3万,人
CSV

setup_all
u=$EWC_SOURCE_URL/r.csv
pipeline() {
    cat >"$T/pipeline.yaml" <<YAML
catalog: $REPO/config/catalog
spool: \${EWC_SPOOL}
pipelines:
  p:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$u"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize] }
      - { name: load, kind: pg_load, needs: [validate], reconcile: $1 }
YAML
}

pipeline warn
etl run
is_rc 0 "warn: the file loads, exit 0"
is "$(q "select status, rows_loaded from ledger.file")" "loaded|7" "all 7 rows loaded"
is "$(q "select indicator, period_start, trim_scale(national), trim_scale(sum_of_regions),
                regions, outcome from ledger.reconcile")" \
   "enterprises_guided|2021-01-01|2193|2150|2|warned" \
   "the 43-enterprise gap (over 0.5%) is recorded; the parks add up and are not"
like "$ETL_ERR" "national 2193 of enterprises_guided 2021-01-01..2022-01-01 differs from the sum of 2 province rows, 2150" \
   "and logged as a warning"

# republish with another gap, now with reconcile: fail
sed -i 's/^江苏,新增引导企业,2021,1150,/江苏,新增引导企业,2021,1100,/' "$T/www/r.csv"
pipeline fail
etl run
is_rc 5 "fail: the only file fails, exit 5"
is "$(q "select status, error from ledger.file where run_id = (select max(id) from ledger.run)")" \
   "failed|national 2193 of enterprises_guided 2021-01-01..2022-01-01 differs from the sum of 2 province rows, 2100 (reconcile: fail)" \
   "the file is refused with the reason"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'enterprises_guided' and region = '320000'")" "1150" \
   "the previous version's rows stay"
is "$(q "select trim_scale(sum_of_regions), outcome from ledger.reconcile
          where file_id = (select max(id) from ledger.file)")" "2100|failed" \
   "the refused file's difference is recorded"

# a gap within 0.5% (2193 against 2190) is rounding, not a difference
sed -i 's/^江苏,新增引导企业,2021,1100,/江苏,新增引导企业,2021,1190,/' "$T/www/r.csv"
etl run
is_rc 0 "within the tolerance: loaded, exit 0"
is "$(q "select count(*) from ledger.reconcile
          where file_id = (select max(id) from ledger.file)")" "0" "and nothing recorded"

# The sums are made as the rows stream past; a file that repeats a key is
# loaded again with the repeats rejected, and its sums are the database's.
# Both ways give the same digits, at the scale of sum(numeric).
pipeline warn
cat >"$T/www/r.csv" <<'CSV'
地区,指标,时期,数值,单位
全国,新增引导企业,2022,2193.5,家
广东,新增引导企业,2022,1000.25,家
江苏,新增引导企业,2022,1150.125,家
CSV
etl run
is_rc 0 "decimal figures: loaded"
last_diff() {
    q "select indicator, period_start, national, sum_of_regions, regions, outcome
         from ledger.reconcile where file_id = (select max(id) from ledger.file)"
}
is "$(last_diff)" "enterprises_guided|2022-01-01|2193.5|2150.375|2|warned" \
   "streamed: the exact sum at the largest scale"
echo "江苏,新增引导企业,2022,1150.125,家" >>"$T/www/r.csv"
etl run
is_rc 3 "the same rows with one repeated: loaded, exit 3 (a row rejected)"
is "$(q "select rows_loaded, rows_rejected from ledger.file order by id desc limit 1")" "3|1" \
   "the repeat is rejected (the dedupe path)"
is "$(last_diff)" "enterprises_guided|2022-01-01|2193.5|2150.375|2|warned" \
   "the database's sums say the same"

pipeline nonsense
etl check
is_rc 2 "an unknown reconcile mode is a config error"
like "$ETL_ERR" "pipeline.yaml:[0-9]+:[0-9]+: \"reconcile\" must be off, warn or fail, not \"nonsense\"" \
   "naming the value and its place"

done_testing
