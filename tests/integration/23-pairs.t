#!/bin/bash
# 23-pairs: national figures from east-west pairs (sql/007_pairs.sql).
# A file holds only pair rows of cadres_exchanged for 2022 H1 (no national
# row, no province row): ewc.national_period gives their exact sum as
# sum_of_pairs, each pair counted once: the east side's figure of 粤桂, not
# 广西's as well; 闽宁 by its west side, the only one given; 广州–毕节 left
# out, its provinces' pair 广东–贵州 having a figure.  technicians_exchanged
# has pair rows and a province row: that stays a sum of regions.  A
# non-additive indicator's pair rows are never summed.  A later file brings
# the reported national 2448: national_period shows it, and
# ewc.reconciliation lists the pairs' 1130 against it on basis 'pairs'.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/pairs.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位
京蒙,,互派党政干部,2022H1,300,人
天津,甘肃,互派干部,2022H1,200,人
广东,广西,互派干部,2022H1,150,人
广西,广东,互派干部,2022H1,999,人
广东,贵州,互派干部人数,2022H1,400,人
广州,毕节,挂职干部人数,2022H1,50,人
宁夏,福建,互派干部,2022H1,80,人
京蒙,,专业技术人才,2022H1,10,人
粤桂,,选派专业技术人员,2022H1,20,人
江苏,,专业技术人员,2022H1,100,人
京蒙,,吸纳脱贫劳动力就业同比增长,2022H1,12,%
粤桂,,吸纳脱贫劳动力就业同比增长,2022H1,15,%
CSV
cat >"$T/www/national.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位
全国,,互派干部,2022年上半年,2448,人
CSV

setup_all
pairs=$EWC_SOURCE_URL/pairs.csv
national=$EWC_SOURCE_URL/national.csv

np_q="select indicator, period_kind, period_start, period_end, trim_scale(value),
             unit, qualifier, source, coalesce(yoy_pct::text, '-'),
             coalesce(regions::text, '-')
        from ewc.national_period"
rec_q="select indicator, period_kind, period_start, period_end,
              trim_scale(national), trim_scale(sum_of_regions), regions,
              trim_scale(difference), within, basis
         from ewc.reconciliation"

# --- pair rows only --------------------------------------------------------

write_pipeline "$pairs"
etl run
is_rc 0 "the pair file loads, exit 0"
is "$(q "select status, rows_loaded, rows_rejected from ledger.file")" "loaded|12|0" \
   "its 12 rows loaded, none rejected (table-header wordings included)"

is "$(q "select east_code, west_code, side, trim_scale(value)
           from ewc.pair_counted where indicator = 'cadres_exchanged'
          order by east_code, west_code")" "$(cat <<'EOF'
110000|150000|east|300
120000|620000|east|200
350000|640000|west|80
440000|450000|east|150
440000|520000|east|400
EOF
)" "pair_counted: 5 pairs, 粤桂 on its east side, 闽宁 on its west side, 广州–毕节 left out"

is "$(q "$np_q where indicator = 'cadres_exchanged'")" \
   "cadres_exchanged|half|2022-01-01|2022-07-01|1130|person|exact|sum_of_pairs|-|5" \
   "national_period: 300 + 200 + 150 + 400 + 80 = 1130 as sum_of_pairs of 5 pairs"
is "$(q "$np_q where indicator = 'technicians_exchanged'")" \
   "technicians_exchanged|half|2022-01-01|2022-07-01|100|person|exact|sum_of_regions|-|1" \
   "a period with a province row stays a sum of regions, its pairs not added"
is "$(q "select count(*) from ewc.national_period
          where indicator = 'poverty_labour_employed_growth'")" "0" \
   "pair rows of a non-additive indicator are never summed"
is "$(q "select count(*) from ewc.reconciliation")" "0" \
   "reconciliation: nothing to check without a reported national figure"

# --- a reported national figure that disagrees ------------------------------

write_pipeline "$pairs" "$national"
etl run
is_rc 0 "the national file loads, exit 0"
is "$(q "$np_q where indicator = 'cadres_exchanged'")" \
   "cadres_exchanged|half|2022-01-01|2022-07-01|2448|person|exact|reported|-|-" \
   "national_period: the reported 2448 replaces the sum of pairs"
is "$(q "$rec_q order by indicator, basis")" \
   "cadres_exchanged|half|2022-01-01|2022-07-01|2448|1130|5|-1318|f|pairs" \
   "reconciliation: the 5 pairs' 1130 against the national 2448 on basis pairs, not within"
is "$(q "select count(*) from ewc.national_period")" "2" \
   "national_period: 2 figures (cadres reported, technicians summed)"

is "$(q "set role ewc_analyst;
         select count(*) from ewc.pair_counted;
         select count(*) from ewc.reconciliation where basis = 'pairs'")" "7
1" "ewc_analyst reads pair_counted and the pair rows of reconciliation"
is "$(q "select obj_description('ewc.pair_counted'::regclass, 'pg_class') is not null,
                col_description('ewc.reconciliation'::regclass, 10) is not null")" "t|t" \
   "pair_counted and the basis column are commented"

done_testing
