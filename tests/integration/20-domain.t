#!/bin/bash
# 20-domain: the domain in full.  The bundled sample (config/sample/, made
# by tests/data/sample/gen) is served and loaded with the shipped
# config/pipeline.yaml; the analyst views then give every figure of the
# seed article that DOMAIN.md lists, exactly: values in base units, units,
# qualifiers and period bounds; yoy 12.00 on 2020; figures published two
# to four times counted once; the SDMX-CSV 2.0 file (UNIT_MULT applied,
# OBS_STATUS E kept as "estimate", an ACTION D row counted as deleted); the
# pair figures and their side; the reconciliation of the provinces with the
# nation (one discrepancy on purpose) and of the pairs with the nation; the
# 京蒙 schools and hospitals, published only per pair, as sums of pairs;
# tables as agencies print them (a wide table with title, unit line, 合计,
# 其中： row and footnotes; an Excel workbook; an open-data JSON array),
# loaded without a reject; the 4 bad rows in ledger.reject with their line
# and reason; rows_in = rows_loaded + rows_rejected + rows_deleted for
# every file.  A second run changes nothing, and the analyst role reads
# the views but not the ledger.
. "$(dirname "$0")/../lib/env.sh"

cp "$REPO"/config/sample/* "$T/www/"
# the shipped pipeline, with its catalog found from $T
sed "s|^catalog: catalog\$|catalog: $REPO/config/catalog|" \
    "$REPO/config/pipeline.yaml" >"$T/pipeline.yaml"
if ! grep -qx "catalog: $REPO/config/catalog" "$T/pipeline.yaml"; then
    bail_out "config/pipeline.yaml has no 'catalog: catalog' line to rewrite"
fi

ok "config/sample/ is what tests/data/sample/gen makes of its sources" -- \
    "$REPO/tests/data/sample/gen" --check

setup_all

etl check
is_rc 0 "check accepts config/pipeline.yaml"

etl run
is_rc 3 "run exits 3: loaded, with the sample's bad rows rejected"

# --- the ledger --------------------------------------------------------

file_q="select regexp_replace(url, '^.*/', ''), status, rows_in, rows_loaded,
               rows_rejected, rows_deleted
          from ledger.file"
is "$(q "$file_q order by 1")" "$(cat <<'EOF'
guangdong-2012-2020.csv|loaded|3|3|0|0
history.csv|loaded|4|4|0|0
national-2020.csv|loaded|6|6|0|0
national-2021.csv|loaded|7|6|1|0
national-2022.csv|loaded|5|5|0|0
opendata-2022h1.json|loaded|3|3|0|0
pairs-2021.csv|loaded|12|11|1|0
pairs-2022h1.csv.gz|loaded|37|37|0|0
provinces-2021.csv.gz|loaded|33|32|1|0
provinces-2022h1.csv|loaded|17|16|1|0
remarks-2022.tsv|loaded|12|12|0|0
sdmx-2022h1.csv|loaded|7|6|0|1
table-2021.csv|loaded|39|39|0|0
workbook-2022h1.xlsx|loaded|18|18|0|0
EOF
)" "ledger.file: the 14 sample files loaded, rows in/loaded/rejected/deleted each"
is "$(q "select regexp_replace(url, '^.*/', ''), status, rows_rejected from ledger.file
          where url ~ '/(table-2021[.]csv|workbook-2022h1[.]xlsx|opendata-2022h1[.]json)$'
          order by 1")" "$(cat <<'EOF'
opendata-2022h1.json|loaded|0
table-2021.csv|loaded|0
workbook-2022h1.xlsx|loaded|0
EOF
)" "the printed table, the workbook and the open-data JSON: loaded, 0 rejects each"

is "$(q "select count(*) from ledger.file
          where rows_in is distinct from rows_loaded + rows_rejected
                                         + rows_deleted")" "0" \
   "rows_in = rows_loaded + rows_rejected + rows_deleted for every file"
is "$(q "select count(*) from ledger.file f
          where f.rows_loaded <> (select count(*) from warehouse.observation o
                                   where o.file_id = f.id)
             or f.rows_rejected <> (select count(*) from ledger.reject r
                                     where r.file_id = f.id)")" "0" \
   "every file's rows_loaded are its observations, rows_rejected its rejects"
is "$(q "select status, files_total, files_loaded, files_unchanged, files_failed,
                rows_loaded, rows_rejected
           from ledger.run")" "ok_with_rejects|14|14|0|0|198|4" \
   "ledger.run: ok_with_rejects, 14 files, 198 rows loaded, 4 rejected"

is "$(q "select regexp_replace(f.url, '^.*/', ''), r.line, r.reason
           from ledger.reject r join ledger.file f on f.id = r.file_id
          order by 1, 2")" "$(cat <<'EOF'
national-2021.csv|8|unknown region "火星"
pairs-2021.csv|13|no east–west pairing 北京–广西 in 2021
provinces-2021.csv.gz|34|invalid number "l63"
provinces-2022h1.csv|18|relative period "今年" needs the file's as-of date
EOF
)" "ledger.reject: the 4 bad rows, their file lines and reasons"

is "$(q "select r.raw from ledger.reject r join ledger.file f on f.id = r.file_id
          order by f.url, r.line")" "$(cat <<'EOF'
火星,,共建产业园区,2021,3,个,示例坏行:未知地区
北京,广西,乡村振兴示范村,2021,12,个,坏行:北京与广西在2021年没有结对关系
Fujian,enterprises_guided,2021Q4,l63,家,bad row: a letter l typed for the digit 1
广东,引导企业投资,今年,178,家,坏行：相对时期，文件没有基准日期
EOF
)" "ledger.reject keeps each bad row's raw text, decoded (GB18030, gzip) and without CR"

# --- national figures ---------------------------------------------------

np_q="select indicator, period_kind, period_start, period_end, trim_scale(value),
             unit, qualifier, source, coalesce(yoy_pct::text, '-'),
             coalesce(regions::text, '-')
        from ewc.national_period"

is "$(q "$np_q where period_kind = 'year' and period_start = '2021-01-01'
          order by indicator")" "$(cat <<'EOF'
agri_products_sold|year|2021-01-01|2022-01-01|81300000000|CNY|exact|reported|-|-
demo_villages_started|year|2021-01-01|2022-01-01|917|village|exact|reported|-|-
enterprises_guided|year|2021-01-01|2022-01-01|2193|enterprise|exact|reported|-|-
industrial_parks_cobuilt|year|2021-01-01|2022-01-01|482|park|exact|reported|-|-
poverty_labour_employed|year|2021-01-01|2022-01-01|9263000|person|exact|reported|12.00|-
poverty_labour_employed_growth|year|2021-01-01|2022-01-01|12|pct|exact|reported|-|-
EOF
)" "national 2021: 2193 enterprises, 482 parks, 813亿元, 926.3万 (+12.00%), 917 villages"

is "$(q "$np_q where period_kind = 'half' and source = 'reported'
          order by indicator")" "$(cat <<'EOF'
cadres_exchanged|half|2022-01-01|2022-07-01|2448|person|exact|reported|-|-
enterprises_guided|half|2022-01-01|2022-07-01|1127|enterprise|exact|reported|-|-
fiscal_aid_funds|half|2022-01-01|2022-07-01|22000000000|CNY|exact|reported|-|-
investment_in_place|half|2022-01-01|2022-07-01|34230000000|CNY|exact|reported|-|-
technicians_exchanged|half|2022-01-01|2022-07-01|8520|person|exact|reported|-|-
EOF
)" "national 2022 H1: 220亿元, 2448 cadres, 8520 technicians, 1127 enterprises, 342.3亿元"
is "$(q "$np_q where source = 'sum_of_pairs' order by indicator")" "$(cat <<'EOF'
paired_hospitals|half|2022-01-01|2022-07-01|269|hospital|exact|sum_of_pairs|-|1
paired_schools|half|2022-01-01|2022-07-01|356|school|exact|sum_of_pairs|-|1
EOF
)" "national 2022 H1 schools and hospitals: only 京蒙's, a sum of 1 pair on its east side"

is "$(q "$np_q where period_start = '2020-01-01' order by indicator")" \
   "poverty_labour_employed|year|2020-01-01|2021-01-01|8270500|person|exact|reported|-|-" \
   "national 2020: 827.05万 employed, the base of the 12% growth"
is "$(q "select yoy_pct from ewc.national_period
          where indicator = 'poverty_labour_employed'
            and period_start = '2021-01-01'")" "12.00" \
   "yoy_pct of poverty_labour_employed 2021 is 12.00"

is "$(q "$np_q where period_kind = 'range' and source = 'reported'
          order by period_start, indicator")" "$(cat <<'EOF'
free_aid_funds|range|1996-01-01|2012-01-01|7860000000|CNY|exact|reported|-|-
labour_export|range|1996-01-01|2012-01-01|2650000|person_time|exact|reported|-|-
enterprise_investment|range|2012-01-01|2021-01-01|1000000000000|CNY|lower_bound|reported|-|-
fiscal_social_funds|range|2012-01-01|2021-01-01|100540000000|CNY|exact|reported|-|-
EOF
)" "1996–2011: 78.6亿元, 265万人次; 2012–2020: 1005.4亿元, 1万多亿元 (lower bound)"

is "$(q "select count(*), count(distinct (indicator, period_kind, period_start,
                                         period_end))
           from ewc.national_period")" "21|21" \
   "national_period: 21 figures (2 of them sums of pairs), one row each"

# The 2021 national figures are in two files each (national-2021 and the
# minister's remarks), four of them in a third (the printed table's 合计
# row, its unit from the header or the unit line: 813 is 亿元, 926.3 万人);
# the 2012-2020 ones in two (history, remarks); the 2022 H1 ones in four
# (national-2022, remarks, the SDMX file, whose values are kept with
# UNIT_MULT applied: 220 x 10^8 is 22000000000, and the workbook's 合计 row
# or the open-data JSON).
is "$(q "select o.indicator || ' ' || o.period_kind || ' '
                || to_char(o.period_start, 'YYYY') || ': '
                || string_agg(regexp_replace(s.url, '^.*/', '') || ' ' || o.raw_value,
                              ', ' order by s.url)
           from warehouse.observation o join ledger.source s on s.id = o.source_id
          where o.region = '000000' and o.partner is null
          group by o.indicator, o.period_kind, o.period_start
         having count(*) > 1
          order by o.period_start, o.indicator")" "$(cat <<'EOF'
enterprise_investment range 2012: history.csv 1万多亿, remarks-2022.tsv １万多亿元
fiscal_social_funds range 2012: history.csv 1,005.4亿, remarks-2022.tsv １，００５．４亿元
agri_products_sold year 2021: national-2021.csv 813亿元, remarks-2022.tsv ８１３亿元, table-2021.csv 813
demo_villages_started year 2021: national-2021.csv 917, remarks-2022.tsv ９１７
enterprises_guided year 2021: national-2021.csv 2193, remarks-2022.tsv ２１９３, table-2021.csv 2193
industrial_parks_cobuilt year 2021: national-2021.csv 482, remarks-2022.tsv ４８２, table-2021.csv 482
poverty_labour_employed year 2021: national-2021.csv 926.3万, remarks-2022.tsv ９２６．３万, table-2021.csv 926.3
cadres_exchanged half 2022: national-2022.csv 2448, opendata-2022h1.json 2448, remarks-2022.tsv ２４４８, sdmx-2022h1.csv 2448
enterprises_guided half 2022: national-2022.csv 1127, remarks-2022.tsv １１２７, sdmx-2022h1.csv 1127, workbook-2022h1.xlsx 1127
fiscal_aid_funds half 2022: national-2022.csv 220亿元, opendata-2022h1.json 220, remarks-2022.tsv ２２０亿元, sdmx-2022h1.csv 22000000000
investment_in_place half 2022: national-2022.csv 342.3亿元, remarks-2022.tsv ３４２．３亿元, sdmx-2022h1.csv 34230000000, workbook-2022h1.xlsx 342.3
technicians_exchanged half 2022: national-2022.csv 8520, opendata-2022h1.json 8520, remarks-2022.tsv ８５２０, sdmx-2022h1.csv 8520
EOF
)" "12 national figures in 2 to 4 files, as written (full-width in the remarks; SDMX: x UNIT_MULT)"
is "$(q "select count(*) from warehouse.observation a
           join warehouse.observation b
             on a.indicator = b.indicator and a.region = b.region
            and a.partner is not distinct from b.partner
            and a.period_start = b.period_start and a.period_end = b.period_end
            and a.file_id < b.file_id
          where a.value is distinct from b.value
             or a.qualifier <> b.qualifier or a.unit <> b.unit")" "0" \
   "a figure published more than once has the same value, unit and qualifier in each file"

# --- tables as agencies print them ------------------------------------------

# table-2021.csv: a printed wide table (title, unit line, blank line, one
# column per indicator, 合计 first, an of-which row, footnotes).  Its 合计
# row is the nation's (000000), one observation per column, at line 5.
on_q="select o.line, o.col, o.indicator, o.region, coalesce(o.partner, '-'),
             o.period_kind, o.period_start, o.period_end, trim_scale(o.value), o.unit,
             o.qualifier, o.raw_value, o.of_which
        from warehouse.observation o join ledger.source s on s.id = o.source_id"
is "$(q "$on_q where s.url like '%/table-2021.csv' and o.region = '000000'
          order by o.line, o.col")" "$(cat <<'EOF'
5|2|enterprises_guided|000000|-|year|2021-01-01|2022-01-01|2193|enterprise|exact|2193|f
5|3|industrial_parks_cobuilt|000000|-|year|2021-01-01|2022-01-01|482|park|exact|482|f
5|4|agri_products_sold|000000|-|year|2021-01-01|2022-01-01|81300000000|CNY|exact|813|f
5|5|poverty_labour_employed|000000|-|year|2021-01-01|2022-01-01|9263000|person|exact|926.3|f
EOF
)" "printed table: its 合计 row is the national 2021 figure (period from the title, 亿元 and 万人 from the unit line)"
is "$(q "$on_q where s.url like '%/table-2021.csv' and o.of_which order by o.line, o.col")" \
"$(cat <<'EOF'
10|2|enterprises_guided|320500|-|year|2021-01-01|2022-01-01|58|enterprise|exact|58|t
10|3|industrial_parks_cobuilt|320500|-|year|2021-01-01|2022-01-01|12|park|exact|12|t
10|5|poverty_labour_employed|320500|-|year|2021-01-01|2022-01-01|216000|person|exact|21.6|t
EOF
)" "printed table: 其中：苏州 is an of-which row (320500), its — cell no row"
is "$(q "select count(*), count(distinct region) from ewc.observation_named
          where source like '%/table-2021.csv' and region <> '000000' and not of_which")" \
   "32|8" "printed table: 8 provinces x 4 indicators"
is "$(q "select count(*), sum(copies)
           from (select o.indicator, o.region, count(*) as copies
                   from warehouse.observation o
                   join warehouse.region r on r.code = o.region and r.level = 'province'
                  where o.period_kind = 'year' and o.period_start = '2021-01-01'
                    and o.partner is null
                  group by 1, 2 having count(distinct o.value) = 1) x")" \
   "32|64" \
   "the 32 provincial 2021 figures: each in provinces-2021.csv.gz and the printed table, the same value"
is "$(q "select notes from ledger.file where url like '%/table-2021.csv'")" "$(cat <<'EOF'
2021年东西部协作主要指标完成情况（分省）
单位：亿元、家、个、万人
注：合计为全国数，分省数据为各省(市)报送数，加总与合计不一致处以合计为准。“—”表示未单列。
数据来源：示例表，分省及苏州数据为虚构，不是统计数据。
EOF
)" "ledger.file.notes of the printed table: its title, unit line, 注： footnote and 数据来源： line"
# the same 2193 against 2173 as ewc.reconciliation: the load compares the
# table's own 合计 with its own province rows
like "$ETL_ERR" "table-2021[.]csv: national 2193 of enterprises_guided 2021-01-01[.][.]2022-01-01 differs from the sum of 8 province rows, 2173" \
     "the load warns that the printed table's provinces add up to 2173, not its 合计 2193"

# workbook-2022h1.xlsx: first sheet, merged title, unit line, 合计 first;
# opendata-2022h1.json: an open-data portal's array of objects.
is "$(q "$on_q where (s.url like '%/workbook-2022h1.xlsx' and o.region = '000000')
             or s.url like '%/opendata-2022h1.json'
          order by s.url desc, o.line, o.col")" "$(cat <<'EOF'
5|2|enterprises_guided|000000|-|half|2022-01-01|2022-07-01|1127|enterprise|exact|1127|f
5|3|investment_in_place|000000|-|half|2022-01-01|2022-07-01|34230000000|CNY|exact|342.3|f
2|0|cadres_exchanged|000000|-|half|2022-01-01|2022-07-01|2448|person|exact|2448|f
3|0|technicians_exchanged|000000|-|half|2022-01-01|2022-07-01|8520|person|exact|8520|f
4|0|fiscal_aid_funds|000000|-|half|2022-01-01|2022-07-01|22000000000|CNY|exact|220|f
EOF
)" "workbook's 合计 row (342.3 a number cell, 亿元 from the header) and the JSON's 2448, 8520, 220亿元"

# --- the SDMX-CSV file ----------------------------------------------------

# sdmx-2022h1.csv (SDMX-CSV 2.0, codes only): the five national 2022 H1
# figures again (OBS_STATUS A, UNIT_MULT 8 for the 亿元 ones), 广东's growth
# of employed labour in 2022 H1 as an estimate (OBS_STATUS E; in no other
# file) and an ACTION D row withdrawing a 2022 Q1 figure (line 8).
is "$(q "select line, indicator, region, coalesce(partner, '-'), period_kind,
                period_start, period_end, trim_scale(value), unit, qualifier,
                raw_value, coalesce(note, '-')
           from ewc.observation_named
          where source like '%/sdmx-2022h1.csv' order by line")" "$(cat <<'EOF'
2|fiscal_aid_funds|000000|-|half|2022-01-01|2022-07-01|22000000000|CNY|exact|22000000000|东部省(市)实际投入
3|cadres_exchanged|000000|-|half|2022-01-01|2022-07-01|2448|person|exact|2448|-
4|technicians_exchanged|000000|-|half|2022-01-01|2022-07-01|8520|person|exact|8520|-
5|enterprises_guided|000000|-|half|2022-01-01|2022-07-01|1127|enterprise|exact|1127|-
6|investment_in_place|000000|-|half|2022-01-01|2022-07-01|34230000000|CNY|exact|34230000000|-
7|poverty_labour_employed_growth|440000|-|half|2022-01-01|2022-07-01|5.3|pct|estimate|5.3|示例估计值
EOF
)" "SDMX file: 2022-S1 as a half year, 220 and 342.3 x 10^8 CNY exactly, A -> exact, E -> estimate"

is "$(q "select indicator, region_zh, period_kind, period_start, trim_scale(value),
                unit, qualifier
           from ewc.observation_named where qualifier = 'estimate'")" \
   "poverty_labour_employed_growth|广东省|half|2022-01-01|5.3|pct|estimate" \
   "the one estimate of the sample: 广东's 2022 H1 growth, from the SDMX file"
is "$(q "select count(*) from ewc.observation_named
          where indicator = 'poverty_labour_employed_growth'
            and period_kind = 'half'")" "1" \
   "广东's 2022 H1 growth is in no other file"
is "$(q "select string_agg(period_start::text, ',' order by period_start)
           from ewc.national_period
          where indicator = 'poverty_labour_employed_growth'")" "2021-01-01" \
   "a province's growth (not additive) is no national figure: only the 2021 one in national_period"
is "$(q "select count(*) from ewc.reconciliation
          where indicator = 'poverty_labour_employed_growth'")" "0" \
   "nor is it reconciled"

is "$(q "select (select count(*) from warehouse.observation
                  where period_kind = 'quarter'),
                (select count(*) from warehouse.observation o
                   join ledger.file f on f.id = o.file_id
                  where f.url like '%/sdmx-2022h1.csv' and o.line = 8),
                (select count(*) from ledger.reject r
                   join ledger.file f on f.id = r.file_id
                  where f.url like '%/sdmx-2022h1.csv')")" "0|0|0" \
   "the ACTION D row (line 8, a 2022 Q1 figure) is neither loaded nor rejected"

# --- 广东 2012-2020 -------------------------------------------------------

is "$(q "select indicator, region, region_zh, coalesce(partner, '-'), period_kind,
                period_start, period_end, trim_scale(value), unit, qualifier,
                raw_value
           from ewc.observation_named
          where region = '440000' and period_kind = 'range'
          order by indicator")" "$(cat <<'EOF'
poor_counties_delisted|440000|广东省|-|range|2012-01-01|2021-01-01|93|county|exact|93
poor_people_lifted|440000|广东省|-|range|2012-01-01|2021-01-01|5000000|person|lower_bound|500多万
poor_villages_exited|440000|广东省|-|range|2012-01-01|2021-01-01|9747|village|exact|9747
EOF
)" "广东 2012–2020: 93 counties delisted, 9747 villages exited, 500多万 people (lower bound)"
is "$(q "select note from ewc.observation_named
          where indicator = 'poor_counties_delisted'")" \
   "对口帮扶广西、四川、贵州、云南4省(区)14个市(州)" \
   "the GB18030 + CRLF file's note is decoded UTF-8, without CR"
is "$(q "$np_q where indicator like 'poor%' order by indicator")" "$(cat <<'EOF'
poor_counties_delisted|range|2012-01-01|2021-01-01|93|county|exact|sum_of_regions|-|1
poor_people_lifted|range|2012-01-01|2021-01-01|5000000|person|lower_bound|sum_of_regions|-|1
poor_villages_exited|range|2012-01-01|2021-01-01|9747|village|exact|sum_of_regions|-|1
EOF
)" "national_period shows 广东's figures as a sum of 1 region, not as the nation's"

# --- pairs ----------------------------------------------------------------

pp_q="select indicator, east_code, east_name, west_code, west_name, side,
             period_kind, period_start, period_end, trim_scale(value), unit,
             qualifier
        from ewc.pair_period"
is "$(q "$pp_q where indicator in ('paired_schools', 'paired_hospitals')
          order by indicator desc, side")" "$(cat <<'EOF'
paired_schools|110000|北京市|150000|内蒙古自治区|east|half|2022-01-01|2022-07-01|356|school|exact
paired_schools|110000|北京市|150000|内蒙古自治区|west|half|2022-01-01|2022-07-01|468|school|exact
paired_hospitals|110000|北京市|150000|内蒙古自治区|east|half|2022-01-01|2022-07-01|269|hospital|exact
paired_hospitals|110000|北京市|150000|内蒙古自治区|west|half|2022-01-01|2022-07-01|313|hospital|exact
EOF
)" "京蒙: 内蒙古 468 schools / 313 hospitals (west) paired with 北京 356 / 269 (east)"

is "$(q "select indicator, period_kind, period_start, count(*),
                string_agg(distinct side, ','), trim_scale(sum(value))
           from ewc.pair_period
          where indicator not in ('paired_schools', 'paired_hospitals')
          group by 1, 2, 3 order by 3, 1")" "$(cat <<'EOF'
poverty_labour_employed|year|2020-01-01|5|east|935000
demo_villages_started|year|2021-01-01|11|east|917
cadres_exchanged|half|2022-01-01|11|east|2448
fiscal_aid_funds|half|2022-01-01|11|east|22000000000
technicians_exchanged|half|2022-01-01|11|east|8520
EOF
)" "pair figures: the 11 pairs sum to the national 917, 220亿元, 2448, 8520"

is "$(q "$pp_q where indicator = 'demo_villages_started' order by east_code, west_code")" \
"$(cat <<'EOF'
demo_villages_started|110000|北京市|150000|内蒙古自治区|east|year|2021-01-01|2022-01-01|96|village|exact
demo_villages_started|120000|天津市|620000|甘肃省|east|year|2021-01-01|2022-01-01|72|village|exact
demo_villages_started|310000|上海市|530000|云南省|east|year|2021-01-01|2022-01-01|118|village|exact
demo_villages_started|320000|江苏省|610000|陕西省|east|year|2021-01-01|2022-01-01|84|village|exact
demo_villages_started|320000|江苏省|630000|青海省|east|year|2021-01-01|2022-01-01|41|village|exact
demo_villages_started|330000|浙江省|510000|四川省|east|year|2021-01-01|2022-01-01|112|village|exact
demo_villages_started|350000|福建省|640000|宁夏回族自治区|east|year|2021-01-01|2022-01-01|58|village|exact
demo_villages_started|370000|山东省|500000|重庆市|east|year|2021-01-01|2022-01-01|63|village|exact
demo_villages_started|370000|山东省|620000|甘肃省|east|year|2021-01-01|2022-01-01|55|village|exact
demo_villages_started|440000|广东省|450000|广西壮族自治区|east|year|2021-01-01|2022-01-01|111|village|exact
demo_villages_started|440000|广东省|520000|贵州省|east|year|2021-01-01|2022-01-01|107|village|exact
EOF
)" "2021 pairs by nickname (京蒙, 粤桂 …) or by both names: the 11 pairs of the new stage"

is "$(q "$pp_q where period_start = '2020-01-01' order by east_code")" "$(cat <<'EOF'
poverty_labour_employed|320500|苏州市|520600|铜仁市|east|year|2020-01-01|2021-01-01|32000|person|exact
poverty_labour_employed|330100|杭州市|522600|黔东南苗族侗族自治州|east|year|2020-01-01|2021-01-01|41000|person|exact
poverty_labour_employed|350100|福州市|621100|定西市|east|year|2020-01-01|2021-01-01|19000|person|exact
poverty_labour_employed|440000|广东省|450000|广西壮族自治区|east|year|2020-01-01|2021-01-01|785000|person|exact
poverty_labour_employed|440100|广州市|520500|毕节市|east|year|2020-01-01|2021-01-01|58000|person|exact
EOF
)" "2020 pairs of the 2016–2020 stage, city pairs included (毕节 520500, 铜仁 520600)"

# --- reconciliation ---------------------------------------------------------

is "$(q "select indicator, period_kind, period_start, trim_scale(national),
                trim_scale(sum_of_regions), regions, trim_scale(difference), within
           from ewc.reconciliation where basis = 'regions'
          order by period_start, indicator")" "$(cat <<'EOF'
agri_products_sold|year|2021-01-01|81300000000|81300000000|8|0|t
enterprises_guided|year|2021-01-01|2193|2173|8|-20|f
industrial_parks_cobuilt|year|2021-01-01|482|482|8|0|t
poverty_labour_employed|year|2021-01-01|9263000|9263000|8|0|t
enterprises_guided|half|2022-01-01|1127|1127|8|0|t
investment_in_place|half|2022-01-01|34230000000|34230000000|8|0|t
EOF
)" "reconciliation: the 8 east provinces add up exactly, but for 2021 enterprises (2173 vs 2193)"
is "$(q "select indicator, period_kind, period_start, trim_scale(national),
                trim_scale(sum_of_regions), regions, trim_scale(difference), within
           from ewc.reconciliation where basis = 'pairs'
          order by period_start, indicator")" "$(cat <<'EOF'
poverty_labour_employed|year|2020-01-01|8270500|935000|5|-7335500|f
demo_villages_started|year|2021-01-01|917|917|11|0|t
cadres_exchanged|half|2022-01-01|2448|2448|11|0|t
fiscal_aid_funds|half|2022-01-01|22000000000|22000000000|11|0|t
technicians_exchanged|half|2022-01-01|8520|8520|11|0|t
EOF
)" "reconciliation by pairs: the 11 pairs of 2021 and 2022 H1 add up exactly; the 5 of 2020 are a few"

# --- a second run ---------------------------------------------------------

first_obs=$(obs_dump)
first_np=$(q "$np_q order by 1, 2, 3, 4")
etl run
is_rc 0 "second run exits 0"
is "$(q "select status, files_total, files_loaded, files_unchanged, files_failed,
                rows_loaded, rows_rejected
           from ledger.run order by id desc limit 1")" "ok|14|0|14|0|0|0" \
   "second run: the 14 files unchanged, nothing loaded"
is "$(obs_dump)" "$first_obs" "second run: the same observations"
is "$(q "select count(*) from warehouse.observation")" "198" "still 198 observations"
is "$(q "$np_q order by 1, 2, 3, 4")" "$first_np" "second run: the same national figures"
is "$(q "select count(*) from ledger.reject")" "4" "still 4 rejects"

# --- the analyst role -----------------------------------------------------

is "$(q "set role ewc_analyst;
         select count(*) from ewc.national_period where period_start = '2021-01-01'")" \
   "6" "ewc_analyst selects from ewc.national_period"
is "$(q "set role ewc_analyst;
         select (select count(*) from ewc.observation_named),
                (select count(*) from ewc.pair_period),
                (select count(*) from ewc.reconciliation)")" "198|53|11" \
   "ewc_analyst selects from ewc.observation_named, pair_period, reconciliation"
denied=$(psql -XAtq -c "set role ewc_analyst; select count(*) from ledger.file" 2>&1)
denied_rc=$?
isnt "$denied_rc" "0" "ewc_analyst cannot select from ledger.file"
like "$denied" "^ERROR:  permission denied for schema ledger" \
     "… permission denied for schema ledger"

done_testing
