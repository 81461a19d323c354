#!/bin/bash
# 22-reconcile-view: regression test for ewc.reconciliation (sql/006_fixes.sql).
# The view used to pick one row per region and period (the latest file's)
# before leaving out pair and of-which rows, so a later pair figure of a
# province (广东–广西) hid the province's own row from the sum.  Here a
# national row and three province rows of an additive indicator load
# first; a later file brings a 粤桂 pair row of the same indicator and
# period, a third one an of-which row of 广东.  The reconciliation must
# still sum the three province rows exactly (1000 of 3 regions, within),
# and ewc.national_period must not change.  (The pair row has a
# reconciliation row of its own, basis 'pairs', since sql/007_pairs.sql.)
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/provinces.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位
全国,,新增引导企业,2021,1000,家
广东,,新增引导企业,2021,400,家
江苏,,新增引导企业,2021,350,家
浙江,,新增引导企业,2021,250,家
CSV
cat >"$T/www/pair.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位
广东,广西,新增引导企业,2021,120,家
CSV
cat >"$T/www/ofwhich.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位
广东,,#新增引导企业,2021,90,家
CSV

setup_all
prov=$EWC_SOURCE_URL/provinces.csv
pair=$EWC_SOURCE_URL/pair.csv
ofwhich=$EWC_SOURCE_URL/ofwhich.csv

rec_q="select indicator, period_kind, period_start, period_end,
              trim_scale(national), trim_scale(sum_of_regions), regions,
              trim_scale(difference), within
         from ewc.reconciliation where basis = 'regions'"
REC='enterprises_guided|year|2021-01-01|2022-01-01|1000|1000|3|0|t'
np_q="select indicator, period_kind, period_start, period_end, trim_scale(value),
             unit, qualifier, source, coalesce(yoy_pct::text, '-'),
             coalesce(regions::text, '-')
        from ewc.national_period"
NP='enterprises_guided|year|2021-01-01|2022-01-01|1000|enterprise|exact|reported|-|-'

# --- the national and province rows ---------------------------------------

write_pipeline "$prov"
etl run
is_rc 0 "the province file loads, exit 0"
is "$(q "select status, rows_loaded from ledger.file")" "loaded|4" \
   "its 4 rows loaded"
is "$(q "$rec_q")" "$REC" \
   "reconciliation: national 1000 = 广东 400 + 江苏 350 + 浙江 250 (3 regions, within)"
is "$(q "$np_q")" "$NP" "national_period: the reported 1000"

# --- a later file with a pair row of 广东 ----------------------------------

write_pipeline "$prov" "$pair"
etl run
is_rc 0 "the pair file loads, exit 0"
is "$(q "select regexp_replace(f.url, '^.*/', ''), f.status, f.rows_loaded
           from ledger.file f
          where f.run_id = (select max(id) from ledger.run) order by 1")" \
   "pair.csv|loaded|1
provinces.csv|unchanged|0" "run 2: pair.csv loaded, provinces.csv unchanged"
is "$(q "select count(*) from warehouse.observation p
           join warehouse.observation o
             on o.region = p.region and o.indicator = p.indicator
            and o.period_start = p.period_start and o.partner is null
          where p.region = '440000' and p.partner = '450000'
            and p.file_id > o.file_id")" "1" \
   "the 粤桂 pair row is in a later file than 广东's own row"
is "$(q "select east_name, west_name, side, trim_scale(value)
           from ewc.pair_period where indicator = 'enterprises_guided'")" \
   "广东省|广西壮族自治区|east|120" "pair_period shows the 粤桂 figure"
is "$(q "$rec_q")" "$REC" \
   "reconciliation still sums the 3 province rows only: 1000, 3 regions, within"
is "$(q "$np_q")" "$NP" "national_period is unaffected by the pair row"
is "$(q "select trim_scale(national), trim_scale(sum_of_regions), regions, within
           from ewc.reconciliation where basis = 'pairs'")" "1000|120|1|f" \
   "the pair row is reconciled on its own: 1 pair, 120 of 1000, not within"

# --- a later file with an of-which row of 广东 ------------------------------

write_pipeline "$prov" "$pair" "$ofwhich"
etl run
is_rc 0 "the of-which file loads, exit 0"
is "$(q "select region, trim_scale(value), of_which from warehouse.observation o
           join ledger.file f on f.id = o.file_id where f.url = '$ofwhich'")" \
   "440000|90|t" "广东's row marked of-which is loaded as of-which"
is "$(q "$rec_q")" "$REC" \
   "reconciliation leaves the of-which row out too: 1000, 3 regions, within"
is "$(q "$np_q")" "$NP" "national_period is unaffected by the of-which row"
is "$(q "select count(*) from warehouse.observation")" "6" \
   "6 observations: national, 3 provinces, the pair row, the of-which row"

done_testing
