#!/bin/bash
# 13-duplicates: a file that repeats a key (indicator, region, partner,
# period) is loaded again through the staging path: the first line wins,
# a repeat with the same value is rejected as the same figure, one with
# another value as a conflicting duplicate; nothing is lost and the counts
# balance.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/dup.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,新增引导企业,2021,2193,家,
全国,,共建产业园区,2021,482,个,
全国,,新增引导企业,2021,2193,家,文章第二次提到
广东,广西,吸纳脱贫劳动力就业,2021,30万,人,
全国,,共建产业园区,2021,480,个,另一个数字
广东,广西,吸纳脱贫劳动力就业,2021,30万,人,
CSV

setup_all
u=$EWC_SOURCE_URL/dup.csv
write_pipeline --ratio 0.9 "$u"

etl run
is_rc 3 "loaded with rejects: exit 3"
is "$(q "select status, rows_in, rows_loaded, rows_rejected from ledger.file")" \
   "loaded|6|3|3" "6 rows in, 3 loaded, 3 rejected"
is "$(q "select indicator, region, coalesce(partner, '-'), trim_scale(value), line
           from warehouse.observation order by line")" \
"enterprises_guided|000000|-|2193|2
industrial_parks_cobuilt|000000|-|482|3
poverty_labour_employed|440000|450000|300000|5" "the first line of each key is kept"
is "$(q "select line, reason from ledger.reject order by line")" \
"4|same figure as line 2
6|duplicate of line 3 with another value (480, not 482)
7|same figure as line 5" "each repeat is a reject naming the first line"
is "$(q "select raw from ledger.reject where line = 6")" "全国,,共建产业园区,2021,480,个,另一个数字" \
   "the raw text of the repeat is kept"

# the same file again: unchanged, nothing doubled
etl run
is_rc 0 "second run exits 0"
is "$(q "select count(*) from warehouse.observation")" "3" "still 3 observations"

done_testing
