#!/bin/bash
# 44-analyst: the analysts' views after "what is the figure".
#   ewc.national_provenance  the rows behind each national figure add up to it
#   ewc.coverage             reported / summed / missing per period, with the
#                            years the catalog expects
#   ewc.quality              rejects by reason, unknown names, differences,
#                            a refused magnitude, per file and run
#   comments                 every view, column and function of ewc has one
#   rights                   ewc_analyst reads every view and calls the function
. "$(dirname "$0")/../lib/env.sh"

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
cat >"$T/www/cov.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2193,家,
广东,,引导企业投资,2021,100,家,
广东,,引导企业投资,2022,120,家,
浙江,,引导企业投资,2022,130,家,
广东,,共建产业园区,2022,10,个,
北京,内蒙古,共建产业园区,2022,5,个,
火星,,引导企业投资,2022,1,家,
浙江,,共建产业园区,2022,l63,个,
CSV
cat >"$T/www/pairs.csv" <<CSV
$HEAD
北京,内蒙古,共建产业园区,2023,6,个,
上海,云南,共建产业园区,2023,7,个,
CSV
# 342 yuan of investment in place: a 亿 lost on the way
cat >"$T/www/mag.csv" <<CSV
$HEAD
全国,,实际到位投资额,2021,342,元,
CSV

setup_all
cov=$EWC_SOURCE_URL/cov.csv
write_pipeline --ratio 0.5 "$cov" "$EWC_SOURCE_URL/pairs.csv" "$EWC_SOURCE_URL/mag.csv"
etl run
is_rc 4 "the run ends partial (mag.csv refused)"

# --- provenance ----------------------------------------------------------
is "$(q "select n.indicator || ' ' || n.period_start || ' ' || n.source
           from ewc.national_period n
          where n.value is distinct from (select sum(p.value) from ewc.national_provenance p
                                           where (p.indicator, p.period_kind, p.period_start,
                                                  p.period_end)
                                               = (n.indicator, n.period_kind, n.period_start,
                                                  n.period_end))
             or coalesce(n.regions, 1) <> (select count(*) from ewc.national_provenance p
                                           where (p.indicator, p.period_kind, p.period_start,
                                                  p.period_end)
                                               = (n.indicator, n.period_kind, n.period_start,
                                                  n.period_end))")" "" \
   "every national figure is the sum of its provenance rows, as many as it says"
is "$(q "select count(*) from ewc.national_period")" "4" "(4 national figures)"
is "$(q "select source, region, trim_scale(value), url, line from ewc.national_provenance
          where indicator = 'enterprises_guided' order by period_start, region")" \
"reported|000000|2193|$cov|2
sum_of_regions|330000|130|$cov|5
sum_of_regions|440000|120|$cov|4" \
   "a reported figure traces to its line, a sum to each province row of it"
is "$(q "select source, region, partner, trim_scale(value), line from ewc.national_provenance
          where indicator = 'industrial_parks_cobuilt' and period_start = '2023-01-01'
          order by region")" \
"sum_of_pairs|110000|150000|6|2
sum_of_pairs|310000|530000|7|3" "a sum of pairs traces to each pair figure"
is "$(q "select count(*) from ewc.national_provenance
          where loaded_at is null or sha256 is null or file_id is null")" "0" \
   "each provenance row has its file, hash and load time"

# --- coverage ------------------------------------------------------------
is "$(q "select scope, region, coalesce(partner, '-'), extract(year from period_start), status,
                coalesce(trim_scale(value)::text, '-')
           from ewc.coverage where indicator = 'enterprises_guided'
          order by scope, region, period_start")" \
"nation|000000|-|2021|reported|2193
nation|000000|-|2022|summed|250
nation|000000|-|2023|missing|-
province|330000|-|2021|missing|-
province|330000|-|2022|reported|130
province|330000|-|2023|missing|-
province|440000|-|2021|reported|100
province|440000|-|2022|reported|120
province|440000|-|2023|missing|-" \
   "coverage of enterprises_guided: reported, summed and missing, through the latest year"
is "$(q "select scope, region, extract(year from period_start), status
           from ewc.coverage where indicator = 'industrial_parks_cobuilt'
          order by scope, region, period_start")" \
"nation|000000|2021|missing
nation|000000|2022|summed
nation|000000|2023|summed
pair|110000|2021|missing
pair|110000|2022|reported
pair|110000|2023|reported
pair|310000|2021|missing
pair|310000|2022|missing
pair|310000|2023|reported
province|440000|2021|missing
province|440000|2022|reported
province|440000|2023|missing" \
   "coverage of industrial_parks_cobuilt: the catalog's years 2021.. and the pairs' gaps"
is "$(q "select count(*) from ewc.coverage where indicator = 'cadres_exchanged'")" "0" \
   "an indicator with no figure and no expected years has no coverage rows"

# --- quality -------------------------------------------------------------
is "$(q "select finding, detail, rows, coalesce(example, '-'), coalesce(first_line::text, '-')
           from ewc.quality where url = '$cov' order by finding, detail")" \
"reconcile|enterprises_guided 2021-01-01..2022-01-01: national 2193, its 1 provinces sum to 100 (warned)|1|-|-
reject|invalid number \"…\"|1|invalid number \"l63\"|9
reject|unknown region \"…\"|1|unknown region \"火星\"|8
unmatched|region 火星|1|unknown region \"火星\"|8" \
   "ewc.quality: rejects by folded reason, the unknown name, the difference"
like "$(q "select finding || ': ' || detail from ewc.quality where url like '%/mag.csv'")" \
   "^magnitude: values of investment_in_place look about [0-9]+× too small" \
   "ewc.quality: the refused magnitude"
is "$(q "select count(distinct run_id) from ewc.quality")" "1" "each finding names its run"

# --- comments ------------------------------------------------------------
is "$(q "select c.relname || '.' || a.attname
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
          where n.nspname = 'ewc' and col_description(c.oid, a.attnum) is null
         union all
         select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'ewc' and obj_description(c.oid, 'pg_class') is null
         union all
         select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'ewc' and obj_description(p.oid, 'pg_proc') is null")" "" \
   "every view, column and function of ewc has a comment"
is "$(q "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'ewc'")" "11" "(the 11 views of ewc)"

# --- rights --------------------------------------------------------------
views=$(q "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'ewc' order by 1")
fails=
for v in $views; do
    psql -XAtq -v ON_ERROR_STOP=1 -c "set role ewc_analyst" \
        -c "select count(*) from ewc.$v" >/dev/null 2>&1 || fails="$fails $v"
done
is "$fails" "" "ewc_analyst reads every view of ewc"
is "$(psql -XAtq -c "set role ewc_analyst" \
        -c "select count(*) from ewc.observation_asof(now())" 2>&1)" \
   "$(q "select count(*) from warehouse.observation")" "and calls ewc.observation_asof"

done_testing
