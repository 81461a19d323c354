#!/bin/bash
# 04-rejects: bad rows go to ledger.reject with their line, raw text and
# reason; the good rows load; rows_in = rows_loaded + rows_rejected; exit 3.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/mixed.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
卢旺达,,引导企业投资,2021,12,家,外国地名
全国,,采购和帮助销售农副产品,2021,813亿元,,
全国,,吸纳脱贫劳动力就业,2021,926.3万,人,
全国,,财政援助资金,2022年上半年,220亿元,,
全国,,互派干部,2022年上半年,2448,人,
广东,广西,吸纳脱贫劳动力就业,2021,abc,人,
福建,宁夏,财政援助资金,2021,4.5亿元,,
江苏,陕西,引导企业投资,2021年第三季度,128,家,
CSV
url_of() { echo "$EWC_SOURCE_URL/$1"; }

setup_all
write_pipeline --ratio 0.3 "$(url_of mixed.csv)"

etl run
is_rc 3 "run exits 3: ok, but rows were rejected"

is "$(q "select status, rows_in, rows_loaded, rows_rejected from ledger.file")" \
   "loaded|10|8|2" "ledger.file: loaded, rows_in 10 = 8 loaded + 2 rejected"
is "$(q "select status, files_loaded, files_failed, rows_loaded, rows_rejected
           from ledger.run")" "ok_with_rejects|1|0|8|2" \
   "ledger.run: ok_with_rejects, 8 rows loaded, 2 rejected"
is "$(q "select count(*) from warehouse.observation")" "8" "8 observations"
is "$(q "select string_agg(line::text, ',' order by line)
           from warehouse.observation")" "2,3,5,6,7,8,10,11" \
   "the observations are the good lines"

is "$(q "select line, raw from ledger.reject order by line")" \
"$(printf '%s\n' '4|卢旺达,,引导企业投资,2021,12,家,外国地名' \
                 '9|广东,广西,吸纳脱贫劳动力就业,2021,abc,人,')" \
   "rejects: file line numbers (header is line 1) and raw text"
like "$(q "select reason from ledger.reject where line = 4")" \
   "unknown region.*卢旺达" "line 4 rejected as an unknown region, named"
like "$(q "select reason from ledger.reject where line = 9")" \
   "invalid number.*abc" "line 9 rejected as an invalid number, quoted"
is "$(q "select count(*) from ledger.reject r join ledger.file f
           on f.id = r.file_id where f.status = 'loaded'")" "2" \
   "rejects belong to the file"

etl status
like "$ETL_OUT" "ok_with_rejects" "status shows ok_with_rejects"

# More reject reasons, one per line; ratio 1.0 so the file is kept.
cat >"$T/www/reasons.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,不存在的指标,2021,1,家,
全国,,引导企业投资,明年,1,家,
广东,四川,吸纳脱贫劳动力就业,2021,1,人,
全国,,引导企业投资,2021,1,家,多余的列,x
全国,,引导企业投资,2020,5,家,
CSV
write_pipeline --ratio 1.0 "$(url_of reasons.csv)"
etl run
is_rc 3 "second file: exit 3"
reason() {
    q "select r.reason from ledger.reject r join ledger.file f
         on f.id = r.file_id
        where f.url = '$(url_of reasons.csv)' and r.line = $1"
}
is "$(q "select rows_in, rows_loaded, rows_rejected from ledger.file
          where url = '$(url_of reasons.csv)'")" "5|1|4" \
   "5 rows in, 1 loaded, 4 rejected"
like "$(reason 2)" "unknown indicator.*不存在的指标" "line 2: unknown indicator, named"
like "$(reason 3)" "period.*明年" "line 3: unparseable period, quoted"
like "$(reason 4)" "pair" "line 4: 广东-四川 was never a pair"
like "$(reason 5)" "column|field" "line 5: too many columns"

done_testing
